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
	"math"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/auth"
	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/config"
	"github.com/pricefn/pricefn/functions/aggregator"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/functions/ingress"
	"github.com/pricefn/pricefn/functions/pricer"
	"github.com/pricefn/pricefn/store"
	"github.com/pricefn/pricefn/store/redisstore"
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
		&c, &c.Serve, args, env, stderr, func(ctx context.Context, log zerolog.Logger, reg *prometheus.Registry, guard *auth.Guard) (host.Options, func(), error) {
			st, closeStore, err := OpenStore(ctx, c.Store)
			if err != nil {
				return host.Options{}, nil, err
			}
			f := ingress.New(IngressOptions(c, log, reg, host.NewSender(c.Sink, host.SenderOptions{Overrides: c.Overrides, Sign: signer(guard)}), st))
			return host.Options{Handler: openByAddress(guard, reg, f.ServiceRoutes(log, guard), "/"), Gatherer: reg}, closeStore, nil
		})
}

// openByAddress returns a function's routes h, which without tokens answer
// their public routes by address and for localhost only (host.AddressHosts),
// as pricefn dev and pricefn api do: the pieces run as separate processes
// on a laptop (on every interface, as $PORT has it) were open to DNS
// rebinding, a page of the attacker's name reading every batch from the
// aggregator. The event receivers, POSTs to eventPaths, answer any Host: a
// broker reaches them by name (cluster-local on Knative). Not a browser's
// POST, though, which carries an Origin (a broker's does not): a rebound
// page would post there what a broker does, a batch.submitted to ingress,
// a chunk.priced or a dead letter of another's batch to the aggregator.
// The requests refused are counted on reg (host.MetricWrongHost).
func openByAddress(guard *auth.Guard, reg prometheus.Registerer, h http.Handler, eventPaths ...string) http.Handler {
	if guard != nil && guard.Tokens != nil {
		return h
	}
	byAddress := host.AddressHosts(h, reg)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && slices.Contains(eventPaths, r.URL.Path) && r.Header.Get("Origin") == "" {
			h.ServeHTTP(w, r)
			return
		}
		byAddress.ServeHTTP(w, r)
	})
}

