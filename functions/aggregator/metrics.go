package aggregator

import (
	"context"
	"io"
	"math"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pricefn/pricefn/api"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/store"
)

// metrics are the aggregator's Prometheus metrics. Every label value it
// uses starts at zero, so that a dashboard shows a path before it first
// happens.
type metrics struct {
	chunks      *prometheus.CounterVec
	batches     *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	transit     *prometheus.HistogramVec
	storeTime   *prometheus.HistogramVec
	deadLetters *prometheus.CounterVec
	duplicates  *prometheus.CounterVec
	rejected    *prometheus.CounterVec
	requests    *host.Requests
}

// The values of the metrics' labels.
var (
	chunkOutcomes  = []string{"priced", "dead", "duplicate", "rejected", "early", "conflict", "stale", "late", "expired"}
	finalStates    = []string{api.StateCompleted, api.StatePartial, api.StateFailed}
	transitLegs    = []string{legToPricer, legToAggregator}
	storeOps       = []string{"accept", "put", "summary", "brief", "tally", "chunks", "arrivals", "layout", "trades", "write_results", "expire", "overdue", "watch", "release", "recent", "announced"}
	deadTypes      = []string{"chunk_requested", "chunk_priced", "batch_accepted", "batch_submitted", "other"}
	duplicateKinds = []string{"batch_accepted", "chunk_priced", "dead_letter"}
	rejectReasons  = []string{rejectWrongType, rejectMalformed, rejectBadChunk, rejectUnknownBatch}
	routes         = []string{routeEvent, routeDeadLetter, routeList, routeStatus, routeResults, routeEvents}
)

// The legs of a chunk's journey (label leg of
// pricefn_aggregator_chunk_transit_seconds).
const (
	legToPricer     = "to_pricer"     // ingress sent it to the pricer starting on it
	legToAggregator = "to_aggregator" // the pricer finished it to the aggregator recording it
)

// The reasons of pricefn_events_rejected_total{function="aggregator"}.
const (
	rejectWrongType    = "wrong_type"    // neither batch.accepted nor chunk.priced (400)
	rejectMalformed    = "malformed"     // data that does not decode (400)
	rejectBadChunk     = "bad_chunk"     // a chunk that does not fit its batch (400)
	rejectUnknownBatch = "unknown_batch" // a batch the store does not know yet (404, retried)
)

// The routes of pricefn_request_duration_seconds{function="aggregator"}.
const (
	routeEvent      = "event"
	routeDeadLetter = "dead_letter"
	routeList       = "list"    // GET /batches
	routeStatus     = "status"  // GET /batches/{id}
	routeResults    = "results" // GET /batches/{id}/results
	routeEvents     = "events"  // GET /batches/{id}/events: a stream, which counts its whole life
)

// newMetrics makes the metrics and registers them with reg, when not nil;
// with reg, the open batches gauge reads st at each scrape.
func newMetrics(reg prometheus.Registerer, st store.Store) *metrics {
	m := &metrics{
		chunks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pricefn_aggregator_chunks_total",
			Help: "Chunk outcomes received, by what became of them: priced, dead, duplicate, rejected (400), early (batch unknown yet, 404), conflict (of another batch submitted under the same id, ignored), stale (of an earlier attempt), late (after the deadline), expired (dead when the deadline passed).",
		}, []string{"outcome"}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pricefn_aggregator_batches_total",
			Help: "Batches finished, by final state.",
		}, []string{"state"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pricefn_aggregator_batch_seconds",
			Help:    "End-to-end batch latency: submission at ingress to the last chunk's outcome, by final state.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 19), // 10 ms to 40 h: a batch's deadline may be a day (batch.MaxDeadline)
		}, []string{"state"}),
		transit: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pricefn_aggregator_chunk_transit_seconds",
			Help:    "Time a priced chunk spent between functions, by leg: to_pricer (ingress sent it to a pricer starting on it: broker queueing, delivery, retries and cold start), to_aggregator (the pricer finished it to the aggregator recording it). Spans two hosts' clocks; a negative skew counts as 0.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 14), // 1 ms to 150 s
		}, []string{"leg"}),
		storeTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pricefn_aggregator_store_seconds",
			Help:    "Time of one call to the batch store (memory or Redis), by operation.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 3, 13), // 50 us to 27 s
		}, []string{"op"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pricefn_aggregator_dead_letters_total",
			Help: "Events the broker gave up delivering, received on /dead-letter, by event type.",
		}, []string{"type"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pricefn_aggregator_duplicates_total",
			Help: "Redelivered events absorbed without effect (delivery is at least once), by kind: batch_accepted, chunk_priced, dead_letter (for a chunk that already had an outcome).",
		}, []string{"kind"}),
		rejected: host.NewRejections("aggregator", reg, rejectReasons...),
		requests: host.NewRequests("aggregator", reg, routes...),
	}
	for _, vs := range []struct {
		c interface {
			WithLabelValues(...string) prometheus.Observer
		}
		values []string
	}{{m.latency, finalStates}, {m.transit, transitLegs}, {m.storeTime, storeOps}} {
		for _, v := range vs.values {
			vs.c.WithLabelValues(v)
		}
	}
	for _, vs := range []struct {
		c      *prometheus.CounterVec
		values []string
	}{{m.chunks, chunkOutcomes}, {m.batches, finalStates}, {m.deadLetters, deadTypes}, {m.duplicates, duplicateKinds}} {
		for _, v := range vs.values {
			vs.c.WithLabelValues(v)
		}
	}
	if reg != nil {
		reg.MustRegister(m.chunks, m.batches, m.latency, m.transit, m.storeTime, m.deadLetters, m.duplicates,
			newOpenBatches(st))
	}
	return m
}

