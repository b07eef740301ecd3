package aggregator_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/api"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/aggregator"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/internal/logtest"
	"github.com/pricefn/pricefn/store"
)

// TestWaitForUnknownBatchEndsAfterGrace: ?wait for an id that never
// appears answers 404 once UnknownGrace has passed, not after the whole
// wait.
func TestWaitForUnknownBatchEndsAfterGrace(t *testing.T) {
	f := newFixtureWith(t, func(o *aggregator.Options) { o.UnknownGrace = 20 * time.Millisecond })
	// A broken fix would hold the request for the whole minute: give up
	// well before, with a clear failure rather than a test timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, path := range []string{"/batches/never", "/batches/never/results"} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+path+"?wait=1m", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s?wait=1m: %v (held the request for the whole wait?)", path, err)
		}
		var e host.ErrorBody
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || e.Error == "" {
			t.Errorf("GET %s?wait=1m: %d %+v, want 404 with an error", path, resp.StatusCode, e)
		}
	}
}

// watchCounter is a Store that reports each Watch call.
type watchCounter struct {
	store.Store
	watched chan struct{}
}

func (s *watchCounter) Watch(ctx context.Context, ref store.Ref) (<-chan struct{}, func(), error) {
	s.watched <- struct{}{}
	return s.Store.Watch(ctx, ref)
}

// TestWaitOutlastsGraceForKnownBatch: once the batch is known the grace
// no longer applies; the poll is held until the batch finishes.
func TestWaitOutlastsGraceForKnownBatch(t *testing.T) {
	counter := &watchCounter{store.NewMem(store.MemOptions{}), make(chan struct{}, 100)}
	f := newFixtureWith(t, func(o *aggregator.Options) { o.Store, o.UnknownGrace = counter, time.Nanosecond })
	f.store = counter.Store.(*store.Mem)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	got := f.poll("/batches/b1/results?wait=1m")
	// The poll watches the batch, sees the grace end, and watches again.
	for range 2 {
		select {
		case <-counter.watched:
		case code := <-got:
			t.Fatalf("long poll of a known batch answered %d when the grace ended", code)
		}
	}
	for i := range offsets {
		f.mustPost(t, "/", pricedEvent(t, "b1", i))
	}
	if code := <-got; code != http.StatusOK {
		t.Fatalf("long poll of a known batch: %d, want 200 with the results", code)
	}
}

// TestRouteErrorsAreJSON: an unknown route and a wrong method are client
// faults with an {"error": ...} body like every other.
func TestRouteErrorsAreJSON(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, "/nope", http.StatusNotFound},
		{http.MethodDelete, "/batches/b1", http.StatusMethodNotAllowed},
		{http.MethodPut, "/batches/b1/results", http.StatusMethodNotAllowed},
		{http.MethodPost, "/batches/b1/events", http.StatusMethodNotAllowed},
		{http.MethodGet, "/dead-letter", http.StatusMethodNotAllowed},
		// No route, whatever the method: these were 405s "allowed: GET,
		// HEAD", though a GET of them is a 404.
		{http.MethodGet, "/batches/", http.StatusNotFound},
		{http.MethodPost, "/batches/", http.StatusNotFound},
		{http.MethodPost, "/batches/b1/nope", http.StatusNotFound},
		{http.MethodDelete, "/batches/b1/results/x", http.StatusNotFound},
		// The list's path with another method: a 405, where the
		// every-method "/batches/" redirected it there (307), to a 404.
		{http.MethodPut, "/batches", http.StatusMethodNotAllowed},
		{http.MethodPost, "/batches", http.StatusMethodNotAllowed},
	} {
		req, _ := http.NewRequest(tt.method, f.srv.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e host.ErrorBody
		derr := json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != tt.code || derr != nil || e.Error == "" || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d %q (%v), want %d with a JSON error", tt.method, tt.path, resp.StatusCode, e.Error, derr, tt.code)
		}
		if tt.code == http.StatusMethodNotAllowed && resp.Header.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", tt.method, tt.path)
		}
	}
}

