package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
)

// Status returns the HTTP status that reports err.
func Status(err error) int {
	var r *cehttp.Result
	var se *SendError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &r) && r.StatusCode >= 400:
		return r.StatusCode
	case errors.As(err, &se):
		return se.Code
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Message returns err's text without the "400: " prefix that a
// *cehttp.Result adds.
func Message(err error) string {
	var r *cehttp.Result
	if errors.As(err, &r) && r == err {
		return fmt.Errorf(r.Format, r.Args...).Error()
	}
	return err.Error()
}

// Errorf returns an error that Status reports as code. What format wraps
// with %w, errors.Is finds (the Result's Is method formats it again);
// errors.As does not: a *cehttp.Result has no Unwrap. An error to be read
// by type (a *SendError's Unaddressed form, say) is taken before it goes
// into one.
func Errorf(code int, format string, args ...any) error {
	return cehttp.NewResult(code, format, args...)
}

// ErrorBody is the JSON body of every error response: {"error": "..."}.
type ErrorBody struct {
	Error string `json:"error"`
}

// WriteError writes err as its status and an ErrorBody.
func WriteError(w http.ResponseWriter, err error) {
	WriteJSON(w, Status(err), ErrorBody{Error: Message(err)})
}

// WriteJSON writes v as a JSON response with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":"host: encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}
