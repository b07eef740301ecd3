package ingress_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/functions/ingress"
	"github.com/pricefn/pricefn/metricstest"
	"github.com/pricefn/pricefn/store"
)

// seriesValue returns the value (a histogram's count) of the series of
// name whose labels include labels.
func seriesValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	v, ok, err := metricstest.Value(reg, name, labels)
	if err != nil || !ok {
		t.Fatalf("no %s%v (%v)", name, labels, err)
	}
	return v
}

// TestTraceAndMetrics: a submission's traceparent (the client's, or one
// ingress mints) is on every event of the batch and in the receipt, and
// each outcome is counted.
func TestTraceAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	srv, sender := newServer(t, ingress.Options{Registerer: reg, Store: store.NewMem(store.MemOptions{})})
	receipt := func(req *http.Request, wantCode int) ingress.Receipt {
		t.Helper()
		code, _, body := post(t, req)
		var rc ingress.Receipt
		if code != wantCode || (code == http.StatusAccepted && json.Unmarshal([]byte(body), &rc) != nil) {
			t.Fatalf("%d %s, want %d", code, body, wantCode)
		}
		return rc
	}
	const client = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	req := plain(t, srv.URL+"/batches", mixed(t, "m1"))
	req.Header.Set("traceparent", client)
	if rc := receipt(req, http.StatusAccepted); rc.TraceParent != client {
		t.Errorf("receipt traceparent %q, want the client's", rc.TraceParent)
	}
	minted := receipt(plain(t, srv.URL+"/batches", mixed(t, "m2")), http.StatusAccepted).TraceParent
	if !host.ValidTraceParent(minted) || minted == client {
		t.Errorf("minted traceparent %q", minted)
	}
	chunks := 0
	for _, e := range sender.events() {
		want := client
		if events.BatchID(e) == "m2" {
			want = minted
		}
		if got := e.Extensions()[events.ExtTraceParent]; got != want {
			t.Errorf("%s %s: traceparent %v, want %s", e.Type(), e.ID(), got, want)
		}
		if e.Type() == events.TypeChunkRequested {
			chunks++
		}
	}
	if rc := receipt(plain(t, srv.URL+"/batches", mixed(t, "m1")), http.StatusAccepted); !rc.Existing || rc.TraceParent != "" {
		t.Errorf("resubmission %+v: want existing, without a traceparent (its events were sent before)", rc)
	}
	receipt(plain(t, srv.URL+"/batches", []byte(`{"id":"m1","valuationDate":"2026-11-25","trades":[]}`)), http.StatusConflict)
	receipt(plain(t, srv.URL+"/batches", []byte(`{"valuationDate":"2026-11-25","measures":["npvv"],"trades":[]}`)), http.StatusBadRequest)

	// Events the broker delivers: a bad batch, and another type.
	reg2 := prometheus.NewRegistry()
	f := ingress.New(ingress.Options{Sender: sender, Store: store.NewMem(store.MemOptions{}), Registerer: reg2})
	if _, err := f.Handle(context.Background(), submitted(t, []byte(`{}`), "x")); host.Status(err) != http.StatusBadRequest {
		t.Errorf("Handle of a bad batch: %v", err)
	}
	other := submitted(t, []byte(`{}`), "y")
	other.SetType(events.TypeChunkPriced)
	if _, err := f.Handle(context.Background(), other); host.Status(err) != http.StatusBadRequest {
		t.Errorf("Handle of a chunk.priced: %v", err)
	}
	for reason, want := range map[string]float64{"invalid_batch": 1, "malformed": 1} {
		if v := seriesValue(t, reg2, "pricefn_events_rejected_total", map[string]string{"reason": reason}); v != want {
			t.Errorf("rejected %s: %v, want %v", reason, v, want)
		}
	}

	for _, w := range []struct {
		name   string
		labels map[string]string
		v      float64
	}{
		{"pricefn_ingress_batches_total", map[string]string{"outcome": "accepted"}, 2},
		{"pricefn_ingress_batches_total", map[string]string{"outcome": "existing"}, 1},
		{"pricefn_ingress_batches_total", map[string]string{"outcome": "conflict"}, 1},
		{"pricefn_ingress_batches_total", map[string]string{"outcome": "invalid"}, 1},
		{"pricefn_ingress_batches_total", map[string]string{"outcome": "unavailable"}, 0},
		{"pricefn_ingress_chunks_total", map[string]string{"outcome": "sent"}, float64(chunks)},
		{"pricefn_ingress_chunks_total", map[string]string{"outcome": "unsent"}, 0},
		{"pricefn_ingress_stage_seconds", map[string]string{"stage": "send"}, 2},
		{"pricefn_request_duration_seconds", map[string]string{"function": "ingress", "route": "submit", "code": "2xx"}, 3},
		{"pricefn_request_duration_seconds", map[string]string{"function": "ingress", "route": "submit", "code": "4xx"}, 2},
		{"pricefn_events_rejected_total", map[string]string{"function": "ingress", "reason": "invalid_batch"}, 1}, // HTTP submissions' too (TestRefusalsCounted)
	} {
		if v := seriesValue(t, reg, w.name, w.labels); v != w.v {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, v, w.v)
		}
	}
	if chunks < 2 {
		t.Errorf("%d chunks sent, want several", chunks)
	}
}