// GET /batches lists the tenant's recent batches, newest first, as JSON.
func TestListBatches(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	f.mustPost(t, "/", f.acceptedEvent(t, "b2"))
	code, body := f.get(t, "/batches?limit=10")
	var list aggregator.BatchList
	if code != http.StatusOK || json.Unmarshal([]byte(body), &list) != nil || len(list.Batches) != 2 {
		t.Fatalf("%d %s", code, body)
	}
	for _, b := range list.Batches {
		if b.State != api.StatePending || b.Trades != 7 || b.Chunks != 3 || b.StatusURL != "/batches/"+b.BatchID {
			t.Errorf("item %+v", b)
		}
	}
	for _, bad := range []string{"0", "x", "501"} {
		if code, _ := f.get(t, "/batches?limit="+bad); code != http.StatusBadRequest {
			t.Errorf("limit=%s: %d, want 400", bad, code)
		}
	}
}

// TestStatusBeforeAccepted: a batch ingress claimed whose batch.accepted
// has not come in (ingress stopped between the two) has no acceptedAt in
// its status, as it has no completedAt; before, it showed year 1.
func TestStatusBeforeAccepted(t *testing.T) {
	f := newFixture(t)
	if _, err := f.store.Claim(context.Background(), store.Batch{Ref: store.RefOf("b1"), TradeIDs: []string{"A", "B"}, ChunkOffsets: []int{0}, SubmittedAt: submitAt}); err != nil {
		t.Fatal(err)
	}
	code, body := f.get(t, "/batches/b1")
	if code != http.StatusOK || !strings.Contains(body, `"submittedAt"`) || strings.Contains(body, `"acceptedAt"`) || strings.Contains(body, "0001-01-01") {
		t.Errorf("status %d %s, want submittedAt and no acceptedAt", code, body)
	}
	f.mustPost(t, "/", f.acceptedEventOf(t, "b1", []int{0}))
	if _, body := f.get(t, "/batches/b1"); !strings.Contains(body, `"acceptedAt"`) {
		t.Errorf("status once accepted %s, want an acceptedAt", body)
	}
}

// TestStatusSaysWhenSent: the status has sentAt once ingress recorded
// every chunk handed to the broker, and none before, though the
// aggregator has the batch.accepted ingress sends first: pricefn submit
// tells by it a batch whose ingress stopped before it sent the chunks.
// Meanwhile it has sendingAt, the sending ingress's latest sign of life.
func TestStatusSaysWhenSent(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	if _, body := f.get(t, "/batches/b1"); !strings.Contains(body, `"acceptedAt"`) || strings.Contains(body, `"sentAt"`) {
		t.Errorf("status before the sends %s, want an acceptedAt and no sentAt", body)
	}
	sum, err := f.store.Summary(context.Background(), store.RefOf("b1"))
	if err != nil {
		t.Fatal(err)
	}
	sendingAt := submitAt.Add(time.Second / 2)
	if err := f.store.Sending(context.Background(), store.RefOf("b1"), sum.Digest, 1, sendingAt); err != nil {
		t.Fatal(err)
	}
	if _, body := f.get(t, "/batches/b1"); !strings.Contains(body, `"sendingAt":"`+sendingAt.Format(time.RFC3339Nano)+`"`) {
		t.Errorf("status while sent %s, want sendingAt %s: submit tells by it a batch still being sent", body, sendingAt.Format(time.RFC3339Nano))
	}
	sentAt := submitAt.Add(time.Second)
	if err := f.store.Sent(context.Background(), store.RefOf("b1"), sum.Digest, 1, sentAt); err != nil {
		t.Fatal(err)
	}
	_, body := f.get(t, "/batches/b1")
	var st aggregator.Status
	if err := json.Unmarshal([]byte(body), &st); err != nil || !st.Timings.SentAt.Equal(sentAt) {
		t.Errorf("status once sent %s (%v), want sentAt %s", body, err, sentAt)
	}
}

