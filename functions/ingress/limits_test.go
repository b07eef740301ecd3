package ingress_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/functions/ingress"
	"github.com/pricefn/pricefn/store"
)

// endless is a body that never ends: only a limit stops its reader.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// TestBodyOverLimitIs413 sends bodies over MaxBatchBytes: declared by
// Content-Length (refused before reading), streamed without one (refused
// once the limit is read), plain and as a CloudEvent. Each is a 413 with a
// reason, and nothing is sent.
func TestBodyOverLimitIs413(t *testing.T) {
	const limit = 1 << 10
	srv, s := newServer(t, ingress.Options{MaxBatchBytes: limit})
	data, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 50})
	ceHeaders := func(req *http.Request) {
		req.Header.Set("ce-specversion", "1.0")
		req.Header.Set("ce-type", "io.pricefn.batch.submitted")
		req.Header.Set("ce-source", "/client")
		req.Header.Set("ce-id", "1")
	}
	for name, req := range map[string]func() *http.Request{
		"plain, declared": func() *http.Request { return plain(t, srv.URL+"/batches", data) },
		"plain, declared 500 MB": func() *http.Request {
			// The declared length alone must not make the server allocate it.
			req := plain(t, srv.URL+"/batches", data)
			req.ContentLength = 500 << 20
			req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(data), endless{}))
			return req
		},
		"plain, streamed": func() *http.Request {
			req := plain(t, srv.URL+"/batches", nil)
			req.ContentLength, req.Body = -1, io.NopCloser(endless{})
			return req
		},
		"binary event, streamed": func() *http.Request {
			req := plain(t, srv.URL+"/", nil)
			ceHeaders(req)
			req.ContentLength, req.Body = -1, io.NopCloser(endless{})
			return req
		},
		"binary event, declared": func() *http.Request {
			req := plain(t, srv.URL+"/", data)
			ceHeaders(req)
			return req
		},
	} {
		code, _, body := post(t, req())
		var e host.ErrorBody
		json.Unmarshal([]byte(body), &e)
		if code != http.StatusRequestEntityTooLarge || !strings.Contains(e.Error, "larger than the limit of 1024 bytes") {
			t.Errorf("%s: %d %s, want 413 naming the limit", name, code, body)
		}
	}
	if n := len(s.events()); n != 0 {
		t.Errorf("%d events sent for refused batches", n)
	}
	// Under the limit is fine.
	small, _ := batch.Sample(batch.SampleSpec{Type: "fra", N: 1})
	if code, _, body := post(t, plain(t, srv.URL+"/batches", small)); code != http.StatusAccepted {
		t.Errorf("small batch: %d %s", code, body)
	}
}

// TestValQueryBounded: /valQuery builds its batch in memory, so its size
// is bounded like a submitted batch's.
func TestValQueryBounded(t *testing.T) {
	srv, s := newServer(t, ingress.Options{MaxBatchBytes: 1 << 10})
	for q, want := range map[string]int{
		"metric=NPV&numTrades=1000000": http.StatusBadRequest,            // over maxValQueryTrades
		"metric=NPV&numTrades=100":     http.StatusRequestEntityTooLarge, // over MaxBatchBytes
	} {
		resp, err := http.Get(srv.URL + "/valQuery?" + q)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || !strings.Contains(string(body), `"error"`) {
			t.Errorf("%s: %d %s, want %d with an error", q, resp.StatusCode, body, want)
		}
	}
	if n := len(s.events()); n != 0 {
		t.Errorf("%d events sent", n)
	}
}

func TestRouteErrorsAreJSON(t *testing.T) {
	srv, _ := newServer(t, ingress.Options{})
	for path, want := range map[string]int{"/nope": http.StatusNotFound, "/batches": http.StatusMethodNotAllowed} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var e host.ErrorBody
		derr := json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != want || derr != nil || e.Error == "" {
			t.Errorf("GET %s: %d %+v %v, want %d with a JSON error", path, resp.StatusCode, e, derr, want)
		}
	}
}

// A body that declares a large Content-Length is not given a buffer of
// that size before its bytes arrive.
func TestDeclaredLengthAllocatesNothing(t *testing.T) {
	h := ingress.New(ingress.Options{Sender: &fakeSender{}, Store: store.NewMem(store.MemOptions{})}).Routes(nil)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 5 {
		req := httptest.NewRequest(http.MethodPost, "/batches", strings.NewReader(`{"valuationDate":`))
		req.ContentLength = 30 << 20 // declared, never sent
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
		t.Errorf("5 requests declaring 30 MB and sending 17 bytes allocated %d MB", got>>20)
	}
}

