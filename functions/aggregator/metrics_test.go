package aggregator_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/auth"
	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/aggregator"
	"github.com/pricefn/pricefn/metricstest"
	"github.com/pricefn/pricefn/store"
)

// metricValue returns the value (a histogram's count) of the series of
// name whose labels include labels, and whether there is one.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	v, ok, err := metricstest.Value(reg, name, labels)
	if err != nil {
		t.Fatal(err)
	}
	return v, ok
}

// TestMetricsFollowEveryPath drives one batch through every path the
// aggregator counts, and checks each count, the traceparent of
// batch.completed and the status document's timeline.
func TestMetricsFollowEveryPath(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := newFixtureWith(t, func(o *aggregator.Options) { o.Registerer = reg })
	want := func(name string, labels map[string]string, v float64) {
		t.Helper()
		got, ok := metricValue(t, reg, name, labels)
		if !ok || got != v {
			t.Errorf("%s%v = %v (present %v), want %v", name, labels, got, ok, v)
		}
	}
	// Every label value is there at zero before anything happens.
	for _, o := range []string{"priced", "dead", "duplicate", "rejected", "early", "conflict", "stale", "late", "expired"} {
		want("pricefn_aggregator_chunks_total", map[string]string{"outcome": o}, 0)
	}
	want("pricefn_aggregator_batch_seconds", map[string]string{"state": "failed"}, 0)
	// Every store operation the aggregator times, announced (an end's
	// announcement recorded) too.
	for _, op := range []string{"accept", "put", "summary", "brief", "tally", "chunks", "arrivals", "trades", "write_results", "expire", "overdue", "watch", "release", "recent", "announced"} {
		want("pricefn_aggregator_store_seconds", map[string]string{"op": op}, 0)
	}
	want("pricefn_request_duration_seconds", map[string]string{"function": "aggregator", "route": "results", "code": "5xx"}, 0)
	want("pricefn_open_batches", nil, 0)

	if code, _ := f.post(t, "/", pricedEvent(t, "b0", 0)); code != http.StatusNotFound {
		t.Fatalf("chunk of an unknown batch: %d, want 404", code)
	}
	want("pricefn_aggregator_chunks_total", map[string]string{"outcome": "early"}, 1)
	want("pricefn_events_rejected_total", map[string]string{"function": "aggregator", "reason": "unknown_batch"}, 1)

	tp := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	// Claimed as ingress does, with a deadline.
	c, err := f.store.Claim(context.Background(), store.Batch{Ref: store.RefOf("b1"), TradeIDs: tradeIDs, ChunkOffsets: offsets,
		SubmittedAt: submitAt, Deadline: submitAt.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	accepted := mustEvent(t, events.TypeBatchAccepted, "b1/accepted", "b1", events.BatchAccepted{
		BatchID: "b1", Attempt: c.Attempt, Trades: len(tradeIDs), ChunkOffsets: offsets, SubmittedAt: submitAt})
	want("pricefn_open_batches", nil, 1)
	f.mustPost(t, "/", accepted)
	f.mustPost(t, "/", accepted)
	f.mustPost(t, "/", pricedEvent(t, "b1", 0))
	f.mustPost(t, "/", pricedEvent(t, "b1", 0))
	f.mustPost(t, "/dead-letter", deadLetter(t, "b1", 1))
	f.mustPost(t, "/dead-letter", deadLetter(t, "b1", 1))
	wrong := mustEvent(t, "io.example.other", "x-1", "b1", map[string]int{})
	if code, _ := f.post(t, "/", wrong); code != http.StatusBadRequest {
		t.Fatalf("an event of another type: %d, want 400", code)
	}
	last := pricedEvent(t, "b1", 2)
	last.SetExtension(events.ExtTraceParent, tp)
	f.mustPost(t, "/", last)

	want("pricefn_aggregator_duplicates_total", map[string]string{"kind": "batch_accepted"}, 1)
	want("pricefn_aggregator_duplicates_total", map[string]string{"kind": "chunk_priced"}, 1)
	want("pricefn_aggregator_duplicates_total", map[string]string{"kind": "dead_letter"}, 1)
	want("pricefn_aggregator_dead_letters_total", map[string]string{"type": "chunk_requested"}, 2)
	want("pricefn_aggregator_chunks_total", map[string]string{"outcome": "priced"}, 2)
	want("pricefn_aggregator_chunks_total", map[string]string{"outcome": "dead"}, 1)
	want("pricefn_aggregator_chunks_total", map[string]string{"outcome": "rejected"}, 1)
	want("pricefn_events_rejected_total", map[string]string{"function": "aggregator", "reason": "wrong_type"}, 1)
	want("pricefn_aggregator_batches_total", map[string]string{"state": "partial"}, 1)
	want("pricefn_aggregator_batch_seconds", map[string]string{"state": "partial"}, 1)
	want("pricefn_aggregator_chunk_transit_seconds", map[string]string{"leg": "to_aggregator"}, 2)
	want("pricefn_aggregator_chunk_transit_seconds", map[string]string{"leg": "to_pricer"}, 0) // no requestedAt in these events
	want("pricefn_open_batches", nil, 0)
	want("pricefn_request_duration_seconds", map[string]string{"route": "event", "code": "2xx"}, 5)
	want("pricefn_request_duration_seconds", map[string]string{"route": "event", "code": "4xx"}, 2)
	want("pricefn_request_duration_seconds", map[string]string{"route": "dead_letter", "code": "2xx"}, 2)
	want("pricefn_requests_in_flight", map[string]string{"function": "aggregator"}, 0)
	if n, _ := metricValue(t, reg, "pricefn_aggregator_store_seconds", map[string]string{"op": "put"}); n != 5 {
		t.Errorf("%v timed store puts, want 5 (2 chunks priced, 1 duplicate, 2 dead letters)", n)
	}

	sent := f.sender.events()
	if len(sent) != 1 || sent[0].Extensions()[events.ExtTraceParent] != tp {
		t.Errorf("batch.completed %v: want one, with the traceparent of the event that finished the batch", sent)
	}

	code, body := f.get(t, "/batches/b1?timeline=true")
	var st aggregator.Status
	if code != http.StatusOK || json.Unmarshal([]byte(body), &st) != nil || len(st.Timeline) != 3 {
		t.Fatalf("status with timeline: %d %s", code, body)
	}
	for i, c := range st.Timeline {
		wantState, wantDeliveries, wantTrades := "priced", 1, []int{3, 2, 2}[i]
		switch i {
		case 0:
			wantDeliveries = 2
		case 1:
			wantState, wantDeliveries = "dead", 2
		}
		if c.Index != i || c.State != wantState || c.Deliveries != wantDeliveries || c.Trades != wantTrades || (c.State == "dead") != (c.Reason != "") ||
			(c.State == "priced") != (c.DeliveredAt != nil && c.PricedAt != nil) || c.RecordedAt == nil {
			t.Errorf("timeline[%d] = %+v: want %s, %d trades, %d deliveries", i, c, wantState, wantTrades, wantDeliveries)
		}
	}
	if code, body := f.get(t, "/batches/b1?timeline=maybe"); code != http.StatusBadRequest {
		t.Errorf("?timeline=maybe: %d %s, want 400", code, body)
	}
	if st := f.status(t, "b1"); st.Timeline != nil {
		t.Errorf("status without ?timeline has one: %+v", st.Timeline)
	}
}

// TestBatchSecondsBucketsHoldADay: a batch that runs to a deadline of a
// day (batch.MaxDeadline) is observed in a finite bucket; the buckets
// ended at 2.6 h, so every batch longer than that was in +Inf alone.
func TestBatchSecondsBucketsHoldADay(t *testing.T) {
	reg := prometheus.NewRegistry()
	newFixtureWith(t, func(o *aggregator.Options) { o.Registerer = reg })
	m, err := metricstest.Find(reg, "pricefn_aggregator_batch_seconds", map[string]string{"state": "partial"})
	if err != nil || m.GetHistogram() == nil {
		t.Fatalf("no pricefn_aggregator_batch_seconds (%v)", err)
	}
	bs := m.GetHistogram().GetBucket()
	if top := bs[len(bs)-1].GetUpperBound(); top < batch.MaxDeadline.Seconds() {
		t.Errorf("the last bucket ends at %v s, below a batch's longest deadline, %v", top, batch.MaxDeadline)
	}
}

// TestQueryRoutesMeasured: every GET route is measured under its
// pattern's name, never an id, the guard's refusals (401 without a token,
// 403 without the read scope) included; a path no route matches still
// wants a token first.
func TestQueryRoutesMeasured(t *testing.T) {
	const (
		read   = "acme-token-0123456789"
		submit = "acme-submit-only-0123456789"
	)
	file := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(file, []byte(read+" acme\n"+submit+" acme submit\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.LoadTokens(file, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	fn := aggregator.New(aggregator.Options{Store: store.NewMem(store.MemOptions{}), Log: zerolog.Nop(), Registerer: reg})
	srv := httptest.NewServer(fn.Routes(zerolog.Nop(), auth.NewGuard(nil, tokens, zerolog.Nop(), nil)))
	t.Cleanup(func() { fn.Drain(); srv.Close() })

	for _, r := range []string{"list", "status", "results", "events"} {
		if v, ok := metricValue(t, reg, "pricefn_request_duration_seconds", map[string]string{"function": "aggregator", "route": r, "code": "4xx"}); !ok || v != 0 {
			t.Errorf("route %s before any request: %v (present %v), want a series at 0", r, v, ok)
		}
	}
	tests := []struct {
		path, token string
		code        int
		route       string // "" for no route
	}{
		{"/batches/b1", "", http.StatusUnauthorized, "status"},
		{"/batches/b2", submit, http.StatusForbidden, "status"},
		{"/batches/b1", read, http.StatusNotFound, "status"},
		{"/batches/b1/results", "", http.StatusUnauthorized, "results"},
		{"/batches/b1/results", submit, http.StatusForbidden, "results"},
		{"/batches", "", http.StatusUnauthorized, "list"},
		{"/batches", read, http.StatusOK, "list"},
		{"/batches/b1/events", "", http.StatusUnauthorized, "events"},
		{"/batches/b1/events", submit, http.StatusForbidden, "events"},
		{"/batches/b1/other", "", http.StatusUnauthorized, ""},
		{"/batches/b1/other", read, http.StatusNotFound, ""},
	}
	want := map[[2]string]float64{}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+tt.path, nil)
		if tt.token != "" {
			req.Header.Set("Authorization", "Bearer "+tt.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.code {
			t.Errorf("GET %s (token %q): %d, want %d", tt.path, tt.token, resp.StatusCode, tt.code)
		}
		if tt.route != "" {
			want[[2]string{tt.route, strconv.Itoa(tt.code/100) + "xx"}]++
		}
	}
	for k, v := range want {
		if got, ok := metricValue(t, reg, "pricefn_request_duration_seconds", map[string]string{"function": "aggregator", "route": k[0], "code": k[1]}); !ok || got != v {
			t.Errorf("route %s, %s: %v requests (present %v), want %v", k[0], k[1], got, ok, v)
		}
	}
	// The route label is bounded: the routes' names, never an id or a path.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"event": true, "dead_letter": true, "list": true, "status": true, "results": true, "events": true}
	for _, mf := range mfs {
		if mf.GetName() != "pricefn_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" && !known[l.GetValue()] {
					t.Errorf("route label %q", l.GetValue())
				}
			}
		}
	}
}
