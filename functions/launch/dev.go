package launch

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/auth"
	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/config"
	"github.com/pricefn/pricefn/events/broker"
	"github.com/pricefn/pricefn/functions/aggregator"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/functions/ingress"
	"github.com/pricefn/pricefn/functions/pricer"
	"github.com/pricefn/pricefn/internal/hugeheap"
	"github.com/pricefn/pricefn/store"
)

// The Knative Service names the Triggers refer to (knative/triggers.yaml).
const (
	ServiceIngress    = "pricefn-ingress"
	ServicePricer     = "pricefn-pricer"
	ServiceAggregator = "pricefn-aggregator"
)

// Engine is the whole pipeline in one process: the broker and the three
// functions, each function's events delivered by the broker to the
// internal handler (over HTTP to an internal server, or in process:
// EngineOptions.InProcess), and the gateway handler that routes the
// public API.
type Engine struct {
	Broker     *broker.Broker
	Ingress    *ingress.Function
	Pricer     *pricer.Function
	Aggregator *aggregator.Function
	// Internal serves the broker at /broker/ and each function's event
	// endpoint at /ingress/, /pricer/ and /aggregator/ (with
	// /aggregator/dead-letter): the event paths, never on the public port.
	Internal http.Handler
	// Gateway serves the public API: POST /, POST /batches and GET
	// /valQuery to ingress; GET /batches/{id} and /batches/{id}/results to
	// the aggregator; each behind a token when the guard has tokens.
	Gateway http.Handler
}

// EngineOptions configures NewEngine.
type EngineOptions struct {
	// InternalURL is the base URL the internal handler is served at
	// ("http://127.0.0.1:PORT"): the broker delivers there.
	InternalURL string
	// InProcess delivers the events between the broker and the functions
	// by calling the internal handler in process (host.InProcess), the
	// same requests with no connection, instead of over InternalURL.
	InProcess  bool
	Config     config.Dev
	Log        zerolog.Logger
	Registerer prometheus.Registerer
	// Broker adjusts the broker's configuration before it starts; nil
	// keeps the defaults.
	Broker func(*broker.Config)
	// Store keeps the batches, shared by ingress and the aggregator; nil
	// means a new in-memory store.
	Store store.Store
	// Guard checks events and tokens; nil admits everything.
	Guard *auth.Guard
	// Profiles serves net/http/pprof's CPU profile and index on the
	// internal handler, which must then listen on loopback only.
	Profiles bool
}

// NewEngine builds the pipeline. The broker's workers start at once; stop
// them with Engine.Broker.Shutdown.
func NewEngine(opt EngineOptions) (*Engine, error) {
	c := opt.Config
	if opt.Store == nil {
		opt.Store = newMemStore(StoreOptions(c.Store))
	}
	base := strings.TrimSuffix(opt.InternalURL, "/")
	bcfg := broker.Config{
		Subscribers: map[string]string{
			ServiceIngress:    base + "/ingress/",
			ServicePricer:     base + "/pricer/",
			ServiceAggregator: base + "/aggregator/",
		},
		Logger:     opt.Log.With().Str("fn", "broker").Logger(),
		Registerer: opt.Registerer,
	}
	if c.ChunksAtOnce > 0 {
		// One pricer, as one pod of its Knative Service.
		bcfg.Concurrency = map[string]int{ServicePricer: c.ChunksAtOnce}
	}
	var inproc *host.InProcess
	sopt := host.SenderOptions{Sign: signer(opt.Guard)}
	if opt.InProcess {
		u, err := url.Parse(base)
		if err == nil && u.Host == "" {
			err = errors.New("no host (want http://HOST:PORT)")
		}
		if err != nil {
			return nil, fmt.Errorf("launch: internal URL %q: %w", opt.InternalURL, err)
		}
		inproc = &host.InProcess{Host: u.Host}
		client := &http.Client{Transport: inproc}
		bcfg.Client, sopt.Client = client, client
	}
	if opt.Broker != nil {
		opt.Broker(&bcfg)
	}
	b, err := broker.New(bcfg)
	if err != nil {
		return nil, err
	}
	sink := host.NewSender(base+"/broker/", sopt)
	ilog := opt.Log.With().Str("fn", "ingress").Logger()
	plog := opt.Log.With().Str("fn", "pricer").Logger()
	alog := opt.Log.With().Str("fn", "aggregator").Logger()
	// Ingress and the pricer share the bootstrapped curves they build:
	// the curve ingress built to check and plan a batch serves its chunks.
	curves := batch.NewCurveCache(0)
	iopt := IngressOptions(config.Ingress{PublicURL: c.PublicURL, Split: c.Split}, ilog, opt.Registerer, sink, opt.Store)
	iopt.Curves = curves
	e := &Engine{
		Broker:     b,
		Ingress:    ingress.New(iopt),
		Pricer:     pricer.New(pricer.Options{Name: "pricer", Workers: c.Workers, Log: plog, Registerer: opt.Registerer, Curves: curves}),
		Aggregator: aggregator.New(AggregatorOptions(config.Aggregator{PublicURL: c.PublicURL, Results: c.Results}, alog, opt.Registerer, sink, opt.Store)),
	}
	g := opt.Guard
	in := host.NewMux()
	in.Handle("/broker/", b)
	in.Handle("POST /ingress/{$}", host.Events(host.Guarded(g, e.Ingress), ilog))
	in.Handle("/pricer/", http.StripPrefix("/pricer", PricerRoutes(e.Pricer, plog, g)))
	in.Handle("/aggregator/", http.StripPrefix("/aggregator", e.Aggregator.Routes(alog, g)))
	if opt.Profiles {
		in.HandleFunc("/debug/pprof/", pprof.Index)
		in.HandleFunc("/debug/pprof/profile", pprof.Profile)
	}
	e.Internal = in
	if inproc != nil {
		inproc.Handler = in
	}

	e.Gateway = APIRoutes(e.Ingress, e.Aggregator, g)
	return e, nil
}

