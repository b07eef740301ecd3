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
	started := time.Now()
	var c config.Ingress
	fs := flag.NewFlagSet("ingress", flag.ContinueOnError)
	c.Flags(fs, env)
	if err := parse(fs, args, stderr, "usage: pricefn ingress [flags]\n\nServes the ingress function: POST / (CloudEvent), POST /batches (plain JSON),\nGET /valQuery; sends batch.accepted and chunk.requested events to the sink."); err != nil {
		return err
	}
	if err := c.Check(true); err != nil {
		return err
	}
	if c.PublicURL != "" {
		if err := config.CheckURL("--public-url", c.PublicURL); err != nil {
			return err
		}
	}
	log := c.Log.Logger(stderr).With().Str("fn", "ingress").Logger()
	reg := NewRegistry()
	f := ingress.New(IngressOptions(c, log, reg, host.NewSender(c.Sink, host.SenderOptions{Overrides: c.Overrides})))
	return serve(ctx, host.Options{Name: "ingress", Handler: f.Routes(), Log: log, Gatherer: reg, Registerer: reg,
		StartedAt: started, ShutdownTimeout: c.ShutdownTimeout}, c.Addr)
}

// IngressOptions turns configuration into ingress options.
func IngressOptions(c config.Ingress, log zerolog.Logger, reg prometheus.Registerer, s *host.Sender) ingress.Options {
	return ingress.Options{
		Sender:     s,
		PublicURL:  c.PublicURL,
		Chunk:      batch.ChunkOptions{TargetCost: float64(c.ChunkCost.Nanoseconds()), MaxTrades: c.ChunkTrades},
		SendLimit:  c.SendLimit,
		Log:        log,
		Registerer: reg,
	}
}

// Pricer runs the pricer function: "pricefn pricer [flags]".
func Pricer(ctx context.Context, args []string, env config.Env, stderr io.Writer) error {
	started := time.Now()
	var c config.Pricer
	fs := flag.NewFlagSet("pricer", flag.ContinueOnError)
	c.Flags(fs, env)
	if err := parse(fs, args, stderr, "usage: pricefn pricer [flags]\n\nServes the pricer function: POST / takes chunk.requested and replies chunk.priced."); err != nil {
		return err
	}
	if err := c.Check(false); err != nil {
		return err
	}
	log := c.Log.Logger(stderr).With().Str("fn", "pricer").Logger()
	reg := NewRegistry()
	f := pricer.New(pricer.Options{Name: c.Service, Workers: c.Workers, Log: log, Registerer: reg})
	return serve(ctx, host.Options{Name: "pricer", Handler: PricerRoutes(f, log), Log: log, Gatherer: reg, Registerer: reg,
		StartedAt: started, ShutdownTimeout: c.ShutdownTimeout}, c.Addr)
}

// PricerRoutes serves the pricer's events at POST /.
func PricerRoutes(f *pricer.Function, log zerolog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /{$}", host.Events(f, log))
	return mux
}

// Aggregator runs the aggregator function: "pricefn aggregator [flags]".
// Without a sink it announces nothing.
func Aggregator(ctx context.Context, args []string, env config.Env, stderr io.Writer) error {
	started := time.Now()
	var c config.Aggregator
	fs := flag.NewFlagSet("aggregator", flag.ContinueOnError)
	c.Flags(fs, env)
	if err := parse(fs, args, stderr, "usage: pricefn aggregator [flags]\n\nServes the aggregator function: POST / (batch.accepted, chunk.priced),\nPOST /dead-letter, GET /batches/{id} and GET /batches/{id}/results;\nsends batch.completed to the sink."); err != nil {
		return err
	}
	if err := c.Check(false); err != nil {
		return err
	}
	if c.PublicURL != "" {
		if err := config.CheckURL("--public-url", c.PublicURL); err != nil {
			return err
		}
	}
	log := c.Log.Logger(stderr).With().Str("fn", "aggregator").Logger()
	reg := NewRegistry()
	opt := AggregatorOptions(c, log, reg, nil)
	if c.Sink != "" {
		opt.Sender = host.NewSender(c.Sink, host.SenderOptions{Overrides: c.Overrides})
	} else {
		log.Warn().Msg("no sink (--sink, $K_SINK): batch.completed is not sent")
	}
	f := aggregator.New(opt)
	return serve(ctx, host.Options{Name: "aggregator", Handler: f.Routes(log), Log: log, Gatherer: reg, Registerer: reg,
		StartedAt: started, ShutdownTimeout: c.ShutdownTimeout, OnShutdown: f.Drain}, c.Addr)
}

// AggregatorOptions turns configuration into aggregator options, with an
// in-memory store.
func AggregatorOptions(c config.Aggregator, log zerolog.Logger, reg prometheus.Registerer, s *host.Sender) aggregator.Options {
	opt := aggregator.Options{Store: aggregator.NewMemStore(aggregator.MemStoreOptions{Retain: c.Retain}), PublicURL: c.PublicURL, MaxWait: c.MaxWait, Log: log, Registerer: reg}
	if s != nil {
		opt.Sender = s
	}
	return opt
}

// serve runs one server on addr until ctx ends.
func serve(ctx context.Context, opt host.Options, addr string) error {
	return host.New(opt).ListenAndServe(ctx, addr)
}
