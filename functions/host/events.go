package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/events"
)

// Handler is a CloudEvents function in the shape of Knative's Go template:
// it returns the reply event, or nil for none. The reply's data is given
// away with it: the handler does not write to it or reuse it afterwards
// (Events may pass it on as it is).
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
	r.Body = events.LimitBody(w, r.Body, limit)
	return nil
}

// TooLarge is the 413 of a body over limit bytes.
func TooLarge(limit int64) error {
	return Errorf(http.StatusRequestEntityTooLarge, "host: request body larger than the limit of %d bytes", limit)
}

// ReadEvent reads the CloudEvent of r, binary or structured, of at most
// limit bytes (DefaultMaxBodyBytes when limit <= 0). A request that holds
// no CloudEvent is a 415, a longer one a 413; an invalid one is a 400 whose
// message names the attribute at fault, in a sentence. A binary-mode
// event's data is read into a buffer kept from earlier reads
// (events.ToEventPooled): valid until release is called (never nil), which
// then reuses it. For an event done with within its request.
func ReadEvent(w http.ResponseWriter, r *http.Request, limit int64) (e *event.Event, release func(), err error) {
	release = func() {}
	if err := LimitBody(w, r, limit); err != nil {
		return nil, release, err
	}
	structured := IsStructured(r)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/cloudevents-batch+json" {
		// Batched mode: the envelope parser said "cannot unmarshal array
		// into Go value of type map[string]json.RawMessage".
		return nil, release, Errorf(http.StatusUnsupportedMediaType, "host: batched CloudEvents (application/cloudevents-batch+json) are not taken: send each event on its own, structured (application/cloudevents+json) or binary")
	}
	if !structured {
		if !IsBinary(r) {
			return nil, release, Errorf(http.StatusUnsupportedMediaType, "host: the request holds no CloudEvent (want binary mode ce-* headers or structured application/cloudevents+json)")
		}
		if err := checkSpecVersion(r.Header.Get("ce-specversion"), "ce-specversion header"); err != nil {
			return nil, release, err
		}
		if err := checkSingleValued(r.Header); err != nil {
			return nil, release, err
		}
		for _, a := range []string{"source", "dataschema"} {
			if v, ok := r.Header["Ce-"+strings.ToUpper(a[:1])+a[1:]]; ok {
				if err := checkURI(a, v[0], "ce-"+a+" header"); err != nil {
					return nil, release, err
				}
			}
		}
	}
	var body []byte
	if structured {
		// The SDK copies the data out of the envelope: nothing to pool.
		if body, err = events.ReadData(r.Body); err != nil {
			return nil, release, readError(err)
		}
		if body, err = checkStructured(body); err != nil {
			return nil, release, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	msg := cehttp.NewMessageFromHttpRequest(r)
	defer msg.Finish(nil)
	if !structured {
		size, declared := 0, r.ContentLength
		if InProcessRequest(r) && r.ContentLength > 0 {
			size = int(r.ContentLength) // told by this process: room made at once
		}
		e, release, err = events.ToEventPooled(r.Context(), msg, size, declared)
	} else {
		e, err = events.ToEvent(r.Context(), msg)
	}
	if err != nil {
		return nil, release, readError(err)
	}
	if err := e.Validate(); err != nil {
		release()
		return nil, func() {}, Errorf(http.StatusBadRequest, "host: invalid CloudEvent: %s", sentence(err.Error()))
	}
	return e, release, nil
}

// IsBinary reports whether r carries a binary-mode CloudEvent: any ce-*
// header says it means to, ce-specversion or not.
func IsBinary(r *http.Request) bool {
	for k := range r.Header {
		if len(k) > 3 && strings.EqualFold(k[:3], "ce-") {
			return true
		}
	}
	return false
}

// checkSingleValued refuses a binary-mode event with a ce-* header given
// more than once: an attribute has one value, and the SDK would take the
// first, which need not be the one a proxy or the receiver's checks saw.
// It refuses, naming it, a ce-* header whose attribute name is not
// letters and digits, which the SDK refused unnamed ("bad key,
// CloudEvents attribute names MUST consist of ...").
func checkSingleValued(h http.Header) error {
	for k, vs := range h {
		if len(k) <= 3 || !strings.EqualFold(k[:3], "ce-") {
			continue
		}
		if len(vs) > 1 {
			return Errorf(http.StatusBadRequest, "host: header %s is given %d times: a CloudEvent attribute has one value", strings.ToLower(k), len(vs))
		}
		if strings.Trim(strings.ToLower(k[3:]), "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
			return Errorf(http.StatusBadRequest, "host: header %s: CloudEvent attribute names are letters and digits", Short(strings.ToLower(k)))
		}
	}
	return nil
}

// IsStructured reports whether r carries a structured-mode CloudEvent.
func IsStructured(r *http.Request) bool {
	return strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/cloudevents")
}

// checkURI refuses a source that is no URI-reference, or a dataschema
// that is no absolute URI, named where it came from: the SDK's parser
// said "cannot parse uri ref:" or "parse \"%zz\": invalid URL escape"
// without naming the attribute.
func checkURI(attr, v, where string) error {
	u, err := url.Parse(v)
	switch {
	case v == "" && attr == "source":
		return Errorf(http.StatusBadRequest, "host: the CloudEvent's source (%s) must be a non-empty URI-reference", where)
	case err != nil:
		return Errorf(http.StatusBadRequest, "host: the CloudEvent's %s (%s) %q is no URI: %s", attr, where, Short(v), sentence(err.Error()))
	case attr == "dataschema" && !u.IsAbs():
		return Errorf(http.StatusBadRequest, "host: the CloudEvent's dataschema (%s) %q must be an absolute URI", where, Short(v))
	}
	return nil
}

// checkSpecVersion refuses a missing or unsupported spec version, named
// where it came from.
func checkSpecVersion(v, where string) error {
	switch v {
	case "1.0", "0.3":
		return nil
	case "":
		return Errorf(http.StatusBadRequest, "host: the CloudEvent has no %s (want 1.0)", where)
	}
	return Errorf(http.StatusBadRequest, "host: CloudEvents spec version %q (%s) is not supported: want 1.0", Short(v), where)
}

// checkStructured checks a structured event's envelope before the SDK
// reads it, so that a fault reads as a sentence naming the attribute
// rather than as the SDK's parser internals. It returns the body the SDK
// is to read: body itself, or, where datacontenttype names JSON in a case
// the SDK does not know as JSON ("Application/JSON": media types are
// case-insensitive, the SDK's test is not), the envelope with that type in
// lower case.
func checkStructured(body []byte) ([]byte, error) {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		// Worded for the sender, not as encoding/json's "cannot unmarshal
		// array into Go value of type map[string]json.RawMessage".
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return nil, Errorf(http.StatusBadRequest, "host: the structured CloudEvent is not a JSON object: got JSON %s", te.Value)
		case errors.As(err, &se):
			return nil, Errorf(http.StatusBadRequest, "host: the structured CloudEvent is not a JSON object: malformed JSON at byte %d: %s", se.Offset, sentence(se.Error()))
		}
		return nil, Errorf(http.StatusBadRequest, "host: the structured CloudEvent is not a JSON object: %s", sentence(err.Error()))
	}
	// An attribute has one value: encoding/json, and the SDK's reader
	// after it, keep the last of a member given twice, so a second "data"
	// or "batchid" would replace the first unseen.
	if k, ok := repeatedMember(body); ok {
		return nil, Errorf(http.StatusBadRequest, "host: the structured CloudEvent gives %q more than once: a CloudEvent attribute has one value", Short(k))
	}
	// The data is one or the other (CloudEvents JSON format): the SDK took
	// whichever came last.
	if _, ok := env["data"]; ok {
		if _, ok := env["data_base64"]; ok {
			return nil, Errorf(http.StatusBadRequest, "host: the structured CloudEvent gives both \"data\" and \"data_base64\": an event has one data, in one of them")
		}
	}
	var version string
	if raw, ok := env["specversion"]; ok && json.Unmarshal(raw, &version) != nil {
		return nil, Errorf(http.StatusBadRequest, "host: the structured CloudEvent's \"specversion\" must be a string")
	}
	if err := checkSpecVersion(version, `"specversion" attribute`); err != nil {
		return nil, err
	}
	// CloudEvents attribute names are lower-case letters and digits; the
	// SDK folds "BatchId" into batchid, where it refuses "batch_id".
	for k := range env {
		if k != strings.ToLower(k) {
			return nil, Errorf(http.StatusBadRequest, "host: the structured CloudEvent's attribute %q: attribute names are lower-case letters and digits (CloudEvents)", Short(k))
		}
	}
	strs := []string{"id", "source", "type", "subject", "datacontenttype", "dataschema", "time", "batchid"}
	for k, raw := range env {
		// An extension's value is a string, number or boolean: the SDK's
		// refusal of an object printed it as a Go map ("invalid
		// CloudEvents value: map[string]interface {}{...").
		if k != "data" && k != "data_base64" && !slices.Contains(strs, k) && len(raw) > 0 && (raw[0] == '{' || raw[0] == '[') {
			return nil, Errorf(http.StatusBadRequest, "host: the structured CloudEvent's attribute %q must be a string, a number or a boolean, got %s", Short(k), jsonKind(raw[0]))
		}
	}
	for _, a := range strs {
		raw, ok := env[a]
		var v string
		if ok && json.Unmarshal(raw, &v) != nil {
			return nil, Errorf(http.StatusBadRequest, "host: the structured CloudEvent's %q must be a string, got %s", a, Short(string(raw)))
		}
		if ok && (a == "source" || a == "dataschema") {
			if err := checkURI(a, v, fmt.Sprintf("%q attribute", a)); err != nil {
				return nil, err
			}
		}
		if ok && a == "time" && v != "" {
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
				// The SDK said "cannot convert ... to time.Time", not which.
				return nil, Errorf(http.StatusBadRequest, "host: the structured CloudEvent's \"time\" %q must be an RFC 3339 timestamp, such as 2026-11-25T09:00:00Z", Short(v))
			}
		}
	}
	var ct string
	if raw, ok := env["datacontenttype"]; ok && json.Unmarshal(raw, &ct) == nil && !sdkJSON(ct) {
		// Data of another media type is a JSON string: the SDK's refusal
		// of any other quoted its parser ("expected a string: ReadString:
		// expects \" or n, but found {").
		if data, ok := env["data"]; ok {
			if data = bytes.TrimSpace(data); len(data) > 0 && data[0] != '"' && string(data) != "null" {
				return nil, Errorf(http.StatusBadRequest, "host: the structured CloudEvent's datacontenttype %q is not JSON, so its \"data\" must be a string, got %s: want datacontenttype application/json", Short(ct), jsonKind(data[0]))
			}
		}
	}
	if raw, ok := env["datacontenttype"]; ok && json.Unmarshal(raw, &ct) == nil && ct != "" && events.JSONContent(ct) {
		if mt, params, err := mime.ParseMediaType(ct); err == nil && !strings.HasPrefix(ct, mt) {
			if body, err = replaceMember(body, "datacontenttype", mime.FormatMediaType(mt, params)); err != nil {
				return nil, Errorf(http.StatusBadRequest, "host: the structured CloudEvent: %s", sentence(err.Error()))
			}
		}
	}
	// The SDK reads data_base64 from the byte after the colon: a space
	// there (valid JSON) would read as bad base64. (A body that has it
	// right after the colon, the common case, is not copied.)
	if raw, ok := env["data_base64"]; ok && !bytes.Contains(body, []byte(`"data_base64":"`)) {
		var b64 string
		var err error
		if string(raw) == "null" || json.Unmarshal(raw, &b64) != nil {
			return nil, Errorf(http.StatusBadRequest, "host: the structured CloudEvent's \"data_base64\" must be a string, got %s", Short(string(raw)))
		}
		if body, err = replaceMember(body, "data_base64", b64); err != nil {
			return nil, Errorf(http.StatusBadRequest, "host: the structured CloudEvent: %s", sentence(err.Error()))
		}
	}
	return body, nil
}

