package aggregator_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/protocol"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/api"
	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/aggregator"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/internal/logtest"
	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/store"
)

// fakeSender records the events sent.
type fakeSender struct {
	mu   sync.Mutex
	sent []event.Event
	fail error
}

func (s *fakeSender) Send(ctx context.Context, e event.Event) protocol.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		err := s.fail
		s.fail = nil
		return err
	}
	s.sent = append(s.sent, e)
	return nil
}

func (s *fakeSender) events() []event.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event.Event(nil), s.sent...)
}

// fixture is an aggregator on a test server and a batch of 3 chunks:
// trades T0..T6, chunks [0,3) [3,5) [5,7).
type fixture struct {
	srv    *httptest.Server
	fn     *aggregator.Function
	store  *store.Mem
	sender *fakeSender
}

var (
	tradeIDs = []string{"T0", "T1", "T2", "T3", "T4", "T5", "T6"}
	offsets  = []int{0, 3, 5}
	// underlyings are the trades' underlyings, whose totals the status
	// shows.
	underlyings = []string{"ACME", "ACME", "GLOBEX", "ACME", "", "GLOBEX", "ACME"}
	submitAt    = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, func(*aggregator.Options) {})
}

// newFixtureWith is newFixture with options adjusted by adjust.
func newFixtureWith(t *testing.T, adjust func(*aggregator.Options)) *fixture {
	t.Helper()
	f := &fixture{store: store.NewMem(store.MemOptions{}), sender: &fakeSender{}}
	now := submitAt
	var mu sync.Mutex
	opt := aggregator.Options{Store: f.store, Sender: f.sender, Log: zerolog.Nop(), Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}}
	adjust(&opt)
	f.fn = aggregator.New(opt)
	f.srv = httptest.NewServer(f.fn.Routes(zerolog.Nop(), nil))
	t.Cleanup(func() { f.fn.Drain(); f.srv.Close() })
	return f
}