// observeTransit records the legs of a priced chunk's journey.
func (m *metrics) observeTransit(requested, started, finished, arrived time.Time) {
	if !requested.IsZero() && !started.IsZero() {
		m.transit.WithLabelValues(legToPricer).Observe(max(0, started.Sub(requested).Seconds()))
	}
	if !finished.IsZero() {
		m.transit.WithLabelValues(legToAggregator).Observe(max(0, arrived.Sub(finished).Seconds()))
	}
}

// deadLetter counts a dead-lettered event of type typ.
func (m *metrics) deadLetter(typ string) {
	kind := "other"
	switch typ {
	case events.TypeChunkRequested:
		kind = "chunk_requested"
	case events.TypeChunkPriced:
		kind = "chunk_priced"
	case events.TypeBatchAccepted:
		kind = "batch_accepted"
	case events.TypeBatchSubmitted:
		kind = "batch_submitted"
	}
	m.deadLetters.WithLabelValues(kind).Inc()
}

// openBatchesLimit bounds the batches one scrape of the open batches
// gauge lists.
const openBatchesLimit = 100_000

// openBatches is the gauge pricefn_open_batches: the batches claimed and
// not finished, read from the store at each scrape, so that every replica
// reports the same count, restarts or not.
type openBatches struct {
	st   store.Store
	desc *prometheus.Desc
	mu   sync.Mutex
	last float64 // the last count read, reported when a read fails
}

func newOpenBatches(st store.Store) *openBatches {
	return &openBatches{st: st, last: math.NaN(), desc: prometheus.NewDesc("pricefn_open_batches",
		"Batches claimed and not finished (every chunk without an outcome yet, deadline not passed or not swept), read from the shared store at each scrape: every aggregator replica reports the same count, so take max, not sum. At most 100000.", nil, nil)}
}

// Describe implements prometheus.Collector.
func (o *openBatches) Describe(ch chan<- *prometheus.Desc) { ch <- o.desc }

// Collect implements prometheus.Collector: every unfinished batch has a
// deadline, so the store's overdue batches at the end of time are the
// open ones (and the ended ones whose announcement is not recorded made:
// for the moment of its send, or until the sweep retries a failed one;
// not done with either).
func (o *openBatches) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	refs, err := o.st.Overdue(ctx, time.Unix(1<<40, 0), openBatchesLimit)
	o.mu.Lock()
	if err == nil {
		o.last = float64(len(refs))
	}
	v := o.last
	o.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(o.desc, prometheus.GaugeValue, v)
}

// timedStore times each call to a store.Store; a method it does not
// override is passed through untimed.
type timedStore struct {
	store.Store
	h *prometheus.HistogramVec
}

var _ store.Store = timedStore{}

// timed returns st timing each call in m's pricefn_aggregator_store_seconds.
func (m *metrics) timed(st store.Store) store.Store { return timedStore{st, m.storeTime} }