// repeatedMember returns a key that the JSON object doc (valid JSON, as
// json.Unmarshal found it) gives more than once at its top level, if
// any. It walks the bytes once and copies none but the keys': the data
// member may be most of a large batch.
func repeatedMember(doc []byte) (string, bool) {
	var keys []string
	depth := 0
	for i := 0; i < len(doc); i++ {
		switch doc[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case '"':
			start := i
			for { // to the closing quote: one not escaped by a backslash
				i += 1 + bytes.IndexByte(doc[i+1:], '"')
				n := 0
				for doc[i-1-n] == '\\' {
					n++
				}
				if n%2 == 0 {
					break
				}
			}
			if depth != 1 {
				continue
			}
			// A string of the top level is a key when a colon follows.
			j := i + 1
			for j < len(doc) && (doc[j] == ' ' || doc[j] == '\t' || doc[j] == '\n' || doc[j] == '\r') {
				j++
			}
			var k string
			if j == len(doc) || doc[j] != ':' || json.Unmarshal(doc[start:i+1], &k) != nil {
				continue
			}
			if slices.Contains(keys, k) {
				return k, true
			}
			keys = append(keys, k)
		}
	}
	return "", false
}

// sdkJSON reports whether the data of a structured event of
// datacontenttype ct is read as JSON: by the SDK (event.isJSON: no type,
// or JSON or a CloudEvents JSON type as written, before any ';'), or as
// checkStructured rewrites a JSON type in another case. Any other type's
// data is a string.
func sdkJSON(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	switch strings.TrimSpace(mt) {
	case "", "application/json", "text/json", "application/cloudevents+json", "application/cloudevents-batch+json":
		return true
	}
	return events.JSONContent(ct)
}