func mustEvent(t *testing.T, typ, id, batchID string, data any) event.Event {
	t.Helper()
	e, err := events.New(typ, "/test", id, batchID, data)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// acceptedEvent claims batch id in the store, as ingress does, and
// returns its batch.accepted event.
func (f *fixture) acceptedEvent(t *testing.T, id string) event.Event {
	return f.acceptedWithDigest(t, id, "")
}

func (f *fixture) acceptedWithDigest(t *testing.T, id, digest string) event.Event {
	t.Helper()
	c, err := f.store.Claim(context.Background(), store.Batch{Ref: store.RefOf(id), Digest: digest, TradeIDs: tradeIDs,
		ChunkOffsets: offsets, SubmittedAt: submitAt})
	if err != nil {
		t.Fatal(err)
	}
	return mustEvent(t, events.TypeBatchAccepted, id+"/accepted", id, events.BatchAccepted{
		BatchID: id, Attempt: c.Attempt, Trades: len(tradeIDs), ChunkOffsets: offsets, SubmittedAt: submitAt, Digest: digest,
	})
}

// pricedEvent is chunk i of batch id with npv = 1 and delta = 0.5 per trade,
// but an error for T4.
func pricedEvent(t *testing.T, id string, i int) event.Event {
	lo, hi := offsets[i], len(tradeIDs)
	if i+1 < len(offsets) {
		hi = offsets[i+1]
	}
	var rs []batch.TradeResult
	for _, tid := range tradeIDs[lo:hi] {
		r := batch.TradeResult{ID: tid}
		if tid == "T4" {
			r.Error = "trade T4: strike must be > 0, got -5"
		} else {
			r.SetValue(pricing.NPV, 1)
			r.SetValue(pricing.Delta, 0.5)
		}
		rs = append(rs, r)
	}
	c := events.ChunkPriced{
		BatchID: id, Index: i, Chunks: len(offsets), Offset: lo,
		StartedAt: submitAt, FinishedAt: submitAt.Add(time.Second),
	}
	if err := c.SetResults(rs, underlyings[lo:hi]); err != nil {
		t.Fatal(err)
	}
	return mustEvent(t, events.TypeChunkPriced, fmt.Sprintf("%s/chunk/%d/priced", id, i), id, c)
}

// withResults returns c with its results (and their totals) set to rs.
func withResults(t *testing.T, c events.ChunkPriced, rs []batch.TradeResult) events.ChunkPriced {
	t.Helper()
	if err := c.SetResults(rs, nil); err != nil {
		t.Fatal(err)
	}
	return c
}

// resultsOf decodes the results of chunk.priced event e.
func resultsOf(t *testing.T, e event.Event) (events.ChunkPriced, []batch.TradeResult) {
	t.Helper()
	var c events.ChunkPriced
	if err := e.DataAs(&c); err != nil {
		t.Fatal(err)
	}
	rs, err := c.DecodeResults()
	if err != nil {
		t.Fatal(err)
	}
	return c, rs
}

// post delivers e to path over HTTP, in binary mode, and returns the status.
func (f *fixture) post(t *testing.T, path string, e event.Event) (int, string) {
	t.Helper()
	req, err := cehttp.NewHTTPRequestFromEvent(context.Background(), f.srv.URL+path, e)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (f *fixture) get(t *testing.T, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

// poll GETs path in the background and sends its status code (0 when the
// request failed) on the channel it returns.
func (f *fixture) poll(path string) <-chan int {
	got := make(chan int, 1)
	go func() {
		resp, err := http.Get(f.srv.URL + path)
		if err != nil {
			got <- 0
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	return got
}

func (f *fixture) status(t *testing.T, id string) aggregator.Status {
	t.Helper()
	code, body := f.get(t, "/batches/"+id)
	if code != http.StatusOK {
		t.Fatalf("status: %d %s", code, body)
	}
	var st aggregator.Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func (f *fixture) mustPost(t *testing.T, path string, e event.Event) {
	t.Helper()
	if code, body := f.post(t, path, e); code/100 != 2 {
		t.Fatalf("post %s %s: %d %s", e.Type(), e.ID(), code, body)
	}
}

// awaitCompletions waits until n batch.completed have been sent (a read
// that ends a batch announces it in the background), then returns them.
func (f *fixture) awaitCompletions(t *testing.T, n int) []events.BatchCompleted {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); len(f.sender.events()) < n && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
	}
	return f.completions(t)
}

func (f *fixture) completions(t *testing.T) []events.BatchCompleted {
	t.Helper()
	var out []events.BatchCompleted
	for _, e := range f.sender.events() {
		c, err := events.Decode[events.BatchCompleted](e, events.TypeBatchCompleted)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

const wantResults = `{"batchId":"b1","results":[
{"id":"T0","npv":1,"delta":0.5},
{"id":"T1","npv":1,"delta":0.5},
{"id":"T2","npv":1,"delta":0.5},
{"id":"T3","npv":1,"delta":0.5},
{"id":"T4","error":"trade T4: strike must be \u003e 0, got -5"},
{"id":"T5","npv":1,"delta":0.5},
{"id":"T6","npv":1,"delta":0.5}
]}
`

func TestOutOfOrderAndDuplicateChunks(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	if st := f.status(t, "b1"); st.State != api.StatePending || st.Trades != 7 || st.Chunks != 3 || st.ChunksDone != 0 {
		t.Fatalf("after batch.accepted: %+v", st)
	}
	// Chunks 2, 0, 2 again, the batch.accepted again, 0 again, then 1.
	for _, i := range []int{2, 0, 2} {
		f.mustPost(t, "/", pricedEvent(t, "b1", i))
	}
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	f.mustPost(t, "/", pricedEvent(t, "b1", 0))
	st := f.status(t, "b1")
	if st.State != api.StateRunning || st.ChunksDone != 2 || st.Duplicates != 2 || st.Priced != 5 || st.Pending != 2 {
		t.Fatalf("after chunks 2 and 0 and duplicates: %+v", st)
	}
	if code, _ := f.get(t, "/batches/b1/results"); code != http.StatusAccepted {
		t.Fatalf("results of a running batch: %d, want 202", code)
	}
	f.mustPost(t, "/", pricedEvent(t, "b1", 1))
	f.mustPost(t, "/", pricedEvent(t, "b1", 1))

	code, body := f.get(t, "/batches/b1/results")
	if code != http.StatusOK || body != strings.Replace(wantResults, `\u003e`, `>`, 1) {
		t.Fatalf("results: %d\n%s\nwant\n%s", code, body, wantResults)
	}
	st = f.status(t, "b1")
	if st.State != api.StateCompleted || st.Priced != 6 || st.Failed != 1 || st.Duplicates != 3 || st.ChunksDone != 3 {
		t.Fatalf("final status %+v", st)
	}
	if st.Totals.All["npv"] != 6 || st.Totals.All["delta"] != 3 || st.Totals.ByUnderlying["ACME"]["npv"] != 4 || st.Totals.ByUnderlying["GLOBEX"]["npv"] != 2 {
		t.Errorf("totals %+v", st.Totals)
	}
	if st.Timings.CompletedAt == nil || st.Timings.FirstChunkAt == nil || st.Timings.DurationSeconds <= 0 || st.Timings.PricingSeconds != 3 {
		t.Errorf("timings %+v", st.Timings)
	}
	cs := f.completions(t)
	if len(cs) != 1 || cs[0].State != api.StateCompleted || cs[0].Priced != 6 || cs[0].Failed != 1 {
		t.Fatalf("batch.completed sent %d times: %+v, want once", len(cs), cs)
	}
}

func TestConcurrentDuplicatesAnnounceOnce(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	var wg sync.WaitGroup
	for range 8 {
		for i := range offsets {
			e := pricedEvent(t, "b1", i)
			wg.Go(func() {
				req, _ := cehttp.NewHTTPRequestFromEvent(context.Background(), f.srv.URL+"/", e)
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					resp.Body.Close()
				}
			})
		}
	}
	wg.Wait()
	st := f.status(t, "b1")
	if st.State != api.StateCompleted || st.Duplicates != 21 {
		t.Fatalf("status %+v: want completed with 21 duplicates", st)
	}
	if cs := f.completions(t); len(cs) != 1 {
		t.Fatalf("batch.completed sent %d times, want once", len(cs))
	}
}

func TestAnnouncementRetriedAfterSendFailure(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	f.mustPost(t, "/", pricedEvent(t, "b1", 0))
	f.mustPost(t, "/", pricedEvent(t, "b1", 1))
	f.sender.fail = host.Errorf(http.StatusServiceUnavailable, "broker down")
	if code, body := f.post(t, "/", pricedEvent(t, "b1", 2)); code != http.StatusServiceUnavailable {
		t.Fatalf("last chunk while the broker is down: %d %s, want 503 (retried)", code, body)
	}
	if cs := f.completions(t); len(cs) != 0 {
		t.Fatalf("%d completions, want none yet", len(cs))
	}
	// The broker redelivers: a duplicate now, but it announces.
	f.mustPost(t, "/", pricedEvent(t, "b1", 2))
	if cs := f.completions(t); len(cs) != 1 {
		t.Fatalf("%d completions, want 1", len(cs))
	}
}

func TestUnknownBatch(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/batches/nope", "/batches/nope/results"} {
		if code, body := f.get(t, path); code != http.StatusNotFound || !strings.Contains(body, `"error"`) {
			t.Errorf("GET %s: %d %s, want 404 with an error", path, code, body)
		}
	}
	// A chunk before its batch.accepted: 404, which the broker retries,
	// and nothing stored.
	if code, body := f.post(t, "/", pricedEvent(t, "b1", 0)); code != http.StatusNotFound {
		t.Fatalf("chunk of an unknown batch: %d %s, want 404", code, body)
	}
	if _, err := f.store.Summary(context.Background(), store.RefOf("b1")); err == nil {
		t.Fatal("a chunk of an unknown batch created it")
	}
	// Once the batch is known, the redelivery is recorded.
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	f.mustPost(t, "/", pricedEvent(t, "b1", 0))
	if st := f.status(t, "b1"); st.ChunksDone != 1 {
		t.Fatalf("status %+v", st)
	}
}

// TestChunkWithoutTotals: a chunk.priced of a pricer of an earlier
// release (compact results, no totals) is recorded, its totals taken from
// its results: the aggregator is upgraded before the pricers.
func TestChunkWithoutTotals(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	c, rs := resultsOf(t, pricedEvent(t, "b1", 0))
	c.Totals, c.TotalPartials = nil, nil
	c.Results, _ = json.Marshal(rs) // compact, as encoding/json wrote it
	f.mustPost(t, "/", mustEvent(t, events.TypeChunkPriced, "old", "b1", c))
	st := f.status(t, "b1")
	if st.ChunksDone != 1 || st.Priced != 3 || st.Totals.All["npv"] != 3 || st.Totals.All["delta"] != 1.5 {
		t.Fatalf("status %+v", st)
	}
	// A pricer of the release before this one sends rounded totals, no
	// partials: they count as they are, beside a chunk of this release.
	c, _ = resultsOf(t, pricedEvent(t, "b1", 1))
	c.TotalPartials, c.Totals = nil, map[string]map[string]float64{"": {"npv": 0.25, "delta": 0.125}, "ACME": {"npv": 0.25}}
	f.mustPost(t, "/", mustEvent(t, events.TypeChunkPriced, "older", "b1", c))
	f.mustPost(t, "/", pricedEvent(t, "b1", 2))
	st = f.status(t, "b1")
	if st.ChunksDone != 3 || st.Totals.All["npv"] != 5.25 || st.Totals.All["delta"] != 2.625 || st.Totals.ByUnderlying["ACME"]["npv"] != 1.25 {
		t.Fatalf("status %+v", st)
	}
}

// TestTotalsBeyondFloat64NeverWrong: a chunk whose npvs add up past
// float64's range makes the batch's npv total unknown (left out), not the
// sum of the other chunks, which would be wrong.
func TestTotalsBeyondFloat64NeverWrong(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	npvs := [][]float64{{math.MaxFloat64, math.MaxFloat64, 1}, {-math.MaxFloat64, 0}, {1, 1}} // T4 fails
	for i := range offsets {
		c, rs := resultsOf(t, pricedEvent(t, "b1", i))
		for k := range rs {
			if rs[k].Error == "" {
				rs[k].SetValue(pricing.NPV, npvs[i][k])
			}
		}
		c = withResults(t, c, rs)
		f.mustPost(t, "/", mustEvent(t, events.TypeChunkPriced, fmt.Sprint("huge/", i), "b1", c))
	}
	st := f.status(t, "b1")
	if v, ok := st.Totals.All["npv"]; ok || st.Totals.All["delta"] != 3 || st.State != api.StateCompleted {
		t.Fatalf("npv total %v (told %v), want it left out; status %+v", v, ok, st)
	}
}

// TestTotalsOverflow: chunks whose npv totals add past float64 leave that
// total out of the status, which is still served with the others.
func TestTotalsOverflow(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	for i := range offsets {
		c, rs := resultsOf(t, pricedEvent(t, "b1", i))
		rs[len(rs)-1].SetValue(pricing.NPV, 1e308) // each chunk's total finite
		c = withResults(t, c, rs)
		f.mustPost(t, "/", mustEvent(t, events.TypeChunkPriced, fmt.Sprint("big/", i), "b1", c))
	}
	st := f.status(t, "b1")
	if _, ok := st.Totals.All["npv"]; ok || st.Totals.All["delta"] != 3 || st.State != api.StateCompleted {
		t.Fatalf("status %+v", st)
	}
}

func TestMalformedEventsStoreNothing(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	c, rs := resultsOf(t, pricedEvent(t, "b1", 0))
	rs[1].ID = "T9"
	wrongIDs := mustEvent(t, events.TypeChunkPriced, "x", "b1", withResults(t, c, rs))
	short := mustEvent(t, events.TypeChunkPriced, "y", "b1", withResults(t, c, rs[:2]))
	// A chunk's ids given twice (the pricer does not look: batch.SplitChunk).
	twice := slices.Clone(rs)
	twice[1].ID = twice[0].ID
	idTwice := mustEvent(t, events.TypeChunkPriced, "t", "b1", withResults(t, c, twice))

	notJSON := cloudevents.NewEvent()
	notJSON.SetType(events.TypeChunkPriced)
	notJSON.SetSource("/test")
	notJSON.SetID("z")
	notJSON.SetData("text/plain", []byte("hello"))
	badJSON := notJSON.Clone()
	badJSON.SetData(cloudevents.ApplicationJSON, []byte(`{"batchId": "b1", "index": 0, "results": [{"id": "T0", "npvv": 1}]}`))

	cases := map[string]event.Event{
		"wrong trade ids":       wrongIDs,
		"a trade id twice":      idTwice,
		"too few results":       short,
		"index out of range":    mustEvent(t, events.TypeChunkPriced, "w", "b1", events.ChunkPriced{BatchID: "b1", Index: 7, Chunks: 3}),
		"text data":             notJSON,
		"unknown result field":  badJSON,
		"unknown event type":    mustEvent(t, "io.pricefn.other", "v", "b1", map[string]int{}),
		"accepted with no id":   mustEvent(t, events.TypeBatchAccepted, "u", "", events.BatchAccepted{Trades: 7, ChunkOffsets: offsets}),
		"accepted ext mismatch": mustEvent(t, events.TypeBatchAccepted, "r", "b3", events.BatchAccepted{BatchID: "b2", Trades: 7, ChunkOffsets: offsets}),
	}
	for name, e := range cases {
		if code, body := f.post(t, "/", e); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, code, body)
		}
	}
	// The first result whose id is not the batch's is named, with the id
	// the batch has there (quoted, in the answer's JSON).
	for _, tc := range []struct {
		e    event.Event
		want string
	}{
		{wrongIDs, `result 1 is for trade \"T9\", want \"T1\"`},
		{idTwice, `result 1 is for trade \"T0\", want \"T1\"`},
	} {
		if _, body := f.post(t, "/", tc.e); !strings.Contains(body, tc.want) {
			t.Errorf("%s: %s, want %s", tc.e.ID(), body, tc.want)
		}
	}
	// Not a CloudEvent at all.
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/", strings.NewReader(`{"hello": 1}`))
	req.Header.Set("Content-Type", "application/json")
	if code, body := do(t, req); code != http.StatusUnsupportedMediaType {
		t.Errorf("plain JSON: %d %s, want 415", code, body)
	}
	req, _ = http.NewRequest(http.MethodPost, f.srv.URL+"/", strings.NewReader(`{"specversion": "1.0", "type": `))
	req.Header.Set("Content-Type", "application/cloudevents+json")
	if code, body := do(t, req); code != http.StatusBadRequest {
		t.Errorf("truncated structured event: %d %s, want 400", code, body)
	}
	st := f.status(t, "b1")
	if st.ChunksDone != 0 || st.Duplicates != 0 {
		t.Errorf("status after malformed events %+v: want nothing stored", st)
	}
	for _, id := range []string{"b2", "b3"} {
		if code, _ := f.get(t, "/batches/"+id); code != http.StatusNotFound {
			t.Errorf("batch %s stored from a malformed batch.accepted", id)
		}
	}
}

// deadLetter is chunk i's chunk.requested as the broker dead-letters it.
func deadLetter(t *testing.T, id string, i int) event.Event {
	e := mustEvent(t, events.TypeChunkRequested, fmt.Sprintf("%s/chunk/%d", id, i), id, map[string]any{"batchId": id, "index": i, "requestedAt": sentAt})
	e.SetExtension("knativeerrordest", "http://pricer/")
	e.SetExtension("knativeerrorcode", "500")
	e.SetExtension("knativeerrordata", "cHJpY2VyOiBvdXQgb2YgbWVtb3J5") // "pricer: out of memory"
	return e
}

// sentAt is when ingress sent the chunks of deadLetter's events.
var sentAt = submitAt.Add(3 * time.Millisecond)

func TestDeadLetteredChunkMakesPartial(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	f.mustPost(t, "/", pricedEvent(t, "b1", 0))
	f.mustPost(t, "/dead-letter", deadLetter(t, "b1", 1))
	f.mustPost(t, "/dead-letter", deadLetter(t, "b1", 1))
	// A late result for the dead chunk: the first outcome stands.
	f.mustPost(t, "/", pricedEvent(t, "b1", 1))
	f.mustPost(t, "/", pricedEvent(t, "b1", 2))

	st := f.status(t, "b1")
	if st.State != api.StatePartial || st.Missing != 2 || st.ChunksFailed != 1 || st.Duplicates != 2 {
		t.Fatalf("status %+v", st)
	}
	const reason = "delivery failed with status 500: pricer: out of memory"
	if st.FailedChunks[0].Reason != reason {
		t.Errorf("reason %q, want %q", st.FailedChunks[0].Reason, reason)
	}
	code, body := f.get(t, "/batches/b1/results")
	if code != http.StatusOK || !strings.Contains(body, `{"id":"T3","error":"trade T3: not priced: chunk 1 failed: `+reason+`"}`) {
		t.Fatalf("results %d %s", code, body)
	}
	cs := f.completions(t)
	if len(cs) != 1 || cs[0].State != api.StatePartial || strings.Join(cs[0].MissingTradeIDs, ",") != "T3,T4" {
		t.Fatalf("completions %+v", cs)
	}
	// The dead chunk's timeline says when ingress sent it.
	_, body = f.get(t, "/batches/b1?timeline=true")
	var tl aggregator.Status
	if err := json.Unmarshal([]byte(body), &tl); err != nil || len(tl.Timeline) != 3 {
		t.Fatalf("timeline %v: %s", err, body)
	}
	if c := tl.Timeline[1]; c.State != "dead" || c.RequestedAt == nil || !c.RequestedAt.Equal(sentAt) {
		t.Errorf("dead chunk's timeline %+v, want it sent at %s", c, sentAt)
	}
}

// TestCompletionNamesMissingTradesBounded: batch.completed names the
// first aggregator.MaxMissingIDs missing trades, in input order, and
// counts them all: all of 142,000 long ids made an event over the
// broker's 32 MiB, refused at every send, so that the batch's end was
// never announced.
func TestCompletionNamesMissingTradesBounded(t *testing.T) {
	f := newFixture(t)
	const n, per = 2500, 1000 // chunks [0,1000) [1000,2000) [2000,2500)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("T%d", i)
	}
	offs := []int{0, per, 2 * per}
	if _, err := f.store.Claim(context.Background(), store.Batch{Ref: store.RefOf("big"), TradeIDs: ids, ChunkOffsets: offs, SubmittedAt: submitAt}); err != nil {
		t.Fatal(err)
	}
	f.mustPost(t, "/", mustEvent(t, events.TypeBatchAccepted, "big/accepted", "big", events.BatchAccepted{
		BatchID: "big", Attempt: 1, Trades: n, ChunkOffsets: offs, SubmittedAt: submitAt}))
	rs := make([]batch.TradeResult, per)
	for i := range rs {
		rs[i].ID = ids[i]
		rs[i].SetValue(pricing.NPV, 1)
	}
	f.mustPost(t, "/", mustEvent(t, events.TypeChunkPriced, "big/chunk/0/priced", "big",
		withResults(t, events.ChunkPriced{BatchID: "big", Index: 0, Chunks: 3, Offset: 0}, rs)))
	f.mustPost(t, "/dead-letter", deadLetter(t, "big", 2))
	f.mustPost(t, "/dead-letter", deadLetter(t, "big", 1))
	cs := f.awaitCompletions(t, 1)
	if len(cs) != 1 || cs[0].State != api.StatePartial || cs[0].Missing != n-per {
		t.Fatalf("completions %+v, want one partial with %d missing", cs, n-per)
	}
	if got := cs[0].MissingTradeIDs; len(got) != aggregator.MaxMissingIDs || !slices.Equal(got, ids[per:per+aggregator.MaxMissingIDs]) {
		t.Errorf("%d missing trade ids named (%v ... %v), want the first %d, T%d to T%d", len(got), got[:min(len(got), 2)], got[max(len(got)-2, 0):],
			aggregator.MaxMissingIDs, per, per+aggregator.MaxMissingIDs-1)
	}
}

// TestStatusNamesFailedChunksBounded: the status names the first
// aggregator.MaxFailedChunks dead chunks with their reasons and counts
// them all; every one of them made the status of a batch of 16,000
// chunks its deadline ended 4.5 MB, at every read.
func TestStatusNamesFailedChunksBounded(t *testing.T) {
	f := newFixture(t)
	const n = 3 * aggregator.MaxFailedChunks
	ids, offs := make([]string, n), make([]int, n)
	for i := range n {
		ids[i], offs[i] = fmt.Sprintf("T%d", i), i
	}
	if _, err := f.store.Claim(context.Background(), store.Batch{Ref: store.RefOf("dead"), TradeIDs: ids, ChunkOffsets: offs, SubmittedAt: submitAt}); err != nil {
		t.Fatal(err)
	}
	f.mustPost(t, "/", mustEvent(t, events.TypeBatchAccepted, "dead/accepted", "dead", events.BatchAccepted{
		BatchID: "dead", Attempt: 1, Trades: n, ChunkOffsets: offs, SubmittedAt: submitAt}))
	for i := n - 1; i >= 0; i-- {
		f.mustPost(t, "/dead-letter", deadLetter(t, "dead", i))
	}
	st := f.status(t, "dead")
	if st.State != api.StateFailed || st.ChunksFailed != n || st.Missing != n {
		t.Fatalf("status %+v, want failed with %d dead chunks", st.Progress, n)
	}
	if len(st.FailedChunks) != aggregator.MaxFailedChunks {
		t.Fatalf("%d failed chunks named, want the first %d", len(st.FailedChunks), aggregator.MaxFailedChunks)
	}
	for i, c := range st.FailedChunks {
		if c.Index != i || c.Trades != 1 || !strings.HasPrefix(c.Reason, "delivery failed") {
			t.Errorf("failed chunk %d: %+v, want chunk %d of 1 trade with its reason", i, c, i)
		}
	}
}

// TestDeadLetterReasonIsText: the broker's report is outside the event's
// signature, and whoever posts a dead letter writes it; the reason the
// tenant reads (status, trade errors, pricefn trace's terminal) keeps its
// text but none of its control characters.
func TestDeadLetterReasonIsText(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	e := deadLetter(t, "b1", 1)
	e.SetExtension("knativeerrordata", base64.StdEncoding.EncodeToString([]byte("\x1b[2J\x1b[31mFAKE: run this\x1b[0m\r\nnext line é \u202eRLO\u202c\u2028\u200b")))
	f.mustPost(t, "/dead-letter", e)
	st := f.status(t, "b1")
	if len(st.FailedChunks) != 1 {
		t.Fatalf("status %+v", st)
	}
	const want = "delivery failed with status 500: \uFFFD[2J\uFFFD[31mFAKE: run this\uFFFD[0m\uFFFD\uFFFDnext line é \uFFFDRLO\uFFFD\uFFFD\uFFFD"
	if got := st.FailedChunks[0].Reason; got != want {
		t.Errorf("reason %q, want %q", got, want)
	}
}

// TestDeadLetterReasonNamesNoAddress: the reason the tenant reads named
// the pricer's URL (knativeerrordest, cluster-local) and, for a pricer
// that did not answer, the broker's "dispatch error" quoted it again with
// the address dialled. The subscriber is internal, as the broker and the
// store are: the reason gives the status and the cause, and the log the
// subscriber.
func TestDeadLetterReasonNamesNoAddress(t *testing.T) {
	var logs logtest.Buffer
	f := newFixtureWith(t, func(o *aggregator.Options) { o.Log = zerolog.New(&logs) })
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	const dest = "http://pricefn-pricer.prod.svc.cluster.local"
	for i, c := range []struct{ data, want string }{
		// Knative's dispatcher's report of no answer, and pricefn broker's.
		{`dispatch error: Post "` + dest + `": dial tcp 10.96.3.7:80: connect: connection refused`, "delivery failed with status 500: dispatch error: connection refused"},
		{`broker: dispatch error: Post "` + dest + `": context deadline exceeded`, "delivery failed with status 500: dispatch error: context deadline exceeded"},
	} {
		e := deadLetter(t, "b1", i)
		e.SetExtension("knativeerrordest", dest)
		e.SetExtension("knativeerrordata", base64.StdEncoding.EncodeToString([]byte(c.data)))
		f.mustPost(t, "/dead-letter", e)
		st := f.status(t, "b1")
		if got := st.FailedChunks[i].Reason; got != c.want {
			t.Errorf("reason %q, want %q", got, c.want)
		}
	}
	f.mustPost(t, "/", pricedEvent(t, "b1", 2))
	code, body := f.get(t, "/batches/b1/results")
	if code != http.StatusOK || strings.Contains(body, "cluster.local") || strings.Contains(body, "10.96.3.7") || !strings.Contains(body, "dispatch error: connection refused") {
		t.Errorf("results: %d %s", code, body)
	}
	if !strings.Contains(logs.String(), `"dest":"`+dest+`"`) {
		t.Errorf("the log does not name the subscriber:\n%s", logs.String())
	}
	// The broker's report whole, the address dialled with it, which the
	// reason leaves out: the log's.
	if !strings.Contains(logs.String(), `dial tcp 10.96.3.7:80: connect: connection refused`) {
		t.Errorf("the log does not keep the address dialled:\n%s", logs.String())
	}
}

// TestDeadLetterReasonTrimsAnswer: a subscriber's answer the broker
// reports ends with a newline, as every JSON error answer here does; the
// reason quotes it without, where it ended with a U+FFFD, the newline
// replaced as a control character before it was trimmed.
func TestDeadLetterReasonTrimsAnswer(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	e := deadLetter(t, "b1", 1)
	e.SetExtension("knativeerrordata", base64.StdEncoding.EncodeToString([]byte(`{"error":"pricer: chunk.requested data: index 0 of 0 chunks"}`+"\n")))
	f.mustPost(t, "/dead-letter", e)
	const want = `delivery failed with status 500: {"error":"pricer: chunk.requested data: index 0 of 0 chunks"}`
	if got := f.status(t, "b1").FailedChunks[0].Reason; got != want {
		t.Errorf("reason %q, want %q", got, want)
	}
}

// TestDeadLetterReasonIsBounded: the reason is repeated in the error of
// each of the dead chunk's trades, so a dead letter posted with a huge
// knativeerrordest or knativeerrorcode (outside the signature) would make
// the results document its length times the chunk's trades; each part of
// the broker's report is cut, as its data is.
func TestDeadLetterReasonIsBounded(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	e := deadLetter(t, "b1", 1)
	e.SetExtension("knativeerrordest", "http://pricer/"+strings.Repeat("d", 100_000))
	e.SetExtension("knativeerrorcode", strings.Repeat("5", 100_000))
	e.SetExtension("knativeerrordata", base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", 100_000))))
	f.mustPost(t, "/dead-letter", e)
	f.mustPost(t, "/", pricedEvent(t, "b1", 0))
	f.mustPost(t, "/", pricedEvent(t, "b1", 2))
	st := f.status(t, "b1")
	if st.State != api.StatePartial || len(st.FailedChunks) != 1 {
		t.Fatalf("status %+v", st)
	}
	reason := st.FailedChunks[0].Reason
	want := "delivery failed with status " +
		strings.Repeat("5", 500) + "...: " + strings.Repeat("x", 500) + "..."
	if reason != want {
		t.Errorf("reason of %d bytes %.80q..., want %d bytes", len(reason), reason, len(want))
	}
	code, body := f.get(t, "/batches/b1/results")
	if code != http.StatusOK || len(body) > 10_000 {
		t.Errorf("results: %d, %d bytes: want 200 and the two dead trades' errors within 10,000 bytes", code, len(body))
	}
}

func TestEveryChunkDeadIsFailed(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	for i := range offsets {
		f.mustPost(t, "/dead-letter", deadLetter(t, "b1", i))
	}
	if st := f.status(t, "b1"); st.State != api.StateFailed || st.Missing != 7 {
		t.Fatalf("status %+v", st)
	}
}

func TestWaitHoldsUntilFinished(t *testing.T) {
	f := newFixture(t)
	type answer struct {
		code int
		body string
	}
	got := make(chan answer, 1)
	// The poll may start before the batch exists: the wait covers that too.
	waiting, stop, err := f.store.Watch(context.Background(), store.RefOf("b1"))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	go func() {
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/batches/b1/results?wait=1m", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- answer{0, err.Error()}
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		got <- answer{resp.StatusCode, string(body)}
	}()
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	<-waiting
	for i := range offsets {
		select {
		case a := <-got:
			t.Fatalf("answered before the batch finished: %d %s", a.code, a.body)
		default:
		}
		f.mustPost(t, "/", pricedEvent(t, "b1", i))
	}
	a := <-got
	if a.code != http.StatusOK || a.body != strings.Replace(wantResults, `\u003e`, `>`, 1) {
		t.Fatalf("long poll: %d %s", a.code, a.body)
	}
}

func TestWaitEndsOnDrain(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	watching, stop, _ := f.store.Watch(context.Background(), store.RefOf("b1"))
	defer stop()
	got := f.poll("/batches/b1/results?wait=10m")
	// Make sure the poll is waiting: a change wakes both it and us.
	f.mustPost(t, "/", pricedEvent(t, "b1", 0))
	<-watching
	f.fn.Drain()
	if code := <-got; code != http.StatusAccepted {
		t.Fatalf("drained long poll: %d, want 202 with the status", code)
	}
}

func TestBadWait(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	for _, w := range []string{"soon", "-1s", "10"} {
		if code, body := f.get(t, "/batches/b1/results?wait="+w); code != http.StatusBadRequest {
			t.Errorf("wait=%s: %d %s, want 400", w, code, body)
		}
	}
}

func TestEmptyBatchCompletesAtOnce(t *testing.T) {
	f := newFixture(t)
	if _, err := f.store.Claim(context.Background(), store.Batch{Ref: store.RefOf("e"), SubmittedAt: submitAt}); err != nil {
		t.Fatal(err)
	}
	f.mustPost(t, "/", mustEvent(t, events.TypeBatchAccepted, "e/accepted", "e", events.BatchAccepted{BatchID: "e", Attempt: 1, ChunkOffsets: []int{}, SubmittedAt: submitAt}))
	code, body := f.get(t, "/batches/e/results")
	if code != http.StatusOK || body != "{\"batchId\":\"e\",\"results\":[\n]}\n" {
		t.Fatalf("results %d %q", code, body)
	}
	if cs := f.completions(t); len(cs) != 1 || cs[0].State != api.StateCompleted {
		t.Fatalf("completions %+v", cs)
	}
}

// pinProbe is a memory store that counts its pins and the reads of
// results made without one.
type pinProbe struct {
	*store.Mem
	mu                     sync.Mutex
	pins, unpins, unpinned int
}

func (p *pinProbe) Pin(ctx context.Context, ref store.Ref) func() {
	p.mu.Lock()
	p.pins++
	p.mu.Unlock()
	unpin := p.Mem.Pin(ctx, ref)
	return func() {
		p.mu.Lock()
		p.unpins++
		p.mu.Unlock()
		unpin()
	}
}

func (p *pinProbe) WriteResults(ctx context.Context, ref store.Ref, attempt, index int, w io.Writer) error {
	p.mu.Lock()
	if p.pins == p.unpins {
		p.unpinned++
	}
	p.mu.Unlock()
	return p.Mem.WriteResults(ctx, ref, attempt, index, w)
}

// Every results document, whole or streamed, is written with its batch
// pinned (store.Pin), so that a full memory store does not drop it
// between two chunks; the pin is given back after.
func TestResultsReadPinned(t *testing.T) {
	var probe *pinProbe
	f := newFixtureWith(t, func(o *aggregator.Options) {
		probe = &pinProbe{Mem: o.Store.(*store.Mem)}
		o.Store = probe
	})
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	for i := range offsets {
		f.mustPost(t, "/", pricedEvent(t, "b1", i))
	}
	for _, path := range []string{"/batches/b1/results", "/batches/b1/results?stream=true"} {
		if code, body := f.get(t, path); code != http.StatusOK || !strings.Contains(body, `"id":"T6"`) {
			t.Fatalf("%s: %d %s", path, code, body)
		}
	}
	probe.mu.Lock()
	defer probe.mu.Unlock()
	if probe.pins != 2 || probe.unpins != 2 || probe.unpinned != 0 {
		t.Errorf("%d pins, %d given back, %d reads unpinned: want 2, 2, 0", probe.pins, probe.unpins, probe.unpinned)
	}
}

// TestRefusedEventQuotesBounded: an event refused for its batch id (none
// ingress could have accepted) or its shape quotes its id and batch id cut
// to 200 bytes: a 100,000-byte id came back whole, twice, in the answer
// and in the log line of the refusal.
func TestRefusedEventQuotesBounded(t *testing.T) {
	f := newFixture(t)
	long := strings.Repeat("b", 100_000)
	priced := mustEvent(t, events.TypeChunkPriced, long, long, map[string]any{"batchId": long, "index": 0})
	accepted := mustEvent(t, events.TypeBatchAccepted, long, long, map[string]any{"batchId": long})
	malformed := mustEvent(t, events.TypeChunkPriced, long, long, map[string]any{"index": 0})
	dead := mustEvent(t, events.TypeChunkRequested, long, long, map[string]any{"batchId": long, "index": 0})
	// The answer names the fault: a dead letter's said it had no batchId.
	for name, c := range map[string]struct {
		path string
		e    event.Event
		want string
	}{
		"chunk.priced of a batch id no batch has": {"/", priced, "batch id"},
		"batch.accepted of such an id":            {"/", accepted, "batch id"},
		"chunk.priced without a batchId":          {"/", malformed, "without batchId"},
		"dead letter of such an id":               {"/dead-letter", dead, "batch id"},
	} {
		code, body := f.post(t, c.path, c.e)
		if code != http.StatusBadRequest || len(body) > 2000 || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d, %d bytes: %.300s; want a 400 under 2,000 bytes saying %q", name, code, len(body), body, c.want)
		}
	}
}

// TestLongTraceParentLoggedCut: an event's traceparent is the sender's,
// of any length, and every log line about its batch carries it: it is cut
// as an error quotes a value (a 100,000-byte one was logged whole).
func TestLongTraceParentLoggedCut(t *testing.T) {
	var logs logtest.Buffer
	f := newFixtureWith(t, func(o *aggregator.Options) { o.Log = zerolog.New(&logs) })
	e := f.acceptedEvent(t, "long-trace")
	e.SetExtension(events.ExtTraceParent, strings.Repeat("t", 100_000))
	if code, body := f.post(t, "/", e); code != http.StatusOK && code != http.StatusAccepted && code != http.StatusNoContent {
		t.Fatalf("%d %.200s, want it taken", code, body)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	for _, line := range lines {
		if len(line) > 2000 || !strings.Contains(line, `"traceparent":"ttt`) {
			t.Errorf("logged in %d bytes, want under 2,000 with the traceparent's start: %.300s", len(line), line)
		}
	}
	if !strings.Contains(logs.String(), "batch accepted") {
		t.Errorf("no \"batch accepted\" line:\n%.1000s", logs.String())
	}
}

// summaryProbe is a memory store that counts the chunk entries its
// Summaries return.
type summaryProbe struct {
	*store.Mem
	mu   sync.Mutex
	read int
}

func (p *summaryProbe) Summary(ctx context.Context, ref store.Ref) (*store.Summary, error) {
	sum, err := p.Mem.Summary(ctx, ref)
	if err == nil {
		p.mu.Lock()
		p.read += len(sum.Chunks)
		p.mu.Unlock()
	}
	return sum, err
}

// TestRecordsChunksInLinearTime: recording a chunk's outcome reads its own
// layout, not the batch's Summary with every chunk's outcome: read for
// each outcome, it took n² steps for a batch of n chunks (a scenario
// batch of 50 costly Asians under 10,000 scenarios has 500,050, and 8,000
// one-trade chunks spent half the engine's CPU in it).
func TestRecordsChunksInLinearTime(t *testing.T) {
	var probe *summaryProbe
	f := newFixtureWith(t, func(o *aggregator.Options) {
		probe = &summaryProbe{Mem: o.Store.(*store.Mem)}
		o.Store = probe
	})
	const n = 400
	ids, offs := make([]string, n), make([]int, n)
	for i := range n {
		ids[i], offs[i] = fmt.Sprintf("T%d", i), i
	}
	ref := store.RefOf("many")
	if _, err := f.store.Claim(context.Background(), store.Batch{Ref: ref, TradeIDs: ids, ChunkOffsets: offs, SubmittedAt: submitAt}); err != nil {
		t.Fatal(err)
	}
	f.mustPost(t, "/", mustEvent(t, events.TypeBatchAccepted, "many/accepted", "many", events.BatchAccepted{
		BatchID: "many", Attempt: 1, Trades: n, ChunkOffsets: offs, SubmittedAt: submitAt}))
	for i := range n {
		r := batch.TradeResult{ID: ids[i]}
		r.SetValue(pricing.NPV, 1)
		c := withResults(t, events.ChunkPriced{BatchID: "many", Index: i, Chunks: n, Offset: i}, []batch.TradeResult{r})
		f.mustPost(t, "/", mustEvent(t, events.TypeChunkPriced, fmt.Sprintf("many/chunk/%d/priced", i), "many", c))
	}
	done := f.awaitCompletions(t, 1)
	if done[0].State != store.StateCompleted || done[0].Trades != n {
		t.Fatalf("completion %+v, want %d trades completed", done[0], n)
	}
	probe.mu.Lock()
	defer probe.mu.Unlock()
	if probe.read > 4*n {
		t.Errorf("recording %d chunks read %d chunk entries of Summaries, want at most %d", n, probe.read, 4*n)
	}
}

// tradesProbe is a memory store that counts its Trades calls.
type tradesProbe struct {
	*store.Mem
	calls atomic.Int64
}

func (p *tradesProbe) Trades(ctx context.Context, ref store.Ref, attempt, index int) ([]string, error) {
	p.calls.Add(1)
	return p.Mem.Trades(ctx, ref, attempt, index)
}

// TestCompletionAsksNoTradesOfScenarioChunks: the missing trades that
// batch.completed names are asked of the dead chunks that hold trades,
// not of dead scenario chunks, which hold none: one call each, a round
// trip to Redis, for up to a million of them before the announcement.
func TestCompletionAsksNoTradesOfScenarioChunks(t *testing.T) {
	var probe *tradesProbe
	f := newFixtureWith(t, func(o *aggregator.Options) {
		probe = &tradesProbe{Mem: o.Store.(*store.Mem)}
		o.Store = probe
	})
	// Two blocks of one trade, each 50 scenario chunks then its base
	// chunk.
	var offs []int
	for block := range 2 {
		for range 51 {
			offs = append(offs, block)
		}
	}
	if _, err := f.store.Claim(context.Background(), store.Batch{Ref: store.RefOf("risk"), TradeIDs: []string{"T0", "T1"}, ChunkOffsets: offs, SubmittedAt: submitAt}); err != nil {
		t.Fatal(err)
	}
	f.mustPost(t, "/", mustEvent(t, events.TypeBatchAccepted, "risk/accepted", "risk", events.BatchAccepted{
		BatchID: "risk", Attempt: 1, Trades: 2, ChunkOffsets: offs, SubmittedAt: submitAt}))
	for i := range offs {
		f.mustPost(t, "/dead-letter", deadLetter(t, "risk", i))
	}
	cs := f.awaitCompletions(t, 1)
	if len(cs) != 1 || cs[0].State != api.StateFailed || strings.Join(cs[0].MissingTradeIDs, ",") != "T0,T1" {
		t.Fatalf("completions %+v, want one failed naming T0 and T1", cs)
	}
	if n := probe.calls.Load(); n != 2 {
		t.Errorf("%d calls for the trades of 2 dead base chunks and 100 dead scenario chunks, want 2", n)
	}
}
