package launch

import (
	"context"
	"io"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/auth"
	"github.com/pricefn/pricefn/config"
	"github.com/pricefn/pricefn/console"
	"github.com/pricefn/pricefn/functions/aggregator"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/functions/ingress"
)

// API runs "pricefn api": the public API as a Service of its own, the one
// behind the cluster's gateway, while ingress, pricer and aggregator
// receive only events, cluster-local. It serves ingress's public routes
// and the aggregator's status and results, on the shared store, each
// behind a token; /metrics is served on --metrics-addr only, which the
// gateway does not route to.
func API(ctx context.Context, args []string, env config.Env, stderr io.Writer) error {
	var c config.API
	return serveFunction(ctx, "api", "usage: pricefn api [flags]\n\nServes the public API: POST /batches (and POST / for CloudEvents), GET /valQuery,\nGET /batches/{id} and /batches/{id}/results, on the shared store (--store redis://...);\nsends the batches' events to the sink. /metrics is on --metrics-addr.",
		&c, &c.Serve, args, env, stderr, func(ctx context.Context, log zerolog.Logger, reg *prometheus.Registry, guard *auth.Guard) (host.Options, func(), error) {
			st, closeStore, err := OpenStore(ctx, c.Store)
			if err != nil {
				return host.Options{}, nil, err
			}
			sender := host.NewSender(c.Sink, host.SenderOptions{Overrides: c.Overrides, Sign: signer(guard)})
			in := ingress.New(IngressOptions(config.Ingress{Serve: c.Serve, PublicURL: c.PublicURL, Split: c.Split}, log, reg, sender, st))
			ag := aggregator.New(AggregatorOptions(config.Aggregator{Serve: c.Serve, PublicURL: c.PublicURL, Results: c.Results}, log, reg, sender, st))
			// The deadline sweep, as each aggregator runs it: the api is
			// up while the aggregators may be scaled to zero, and a batch
			// no event wakes would not end at its deadline otherwise.
			sweepCtx, stopSweep := context.WithCancel(context.WithoutCancel(ctx))
			swept := make(chan struct{})
			go func() { defer close(swept); ag.Run(sweepCtx) }()
			metricsCtx, stopMetrics := context.WithCancel(context.WithoutCancel(ctx))
			done := make(chan struct{})
			go func() {
				defer close(done)
				err := host.New(host.Options{Name: "api-metrics", Handler: host.NewMux(), Gatherer: reg, Log: log}).ListenAndServe(metricsCtx, c.MetricsAddr)
				if err != nil {
					log.Error().Err(err).Str("addr", c.MetricsAddr).Msg("metrics server stopped")
				}
			}()
			routes := APIRoutes(in, ag, guard)
			if guard == nil || guard.Tokens == nil {
				// Open, as pricefn dev without tokens: by address, no
				// names (DNS rebinding), or a page that a name of an
				// attacker's points at a laptop running it would read
				// every batch.
				routes = host.AddressHosts(routes, reg)
			}
			return host.Options{Handler: routes, OnShutdown: ag.Drain},
				func() { stopSweep(); <-swept; stopMetrics(); <-done; closeStore() }, nil
		})
}

// APIRoutes are the public routes: ingress's and the aggregator's GET
// routes, behind guard's tokens (nil admits everything).
func APIRoutes(in *ingress.Function, ag *aggregator.Function, guard host.Guard) http.Handler {
	mux := host.NewMux()
	ir := in.Routes(guard) // refusing other origins' pages (host.SameOrigin)
	mux.Handle("POST /{$}", ir)
	mux.Handle("POST /batches", ir)
	mux.Handle("GET /valQuery", ir)
	q := ag.Query(guard)
	mux.Handle("GET /batches", q)
	mux.Handle("/batches/{id}", q) // every method below /batches/, as aggregator.Routes mounts it
	mux.Handle("/batches/{id}/{rest...}", q)
	mux.Handle(console.Prefix, console.Handler()) // the web console: static files, the API calls carry the token
	return mux
}
