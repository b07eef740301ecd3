package aggregator

import "github.com/prometheus/client_golang/prometheus"

// metrics are the aggregator's Prometheus metrics.
type metrics struct {
	chunks  *prometheus.CounterVec
	batches *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

// newMetrics makes the metrics and registers them with reg, when not nil.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		chunks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pricefn_aggregator_chunks_total",
			Help: "Chunk outcomes received, by what became of them: priced, dead, duplicate, rejected (400), early (batch unknown yet, 404), conflict (of another batch submitted under the same id, ignored).",
		}, []string{"outcome"}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pricefn_aggregator_batches_total",
			Help: "Batches finished, by final state.",
		}, []string{"state"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pricefn_aggregator_batch_seconds",
			Help:    "End-to-end batch latency: submission at ingress to the last chunk's outcome, by final state.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 12),
		}, []string{"state"}),
	}
	if reg != nil {
		reg.MustRegister(m.chunks, m.batches, m.latency)
	}
	return m
}
