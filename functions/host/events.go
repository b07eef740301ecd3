package host

import (
	"context"
	"errors"
	"net/http"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/events"
)

// Handler is a CloudEvents function in the shape of Knative's Go template:
// it returns the reply event, or nil for none.
type Handler interface {
	Handle(ctx context.Context, e event.Event) (*event.Event, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, e event.Event) (*event.Event, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, e event.Event) (*event.Event, error) {
	return f(ctx, e)
}

// DefaultMaxBodyBytes bounds the body of one incoming request (an event or
// a plain batch) unless the caller gives another limit: the broker's
// default event size (events/broker), so that whatever a function accepts
// the broker can carry.
const DefaultMaxBodyBytes = 32 << 20

// LimitBody bounds the body of r to limit bytes (DefaultMaxBodyBytes when
// limit <= 0). A request that declares a longer Content-Length is refused
// at once, before anything is read or allocated; a body that turns out
// longer fails its read with an *http.MaxBytesError, which TooLarge turns
// into the 413.
func LimitBody(w http.ResponseWriter, r *http.Request, limit int64) error {
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	if r.ContentLength > limit {
		return TooLarge(limit)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return nil
}

// TooLarge is the 413 of a body over limit bytes.
func TooLarge(limit int64) error {
	return Errorf(http.StatusRequestEntityTooLarge, "host: request body larger than the limit of %d bytes", limit)
}

// ReadEvent reads the CloudEvent of r, binary or structured, of at most
// limit bytes (DefaultMaxBodyBytes when limit <= 0). A request that holds
// no CloudEvent is a 415, an invalid one a 400, a longer one a 413.
func ReadEvent(w http.ResponseWriter, r *http.Request, limit int64) (*event.Event, error) {
	if err := LimitBody(w, r, limit); err != nil {
		return nil, err
	}
	msg := cehttp.NewMessageFromHttpRequest(r)
	defer msg.Finish(nil)
	if msg.ReadEncoding() == binding.EncodingUnknown {
		return nil, Errorf(http.StatusUnsupportedMediaType, "host: the request holds no CloudEvent (want binary mode ce-* headers or structured application/cloudevents+json)")
	}
	e, err := binding.ToEvent(r.Context(), msg)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, TooLarge(tooBig.Limit)
		}
		return nil, Errorf(http.StatusBadRequest, "host: malformed CloudEvent: %w", err)
	}
	if err := e.Validate(); err != nil {
		return nil, Errorf(http.StatusBadRequest, "host: invalid CloudEvent: %w", err)
	}
	return e, nil
}

// WriteEvent writes e as the response, in binary mode, with the given status.
func WriteEvent(ctx context.Context, w http.ResponseWriter, e *event.Event, status int) error {
	return cehttp.WriteResponseWriter(ctx, binding.ToMessage(e), status, w)
}

// Events serves h over HTTP: each POST carries one CloudEvent. A reply is
// written with status 200; no reply is a 202 with an empty body; an error
// is its Status with an ErrorBody. Errors are logged to log with the
// event's type, id and batch id.
func Events(h Handler, log zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			WriteError(w, Errorf(http.StatusMethodNotAllowed, "host: %s not allowed, POST a CloudEvent", r.Method))
			return
		}
		e, err := ReadEvent(w, r, 0)
		if err != nil {
			log.Warn().Str("error", Message(err)).Int("status", Status(err)).Str("path", r.URL.Path).Msg("rejected request")
			WriteError(w, err)
			return
		}
		reply, err := h.Handle(r.Context(), *e)
		if err != nil {
			ev := log.Error()
			if Status(err) < 500 {
				ev = log.Warn()
			}
			ev.Str("error", Message(err)).Int("status", Status(err)).Str("type", e.Type()).Str("id", e.ID()).
				Str(events.ExtBatchID, events.BatchID(*e)).Msg("event not processed")
			WriteError(w, err)
			return
		}
		if reply == nil {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		if err := WriteEvent(r.Context(), w, reply, http.StatusOK); err != nil {
			log.Error().Err(err).Str("type", reply.Type()).Msg("writing the reply failed")
		}
	})
}
