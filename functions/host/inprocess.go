package host

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"

	"github.com/pricefn/pricefn/events"
)

// InProcess is an http.RoundTripper that serves each request by Handler,
// in the caller's goroutine, with no connection: how "pricefn dev"
// delivers the events between its broker and its functions, all in one
// process. The handler gets a server's request (method, URL path, headers,
// body, the caller's context) and its response is buffered whole before
// RoundTrip returns. A request that loopback TCP would carry costs no
// system call, no kernel copy and no HTTP framing: a chunk's events are
// megabytes.
//
// A handler that panics is a connection cut short: RoundTrip returns an
// error, as a client of a server whose handler panicked sees one.
type InProcess struct {
	// Handler serves the requests to Host; set before the first.
	Handler http.Handler
	// Host is the host:port of the URLs Handler serves; a request to
	// another goes to Next (nil: http.DefaultTransport), over the network.
	Host string
	Next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (p *InProcess) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	if req.URL.Host != p.Host {
		next := p.Next
		if next == nil {
			next = http.DefaultTransport
		}
		return next.RoundTrip(req)
	}
	if err := req.Context().Err(); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	sr := req.Clone(context.WithValue(req.Context(), inProcessKey{}, true))
	sr.RequestURI = req.URL.RequestURI()
	sr.RemoteAddr = "in-process:0"
	sr.Host = cmp.Or(req.Host, req.URL.Host)
	sr.Proto, sr.ProtoMajor, sr.ProtoMinor = "HTTP/1.1", 1, 1
	if data, ok := events.OwnedDataOf(req.Context()); ok && len(data) > 0 && req.ContentLength == int64(len(data)) && IsBinary(req) {
		// The body is a binary-mode event's data, bytes its sender
		// changes nothing of: the handler may keep them rather than copy
		// them.
		sr.Body = events.OwnedBody(data)
	}
	if sr.Body == nil {
		sr.Body = http.NoBody
	}
	w := &inProcessWriter{header: http.Header{}}
	defer func() {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper closes the body, even on errors
		}
		if v := recover(); v != nil {
			resp, err = nil, fmt.Errorf("host: in-process %s %s: the handler failed: %v", req.Method, req.URL.Path, v)
			if v != http.ErrAbortHandler {
				// As net/http logs it: the stack says where.
				err = fmt.Errorf("%w\n%s", err, debug.Stack())
			}
		}
	}()
	p.Handler.ServeHTTP(w, sr)
	if w.code == 0 {
		w.WriteHeader(http.StatusOK)
	}
	code := w.code
	w.sent.Set("Content-Length", strconv.Itoa(len(w.body)))
	return &http.Response{
		Status:        strconv.Itoa(code) + " " + http.StatusText(code),
		StatusCode:    code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.sent,
		Body:          events.OwnedBody(w.body), // nothing else holds it
		ContentLength: int64(len(w.body)),
		Request:       req,
	}, nil
}

// InProcessRequest reports whether r came through an InProcess transport:
// a request from this process, whose declared Content-Length a reader may
// size its buffer by.
func InProcessRequest(r *http.Request) bool {
	v, _ := r.Context().Value(inProcessKey{}).(bool)
	return v
}

type inProcessKey struct{}

// inProcessWriter is the response an InProcess handler writes.
type inProcessWriter struct {
	header http.Header
	sent   http.Header // the headers as they were when the status was written
	code   int
	body   []byte
	// given is bytes the handler gave away (a reply's data, Handler): a
	// body written as exactly these bytes in one Write is kept as it is,
	// unless their array has much room to spare.
	given []byte
}

func (w *inProcessWriter) Header() http.Header { return w.header }

func (w *inProcessWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code, w.sent = code, w.header.Clone()
	}
}

func (w *inProcessWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.WriteHeader(http.StatusOK)
	}
	// Not when its array is much larger than the body (events.Snug): what
	// the body holds may be kept (a store's results, store.Chunk.Given)
	// and would keep it all.
	if w.body == nil && len(b) > 0 && len(b) == len(w.given) && &b[0] == &w.given[0] && events.Snug(b) {
		w.body, w.given = b, nil
		return len(b), nil
	}
	w.given = nil
	if w.body == nil {
		// A length the handler declares is this process's own: room for
		// it at once rather than by doubling.
		if n, err := strconv.Atoi(w.sent.Get("Content-Length")); err == nil && n > len(b) {
			w.body = make([]byte, 0, n)
		}
	}
	w.body = append(w.body, b...)
	return len(b), nil
}