// Every bad request gets the right status and a one-line reason naming
// what is wrong; echoed input is cut to 200 characters.
func TestBadRequestsAnswered(t *testing.T) {
	srv, _ := newServer(t, ingress.Options{})
	batchDoc := `{"valuationDate":"2026-11-25","trades":[]}`
	for _, c := range []struct {
		name    string
		headers map[string]string
		body    string
		code    int
		want    string
	}{
		{"binary without ce-specversion", map[string]string{"ce-type": events.TypeBatchSubmitted, "ce-id": "1", "ce-source": "/x", "Content-Type": "application/json"}, batchDoc, 400, "no ce-specversion header"},
		{"binary spec 2.0", map[string]string{"ce-specversion": "2.0", "ce-type": events.TypeBatchSubmitted, "ce-id": "1", "ce-source": "/x", "Content-Type": "application/json"}, batchDoc, 400, `spec version "2.0" (ce-specversion header) is not supported`},
		{"structured spec 2.0", map[string]string{"Content-Type": "application/cloudevents+json"}, `{"specversion":"2.0","id":"1","type":"t","source":"/s","data":{}}`, 400, `spec version "2.0" ("specversion" attribute) is not supported`},
		{"structured id a number", map[string]string{"Content-Type": "application/cloudevents+json"}, `{"specversion":"1.0","id":5,"type":"x","source":"/s"}`, 400, `"id" must be a string, got 5`},
		{"structured without id", map[string]string{"Content-Type": "application/cloudevents+json"}, `{"specversion":"1.0","type":"x","source":"/s"}`, 400, "id: MUST be a non-empty string"},
		{"structured not JSON", map[string]string{"Content-Type": "application/cloudevents+json"}, `{"specversion":`, 400, "not a JSON object"},
		{"multipart", map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, "--x--", 415, "Content-Type multipart/form-data: want a JSON batch"},
		{"xml", map[string]string{"Content-Type": "application/xml"}, "<a/>", 415, "Content-Type application/xml"},
		{"gzip", map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}, "\x1f\x8b", 415, "gzip-encoded"},
		// A compressed CloudEvent was read as it came: "malformed JSON at
		// byte 0" (400), where a compressed plain batch is told why.
		{"gzip binary event", map[string]string{"ce-specversion": "1.0", "ce-type": events.TypeBatchSubmitted, "ce-id": "1", "ce-source": "/x", "Content-Type": "application/json", "Content-Encoding": "gzip"}, "\x1f\x8b", 415, "gzip-encoded: send the CloudEvent uncompressed"},
		{"gzip structured event", map[string]string{"Content-Type": "application/cloudevents+json", "Content-Encoding": "gzip"}, "\x1f\x8b", 415, "gzip-encoded: send the CloudEvent uncompressed"},
		{"long id", map[string]string{"Content-Type": "application/json"}, `{"id":"` + strings.Repeat("a", 5000) + `","valuationDate":"2026-11-25","trades":[]}`, 400, "batch id"},
		{"id of 129", map[string]string{"Content-Type": "application/json"}, `{"id":"` + strings.Repeat("a", 129) + `","valuationDate":"2026-11-25","trades":[]}`, 400, "want 1 to 128 letters"},
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/batches", strings.NewReader(c.body))
		for k, v := range c.headers {
			req.Header.Set(k, v)
		}
		code, _, body := post(t, req)
		var e host.ErrorBody
		if code != c.code || json.Unmarshal([]byte(body), &e) != nil || !strings.Contains(e.Error, c.want) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, code, body, c.code, c.want)
		}
		if strings.ContainsAny(strings.TrimSpace(e.Error), "\n") || len(e.Error) > 400 || strings.Contains(e.Error, "ReadString") {
			t.Errorf("%s: not a one-line sentence of at most 400 characters: %q", c.name, e.Error)
		}
	}
}

// A binary or structured CloudEvent whose content type carries a
// parameter, or capitals, is JSON all the same ("application/json;
// charset=utf-8" is what many clients send); it was a 400.
func TestJSONContentTypeParameters(t *testing.T) {
	srv, _ := newServer(t, ingress.Options{})
	batchDoc := `{"valuationDate":"2026-11-25","trades":[]}`
	for i, ct := range []string{"application/json; charset=utf-8", "Application/JSON", "text/json;charset=UTF-8"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(batchDoc))
		for k, v := range map[string]string{"ce-specversion": "1.0", "ce-type": events.TypeBatchSubmitted, "ce-id": fmt.Sprint("b", i), "ce-source": "/x", "Content-Type": ct} {
			req.Header.Set(k, v)
		}
		if code, _, body := post(t, req); code != http.StatusAccepted {
			t.Errorf("binary, Content-Type %s: %d %s, want 202", ct, code, body)
		}
		if ct == "Application/JSON" {
			continue // the CloudEvents SDK's structured reading takes such data for a string
		}
		structured := fmt.Sprintf(`{"specversion":"1.0","id":"s%d","type":%q,"source":"/x","datacontenttype":%q,"data":%s}`, i, events.TypeBatchSubmitted, ct, batchDoc)
		req, _ = http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(structured))
		req.Header.Set("Content-Type", "application/cloudevents+json")
		if code, _, body := post(t, req); code != http.StatusAccepted {
			t.Errorf("structured, datacontenttype %s: %d %s, want 202", ct, code, body)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(batchDoc))
	for k, v := range map[string]string{"ce-specversion": "1.0", "ce-type": events.TypeBatchSubmitted, "ce-id": "x", "ce-source": "/x", "Content-Type": "application/xml"} {
		req.Header.Set(k, v)
	}
	if code, _, body := post(t, req); code != http.StatusBadRequest || !strings.Contains(body, "want application/json") {
		t.Errorf("binary, Content-Type application/xml: %d %s, want 400", code, body)
	}
}
