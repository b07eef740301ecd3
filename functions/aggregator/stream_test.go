package aggregator_test

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/api"
	"github.com/pricefn/pricefn/auth"
	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/aggregator"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/internal/logtest"
	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/store"
)

// sseEvent is one event of a text/event-stream.
type sseEvent struct {
	id, event, data string
}

// sseClient reads a GET /batches/{id}/events stream.
type sseClient struct {
	resp *http.Response
	br   *bufio.Reader
}

// untagged is an event id without its claim tag, which a stream's ids
// must all have: "1.mwvw7mo0/0-2" is "1/0-2".
func untagged(t *testing.T, raw string) string {
	t.Helper()
	head, list, _ := strings.Cut(raw, "/")
	attempt, claim, ok := strings.Cut(head, ".")
	if !ok || claim == "" {
		t.Fatalf("event id %q names no claim", raw)
	}
	return attempt + "/" + list
}

// openEvents GETs url with the token (if any) and Last-Event-ID (if any);
// the request ends with ctx.
func openEvents(t *testing.T, ctx context.Context, url, token, lastID string) *sseClient {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return &sseClient{resp: resp, br: bufio.NewReader(resp.Body)}
}

// next returns the next event, skipping comments and field-less blocks;
// io.EOF when the stream ended.
func (c *sseClient) next() (sseEvent, error) {
	var e sseEvent
	fields := 0
	for {
		line, err := c.br.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) && line == "" && fields == 0 {
				return e, io.EOF
			}
			return e, err
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			if e.event != "" || e.data != "" {
				return e, nil
			}
			fields = 0
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimPrefix(v, " ")
		fields++
		switch k {
		case "id":
			e.id = v
		case "event":
			e.event = v
		case "data":
			e.data += v
		}
	}
}

// mustChunk reads the next event, which must be a chunk event with id.
func (c *sseClient) mustChunk(t *testing.T, id string) aggregator.ChunkEvent {
	t.Helper()
	e, err := c.next()
	if err != nil {
		t.Fatalf("reading the stream, want chunk event %s: %v", id, err)
	}
	var ce aggregator.ChunkEvent
	if e.event != aggregator.EventChunk || untagged(t, e.id) != id {
		t.Fatalf("got event %q id %q (%s), want %q id %q", e.event, e.id, e.data, aggregator.EventChunk, id)
	}
	if err := json.Unmarshal([]byte(e.data), &ce); err != nil {
		t.Fatal(err)
	}
	return ce
}

// mustEnd reads the end event, then the end of the stream.
func (c *sseClient) mustEnd(t *testing.T, id string) aggregator.Status {
	t.Helper()
	e, err := c.next()
	if err != nil || e.event != aggregator.EventEnd || e.id == "" || untagged(t, e.id) != id {
		t.Fatalf("got event %q id %q (%v), want %q id %q", e.event, e.id, err, aggregator.EventEnd, id)
	}
	var st aggregator.Status
	if err := json.Unmarshal([]byte(e.data), &st); err != nil {
		t.Fatal(err)
	}
	if e, err := c.next(); err != io.EOF {
		t.Fatalf("after the end event: %+v %v, want the end of the stream", e, err)
	}
	return st
}

