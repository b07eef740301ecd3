package host

import (
	"context"
	"errors"
	"net/http"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/rs/zerolog"
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

// MaxEventBytes bounds the body of one incoming event.
const MaxEventBytes = 512 << 20

// ReadEvent reads the CloudEvent of r, binary or structured. A request
// that holds no CloudEvent is a 415, an invalid one a 400.
func ReadEvent(w http.ResponseWriter, r *http.Request) (*event.Event, error) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxEventBytes)
	msg := cehttp.NewMessageFromHttpRequest(r)
	defer msg.Finish(nil)
	if msg.ReadEncoding() == binding.EncodingUnknown {
		return nil, Errorf(http.StatusUnsupportedMediaType, "host: the request holds no CloudEvent (want binary mode ce-* headers or structured application/cloudevents+json)")
	}
	e, err := binding.ToEvent(r.Context(), msg)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, Errorf(http.StatusRequestEntityTooLarge, "host: event larger than %d bytes", tooBig.Limit)
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
		e, err := ReadEvent(w, r)
		if err != nil {
			log.Warn().Err(err).Str("path", r.URL.Path).Msg("rejected request")
			WriteError(w, err)
			return
		}
		reply, err := h.Handle(r.Context(), *e)
		if err != nil {
			ev := log.Error()
			if Status(err) < 500 {
				ev = log.Warn()
			}
			ev.Err(err).Int("status", Status(err)).Str("type", e.Type()).Str("id", e.ID()).
				Str("batchid", stringExt(e, "batchid")).Msg("event not processed")
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

func stringExt(e *event.Event, name string) string {
	s, _ := e.Extensions()[name].(string)
	return s
}
