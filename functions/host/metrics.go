package host

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The metrics every function shares, told apart by a constant label
// function (ingress, pricer, aggregator): Prometheus sums them across
// replicas, and pricefn dev, which runs every function in one process,
// exposes each function's series once.
const (
	// MetricInFlight is the gauge of requests in flight: the concurrency
	// Knative's autoscaler (KPA) scales a Service on.
	MetricInFlight = "pricefn_requests_in_flight"
	// MetricRequestDuration is the histogram of request durations, by
	// route and status class.
	MetricRequestDuration = "pricefn_request_duration_seconds"
	// MetricRejected counts the events (and requests) a function refused
	// as unreadable or unpriceable, by reason: not every 4xx (ingress counts
	// a submission's 409, 413, 422 and 429 by outcome instead).
	MetricRejected = "pricefn_events_rejected_total"
	// MetricWrongHost counts the requests an engine without tokens
	// refused for their Host, a name (AddressHosts).
	MetricWrongHost = "pricefn_requests_wrong_host_total"
)

// Requests measures one function's requests: how many are in flight and
// how long each takes, by route and status class (2xx, 3xx, 4xx, 5xx).
// A nil *Requests measures nothing.
type Requests struct {
	inFlight prometheus.Gauge
	duration *prometheus.HistogramVec
}

// statusClasses are the values of the code label.
var statusClasses = []string{"2xx", "3xx", "4xx", "5xx"}

// NewRequests returns the request metrics of function, registered with
// reg; each of routes starts with a series per status class at zero, so
// that dashboards show it before its first request. A nil reg gives nil.
// It panics if the metrics cannot be registered (the function registered
// twice): a programmer error.
func NewRequests(function string, reg prometheus.Registerer, routes ...string) *Requests {
	if reg == nil {
		return nil
	}
	fn := prometheus.Labels{"function": function}
	q := &Requests{
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name:        MetricInFlight,
			Help:        "Requests (events included) the function is handling now: the concurrency Knative's autoscaler scales on.",
			ConstLabels: fn,
		}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:        MetricRequestDuration,
			Help:        "Time to answer one request, by route and status class (2xx, 3xx, 4xx, 5xx); a long poll counts its wait.",
			ConstLabels: fn,
			// 1 ms to 6 min: a ?wait long poll is held up to the
			// aggregator's --max-wait (5 min by default).
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 15),
		}, []string{"route", "code"}),
	}
	for _, r := range routes {
		for _, c := range statusClasses {
			q.duration.WithLabelValues(r, c)
		}
	}
	reg.MustRegister(q.inFlight, q.duration)
	return q
}

// Begin counts one request in flight until the returned function is
// called: for event handlers, which a server outside the function serves.
func (q *Requests) Begin() (end func()) {
	if q == nil {
		return func() {}
	}
	q.inFlight.Inc()
	return q.inFlight.Dec
}

// Track returns h counting each request in flight and observing its
// duration under route, with the class of the status it answered.
func (q *Requests) Track(route string, h http.Handler) http.Handler {
	if q == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q.inFlight.Inc()
		rec := &codeRecorder{ResponseWriter: w}
		start := time.Now()
		defer func() {
			q.inFlight.Dec()
			q.duration.WithLabelValues(route, statusClass(rec.code)).Observe(time.Since(start).Seconds())
		}()
		h.ServeHTTP(rec, r)
	})
}

// statusClass returns "2xx" for 200 to 299, and so on; a handler that
// wrote nothing answered 200.
func statusClass(code int) string {
	switch {
	case code == 0:
		return "2xx"
	case code < 200 || code > 599:
		return "5xx"
	}
	return strconv.Itoa(code/100) + "xx"
}

// codeRecorder keeps the status a handler writes.
type codeRecorder struct {
	http.ResponseWriter
	code int
}

func (c *codeRecorder) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *codeRecorder) Write(b []byte) (int, error) {
	if c.code == 0 {
		c.code = http.StatusOK
	}
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer's Flush and
// deadlines.
func (c *codeRecorder) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// NewRejections returns the counter of events function refused, by
// reason, registered with reg (nil registers nothing); each of reasons
// starts at zero. It panics if the counter cannot be registered (the
// function registered twice): a programmer error.
func NewRejections(function string, reg prometheus.Registerer, reasons ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name:        MetricRejected,
		Help:        "Events (and requests) the function refused as unreadable or unpriceable, by reason (malformed, wrong_type, invalid_batch, bad_chunk: a 400, which a broker does not retry; unknown_batch: a 404, which it retries). Not every 4xx: a submission's 409, 413, 422 and 429 count in pricefn_ingress_batches_total.",
		ConstLabels: prometheus.Labels{"function": function},
	}, []string{"reason"})
	for _, r := range reasons {
		c.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(c)
	}
	return c
}