// TestEmptyBatchStatusBeforeAccepted: a batch of no trades is completed
// once claimed; read before its batch.accepted comes in (an aggregator
// stopped or behind, pricefn api reading the store), its status and the
// list said it completed in year 1, -9223372036 seconds after its
// submission. It completes at its submission then.
func TestEmptyBatchStatusBeforeAccepted(t *testing.T) {
	f := newFixture(t)
	if _, err := f.store.Claim(context.Background(), store.Batch{Ref: store.RefOf("e"), ChunkOffsets: []int{}, SubmittedAt: submitAt}); err != nil {
		t.Fatal(err)
	}
	code, body := f.get(t, "/batches/e")
	var st aggregator.Status
	if err := json.Unmarshal([]byte(body), &st); code != http.StatusOK || err != nil {
		t.Fatalf("status %d %s (%v)", code, body, err)
	}
	if st.State != api.StateCompleted || st.Timings.CompletedAt == nil || !st.Timings.CompletedAt.Equal(submitAt) || st.Timings.DurationSeconds != 0 {
		t.Errorf("status %s, want completed at its submission, in 0 s", body)
	}
	code, body = f.get(t, "/batches")
	var list aggregator.BatchList
	if err := json.Unmarshal([]byte(body), &list); code != http.StatusOK || err != nil || len(list.Batches) != 1 || list.Batches[0].DurationSeconds != 0 {
		t.Errorf("list %d %s (%v), want the batch with a duration of 0 s", code, body, err)
	}
}

// TestResultsNameTheirAttempt: a results document, read whole or streamed,
// says which attempt it holds (api.HeaderAttempt), for a client to tell it
// from a status read after the batch was submitted again.
func TestResultsNameTheirAttempt(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	for i := range offsets {
		f.mustPost(t, "/", pricedEvent(t, "b1", i))
	}
	for _, path := range []string{"/batches/b1/results", "/batches/b1/results?stream=true"} {
		resp, err := http.Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get(api.HeaderAttempt) != "1" {
			t.Errorf("GET %s: %d, %s %q", path, resp.StatusCode, api.HeaderAttempt, resp.Header.Get(api.HeaderAttempt))
		}
	}
}

// downStore is a Store whose reads fail as a Redis that is down does,
// naming its address.
type downStore struct{ store.Store }

var errDown = errors.New("redisstore: _/b1: dial tcp 10.0.0.7:6379: connect: connection refused")

func (downStore) Summary(context.Context, store.Ref) (*store.Summary, error) { return nil, errDown }
func (downStore) Recent(context.Context, string, int) ([]store.Ref, error)   { return nil, errDown }
func (downStore) Tally(context.Context, store.Ref) (*store.Tally, error)     { return nil, errDown }
func (downStore) Brief(context.Context, store.Ref) (*store.Brief, error)     { return nil, errDown }

// TestStoreDownNamesNoAddress: a read the store failed is a 503 that
// names neither the store's address nor its keys, which went to every
// client holding a token.
func TestStoreDownNamesNoAddress(t *testing.T) {
	f := newFixtureWith(t, func(o *aggregator.Options) { o.Store = downStore{store.NewMem(store.MemOptions{})} })
	for _, path := range []string{"/batches/b1", "/batches/b1/results", "/batches"} {
		code, body := f.get(t, path)
		if code != http.StatusServiceUnavailable || strings.Contains(body, "10.0.0.7") || strings.Contains(body, "_/b1") || !strings.Contains(body, "the batch store is unavailable") {
			t.Errorf("GET %s: %d %s, want a 503 that names no address", path, code, body)
		}
	}
}

// downAfterSummary is a Store that goes down as a Redis does after a
// batch's summary is read, before its results are.
type downAfterSummary struct{ *store.Mem }

func (downAfterSummary) Trades(context.Context, store.Ref, int, int) ([]string, error) {
	return nil, errDown
}

