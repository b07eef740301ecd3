package host

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strings"
)

// validTraceParent is a W3C trace context traceparent header: version,
// trace id, parent id and flags, lower-case hex. A version above 00 may add
// fields after the flags, of visible ASCII (what an HTTP header carries
// as it is); version ff is invalid.
var validTraceParent = regexp.MustCompile(`^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-[!-~]*)?$`)

// maxTraceParent bounds a later version's traceparent, in bytes. It goes,
// unchanged, on every event of its batch and every log line about it: a
// structured event's traceparent is a JSON string of any length, and one of
// 200 KB was in every log line, and in a header that an HTTP server reading
// at most 1 MB of them refuses with a few more.
const maxTraceParent = 512

// TraceParent returns tp when it is a valid W3C traceparent, or a new
// one when it is empty or invalid (as the W3C recommendation says: an
// invalid traceparent restarts the trace): version 00, a random trace id
// and parent id, sampled. pricefn propagates it unchanged on every event
// of a batch and logs it on every line about the batch, so that one batch
// can be followed across functions (and joined to the client's trace).
func TraceParent(tp string) string {
	if ValidTraceParent(tp) {
		return tp
	}
	var id [24]byte
	_, _ = rand.Read(id[:]) // never fails (crypto/rand)
	return "00-" + hex.EncodeToString(id[:16]) + "-" + hex.EncodeToString(id[16:]) + "-01"
}

// ValidTraceParent reports whether tp is a valid W3C traceparent: the
// version-00 format (extra fields only for later versions, of visible
// ASCII, maxTraceParent bytes in all), neither id all zeros, version not
// ff.
func ValidTraceParent(tp string) bool {
	if len(tp) > maxTraceParent {
		return false
	}
	m := validTraceParent.FindStringSubmatch(tp)
	switch {
	case m == nil, m[1] == "ff", m[1] == "00" && m[4] != "":
		return false
	}
	return strings.Trim(m[2], "0") != "" && strings.Trim(m[3], "0") != ""
}

type traceKey struct{}

// WithTraceParent returns ctx carrying the traceparent of the event or
// request being handled; Events puts the event's there.
func WithTraceParent(ctx context.Context, tp string) context.Context {
	return context.WithValue(ctx, traceKey{}, tp)
}

// TraceParentOf returns the traceparent ctx carries, or "".
func TraceParentOf(ctx context.Context) string {
	tp, _ := ctx.Value(traceKey{}).(string)
	return tp
}
