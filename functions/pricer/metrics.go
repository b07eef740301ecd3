package pricer

import "github.com/prometheus/client_golang/prometheus"

// metrics are the pricer's Prometheus metrics.
type metrics struct {
	chunk    prometheus.Histogram
	trades   *prometheus.CounterVec
	rejected prometheus.Counter
}

// newMetrics makes the metrics and registers them with reg, when not nil.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		chunk: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pricefn_pricer_chunk_seconds",
			Help:    "Time to price one chunk, decode to reply.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}),
		trades: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pricefn_pricer_trades_total",
			Help: "Trades priced, by outcome (priced, or failed with an error result).",
		}, []string{"outcome"}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pricefn_pricer_rejected_chunks_total",
			Help: "Chunk events the pricer could not read (400).",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.chunk, m.trades, m.rejected)
	}
	return m
}