// OpenStore opens the batch store c names: a new in-memory one, or Redis,
// with c's retention and bounds (StoreOptions), the same in every function.
// Call the returned function to close it.
func OpenStore(ctx context.Context, c config.Store) (store.Store, func(), error) {
	opt := StoreOptions(c)
	if c.Memory() {
		return newMemStore(opt), func() {}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := redisstore.Open(ctx, c.URL, opt)
	if err != nil {
		return nil, nil, fmt.Errorf("launch: store: %w", err)
	}
	return s, func() { s.Close() }, nil
}

// newMemStore is the in-memory store of this process: bounded by its heap's
// soft limit (MemStoreBytes), forgotten batches given back to the system
// once it is idle (store.FreedQuiet), not at the next garbage collection of
// an idle process.
func newMemStore(opt store.Options) *store.Mem {
	limit, _ := memoryLimit()
	return store.NewMem(store.MemOptions{Options: opt, MaxBytes: MemStoreBytes(limit), Freed: debug.FreeOSMemory})
}

// MemStoreBytes is the bound of an in-memory store's results and ids in
// a process whose heap's soft limit is limit (runtime/debug's; MaxInt64
// when there is none): a third of it, the rest for the batches in flight
// (a batch being split and priced holds about twice its results' bytes).
// A store filled past the limit would have the garbage collector work
// without end. Without a limit, store.DefaultMaxBytes.
func MemStoreBytes(limit int64) int64 {
	if limit <= 0 || limit == math.MaxInt64 {
		return store.DefaultMaxBytes
	}
	return max(limit/3, 16<<20)
}

// IngressOptions turns configuration into ingress options.
func IngressOptions(c config.Ingress, log zerolog.Logger, reg prometheus.Registerer, s *host.Sender, st store.Store) ingress.Options {
	return ingress.Options{
		Sender:        s,
		Store:         st,
		BatchTimeout:  c.BatchTimeout,
		Limits:        store.Limits{MaxOpen: c.TenantMaxBatches, MaxTrades: c.TenantMaxTrades},
		PublicURL:     c.PublicURL,
		Chunk:         batch.ChunkOptions{TargetCost: float64(c.ChunkCost.Nanoseconds()), MaxTrades: c.ChunkTrades},
		SendLimit:     c.SendLimit,
		MaxBatchBytes: c.MaxBatchBytes,
		// 0 (no bound) stays 0.
		MaxBootstrapInstruments: c.MaxBootstrapInstruments,
		// The curves ingress builds to check and plan a batch, kept: a
		// batch sent again (its answer lost) or another on the same
		// curves finds them built. pricefn dev shares its pricer's.
		Curves: batch.NewCurveCache(0),
		// A batch takes about ten times its size while it is decoded: a
		// tenth of the heap's soft limit, none without one.
		MaxBytesReading: tenthOfMemoryLimit(),
		StallAfter:      c.ResendStalled,
		Log:             log,
		Registerer:      reg,
	}
}

// memoryLimit is the process's soft memory limit (GOMEMLIMIT, or pricefn
// dev's --memory-limit-mib), and whether it has one.
func memoryLimit() (int64, bool) {
	limit := debug.SetMemoryLimit(-1)
	return limit, limit > 0 && limit < math.MaxInt64
}

// tenthOfMemoryLimit is a tenth of the soft memory limit, 0 without one.
func tenthOfMemoryLimit() int64 {
	if limit, ok := memoryLimit(); ok {
		return limit / 10
	}
	return 0
}

// Pricer runs the pricer function: "pricefn pricer [flags]".
func Pricer(ctx context.Context, args []string, env config.Env, stderr io.Writer) error {
	var c config.Pricer
	return serveFunction(ctx, "pricer", "usage: pricefn pricer [flags]\n\nServes the pricer function: POST / takes chunk.requested and replies chunk.priced.",
		&c, &c.Serve, args, env, stderr, func(ctx context.Context, log zerolog.Logger, reg *prometheus.Registry, guard *auth.Guard) (host.Options, func(), error) {
			f := pricer.New(pricer.Options{Name: c.Service, Workers: c.Workers, Log: log, Registerer: reg})
			return host.Options{Handler: PricerRoutes(f, log, guard), Gatherer: reg}, func() {}, nil
		})
}

// PricerRoutes serves the pricer's events at POST /, behind guard (nil
// admits everything).
func PricerRoutes(f *pricer.Function, log zerolog.Logger, guard host.Guard) http.Handler {
	mux := host.NewMux()
	mux.Handle("POST /{$}", host.Events(host.Guarded(guard, f), log))
	return mux
}

// Aggregator runs the aggregator function: "pricefn aggregator [flags]".
// Without a sink it announces nothing.
func Aggregator(ctx context.Context, args []string, env config.Env, stderr io.Writer) error {
	var c config.Aggregator
	return serveFunction(ctx, "aggregator", "usage: pricefn aggregator [flags]\n\nServes the aggregator function: POST / (batch.accepted, chunk.priced),\nPOST /dead-letter, GET /batches/{id} and GET /batches/{id}/results;\nsends batch.completed to the sink.",
		&c, &c.Serve, args, env, stderr, func(ctx context.Context, log zerolog.Logger, reg *prometheus.Registry, guard *auth.Guard) (host.Options, func(), error) {
			var s *host.Sender
			if c.Sink != "" {
				s = host.NewSender(c.Sink, host.SenderOptions{Overrides: c.Overrides, Sign: signer(guard)})
			} else {
				log.Warn().Msg("no sink (--sink, $K_SINK): batch.completed is not sent")
			}
			st, closeStore, err := OpenStore(ctx, c.Store)
			if err != nil {
				return host.Options{}, nil, err
			}
			f := aggregator.New(AggregatorOptions(c, log, reg, s, st))
			sweepCtx, stopSweep := context.WithCancel(ctx)
			go f.Run(sweepCtx)
			return host.Options{Handler: openByAddress(guard, reg, f.Routes(log, guard), "/", "/dead-letter"), OnShutdown: f.Drain, Gatherer: reg}, func() { stopSweep(); closeStore() }, nil
		})
}

// StoreOptions turns configuration into store options.
func StoreOptions(c config.Store) store.Options {
	return store.Options{Retain: c.Retain, MaxAge: c.MaxAge, MaxRetained: c.TenantMaxRetained}
}

// AggregatorOptions turns configuration into aggregator options.
func AggregatorOptions(c config.Aggregator, log zerolog.Logger, reg prometheus.Registerer, s *host.Sender, st store.Store) aggregator.Options {
	opt := aggregator.Options{
		Store:        st,
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
// metrics registry, has build make the function's server options (and
// the cleanup to run after; the options say whether /metrics is served
// there), and serves them on s.Addr until ctx ends.
func serveFunction(ctx context.Context, name, usage string, c function, s *config.Serve, args []string, env config.Env, stderr io.Writer,
	build func(ctx context.Context, log zerolog.Logger, reg *prometheus.Registry, guard *auth.Guard) (host.Options, func(), error)) error {
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
	guard, err := NewGuard(s.Security, log, reg)
	if err != nil {
		return err
	}
	opt, cleanup, err := build(ctx, log, reg, guard)
	if err != nil {
		return err
	}
	defer cleanup()
	opt.Name, opt.Log, opt.Registerer = name, log, reg
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
