package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/events/broker"
	"github.com/pricefn/pricefn/functions/host"
)

// brokerOptions are the settings of "pricefn broker".
type brokerOptions struct {
	addr            string
	shutdownTimeout time.Duration
	logLevel        zerolog.Level
	config          broker.Config
}

// runBroker implements "pricefn broker": a local Knative-like broker routing
// with the project's Triggers until ctx ends (SIGTERM, SIGINT).
func runBroker(ctx context.Context, args []string, _ io.Reader, _, stderr io.Writer) error {
	opts, err := parseBrokerFlags(args, os.Getenv, stderr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return err
	}
	return serveBroker(ctx, ln, opts, zerolog.New(stderr).Level(opts.logLevel).With().Timestamp().Logger())
}

// parseBrokerFlags reads the flags of "pricefn broker"; getenv supplies PORT.
func parseBrokerFlags(args []string, getenv func(string) string, stderr io.Writer) (brokerOptions, error) {
	fs := flag.NewFlagSet("broker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defAddr := ":8080"
	if p := getenv("PORT"); p != "" {
		defAddr = ":" + p
	}
	opts := brokerOptions{config: broker.Config{Subscribers: map[string]string{}}}
	fs.StringVar(&opts.addr, "addr", defAddr, "listen address (the default is :$PORT when PORT is set)")
	manifests := fs.String("manifests", "", "directory of Knative YAML with the Broker and Triggers (default: the embedded project manifests)")
	fs.StringVar(&opts.config.Name, "broker", broker.DefaultName, "name of the Broker whose Triggers apply")
	fs.Func("subscriber", "`NAME=URL[,URL...]`: base URL of the Knative Service NAME that Triggers refer to, or of each of its replicas, used in turn (repeat for each Service; repeating a NAME adds replicas)", func(s string) error {
		name, u, ok := strings.Cut(s, "=")
		if !ok || name == "" || u == "" {
			return errors.New("want NAME=URL or NAME=URL1,URL2, e.g. pricefn-pricer=http://127.0.0.1:8081")
		}
		for _, a := range strings.Split(u, ",") {
			if strings.TrimSpace(a) == "" {
				return fmt.Errorf("%s: empty URL in %q", name, u)
			}
		}
		if prev, ok := opts.config.Subscribers[name]; ok {
			u = prev + "," + u
		}
		opts.config.Subscribers[name] = u
		return nil
	})
	fs.Func("concurrency", "`NAME=N`: most deliveries in progress at once to Service NAME, as its containerConcurrency times its replicas would allow on Knative; the others wait their turn in the broker, their attempt timeout not running (repeat for each Service; none: no bound)", func(s string) error {
		name, v, ok := strings.Cut(s, "=")
		n, err := strconv.Atoi(v)
		if !ok || name == "" || err != nil || n < 1 {
			return errors.New("want NAME=N, N >= 1, e.g. pricefn-pricer=2")
		}
		if opts.config.Concurrency == nil {
			opts.config.Concurrency = map[string]int{}
		}
		opts.config.Concurrency[name] = n
		return nil
	})
	fs.IntVar(&opts.config.QueueSize, "queue-size", broker.DefaultQueueSize, "deliveries held in memory; beyond, the ingress answers 429")
	fs.IntVar(&opts.config.BatchQuota, "batch-quota", 0, "deliveries one batch (batchid) may hold; beyond, its events get 429 while other batches get in (0: half of --queue-size; negative: no quota)")
	fs.IntVar(&opts.config.Workers, "workers", broker.DefaultWorkers, "deliveries in progress at once")
	fs.DurationVar(&opts.shutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM, how long to let queued deliveries finish")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pricefn broker [flags]\n\nRuns a local broker that routes CloudEvents like the pricefn Knative Broker,\nwith the Triggers of the project's manifests (knative/): POST events to /,\nhealth at /healthz, metrics at /metrics. Every Service the Triggers name\nneeds a --subscriber; a Service with several replicas gets their URLs,\ncomma-separated: each delivery goes to the next one, a retry to another.\n\nexample:\n  pricefn broker --addr :8080 \\\n    --subscriber pricefn-ingress=http://127.0.0.1:8083 \\\n    --subscriber pricefn-pricer=http://127.0.0.1:8081 \\\n    --subscriber pricefn-aggregator=http://127.0.0.1:8082,http://127.0.0.1:9082\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return opts, parseError(err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return opts, errUsage
	}
	// Out of range is refused, not taken as the default (broker.New reads
	// 0 or less as DefaultQueueSize and DefaultWorkers): --workers 0 ran
	// with 32.
	switch {
	case opts.config.QueueSize < 1:
		return opts, usagef("--queue-size %d: want 1 or more", opts.config.QueueSize)
	case opts.config.Workers < 1:
		return opts, usagef("--workers %d: want 1 or more", opts.config.Workers)
	case opts.shutdownTimeout <= 0:
		return opts, usagef("--shutdown-timeout %s: want more than 0", opts.shutdownTimeout)
	}
	if *manifests != "" {
		opts.config.Manifests = os.DirFS(*manifests)
	}
	lvl, err := zerolog.ParseLevel(*level)
	if err != nil || *level == "" {
		fmt.Fprintf(stderr, "pricefn broker: bad -log-level %q\n", *level)
		return opts, errUsage
	}
	opts.logLevel = lvl
	return opts, nil
}

// serveBroker serves the broker on ln until ctx ends, then stops taking
// events, lets the accepted ones finish within opts.shutdownTimeout and
// closes the server.
func serveBroker(ctx context.Context, ln net.Listener, opts brokerOptions, log zerolog.Logger) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg := opts.config
	cfg.Logger = log
	cfg.Registerer = reg
	b, err := broker.New(cfg)
	if err != nil {
		ln.Close()
		var ue *broker.UnresolvedError
		if errors.As(err, &ue) {
			return fmt.Errorf("%w: pass --subscriber NAME=URL for each", err)
		}
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.Handle("/", b)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: host.DefaultReadTimeout, IdleTimeout: 2 * time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info().Str("addr", ln.Addr().String()).Str("broker", cfg.Name).Msg("broker listening")

	select {
	case err := <-served:
		_ = b.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info().Float64("timeoutSeconds", opts.shutdownTimeout.Seconds()).Msg("shutting down: finishing accepted deliveries")
	sctx, cancel := context.WithTimeout(context.Background(), opts.shutdownTimeout)
	defer cancel()
	// The broker first: while it drains, the ingress answers 503 to new events.
	errB := b.Shutdown(sctx)
	errS := srv.Shutdown(sctx)
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		errS = errors.Join(errS, err)
	}
	return errors.Join(errB, errS)
}
