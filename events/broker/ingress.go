package broker

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/pricefn/pricefn/events"
)

// HealthPath is the ingress's health check: 200 while the broker takes
// events, 503 once it shuts down.
const HealthPath = "/healthz"

// ServeHTTP is the broker's ingress. A POST to any path but HealthPath is a
// CloudEvent in binary or structured mode (batches are refused, as by
// Knative); the answer is 202 when the event is queued (or matches no
// Trigger), 400 when it is not a valid CloudEvent, 413 when it is over
// Config.MaxEventBytes, 429 with "Retry-After: 1" when the queue is full or
// the event's batch holds its share of it (the sender backs off and
// retries) and 503 while shutting down. Knative's path /NAMESPACE/BROKER works like "/".
func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == HealthPath {
		b.serveHealth(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "broker: POST a CloudEvent", http.StatusMethodNotAllowed)
		return
	}
	r.Body = events.LimitBody(w, r.Body, b.maxBytes)
	msg := cehttp.NewMessageFromHttpRequest(r)
	defer func() { _ = msg.Finish(nil) }()
	if msg.ReadEncoding() == binding.EncodingBatch {
		b.refuse(w, r, http.StatusBadRequest, receivedMalformed, errors.New("broker: batched events are not supported"))
		return
	}
	e, err := events.ToEvent(r.Context(), msg)
	if err == nil {
		err = e.Validate()
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			b.refuse(w, r, http.StatusRequestEntityTooLarge, receivedTooLarge,
				fmt.Errorf("broker: event over %d bytes: %w", tooBig.Limit, err))
			return
		}
		b.refuse(w, r, http.StatusBadRequest, receivedMalformed, fmt.Errorf("broker: malformed event: %w", err))
		return
	}
	ttl := takeTTL(e)
	switch err := b.enqueue(*e, ttl, originHTTP, nil); {
	case errors.Is(err, ErrQueueFull), errors.Is(err, ErrBatchFull):
		w.Header().Set("Retry-After", "1")
		http.Error(w, err.Error(), http.StatusTooManyRequests)
	case errors.Is(err, ErrClosed):
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

// refuse answers a request whose event could not be read.
func (b *Broker) refuse(w http.ResponseWriter, r *http.Request, code int, outcome string, err error) {
	b.met.received.WithLabelValues(originHTTP, outcome).Inc()
	b.log.Warn().Err(err).Str("remote", r.RemoteAddr).Int("code", code).Msg("event refused")
	http.Error(w, err.Error(), code)
}

func (b *Broker) serveHealth(w http.ResponseWriter, _ *http.Request) {
	b.mu.Lock()
	down := b.draining || b.stopped
	b.mu.Unlock()
	if down {
		http.Error(w, "broker: shutting down", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}
