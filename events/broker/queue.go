package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/protocol"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/cloudevents/sdk-go/v2/types"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/pricing"
)

// Send enqueues e as the ingress would, without HTTP, so that an in-process
// caller can use the broker where it would use a CloudEvents client. It
// never blocks: the result is nil (ACK) when e is queued or matches no
// Trigger, a 400 cehttp.Result for an invalid event, a 429 one wrapping
// ErrQueueFull or ErrBatchFull and a 503 one wrapping ErrClosed.
func (b *Broker) Send(ctx context.Context, e event.Event) protocol.Result {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := e.Validate(); err != nil {
		b.met.received.WithLabelValues(originSend, receivedMalformed).Inc()
		return cehttp.NewResult(http.StatusBadRequest, "broker: invalid event: %w", err)
	}
	e = e.Clone()
	ttl := takeTTL(&e)
	switch err := b.enqueue(e, ttl, originSend, nil); {
	case errors.Is(err, ErrQueueFull), errors.Is(err, ErrBatchFull):
		return cehttp.NewResult(http.StatusTooManyRequests, "%w", err)
	case errors.Is(err, ErrClosed):
		return cehttp.NewResult(http.StatusServiceUnavailable, "%w", err)
	default:
		return err
	}
}

// enqueue queues one delivery of e per matching Trigger, all or none. When
// from is not nil, e is the reply to from's delivery, which has succeeded:
// on a nil error from's queue slot has been handed to e's deliveries (or
// freed), so a reply always fits in the slot of the delivery it answers;
// on an error from keeps its slot.
func (b *Broker) enqueue(e event.Event, ttl int, origin string, from *job) error {
	log := eventLogger(b.log, e)
	if ttl <= 0 {
		b.met.received.WithLabelValues(origin, receivedTTLExpired).Inc()
		log.Error().Str("origin", origin).Msg("event dropped: no broker hops left (reply loop?)")
		b.release(from)
		return nil
	}
	var routes []*route
	for _, r := range b.routes {
		if r.trigger.Matches(e) {
			routes = append(routes, r)
		}
	}
	if len(routes) == 0 {
		b.met.received.WithLabelValues(origin, receivedUnmatched).Inc()
		log.Debug().Str("origin", origin).Msg("no trigger matches the event")
		b.release(from)
		return nil
	}
	batch := batchKey(e)
	n := len(routes)
	freed := 0
	if from != nil {
		freed = 1
	}
	b.mu.Lock()
	switch {
	case b.stopped || (b.draining && origin != originReply):
		b.mu.Unlock()
		b.met.received.WithLabelValues(origin, receivedClosed).Inc()
		return ErrClosed
	// A batch holding nothing may always come in (the queue permitting),
	// even with an event of more deliveries than the quota.
	case origin != originReply && batch != "" && b.held[batch] > 0 && b.held[batch]+n > b.quota:
		held := b.held[batch]
		b.mu.Unlock()
		b.met.received.WithLabelValues(origin, receivedBatchFull).Inc()
		log.Debug().Str("origin", origin).Int("held", held).Int("batchQuota", b.quota).Msg("batch holds its share of the queue: event refused")
		return fmt.Errorf("%w: batch %q holds %d of its %d deliveries", ErrBatchFull, events.BatchID(e), held, b.quota)
	case b.pending-freed+n > b.capacity:
		b.mu.Unlock()
		b.met.received.WithLabelValues(origin, receivedQueueFull).Inc()
		log.Warn().Str("origin", origin).Int("queueSize", b.capacity).Msg("queue full: event refused")
		return fmt.Errorf("%w (%d deliveries)", ErrQueueFull, b.capacity)
	}
	if from != nil {
		b.unholdLocked(from.batch)
	}
	b.pending += n - freed
	if batch != "" {
		b.held[batch] += n
	}
	b.met.queueDepth.Set(float64(b.pending))
	b.wg.Add(1) // before stopped can be set, so stop waits for the sends below
	b.mu.Unlock()
	defer b.wg.Done()

	b.met.received.WithLabelValues(origin, receivedAccepted).Inc()
	ev := &e
	now := time.Now()
	for _, r := range routes {
		j := &job{
			route:    r,
			event:    ev,
			batch:    batch,
			ttl:      ttl,
			log:      log.With().Str("trigger", r.trigger.Name).Logger(),
			addr:     -1,
			accepted: now,
			queued:   now,
		}
		j.log.Debug().Str("origin", origin).Msg("event queued")
		b.queue <- j
	}
	return nil
}

// batchKey is the batch e belongs to, for its quota: its tenant's batch
// of its batchid (a batch id is a tenant's own: two tenants' batches of
// one id are two batches, and one's may not hold the other's share), or ""
// for an event of no batch.
func batchKey(e event.Event) string {
	id := events.BatchID(e)
	if id == "" {
		return ""
	}
	return events.Tenant(e) + "\x00" + id
}

// release frees the queue slot of j, a finished delivery; a nil j is none.
func (b *Broker) release(j *job) {
	if j == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending--
	b.unholdLocked(j.batch)
	b.met.queueDepth.Set(float64(b.pending))
	b.closeDrainedLocked()
}

// unholdLocked takes one slot off batch's count.
func (b *Broker) unholdLocked(batch string) {
	if batch == "" {
		return
	}
	if b.held[batch] <= 1 {
		delete(b.held, batch)
		return
	}
	b.held[batch]--
}

// closeDrainedLocked signals Shutdown when the last delivery has finished.
func (b *Broker) closeDrainedLocked() {
	if b.draining && b.pending == 0 && !b.drainedClosed {
		b.drainedClosed = true
		close(b.drained)
	}
}

// eventLogger returns log with the event's batchid, traceparent, type
// and id, and for a chunk's event its chunk (events.ChunkIndex). Those
// are the sender's, of any length, and every line about the event has
// them: each is cut as an error quotes a value (logged).
func eventLogger(log zerolog.Logger, e event.Event) zerolog.Logger {
	c := log.With().
		Str(events.ExtBatchID, logged(events.BatchID(e))).
		Str(events.ExtTraceParent, logged(traceParent(e)))
	if i, ok := events.ChunkIndex(e); ok {
		c = c.Int("chunk", i)
	}
	return c.Str("type", logged(e.Type())).
		Str("id", logged(e.ID())).
		Logger()
}

// logged is an event's attribute s as a log line shows it: pricing.Shown's
// cut, called for a long s alone (it allocates; every event is logged).
func logged(s string) string {
	if len(s) <= 200 {
		return s
	}
	return pricing.Shown(s)
}

// takeTTL removes TTLExtension from e and returns its value, or the default
// number of hops when e has none (or a bad one).
func takeTTL(e *event.Event) int {
	v, ok := e.Extensions()[TTLExtension]
	if !ok {
		return defaultTTL
	}
	e.SetExtension(TTLExtension, nil)
	s, err := types.Format(v) // binary mode gives a string, structured a number
	if err != nil {
		return defaultTTL
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > defaultTTL {
		return defaultTTL
	}
	return n
}

// traceParent returns e's traceparent extension, or "".
func traceParent(e event.Event) string {
	tp, _ := e.Extensions()[events.ExtTraceParent].(string)
	return tp
}