// Dev runs "pricefn dev": the gateway on one address, the broker and the
// functions on a loopback one, until ctx ends. Then it stops in order: the
// gateway finishes its requests (ingress sends its chunks), the broker
// finishes its deliveries (pricers reply, the aggregator records), and the
// internal server stops.
func Dev(ctx context.Context, args []string, env config.Env, stderr io.Writer) error {
	started := time.Now()
	var c config.Dev
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	c.Flags(fs, env)
	if err := parse(fs, args, stderr, "usage: pricefn dev [flags]\n\nRuns the whole engine in one process: the gateway on --addr, the broker and\nthe functions on a loopback address, events delivered in process through the\nfunctions' HTTP handlers (--internal-http: over HTTP on the loopback address)."); err != nil {
		return err
	}
	if err := c.Check(); err != nil {
		return err
	}
	log := c.Log.Logger(stderr)
	if c.MemoryLimitMiB > 0 && env("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(c.MemoryLimitMiB << 20))
	}
	// The heap, up to its soft limit, in huge pages: a batch's memory is
	// given back between batches and faulted in again by the next, 4 KB at
	// a time otherwise (5,000-15,000 faults a 100,000-trade batch, a fifth to
	// a third of pricefn dev's CPU on this virtual machine). Without a
	// limit, the heap is left as the runtime has it; GODEBUG=disablethp=1
	// does so too.
	if limit, ok := memoryLimit(); ok {
		hugeheap.Advise(int(min(limit, math.MaxInt32)))
	}
	reg := NewRegistry()
	guard, err := NewGuard(c.Security, log, reg)
	if err != nil {
		return err
	}

	internal, err := net.Listen("tcp", c.Internal)
	if err != nil {
		return err
	}
	public, err := net.Listen("tcp", c.Addr)
	if err != nil {
		internal.Close()
		return err
	}
	st, closeStore, err := OpenStore(ctx, c.Store)
	if err != nil {
		internal.Close()
		public.Close()
		return err
	}
	defer closeStore()
	if c.Store.Memory() {
		log.Info().Msg("batch state in memory: lost when this process stops (--store redis://HOST:PORT/DB keeps it)")
	}
	// Profiles of the whole engine, when only this machine can ask.
	loopback := false
	if a, ok := internal.Addr().(*net.TCPAddr); ok {
		loopback = a.IP.IsLoopback()
	}
	eng, err := NewEngine(EngineOptions{InternalURL: "http://" + internal.Addr().String(), InProcess: !c.InternalHTTP, Config: c, Log: log, Registerer: reg, Store: st, Guard: guard,
		Profiles: loopback})
	if err != nil {
		internal.Close()
		public.Close()
		return err
	}
	sweepCtx, stopSweep := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSweep()
	go eng.Aggregator.Run(sweepCtx)
	inCtx, stopInternal := context.WithCancel(context.WithoutCancel(ctx))
	defer stopInternal()
	inDone := make(chan error, 1)
	go func() {
		// Its routes take events (a dead letter fails a chunk) and are
		// asked by address: no name, so no DNS rebinding onto them.
		inDone <- host.New(host.Options{Name: "internal", Handler: host.AddressHosts(eng.Internal, reg), Log: log, Gatherer: reg,
			ShutdownTimeout: c.ShutdownTimeout}).Serve(inCtx, internal)
	}()
	log.Info().Str("gateway", "http://"+public.Addr().String()).Str("internal", "http://"+internal.Addr().String()).
		Str("metrics", "http://"+internal.Addr().String()+"/metrics").
		Msg("pricefn dev: POST /batches, GET /batches/{id}/results?wait=30s")
	// One shutdown timeout from the signal for the whole process: the
	// gateway's wait for its requests, the broker's for its deliveries and
	// the internal server's for the functions' requests share it (each
	// with a timeout of its own, a trade being priced held the process
	// for three of them).
	stopBy := make(chan time.Time, 1)
	context.AfterFunc(ctx, func() { stopBy <- time.Now().Add(c.ShutdownTimeout) })
	gateway := eng.Gateway
	var metrics prometheus.Gatherer
	if guard == nil || guard.Tokens == nil {
		gateway = host.AddressHosts(gateway, reg) // open: by address, no names (DNS rebinding)
		// The wire format (section 5) has pricefn dev serve /metrics on its
		// one address. Open, whoever reaches it reads every batch: the
		// metrics, which name none, tell no more. With tokens they stay on
		// the internal address, as no token guards them.
		metrics = reg
	}
	err = host.New(host.Options{Name: "gateway", Handler: gateway, Log: log, Registerer: reg, Gatherer: metrics,
		StartedAt: started, ShutdownTimeout: c.ShutdownTimeout, OnShutdown: eng.Aggregator.Drain}).Serve(ctx, public)

	by := time.Now().Add(c.ShutdownTimeout) // the gateway failed: from now
	select {
	case by = <-stopBy:
	default:
	}
	sctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), by)
	defer cancel()
	if berr := eng.Broker.Shutdown(sctx); berr != nil {
		log.Error().Err(berr).Msg("broker shutdown incomplete")
	}
	stopInternal()
	select {
	case ierr := <-inDone:
		if err == nil {
			err = ierr
		}
	case <-sctx.Done():
		log.Error().Float64("timeoutSeconds", c.ShutdownTimeout.Seconds()).Msg("shutdown timeout passed: requests still in flight abandoned")
	}
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	return nil
}
