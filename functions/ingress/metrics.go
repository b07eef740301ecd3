package ingress

import "github.com/prometheus/client_golang/prometheus"

// metrics are ingress's Prometheus metrics.
type metrics struct {
	stage  *prometheus.HistogramVec
	trades prometheus.Counter
}

// newMetrics makes the metrics and registers them with reg, when not nil.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		stage: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pricefn_ingress_stage_seconds",
			Help:    "Time ingress spends per batch in each stage: validate (decode and compile), split (chunk plan and events), send (to the broker).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"stage"}),
		trades: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pricefn_ingress_trades_total",
			Help: "Trades of accepted batches.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.stage, m.trades)
	}
	return m
}