// TestResultsStoreDownBeforeSent: results whose first chunk the store
// fails to give, nothing of the document sent yet, are a 503 saying the
// store is unavailable; the request was cut with nothing sent, an empty
// reply.
func TestResultsStoreDownBeforeSent(t *testing.T) {
	mem, _ := expiredBatch(t)
	f := newFixtureWith(t, func(o *aggregator.Options) { o.Store = downAfterSummary{mem} })
	resp, err := http.Get(f.srv.URL + "/batches/b1/results")
	if err != nil {
		t.Fatalf("results: %v, want a 503", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "the batch store is unavailable") || strings.Contains(string(body), "10.0.0.7") || resp.Header.Get("Pricefn-Attempt") != "" {
		t.Fatalf("results: %d %v %s, want a 503 naming no address", resp.StatusCode, resp.Header, body)
	}
}

// failsChunk1 is a Store that goes down, as a Redis does, while a batch's
// results are read: its chunk 1's.
type failsChunk1 struct{ *store.Mem }

func (s failsChunk1) WriteResults(ctx context.Context, ref store.Ref, attempt, index int, w io.Writer) error {
	if index == 1 {
		return errDown
	}
	return s.Mem.WriteResults(ctx, ref, attempt, index, w)
}

// TestResultsStoreFaultLogTrace: results the store fails to give
// halfway, whole or streamed, are logged with the batch's id and its
// traceparent, as every log line about a batch is.
func TestResultsStoreFaultLogTrace(t *testing.T) {
	var logs logtest.Buffer
	mem := store.NewMem(store.MemOptions{})
	f := newFixtureWith(t, func(o *aggregator.Options) { o.Store, o.Log = failsChunk1{mem}, zerolog.New(&logs) })
	c, err := mem.Claim(context.Background(), store.Batch{Ref: store.RefOf("b1"), TradeIDs: tradeIDs, ChunkOffsets: offsets,
		SubmittedAt: submitAt, Deadline: submitAt.Add(time.Hour), TraceParent: batchTrace})
	if err != nil {
		t.Fatal(err)
	}
	f.mustPost(t, "/", mustEvent(t, events.TypeBatchAccepted, "b1/accepted", "b1", events.BatchAccepted{
		BatchID: "b1", Attempt: c.Attempt, Trades: len(tradeIDs), ChunkOffsets: offsets, SubmittedAt: submitAt, Deadline: submitAt.Add(time.Hour)}))
	for i := range offsets {
		f.mustPost(t, "/", pricedEvent(t, "b1", i))
	}
	for _, path := range []string{"/batches/b1/results", "/batches/b1/results?stream=true"} {
		before := len(logs.String())
		if resp, err := http.Get(f.srv.URL + path); err == nil {
			io.Copy(io.Discard, resp.Body) // a 503, or a document cut short
			resp.Body.Close()
		}
		faults := 0
		for _, line := range strings.Split(strings.TrimSpace(logs.String()[before:]), "\n") {
			var entry map[string]any
			if json.Unmarshal([]byte(line), &entry) != nil || entry["level"] != "error" {
				continue
			}
			faults++
			if entry["batchid"] != "b1" || entry[events.ExtTraceParent] != batchTrace {
				t.Errorf("GET %s: logged %s, want with batchid b1 and traceparent %s", path, line, batchTrace)
			}
		}
		if faults == 0 {
			t.Errorf("GET %s: the store's fault not logged:\n%s", path, logs.String()[before:])
		}
	}
}

// TestUnknownBatchQuotedCut: a batch id from the path is quoted cut to 200
// bytes (host.Short) where a read answers 404, or 503 with the store down
// (in the answer and the log line): a 100,000-byte id came back whole.
func TestUnknownBatchQuotedCut(t *testing.T) {
	long := strings.Repeat("z", 100_000)
	var logs logtest.Buffer
	up := newFixture(t)
	down := newFixtureWith(t, func(o *aggregator.Options) {
		o.Store, o.Log = downStore{store.NewMem(store.MemOptions{})}, zerolog.New(&logs)
	})
	for _, c := range []struct {
		f    *fixture
		code int
	}{{up, http.StatusNotFound}, {down, http.StatusServiceUnavailable}} {
		for _, path := range []string{"/batches/" + long, "/batches/" + long + "/results"} {
			if code, body := c.f.get(t, path); code != c.code || len(body) > 1000 || !strings.Contains(body, "zzz") {
				t.Errorf("GET %.30s...: %d, %d bytes: %.200s; want a %d under 1,000 bytes quoting the start", path, code, len(body), body, c.code)
			}
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if len(line) > 2000 {
			t.Errorf("logged in %d bytes, want under 2,000: %.300s", len(line), line)
		}
	}
}