func (t timedStore) since(op string, start time.Time) {
	t.h.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

func (t timedStore) Claim(ctx context.Context, b store.Batch) (store.Claim, error) {
	defer t.since("claim", time.Now())
	return t.Store.Claim(ctx, b)
}

func (t timedStore) Accept(ctx context.Context, ref store.Ref, digest string, attempt int, at time.Time) (store.Update, error) {
	defer t.since("accept", time.Now())
	return t.Store.Accept(ctx, ref, digest, attempt, at)
}

func (t timedStore) Put(ctx context.Context, ref store.Ref, digest string, attempt int, c store.Chunk) (store.Update, error) {
	defer t.since("put", time.Now())
	return t.Store.Put(ctx, ref, digest, attempt, c)
}

func (t timedStore) Summary(ctx context.Context, ref store.Ref) (*store.Summary, error) {
	defer t.since("summary", time.Now())
	return t.Store.Summary(ctx, ref)
}

func (t timedStore) Brief(ctx context.Context, ref store.Ref) (*store.Brief, error) {
	defer t.since("brief", time.Now())
	return t.Store.Brief(ctx, ref)
}

func (t timedStore) Tally(ctx context.Context, ref store.Ref) (*store.Tally, error) {
	defer t.since("tally", time.Now())
	return t.Store.Tally(ctx, ref)
}

func (t timedStore) Chunks(ctx context.Context, ref store.Ref, attempt, from, n int) ([]store.Chunk, []int, error) {
	defer t.since("chunks", time.Now())
	return t.Store.Chunks(ctx, ref, attempt, from, n)
}

func (t timedStore) Arrivals(ctx context.Context, ref store.Ref, attempt, from, n int) (*store.Arrived, error) {
	defer t.since("arrivals", time.Now())
	return t.Store.Arrivals(ctx, ref, attempt, from, n)
}

func (t timedStore) Layout(ctx context.Context, ref store.Ref, index int) (store.Layout, error) {
	defer t.since("layout", time.Now())
	return t.Store.Layout(ctx, ref, index)
}

func (t timedStore) Trades(ctx context.Context, ref store.Ref, attempt, index int) ([]string, error) {
	defer t.since("trades", time.Now())
	return t.Store.Trades(ctx, ref, attempt, index)
}

func (t timedStore) WriteResults(ctx context.Context, ref store.Ref, attempt, index int, w io.Writer) error {
	defer t.since("write_results", time.Now())
	return t.Store.WriteResults(ctx, ref, attempt, index, w)
}

func (t timedStore) Expire(ctx context.Context, ref store.Ref, attempt int, now time.Time, reason string) (store.Update, error) {
	defer t.since("expire", time.Now())
	return t.Store.Expire(ctx, ref, attempt, now, reason)
}

func (t timedStore) Overdue(ctx context.Context, now time.Time, limit int) ([]store.Ref, error) {
	defer t.since("overdue", time.Now())
	return t.Store.Overdue(ctx, now, limit)
}

func (t timedStore) Watch(ctx context.Context, ref store.Ref) (<-chan struct{}, func(), error) {
	defer t.since("watch", time.Now())
	return t.Store.Watch(ctx, ref)
}

func (t timedStore) Recent(ctx context.Context, tenant string, limit int) ([]store.Ref, error) {
	defer t.since("recent", time.Now())
	return t.Store.Recent(ctx, tenant, limit)
}

func (t timedStore) Release(ctx context.Context, ref store.Ref, attempt int, by time.Time) error {
	defer t.since("release", time.Now())
	return t.Store.Release(ctx, ref, attempt, by)
}

func (t timedStore) Announced(ctx context.Context, ref store.Ref, attempt int, at time.Time) error {
	defer t.since("announced", time.Now())
	return t.Store.Announced(ctx, ref, attempt, at)
}

// reject counts a chunk outcome refused with a 400, for reason.
func (m *metrics) reject(reason string) {
	m.chunks.WithLabelValues("rejected").Inc()
	m.rejected.WithLabelValues(reason).Inc()
}

// traceParent returns e's traceparent extension, or "", for the log lines
// about its batch: cut as an error quotes a value (host.Short), since the
// sender chose its length.
func traceParent(e event.Event) string {
	tp, _ := e.Extensions()[events.ExtTraceParent].(string)
	return host.Short(tp)
}
