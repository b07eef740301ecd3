package host

import (
	"cmp"
	"context"
	"errors"
	stdlog "log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

// Options describes one HTTP server. Handler is required; the rest may be
// left zero.
type Options struct {
	// Name names the server in logs and in the startup metric ("pricer").
	Name string
	// Handler serves every path but /healthz, /readyz and /metrics.
	Handler http.Handler
	// Log receives the server's own messages.
	Log zerolog.Logger
	// Gatherer is exposed at /metrics; nil serves no /metrics.
	Gatherer prometheus.Gatherer
	// Registerer receives the startup metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// StartedAt is when the process started, for the startup metrics (the
	// cold start Knative does not measure): pricefn_startup_seconds, the
	// time to serving, and pricefn_cold_start_seconds, the time to the
	// first request served. Zero means unknown: neither is recorded.
	StartedAt time.Time
	// ShutdownTimeout bounds the wait for in-flight requests; 0 means 30s.
	ShutdownTimeout time.Duration
	// ReadTimeout bounds the reading of one request, body included, so that
	// a client sending slowly cannot hold a connection and a body buffer
	// for ever; 0 means DefaultReadTimeout. It does not bound the handler:
	// long polls and pricing run past it.
	ReadTimeout time.Duration
	// OnShutdown is called when shutdown begins, before in-flight requests
	// are waited for: long polls use it to answer at once.
	OnShutdown func()
	// ColdStartWindow is how soon after serving begins the first request
	// must arrive to have waited through the start, a cold start; 0 means
	// DefaultColdStartWindow.
	ColdStartWindow time.Duration
}

// DefaultColdStartWindow is Options.ColdStartWindow's default: Knative's
// activator forwards the requests that woke a pod within moments of its
// readiness; a pod started ahead of its first request (minScale, a
// rollout, a scale-out) gets it later, or much later.
const DefaultColdStartWindow = 10 * time.Second

// The server's time limits.
const (
	// DefaultReadTimeout is Options.ReadTimeout's default: time for a
	// DefaultMaxBodyBytes body at about 0.5 MB/s.
	DefaultReadTimeout = time.Minute
	// readHeaderTimeout bounds the reading of a request's headers.
	readHeaderTimeout = 10 * time.Second
	// idleTimeout closes a keep-alive connection idle this long.
	idleTimeout = 2 * time.Minute
)

// Server is a running HTTP server.
type Server struct {
	opt      Options
	srv      *http.Server
	draining atomic.Bool
	// coldStart observes, once, what the first request served (health
	// checks and scrapes aside) waited through when it arrived within
	// ColdStartWindow of serving: the time from StartedAt to serving and
	// its own. Nil without a Registerer or StartedAt.
	coldStart prometheus.Histogram
	firstDone sync.Once
	servingAt atomic.Int64 // unix nanoseconds, once serving
}

// New returns a Server for opt; Serve runs it.
func New(opt Options) *Server {
	s := &Server{opt: opt}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			WriteError(w, Errorf(http.StatusServiceUnavailable, "host: draining: the server is stopping"))
			return
		}
		w.Write([]byte("ok\n"))
	})
	own := []string{"/healthz", "/readyz"}
	if opt.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(opt.Gatherer, promhttp.HandlerOpts{}))
		own = append(own, "/metrics")
	}
	// Another method on these paths is a 405 naming the allowed ones, as
	// on every route of the functions: it went to opt.Handler, whose 404
	// said there was no such route.
	for _, path := range own {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", "GET, HEAD")
			WriteError(w, Errorf(http.StatusMethodNotAllowed, "host: %s %s: method not allowed (allowed: GET, HEAD)", r.Method, r.URL.Path))
		})
	}
	handler := opt.Handler
	if opt.Registerer != nil && !opt.StartedAt.IsZero() {
		s.coldStart = prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:        "pricefn_cold_start_seconds",
			Help:        "The cold start a caller waits through, which Knative does not measure: process start to serving, and the first request served (health checks and scrapes aside), when that request arrived within moments of serving (it woke the process). One observation per process at most: a process started ahead of its first request has none.",
			ConstLabels: prometheus.Labels{"server": opt.Name},
			Buckets:     prometheus.ExponentialBuckets(0.005, 2, 16), // 5 ms to 164 s
		})
		window := cmp.Or(opt.ColdStartWindow, DefaultColdStartWindow)
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived := time.Now()
			opt.Handler.ServeHTTP(w, r)
			s.firstDone.Do(func() {
				serving := time.Unix(0, s.servingAt.Load())
				if s.servingAt.Load() == 0 || arrived.Sub(serving) > window {
					return // the process was up and idle: no caller waited for its start
				}
				s.coldStart.Observe((serving.Sub(opt.StartedAt) + time.Since(arrived)).Seconds())
			})
		})
	}
	mux.Handle("/", handler)
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       cmp.Or(opt.ReadTimeout, DefaultReadTimeout),
		IdleTimeout:       idleTimeout,
		// net/http's own messages (a handler's panic, a bad TLS handshake)
		// go to the zerolog logger too.
		ErrorLog: stdlog.New(opt.Log.With().Str("server", opt.Name).Logger(), "", 0),
	}
	if opt.OnShutdown != nil {
		s.srv.RegisterOnShutdown(opt.OnShutdown)
	}
	return s
}

// Handler returns the server's full handler, health and metrics included,
// for tests that start it with httptest.
func (s *Server) Handler() http.Handler { return s.srv.Handler }

// Serve serves on ln until ctx ends, then shuts down gracefully: /readyz
// turns 503, the listener closes, OnShutdown runs, and in-flight requests
// finish within the shutdown timeout. It returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	log := s.opt.Log.With().Str("server", s.opt.Name).Logger()
	if s.opt.Registerer != nil && !s.opt.StartedAt.IsZero() {
		g := prometheus.NewGauge(prometheus.GaugeOpts{
			Name:        "pricefn_startup_seconds",
			Help:        "Time from process start to serving, in seconds: the cold start.",
			ConstLabels: prometheus.Labels{"server": s.opt.Name},
		})
		g.Set(time.Since(s.opt.StartedAt).Seconds())
		if err := s.opt.Registerer.Register(g); err != nil {
			log.Warn().Err(err).Msg("startup metric not registered")
		}
		if err := s.opt.Registerer.Register(s.coldStart); err != nil {
			log.Warn().Err(err).Msg("cold start metric not registered")
		}
	}
	s.servingAt.Store(time.Now().UnixNano())
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(ln) }()
	log.Info().Str("addr", ln.Addr().String()).Msg("serving")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	timeout := s.opt.ShutdownTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	log.Info().Float64("timeoutSeconds", timeout.Seconds()).Msg("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		log.Error().Err(err).Msg("shutdown incomplete")
		return err
	}
	log.Info().Msg("stopped")
	return nil
}

// ListenAndServe listens on addr and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}
