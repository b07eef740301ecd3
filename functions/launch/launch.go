// Package launch runs pricefn's functions as processes: it reads their
// configuration (package config) from flags and the environment, builds
// the function, its sender to K_SINK, its logger and metrics, and serves it
// (package host) until SIGTERM. The pricefn subcommands (pricefn ingress,
// pricer, aggregator, dev) and the per-function main packages
// (functions/NAME/cmd) call it, so a function runs the same way everywhere.
package launch

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/config"
	"github.com/pricefn/pricefn/functions/aggregator"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/functions/ingress"
	"github.com/pricefn/pricefn/functions/pricer"
)

// ErrUsage reports bad flags; the flag set has printed why.
var ErrUsage = errors.New("launch: usage")

// parse parses args with fs, printing errors and usage to stderr.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer, usage string) error {
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage+"\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return ErrUsage
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return ErrUsage
	}
	return nil
}

// NewRegistry returns a metrics registry with the Go runtime and process
// collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Ingress runs the ingress function: "pricefn ingress [flags]".
func Ingress(ctx context.Context, args []string, env config.Env, stderr io.Writer) error {
	var c config.Ingress
	return serveFunction(ctx, "ingress", "usage: pricefn ingress [flags]\n\nServes the ingress function: POST / (CloudEvent), POST /batches (plain JSON),\nGET /valQuery; sends batch.accepted and chunk.requested events to the sink.",
		&c, &c.Serve, args, env, stderr, func(log zerolog.Logger, reg prometheus.Registerer) host.Options {
			f := ingress.New(IngressOptions(c, log, reg, host.NewSender(c.Sink, host.SenderOptions{Overrides: c.Overrides})))
			return host.Options{Handler: f.Routes()}
		})
}

// IngressOptions turns configuration into ingress options.
func IngressOptions(c config.Ingress, log zerolog.Logger, reg prometheus.Registerer, s *host.Sender) ingress.Options {
	return ingress.Options{
		Sender:        s,
		PublicURL:     c.PublicURL,
		Chunk:         batch.ChunkOptions{TargetCost: float64(c.ChunkCost.Nanoseconds()), MaxTrades: c.ChunkTrades},
		SendLimit:     c.SendLimit,
		MaxBatchBytes: c.MaxBatchBytes,
		Log:           log,
		Registerer:    reg,
	}
}

// Pricer runs the pricer function: "pricefn pricer [flags]".
func Pricer(ctx context.Context, args []string, env config.Env, stderr io.Writer) error {
	var c config.Pricer
	return serveFunction(ctx, "pricer", "usage: pricefn pricer [flags]\n\nServes the pricer function: POST / takes chunk.requested and replies chunk.priced.",
		&c, &c.Serve, args, env, stderr, func(log zerolog.Logger, reg prometheus.Registerer) host.Options {
			f := pricer.New(pricer.Options{Name: c.Service, Workers: c.Workers, Log: log, Registerer: reg})
			return host.Options{Handler: PricerRoutes(f, log)}
		})
}

// PricerRoutes serves the pricer's events at POST /.
func PricerRoutes(f *pricer.Function, log zerolog.Logger) http.Handler {
	mux := host.NewMux()
	mux.Handle("POST /{$}", host.Events(f, log))
	return mux
}

// Aggregator runs the aggregator function: "pricefn aggregator [flags]".
// Without a sink it announces nothing.
func Aggregator(ctx context.Context, args []string, env config.Env, stderr io.Writer) error {
	var c config.Aggregator
	return serveFunction(ctx, "aggregator", "usage: pricefn aggregator [flags]\n\nServes the aggregator function: POST / (batch.accepted, chunk.priced),\nPOST /dead-letter, GET /batches/{id} and GET /batches/{id}/results;\nsends batch.completed to the sink.",
		&c, &c.Serve, args, env, stderr, func(log zerolog.Logger, reg prometheus.Registerer) host.Options {
			var s *host.Sender
			if c.Sink != "" {
				s = host.NewSender(c.Sink, host.SenderOptions{Overrides: c.Overrides})
			} else {
				log.Warn().Msg("no sink (--sink, $K_SINK): batch.completed is not sent")
			}
			f := aggregator.New(AggregatorOptions(c, log, reg, s))
			return host.Options{Handler: f.Routes(log), OnShutdown: f.Drain}
		})
}

// AggregatorOptions turns configuration into aggregator options, with an
// in-memory store.
func AggregatorOptions(c config.Aggregator, log zerolog.Logger, reg prometheus.Registerer, s *host.Sender) aggregator.Options {
	opt := aggregator.Options{
		Store:        aggregator.NewMemStore(aggregator.MemStoreOptions{Retain: c.Retain, MaxAge: c.MaxAge}),
		PublicURL:    c.PublicURL,
		MaxWait:      c.MaxWait,
		UnknownGrace: c.UnknownGrace,
		Log:          log,
		Registerer:   reg,
	}
	if s != nil { // a nil *host.Sender in the interface would not be nil
		opt.Sender = s
	}
	return opt
}

// function is the configuration of one function.
type function interface {
	Flags(fs *flag.FlagSet, env config.Env)
	Check() error
}

// serveFunction runs one function as its own server: it parses c's flags
// from args (defaults from env), checks them, makes the logger and the
// metrics registry, has build make the function's server options, and
// serves them on s.Addr until ctx ends.
func serveFunction(ctx context.Context, name, usage string, c function, s *config.Serve, args []string, env config.Env, stderr io.Writer,
	build func(log zerolog.Logger, reg prometheus.Registerer) host.Options) error {
	started := time.Now()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	c.Flags(fs, env)
	if err := parse(fs, args, stderr, usage); err != nil {
		return err
	}
	if err := c.Check(); err != nil {
		return err
	}
	log := s.Log.Logger(stderr).With().Str("fn", name).Logger()
	reg := NewRegistry()
	opt := build(log, reg)
	opt.Name, opt.Log, opt.Gatherer, opt.Registerer = name, log, reg, reg
	opt.StartedAt, opt.ShutdownTimeout = started, s.ShutdownTimeout
	return serve(ctx, opt, s.Addr)
}

// serve runs one server on addr until ctx ends.
func serve(ctx context.Context, opt host.Options, addr string) error {
	return host.New(opt).ListenAndServe(ctx, addr)
}

// Main runs one function as the whole process, as the per-function
// commands (functions/NAME/cmd) do: run gets args, env and stderr, and a
// context that ends on SIGTERM or SIGINT, when the function shuts down
// gracefully. It returns the exit status: 0, 2 for bad flags, 1 for any
// other error, which it prints to stderr.
func Main(name string, run func(ctx context.Context, args []string, env config.Env, stderr io.Writer) error, args []string, env config.Env, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch err := run(ctx, args, env, stderr); {
	case errors.Is(err, ErrUsage):
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}
