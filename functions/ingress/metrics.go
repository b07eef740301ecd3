package ingress

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pricefn/pricefn/functions/host"
)

// metrics are ingress's Prometheus metrics. Every label value it uses
// starts at zero, so that a dashboard shows a path before it first
// happens.
type metrics struct {
	stage    *prometheus.HistogramVec
	trades   prometheus.Counter
	batches  *prometheus.CounterVec
	chunks   *prometheus.CounterVec
	rejected *prometheus.CounterVec
	requests *host.Requests
}

// The outcomes of a submission (label outcome of
// pricefn_ingress_batches_total).
const (
	outcomeAccepted    = "accepted"    // claimed and sent: it is being priced
	outcomeExisting    = "existing"    // the same content as a batch submitted before: not priced again
	outcomeInvalid     = "invalid"     // a batch that cannot be priced as a whole (400)
	outcomeConflict    = "conflict"    // an id in use by a batch of other content (409)
	outcomeTooLarge    = "too_large"   // over the size limit (413)
	outcomeLimited     = "limited"     // over its tenant's limits (429)
	outcomeUnavailable = "unavailable" // the store or the broker failed (503)
)

// The reasons of pricefn_events_rejected_total{function="ingress"}: a
// batch.submitted event refused.
const (
	rejectMalformed    = "malformed"     // not a batch.submitted with JSON data
	rejectInvalidBatch = "invalid_batch" // a batch that cannot be priced
)

// The routes of pricefn_request_duration_seconds{function="ingress"}.
const (
	routeSubmit   = "submit"
	routeValQuery = "valquery"
)

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
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pricefn_ingress_batches_total",
			Help: "Batches submitted, by outcome: accepted, existing (submitted before with the same content: not priced again), invalid (400), conflict (409), too_large (413), limited (429), unavailable (503).",
		}, []string{"outcome"}),
		chunks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pricefn_ingress_chunks_total",
			Help: "Chunks of accepted batches, by outcome: sent to the broker, or unsent (recorded dead: the broker did not take them).",
		}, []string{"outcome"}),
		rejected: host.NewRejections("ingress", reg, rejectMalformed, rejectInvalidBatch),
		requests: host.NewRequests("ingress", reg, routeSubmit, routeValQuery),
	}
	for _, s := range []string{"validate", "split", "send"} {
		m.stage.WithLabelValues(s)
	}
	for _, o := range []string{outcomeAccepted, outcomeExisting, outcomeInvalid, outcomeConflict, outcomeTooLarge, outcomeLimited, outcomeUnavailable} {
		m.batches.WithLabelValues(o)
	}
	m.chunks.WithLabelValues("sent")
	m.chunks.WithLabelValues("unsent")
	if reg != nil {
		reg.MustRegister(m.stage, m.trades, m.batches, m.chunks)
	}
	return m
}

// submitted counts the outcome of a submission: its receipt, or the error
// that refused it.
func (m *metrics) submitted(rc *Receipt, err error) {
	o := outcomeAccepted
	switch code := host.Status(err); {
	case err == nil && rc != nil && rc.Existing:
		o = outcomeExisting
	case err == nil:
	case code == http.StatusConflict:
		o = outcomeConflict
	case code == http.StatusRequestEntityTooLarge:
		o = outcomeTooLarge
	case code == http.StatusTooManyRequests:
		o = outcomeLimited
	case code < 500:
		o = outcomeInvalid
	default:
		o = outcomeUnavailable
	}
	m.batches.WithLabelValues(o).Inc()
}