// TestRefusalsCounted: the public routes' refusals are counted as the
// broker's deliveries' are, those made before the body is read as a batch
// too (a wrong event type, a body over the limit, a media type that is no
// batch's): a client's bad events showed no rejection on the dashboards.
func TestRefusalsCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	srv, _ := newServer(t, ingress.Options{Registerer: reg, MaxBatchBytes: 200})
	batchDoc := []byte(`{"valuationDate":"2026-11-25","trades":[]}`)
	wrong := submitted(t, batchDoc, "e1")
	wrong.SetType("io.other")
	bad := submitted(t, []byte(`{"bad":1}`), "e2")
	xml, _ := http.NewRequest(http.MethodPost, srv.URL+"/batches", strings.NewReader("<batch/>"))
	xml.Header.Set("Content-Type", "application/xml")
	for name, c := range map[string]struct {
		req  *http.Request
		want int
	}{
		"wrong event type":  {ceRequest(t, srv.URL+"/", wrong, false), http.StatusBadRequest},
		"bad batch event":   {ceRequest(t, srv.URL+"/", bad, true), http.StatusBadRequest},
		"bad plain batch":   {plain(t, srv.URL+"/batches", []byte(`{"bad":1}`)), http.StatusBadRequest},
		"body over limit":   {plain(t, srv.URL+"/batches", bytes.Repeat([]byte(" "), 300)), http.StatusRequestEntityTooLarge},
		"not a JSON body":   {xml, http.StatusUnsupportedMediaType},
		"a batch, accepted": {plain(t, srv.URL+"/batches", batchDoc), http.StatusAccepted},
	} {
		if code, _, body := post(t, c.req); code != c.want {
			t.Errorf("%s: %d %s, want %d", name, code, body, c.want)
		}
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"pricefn_events_rejected_total", map[string]string{"function": "ingress", "reason": "malformed"}, 2}, // wrong type, XML
		{"pricefn_events_rejected_total", map[string]string{"function": "ingress", "reason": "invalid_batch"}, 2},
		{"pricefn_ingress_batches_total", map[string]string{"outcome": "invalid"}, 4},
		{"pricefn_ingress_batches_total", map[string]string{"outcome": "too_large"}, 1},
		{"pricefn_ingress_batches_total", map[string]string{"outcome": "accepted"}, 1},
	} {
		if v := seriesValue(t, reg, c.name, c.labels); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
		}
	}
}

// TestCrossOriginRefusalsMeasured: a submission a browser sends for a
// page of another origin is refused (403) and measured under its route, as
// the README says of every public route's requests: refused before the
// route's measure (in launch's wiring), it left no trace on the dashboards.
func TestCrossOriginRefusalsMeasured(t *testing.T) {
	reg := prometheus.NewRegistry()
	srv, sender := newServer(t, ingress.Options{Registerer: reg})
	form := plain(t, srv.URL+"/batches", []byte(`{"valuationDate":"2026-11-25","trades":[]}`))
	form.Header.Set("Content-Type", "text/plain")
	form.Header.Set("Origin", "http://evil.example")
	form.Header.Set("Sec-Fetch-Site", "cross-site")
	img, _ := http.NewRequest(http.MethodGet, srv.URL+"/valQuery?metric=NPV&numTrades=10", nil)
	img.Header.Set("Sec-Fetch-Site", "cross-site")
	for _, req := range []*http.Request{form, img} {
		if code, _, body := post(t, req); code != http.StatusForbidden {
			t.Errorf("%s %s: %d %s, want 403", req.Method, req.URL.Path, code, body)
		}
	}
	if n := len(sender.events()); n != 0 {
		t.Errorf("%d events sent for refused submissions", n)
	}
	for route, want := range map[string]float64{"submit": 1, "valquery": 1} {
		if v := seriesValue(t, reg, "pricefn_request_duration_seconds", map[string]string{"function": "ingress", "route": route, "code": "4xx"}); v != want {
			t.Errorf("%s 4xx measured %v times, want %v", route, v, want)
		}
	}
}
