package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/protocol"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/cloudevents/sdk-go/v2/types"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/events"
)

// Send enqueues e as the ingress would, without HTTP, so that an in-process
// caller can use the broker where it would use a CloudEvents client. It
// never blocks: the result is nil (ACK) when e is queued or matches no
// Trigger, a 400 cehttp.Result for an invalid event, a 429 one wrapping
// ErrQueueFull and a 503 one wrapping ErrClosed.
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
	switch err := b.enqueue(e, ttl, originSend); {
	case errors.Is(err, ErrQueueFull):
		return cehttp.NewResult(http.StatusTooManyRequests, "%w", err)
	case errors.Is(err, ErrClosed):
		return cehttp.NewResult(http.StatusServiceUnavailable, "%w", err)
	default:
		return err
	}
}

// enqueue queues one delivery of e per matching Trigger, all or none.
func (b *Broker) enqueue(e event.Event, ttl int, origin string) error {
	log := eventLogger(b.log, e)
	if ttl <= 0 {
		b.met.received.WithLabelValues(origin, receivedTTLExpired).Inc()
		log.Error().Str("origin", origin).Msg("event dropped: no broker hops left (reply loop?)")
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
		return nil
	}
	b.mu.Lock()
	switch {
	case b.stopped || (b.draining && origin != originReply):
		b.mu.Unlock()
		b.met.received.WithLabelValues(origin, receivedClosed).Inc()
		return ErrClosed
	case b.pending+len(routes) > b.capacity:
		b.mu.Unlock()
		b.met.received.WithLabelValues(origin, receivedQueueFull).Inc()
		log.Warn().Str("origin", origin).Int("queueSize", b.capacity).Msg("queue full: event refused")
		return fmt.Errorf("%w (%d deliveries)", ErrQueueFull, b.capacity)
	}
	b.pending += len(routes)
	b.met.queueDepth.Set(float64(b.pending))
	b.wg.Add(1) // before stopped can be set, so stop waits for the sends below
	b.mu.Unlock()
	defer b.wg.Done()

	b.met.received.WithLabelValues(origin, receivedAccepted).Inc()
	ev := &e
	for _, r := range routes {
		j := &job{
			route: r,
			event: ev,
			ttl:   ttl,
			log:   log.With().Str("trigger", r.trigger.Name).Logger(),
		}
		j.log.Debug().Str("origin", origin).Msg("event queued")
		b.queue <- j
	}
	return nil
}

// release frees the queue slot of a finished delivery.
func (b *Broker) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending--
	b.met.queueDepth.Set(float64(b.pending))
	b.closeDrainedLocked()
}

// closeDrainedLocked signals Shutdown when the last delivery has finished.
func (b *Broker) closeDrainedLocked() {
	if b.draining && b.pending == 0 && !b.drainedClosed {
		b.drainedClosed = true
		close(b.drained)
	}
}

// eventLogger returns log with the event's batchid, type and id.
func eventLogger(log zerolog.Logger, e event.Event) zerolog.Logger {
	return log.With().
		Str(events.ExtBatchID, events.BatchID(e)).
		Str("type", e.Type()).
		Str("id", e.ID()).
		Logger()
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
