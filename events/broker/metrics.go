package broker

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Where an event entered the broker (label origin).
const (
	originHTTP  = "http"  // the ingress handler
	originSend  = "send"  // Broker.Send
	originReply = "reply" // a subscriber's reply
)

// Outcomes of an event offered to the broker (label outcome of
// pricefn_broker_events_received_total).
const (
	receivedAccepted   = "accepted"    // queued for at least one Trigger
	receivedUnmatched  = "unmatched"   // accepted, but no Trigger matches it
	receivedMalformed  = "malformed"   // not a valid CloudEvent: 400
	receivedTooLarge   = "too_large"   // over Config.MaxEventBytes: 413
	receivedQueueFull  = "queue_full"  // no room in the queue: 429
	receivedBatchFull  = "batch_full"  // the batch holds its share of the queue: 429
	receivedClosed     = "closed"      // the broker is shutting down: 503
	receivedTTLExpired = "ttl_expired" // a reply chain too long: dropped
)

// Final outcomes of one event's delivery to one Trigger (label outcome of
// pricefn_broker_deliveries_total).
const (
	deliveryDelivered    = "delivered"     // the subscriber accepted it
	deliveryDeadLettered = "dead_lettered" // the dead-letter sink accepted it
	deliveryDropped      = "dropped"       // lost: no or failing dead-letter sink, or shut down
)

// metrics are the broker's Prometheus collectors.
type metrics struct {
	received   *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	retries    *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	queueDepth prometheus.Gauge
	inFlight   prometheus.Gauge
	// queueWait is the time a delivery waits in the queue for a worker;
	// eventLatency the time from an event's acceptance to its delivery's
	// final outcome.
	queueWait    *prometheus.HistogramVec
	eventLatency *prometheus.HistogramVec
}

// newMetrics makes the collectors, labelled with the broker's name, with
// a series at zero for every label value the routes can give, and
// registers them with reg unless reg is nil.
func newMetrics(reg prometheus.Registerer, broker string, routes []*route) (*metrics, error) {
	c := prometheus.Labels{"broker": broker}
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "pricefn", Subsystem: "broker", Name: "events_received_total",
			Help:        "Events offered to the broker, by origin (http, send, reply) and outcome (accepted, unmatched, malformed, too_large, queue_full, batch_full, closed, ttl_expired).",
			ConstLabels: c,
		}, []string{"origin", "outcome"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "pricefn", Subsystem: "broker", Name: "deliveries_total",
			Help:        "Deliveries of an event to a Trigger, by Trigger and final outcome (delivered, dead_lettered, dropped).",
			ConstLabels: c,
		}, []string{"trigger", "outcome"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "pricefn", Subsystem: "broker", Name: "retries_total",
			Help:        "Delivery attempts scheduled after a failed one, by Trigger and target (subscriber, dead_letter).",
			ConstLabels: c,
		}, []string{"trigger", "target"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "pricefn", Subsystem: "broker", Name: "delivery_duration_seconds",
			Help:        "Duration of one HTTP delivery attempt, by Trigger, target (subscriber, dead_letter) and result (success, failure).",
			ConstLabels: c,
			Buckets:     prometheus.ExponentialBuckets(0.001, 2, 17), // 1 ms to 65 s
		}, []string{"trigger", "target", "result"}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "pricefn", Subsystem: "broker", Name: "queue_depth",
			Help:        "Deliveries accepted and not finished (queued, waiting to retry or in flight); at Config.QueueSize the ingress answers 429.",
			ConstLabels: c,
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "pricefn", Subsystem: "broker", Name: "deliveries_in_flight",
			Help:        "HTTP delivery attempts in progress (at most Config.Workers).",
			ConstLabels: c,
		}),
		queueWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "pricefn", Subsystem: "broker", Name: "queue_wait_seconds",
			Help:        "Time a delivery attempt waited in the queue for a worker (after acceptance, a retry's back-off, or the switch to the dead-letter sink), by Trigger.",
			ConstLabels: c,
			// 100 us to 32 h: a delivery may wait as long as its batch's
			// deadline, which may be a day (batch.MaxDeadline).
			Buckets: prometheus.ExponentialBuckets(0.0001, 3, 20),
		}, []string{"trigger"}),
		eventLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "pricefn", Subsystem: "broker", Name: "event_latency_seconds",
			Help:        "Time from an event's acceptance to its delivery's final outcome (delivered, dead_lettered, dropped), by Trigger: queueing, attempts, retries and their back-off.",
			ConstLabels: c,
			Buckets:     prometheus.ExponentialBuckets(0.001, 2.5, 21), // 1 ms to 25 h, as queue_wait_seconds
		}, []string{"trigger", "outcome"}),
	}
	for _, o := range []string{originHTTP, originSend, originReply} {
		for _, r := range []string{receivedAccepted, receivedUnmatched, receivedMalformed, receivedTooLarge, receivedQueueFull, receivedBatchFull, receivedClosed, receivedTTLExpired} {
			m.received.WithLabelValues(o, r)
		}
	}
	for _, rt := range routes {
		t := rt.trigger.Name
		m.queueWait.WithLabelValues(t)
		for _, o := range []string{deliveryDelivered, deliveryDeadLettered, deliveryDropped} {
			m.deliveries.WithLabelValues(t, o)
			m.eventLatency.WithLabelValues(t, o)
		}
		for _, target := range []string{"subscriber", "dead_letter"} {
			m.retries.WithLabelValues(t, target)
		}
	}
	if reg == nil {
		return m, nil
	}
	cols := []prometheus.Collector{m.received, m.deliveries, m.retries, m.latency, m.queueDepth, m.inFlight, m.queueWait, m.eventLatency}
	seen := map[*turns]bool{}
	for _, rt := range routes {
		if t := rt.subscriber; t != nil && t.turns != nil && !seen[t.turns] {
			seen[t.turns] = true
			cols = append(cols, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Namespace: "pricefn", Subsystem: "broker", Name: "deliveries_waiting_turn",
				Help:        "Deliveries to a Service held at its Config.Concurrency, waiting their turn (the tenants take turns), by Service.",
				ConstLabels: prometheus.Labels{"broker": broker, "service": t.turns.service},
			}, func() float64 { return float64(t.turns.parkedJobs()) }))
		}
	}
	for i, col := range cols {
		if err := reg.Register(col); err != nil {
			for _, done := range cols[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("broker: register metrics: %w", err)
		}
	}
	return m, nil
}