// TestEventsOrderResumeAndEnd: chunks are reported in the order they were
// recorded, live and on connecting late; a reconnect with Last-Event-ID
// gets only the chunks it has not seen; the stream ends with the status.
func TestEventsOrderResumeAndEnd(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	url := f.srv.URL + "/batches/b1/events"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	live, stopLive := context.WithCancel(ctx)
	c := openEvents(t, live, url, "", "")
	if ct := c.resp.Header.Get("Content-Type"); c.resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
		t.Fatalf("GET events: %d %q", c.resp.StatusCode, ct)
	}
	f.mustPost(t, "/", pricedEvent(t, "b1", 2))
	e := c.mustChunk(t, "1/2")
	if e.Index != 2 || e.State != "priced" || e.FirstTrade != 5 || e.Trades != 2 || e.Failed != 0 || e.Deliveries != 1 ||
		e.PricingSeconds != 1 || e.DeliveredAt == nil || e.PricedAt == nil || e.RecordedAt == nil || e.QueuedSeconds == nil {
		t.Errorf("chunk 2: %+v", e)
	}
	if p := e.Progress; p.State != api.StateRunning || p.ChunksDone != 1 || p.Chunks != 3 || p.Priced != 2 || p.Pending != 5 || p.Trades != 7 {
		t.Errorf("progress after chunk 2: %+v", p)
	}
	f.mustPost(t, "/", pricedEvent(t, "b1", 0))
	if e := c.mustChunk(t, "1/0,2"); e.Index != 0 || e.Progress.ChunksDone != 2 || e.Progress.Priced != 5 {
		t.Errorf("chunk 0: %+v", e)
	}
	f.mustPost(t, "/", pricedEvent(t, "b1", 2)) // a duplicate: no event
	stopLive()                                  // the client loses its connection

	f.mustPost(t, "/", pricedEvent(t, "b1", 1)) // the batch finishes meanwhile
	c = openEvents(t, ctx, url, "", "1/0,2")
	e = c.mustChunk(t, "1/0-2")
	if e.Index != 1 || e.Failed != 1 || e.Progress.State != api.StateCompleted || e.Progress.Failed != 1 || e.Progress.Pending != 0 {
		t.Errorf("chunk 1 after reconnecting: %+v", e)
	}
	st := c.mustEnd(t, "1/0-2")
	if st.State != api.StateCompleted || st.Priced != 6 || st.Failed != 1 || st.Duplicates != 1 || st.Totals.All["npv"] != 6 {
		t.Errorf("end: %+v", st)
	}

	// Late and from scratch: every chunk in the order recorded (2, 0, 1).
	c = openEvents(t, ctx, url, "", "")
	for _, id := range []string{"1/2", "1/0,2", "1/0-2"} {
		c.mustChunk(t, id)
	}
	c.mustEnd(t, "1/0-2")
	// Having seen chunk 0 only: 2 then 1.
	c = openEvents(t, ctx, url, "", "1/0")
	c.mustChunk(t, "1/0,2")
	c.mustChunk(t, "1/0-2")
	c.mustEnd(t, "1/0-2")
	// Having seen everything: the end at once.
	c = openEvents(t, ctx, url, "", "1/0-2")
	c.mustEnd(t, "1/0-2")
	// An id of another attempt starts over.
	c = openEvents(t, ctx, url, "", "2/0-1")
	c.mustChunk(t, "1/2")
}

// TestEventsErrors: bad Last-Event-IDs are 400s naming the header and
// what is wrong (a number out of range too), an unknown batch a 404, each
// with a JSON error.
func TestEventsErrors(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	for _, tt := range []struct {
		path, lastID string
		code         int
		want         string
	}{
		{"/batches/nope/events", "", http.StatusNotFound, `batch "nope" not found`},
		{"/batches/b1/events", "x", http.StatusBadRequest, "Last-Event-ID"},
		{"/batches/b1/events", "1/3-1", http.StatusBadRequest, "ascending"},
		{"/batches/b1/events", "1/2,1", http.StatusBadRequest, "ascending"},
		{"/batches/b1/events", "1/9", http.StatusBadRequest, "chunk 9: batch \"b1\" has 3 chunks"},
		{"/batches/b1/events", "0/", http.StatusBadRequest, "Last-Event-ID"},
		// Numbers past int were "ranges must be ascending and disjoint",
		// or the id's whole format asked for.
		{"/batches/b1/events", "1/99999999999999999999", http.StatusBadRequest, "Last-Event-ID: chunk 99999999999999999999 out of range"},
		{"/batches/b1/events", "1/0-99999999999999999999", http.StatusBadRequest, "Last-Event-ID: chunk 99999999999999999999 out of range"},
		{"/batches/b1/events", "1/9223372036854775807,0", http.StatusBadRequest, "Last-Event-ID: chunk 9223372036854775807 out of range"},
		{"/batches/b1/events", "99999999999999999999.ab/0", http.StatusBadRequest, "Last-Event-ID: attempt 99999999999999999999 out of range"},
	} {
		c := openEvents(t, context.Background(), f.srv.URL+tt.path, "", tt.lastID)
		var body host.ErrorBody
		json.NewDecoder(c.resp.Body).Decode(&body)
		if c.resp.StatusCode != tt.code || !strings.Contains(body.Error, tt.want) {
			t.Errorf("%s with Last-Event-ID %q: %d %q, want %d with %q", tt.path, tt.lastID, c.resp.StatusCode, body.Error, tt.code, tt.want)
		}
	}
}