// jsonKind names the kind of the JSON value that starts with c.
func jsonKind(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

// replaceMember returns the JSON object doc with the value of its member
// key (present) replaced by the string v, right after the colon, every
// other byte as it was (the data's bytes are its digest).
func replaceMember(doc []byte, key, v string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, err
		}
		start := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		if k != key {
			continue
		}
		end := dec.InputOffset()
		// What follows the key: space, the colon, space, the value.
		start += int64(bytes.IndexByte(doc[start:end], ':')) + 1
		enc, _ := json.Marshal(v)
		out := make([]byte, 0, len(doc)+len(enc))
		out = append(append(append(out, doc[:start]...), enc...), doc[end:]...)
		return out, nil
	}
	return nil, fmt.Errorf("host: no member %q", key)
}

// readError turns a failure to read an event into its answer.
func readError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return TooLarge(tooBig.Limit)
	}
	return Errorf(http.StatusBadRequest, "host: malformed CloudEvent: %s", sentence(err.Error()))
}

// sentence makes an error text one line of at most 200 characters: the
// SDK's texts end in newlines and some carry a parser's context.
func sentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ", error found in #"); i > 0 { // the JSON parser's context
		s = s[:i]
	}
	return Short(s)
}

// DataGiven reports whether the event Events handles in ctx holds data a
// sender in this process gave (events.OwnedData): bytes nothing changes
// after, which the handler may keep past its return, unlike a request's
// body read into a buffer that the next request reuses.
func DataGiven(ctx context.Context) bool {
	given, _ := ctx.Value(dataGivenKey{}).(bool)
	return given
}

