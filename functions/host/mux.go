package host

import "net/http"

// Mux is an http.ServeMux whose own answers, no route (404) and a route
// without that method (405, with its Allow header), are JSON ErrorBody
// like every other error of pricefn, rather than the ServeMux's plain
// text. Register routes on the embedded ServeMux.
type Mux struct {
	*http.ServeMux
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{http.NewServeMux()} }

// ServeHTTP dispatches r to its route, or answers the ServeMux's 404 or
// 405 as JSON. Every answer says X-Content-Type-Options: nosniff: the API's
// JSON (whose errors quote ids and fields as sent) is never read by a
// browser as a page.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	h, pattern := m.Handler(r)
	if pattern != "" {
		m.ServeMux.ServeHTTP(w, r)
		return
	}
	// No route: h is the ServeMux's own error handler (a redirect has a
	// pattern). Learn its status and Allow header without its body.
	rec := &statusRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	switch rec.code {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		WriteError(w, Errorf(http.StatusMethodNotAllowed, "host: %s %s: method not allowed (allowed: %s)", r.Method, r.URL.Path, rec.header.Get("Allow")))
	case http.StatusNotFound, 0:
		WriteError(w, Errorf(http.StatusNotFound, "host: %s %s: no such route", r.Method, r.URL.Path))
	default:
		if rec.code < 400 { // not an error (a redirect): let the ServeMux answer
			m.ServeMux.ServeHTTP(w, r)
			return
		}
		WriteError(w, Errorf(rec.code, "host: %s %s: %s", r.Method, r.URL.Path, http.StatusText(rec.code)))
	}
}

// statusRecorder keeps the status and header a handler writes and drops
// its body.
type statusRecorder struct {
	header http.Header
	code   int
}

func (s *statusRecorder) Header() http.Header { return s.header }

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return len(b), nil
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
}

var _ http.Handler = (*Mux)(nil)