// TestEventsTenants: behind a guard, the stream wants a token with the
// read scope and shows each tenant its own batch of an id both use; a
// batch of another tenant is unknown.
func TestEventsTenants(t *testing.T) {
	const (
		acme     = "acme-token-0123456789"
		globex   = "globex-token-0123456789"
		acmeSend = "acme-submit-only-0123456789"
	)
	file := filepath.Join(t.TempDir(), "tokens")
	os.WriteFile(file, []byte(acme+" acme\n"+globex+" globex\n"+acmeSend+" acme submit\n"), 0o600)
	tokens, err := auth.LoadTokens(file, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMem(store.MemOptions{})
	fn := aggregator.New(aggregator.Options{Store: st, Log: zerolog.Nop()})
	srv := httptest.NewServer(fn.Routes(zerolog.Nop(), auth.NewGuard(nil, tokens, zerolog.Nop(), nil)))
	t.Cleanup(func() { fn.Drain(); srv.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	claim := func(tenant, id string, trades, chunks int) store.Ref {
		ref := store.Ref{Tenant: tenant, ID: id}
		b := store.Batch{Ref: ref, SubmittedAt: now}
		for i := range trades {
			b.TradeIDs = append(b.TradeIDs, tenant+"-"+string(rune('a'+i)))
		}
		for i := range chunks {
			b.ChunkOffsets = append(b.ChunkOffsets, i*trades/chunks)
		}
		if _, err := st.Claim(ctx, b); err != nil {
			t.Fatal(err)
		}
		return ref
	}
	a := claim("acme", "b1", 4, 2)
	g := claim("globex", "b1", 6, 3)
	claim("globex", "only-globex", 1, 1)
	put := func(ref store.Ref, i int, c store.Chunk) {
		c.Index, c.ArrivedAt = i, now.Add(time.Duration(i)*time.Second)
		if _, err := st.Put(ctx, ref, "", 1, c); err != nil {
			t.Fatal(err)
		}
	}
	put(a, 1, store.Chunk{State: store.ChunkPriced, Trades: 2, PricedBy: "pricer-a"})
	put(a, 0, store.Chunk{State: store.ChunkDead, Reason: "dead-lettered: pricer away"})
	put(g, 0, store.Chunk{State: store.ChunkPriced, Trades: 2, Failed: 1})

	// acme's b1: both chunks, then the end (partial).
	c := openEvents(t, ctx, srv.URL+"/batches/b1/events", acme, "")
	// Chunk 0 arrived at +0s, chunk 1 at +1s: recorded order is by time.
	e := c.mustChunk(t, "1/0")
	if e.State != "dead" || e.Reason != "dead-lettered: pricer away" || e.Trades != 2 || e.DeliveredAt != nil || e.RecordedAt == nil || e.Progress.Missing != 2 {
		t.Errorf("acme chunk 0: %+v", e)
	}
	if e := c.mustChunk(t, "1/0-1"); e.PricedBy != "pricer-a" || e.Progress.Priced != 2 || e.Progress.State != api.StatePartial {
		t.Errorf("acme chunk 1: %+v", e)
	}
	if s := c.mustEnd(t, "1/0-1"); s.State != api.StatePartial || s.Trades != 4 || len(s.FailedChunks) != 1 {
		t.Errorf("acme end: %+v", s)
	}
	// globex's b1: its one chunk so far, and no end.
	c = openEvents(t, ctx, srv.URL+"/batches/b1/events", globex, "")
	if e := c.mustChunk(t, "1/0"); e.Trades != 2 || e.Failed != 1 || e.Progress.Chunks != 3 || e.Progress.Trades != 6 {
		t.Errorf("globex chunk 0: %+v", e)
	}
	put(g, 2, store.Chunk{State: store.ChunkPriced, Trades: 2})
	c.mustChunk(t, "1/0,2")

	for _, tt := range []struct {
		name, path, token string
		code              int
	}{
		{"no token", "/batches/b1/events", "", http.StatusUnauthorized},
		{"unknown token", "/batches/b1/events", "not-a-token-0123456789", http.StatusUnauthorized},
		{"no read scope", "/batches/b1/events", acmeSend, http.StatusForbidden},
		{"another tenant's batch", "/batches/only-globex/events", acme, http.StatusNotFound},
	} {
		c := openEvents(t, ctx, srv.URL+tt.path, tt.token, "")
		var body host.ErrorBody
		json.NewDecoder(c.resp.Body).Decode(&body)
		if c.resp.StatusCode != tt.code || body.Error == "" || c.resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %q, want %d with a JSON error", tt.name, c.resp.StatusCode, body.Error, tt.code)
		}
	}
}

// TestEventsOfAnIDUsedAgain: a stream resumed from the ids of a batch
// that was forgotten, its id then used again (same attempt number),
// reports every chunk of the new batch: the ids name the claim. It
// skipped those the old batch's id listed.
func TestEventsOfAnIDUsedAgain(t *testing.T) {
	var mu sync.Mutex
	clock := submitAt
	mem := store.NewMem(store.MemOptions{Options: store.Options{Retain: time.Minute}, Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}})
	f := newFixtureWith(t, func(o *aggregator.Options) { o.Store = mem })
	f.store = mem
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	for i := range offsets {
		f.mustPost(t, "/", pricedEvent(t, "b1", i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	url := f.srv.URL + "/batches/b1/events"
	c := openEvents(t, ctx, url, "", "")
	for _, id := range []string{"1/0", "1/0-1", "1/0-2"} {
		c.mustChunk(t, id)
	}
	end, err := c.next()
	if err != nil || end.event != aggregator.EventEnd {
		t.Fatalf("end: %+v %v", end, err)
	}
	// Forgotten after its retention, then claimed again, another hour.
	mu.Lock()
	clock = clock.Add(time.Hour)
	mu.Unlock()
	if code, _ := f.get(t, "/batches/b1"); code != http.StatusNotFound {
		t.Fatalf("batch b1 not forgotten: %d", code)
	}
	claim, err := mem.Claim(ctx, store.Batch{Ref: store.RefOf("b1"), TradeIDs: tradeIDs, ChunkOffsets: offsets, SubmittedAt: submitAt.Add(time.Hour)})
	if err != nil || claim.Attempt != 1 {
		t.Fatalf("claim again: %+v %v", claim, err)
	}
	f.mustPost(t, "/", pricedEvent(t, "b1", 1))
	c = openEvents(t, ctx, url, "", end.id)
	e := c.mustChunk(t, "1/1")
	if e.Index != 1 || e.Progress.ChunksDone != 1 {
		t.Errorf("resumed from the old batch's %s: %+v, want the new batch's chunk 1", end.id, e)
	}
	// Resumed from the new batch's own id, only what it has not seen.
	f.mustPost(t, "/", pricedEvent(t, "b1", 0))
	next := c.mustChunk(t, "1/0-1")
	if next.Index != 0 {
		t.Errorf("next chunk %+v, want chunk 0", next)
	}
}

// watchFails is a Store whose Watch fails, as a Redis that went away
// does, once down is set.
type watchFails struct {
	*store.Mem
	down atomic.Bool
}

func (s *watchFails) Watch(ctx context.Context, ref store.Ref) (<-chan struct{}, func(), error) {
	if s.down.Load() {
		return nil, nil, errDown
	}
	return s.Mem.Watch(ctx, ref)
}

// TestEventStreamFaultLogTrace: an event stream the store ends is logged
// with the batch's id and its traceparent, as every log line about a
// batch is.
func TestEventStreamFaultLogTrace(t *testing.T) {
	var logs logtest.Buffer
	st := &watchFails{Mem: store.NewMem(store.MemOptions{})}
	clk := &clock{now: submitAt}
	f := newFixtureWith(t, func(o *aggregator.Options) { o.Store, o.Log, o.Now = st, zerolog.New(&logs), clk.Now })
	c, err := st.Claim(context.Background(), store.Batch{Ref: store.RefOf("b1"), TradeIDs: tradeIDs, ChunkOffsets: offsets,
		SubmittedAt: submitAt, Deadline: submitAt.Add(time.Hour), TraceParent: batchTrace})
	if err != nil {
		t.Fatal(err)
	}
	f.mustPost(t, "/", mustEvent(t, events.TypeBatchAccepted, "b1/accepted", "b1", events.BatchAccepted{
		BatchID: "b1", Attempt: c.Attempt, Trades: len(tradeIDs), ChunkOffsets: offsets, SubmittedAt: submitAt, Deadline: submitAt.Add(time.Hour)}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sse := openEvents(t, ctx, f.srv.URL+"/batches/b1/events", "", "") // watching once answered
	before := len(logs.String())
	st.down.Store(true)
	f.mustPost(t, "/", pricedEvent(t, "b1", 0)) // a change: the watch again, which fails
	for {
		if _, err := sse.next(); err != nil {
			break // the stream ended
		}
	}
	var ended map[string]any
	for deadline := time.Now().Add(5 * time.Second); ended == nil && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		for _, line := range strings.Split(strings.TrimSpace(logs.String()[before:]), "\n") {
			var entry map[string]any
			if json.Unmarshal([]byte(line), &entry) == nil && strings.HasPrefix(fmt.Sprint(entry["message"]), "event stream") {
				ended = entry
			}
		}
	}
	if ended == nil || ended[events.ExtTraceParent] != batchTrace {
		t.Errorf("the stream's end logged as %v, want with traceparent %s:\n%s", ended, batchTrace, logs.String())
	}
}

// slowSummary is a memory store whose reads of chunk outcomes, Summary
// and Arrivals, take 10 ms (or delay), as a batch of some 100,000 chunks'
// Summary does, and a Redis far away or busy, and counts their calls.
type slowSummary struct {
	*store.Mem
	delay time.Duration
	reads atomic.Int64
}

func (s *slowSummary) Summary(ctx context.Context, ref store.Ref) (*store.Summary, error) {
	s.reads.Add(1)
	time.Sleep(cmp.Or(s.delay, 10*time.Millisecond))
	return s.Mem.Summary(ctx, ref)
}

func (s *slowSummary) Arrivals(ctx context.Context, ref store.Ref, attempt, from, n int) (*store.Arrived, error) {
	s.reads.Add(1)
	time.Sleep(cmp.Or(s.delay, 10*time.Millisecond))
	return s.Mem.Arrivals(ctx, ref, attempt, from, n)
}

// TestStreamsRestBetweenReads: an event stream, and a results stream,
// waits five times as long as its last read of the batch took before the
// next, reporting what came meanwhile at once: each read the batch at
// each outcome, back to back when they came faster than a read, which
// with a batch of 500,000 chunks made each open console page, and each
// pricefn submit, a core's work.
func TestStreamsRestBetweenReads(t *testing.T) {
	for _, path := range []string{"/batches/slow/events", "/batches/slow/results?stream=true"} {
		t.Run(path, func(t *testing.T) { testStreamRests(t, path) })
	}
}

func testStreamRests(t *testing.T, path string) {
	var slow *slowSummary
	f := newFixtureWith(t, func(o *aggregator.Options) {
		slow = &slowSummary{Mem: o.Store.(*store.Mem)}
		o.Store = slow
	})
	const n = 100
	ids, offs := make([]string, n), make([]int, n)
	for i := range n {
		ids[i], offs[i] = fmt.Sprintf("T%d", i), i
	}
	if _, err := f.store.Claim(context.Background(), store.Batch{Ref: store.RefOf("slow"), TradeIDs: ids, ChunkOffsets: offs, SubmittedAt: submitAt}); err != nil {
		t.Fatal(err)
	}
	f.mustPost(t, "/", mustEvent(t, events.TypeBatchAccepted, "slow/accepted", "slow", events.BatchAccepted{
		BatchID: "slow", Attempt: 1, Trades: n, ChunkOffsets: offs, SubmittedAt: submitAt}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := openEvents(t, ctx, f.srv.URL+path, "", "")
	got := make(chan int, 1)
	go func() {
		if strings.Contains(path, "/results") {
			body, _ := io.ReadAll(c.br)
			got <- strings.Count(string(body), `"npv":1`)
			return
		}
		k := 0
		for e, err := c.next(); err == nil && e.event != aggregator.EventEnd; e, err = c.next() {
			if e.event == aggregator.EventChunk {
				k++
			}
		}
		got <- k
	}()
	start, before := time.Now(), slow.reads.Load()
	for i := range n {
		r := batch.TradeResult{ID: ids[i]}
		r.SetValue(pricing.NPV, 1)
		cp := withResults(t, events.ChunkPriced{BatchID: "slow", Index: i, Chunks: n, Offset: i}, []batch.TradeResult{r})
		f.mustPost(t, "/", mustEvent(t, events.TypeChunkPriced, fmt.Sprintf("slow/chunk/%d/priced", i), "slow", cp))
		time.Sleep(5 * time.Millisecond) // the outcomes come over half a second
	}
	if k := <-got; k != n {
		t.Fatalf("%d chunks streamed, want %d", k, n)
	}
	took, reads := time.Since(start), slow.reads.Load()-before
	// One read every 60 ms at most (10 ms and 50 of rest), the
	// announcement's read besides; back to back, one every 10 ms.
	if limit := int64(took/(40*time.Millisecond)) + 3; reads > limit {
		t.Errorf("%d reads of the batch in %v of outcomes, want at most %d", reads, took.Round(time.Millisecond), limit)
	}
}

// TestStreamsRestOnlyAfterBusyReads: a stream's rest (five times its
// last read) counts from that read's end, so that an outcome that comes
// after the stream has waited that long already, such as the one ending
// a batch after a quiet spell, is read and reported at once. It rested
// five times its read after every change however long it had waited for
// it: the end of a batch whose read took 2 s came 10 s late.
func TestStreamsRestOnlyAfterBusyReads(t *testing.T) {
	for _, path := range []string{"/batches/quiet/events", "/batches/quiet/results?stream=true"} {
		t.Run(path, func(t *testing.T) { testStreamRestsAfterRead(t, path) })
	}
}

func testStreamRestsAfterRead(t *testing.T, path string) {
	// A rest of 300 ms: the end, past a rest, could not come before some
	// 420 ms (the rest, a read, the announcement's read), while at once it
	// takes a read or two, 60-120 ms, and more on a busy machine.
	const read = 60 * time.Millisecond
	f := newFixtureWith(t, func(o *aggregator.Options) {
		o.Store = &slowSummary{Mem: o.Store.(*store.Mem), delay: read}
	})
	ids, offs := []string{"T0", "T1"}, []int{0, 1}
	if _, err := f.store.Claim(context.Background(), store.Batch{Ref: store.RefOf("quiet"), TradeIDs: ids, ChunkOffsets: offs, SubmittedAt: submitAt}); err != nil {
		t.Fatal(err)
	}
	f.mustPost(t, "/", mustEvent(t, events.TypeBatchAccepted, "quiet/accepted", "quiet", events.BatchAccepted{
		BatchID: "quiet", Attempt: 1, Trades: 2, ChunkOffsets: offs, SubmittedAt: submitAt}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := openEvents(t, ctx, f.srv.URL+path, "", "")
	first, end := make(chan struct{}), make(chan time.Time, 1)
	go func(first chan struct{}) { // its own first, set to nil once closed
		defer func() { end <- time.Now() }()
		if strings.Contains(path, "/results") {
			var body []byte
			buf := make([]byte, 4096)
			for {
				n, err := c.br.Read(buf)
				if body = append(body, buf[:n]...); strings.Contains(string(body), `"npv":1`) && first != nil {
					close(first)
					first = nil
				}
				if err != nil {
					return
				}
			}
		}
		for e, err := c.next(); err == nil && e.event != aggregator.EventEnd; e, err = c.next() {
			if e.event == aggregator.EventChunk && first != nil {
				close(first)
				first = nil
			}
		}
	}(first)
	post := func(i int) {
		r := batch.TradeResult{ID: ids[i]}
		r.SetValue(pricing.NPV, 1)
		cp := withResults(t, events.ChunkPriced{BatchID: "quiet", Index: i, Chunks: 2, Offset: i}, []batch.TradeResult{r})
		f.mustPost(t, "/", mustEvent(t, events.TypeChunkPriced, fmt.Sprintf("quiet/chunk/%d/priced", i), "quiet", cp))
	}
	post(0)
	select {
	case <-first:
	case <-ctx.Done():
		t.Fatal("the first chunk was not streamed")
	}
	// Quiet for longer than the rest its read of the first chunk asks.
	time.Sleep(6 * read)
	start := time.Now()
	post(1)
	select {
	case at := <-end:
		// A read (and the announcement's, in the post) at once; 300
		// ms of rest and a read after it before.
		if took := at.Sub(start); took > 5*read {
			t.Errorf("the batch's end streamed %v after its last outcome, want a read's time (%v), not a rest", took.Round(time.Millisecond), read)
		}
	case <-ctx.Done():
		t.Fatal("the stream did not end")
	}
}