type dataGivenKey struct{}

// WriteEvent writes e as the response, in binary mode, with the given status.
func WriteEvent(ctx context.Context, w http.ResponseWriter, e *event.Event, status int) error {
	return cehttp.WriteResponseWriter(ctx, binding.ToMessage(e), status, w)
}

// Events serves h over HTTP: each POST carries one CloudEvent. A reply is
// written with status 200; no reply is a 202 with an empty body; an error
// is its Status with an ErrorBody. The handler's context carries the
// event's traceparent (TraceParentOf). Errors are logged to log with the
// event's type, id, batch id and traceparent. The event's data is a
// buffer reused once the event is answered: h keeps nothing of it (no
// slice, no string made without a copy) past its return. Nor does h change
// it: from a sender in this process it is the sender's own bytes
// (events.OwnedData), which the sender may send again.
func Events(h Handler, log zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			WriteError(w, Errorf(http.StatusMethodNotAllowed, "host: %s not allowed, POST a CloudEvent", r.Method))
			return
		}
		// The event's data is read into a pooled buffer, given back once
		// the event is handled and answered: a handler keeps none of it.
		// Bytes from a sender in this process are taken as they are, and
		// nothing changes them after: those a handler may keep
		// (DataGiven).
		_, given := r.Body.(events.OwnedData)
		e, release, err := ReadEvent(w, r, 0)
		defer release()
		if err != nil {
			log.Warn().Str("error", Message(err)).Int("status", Status(err)).Str("path", r.URL.Path).Msg("rejected request")
			WriteError(w, err)
			return
		}
		tp, _ := e.Extensions()[events.ExtTraceParent].(string)
		ctx := WithTraceParent(r.Context(), tp)
		if given {
			ctx = context.WithValue(ctx, dataGivenKey{}, true)
		}
		reply, err := h.Handle(ctx, *e)
		if err != nil {
			ev := log.Error()
			if Status(err) < 500 {
				ev = log.Warn()
			}
			// The event's attributes are the sender's, of any length:
			// each is cut as an error quotes a value.
			if i, ok := events.ChunkIndex(*e); ok {
				// As every log line about a chunk has it (the broker's
				// read from the id the same way).
				ev = ev.Int("chunk", i)
			}
			ev.Str("error", Message(err)).Int("status", Status(err)).Str("type", Short(e.Type())).Str("id", Short(e.ID())).
				Str(events.ExtBatchID, Short(events.BatchID(*e))).Str(events.ExtTraceParent, Short(tp)).Msg("event not processed")
			WriteError(w, err)
			return
		}
		if reply == nil {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		if iw, ok := w.(*inProcessWriter); ok {
			iw.given = reply.Data() // written on as it is, not copied
		}
		if err := WriteEvent(r.Context(), w, reply, http.StatusOK); err != nil {
			log.Error().Err(err).Str("type", reply.Type()).Msg("writing the reply failed")
		}
	})
}
