package aggregator_test

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/aggregator"
	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/store"
)

// countingStore is a memory store that counts the chunk records its
// reads return: Summary's, Chunks' and Arrivals'.
type countingStore struct {
	*store.Mem
	records atomic.Int64
}

func (s *countingStore) Summary(ctx context.Context, ref store.Ref) (*store.Summary, error) {
	sum, err := s.Mem.Summary(ctx, ref)
	if err == nil {
		s.records.Add(int64(len(sum.Chunks)))
	}
	return sum, err
}

func (s *countingStore) Chunks(ctx context.Context, ref store.Ref, attempt, from, n int) ([]store.Chunk, []int, error) {
	chunks, trades, err := s.Mem.Chunks(ctx, ref, attempt, from, n)
	s.records.Add(int64(len(chunks)))
	return chunks, trades, err
}

func (s *countingStore) Arrivals(ctx context.Context, ref store.Ref, attempt, from, n int) (*store.Arrived, error) {
	a, err := s.Mem.Arrivals(ctx, ref, attempt, from, n)
	if err == nil {
		s.records.Add(int64(len(a.Chunks)))
	}
	return a, err
}

// manyChunks returns a fixture whose store counts the chunk records it
// reads, holding batch "many" of n one-trade chunks (trades T0, T1, ...).
func manyChunks(t *testing.T, n int) (*fixture, *countingStore, store.Ref) {
	t.Helper()
	var st *countingStore
	f := newFixtureWith(t, func(o *aggregator.Options) {
		st = &countingStore{Mem: o.Store.(*store.Mem)}
		o.Store = st
	})
	return f, st, claimOneTradeChunks(t, f, "many", n)
}

// putNPV records chunk i of ref, priced: trade Ti's result, its npv i.
func putNPV(t *testing.T, f *fixture, ref store.Ref, i int, at time.Time) {
	t.Helper()
	r := batch.TradeResult{ID: fmt.Sprintf("T%d", i)}
	r.SetValue(pricing.NPV, float64(i))
	res, err := batch.AppendResults(nil, []batch.TradeResult{r})
	if err != nil {
		t.Fatal(err)
	}
	c := store.Chunk{Index: i, State: store.ChunkPriced, Trades: 1, Results: res, ArrivedAt: at}
	if _, err := f.store.Put(context.Background(), ref, "", 1, c); err != nil {
		t.Fatal(err)
	}
}

// claimOneTradeChunks claims batch id in f's store: n one-trade chunks,
// trades T0, T1, ...
func claimOneTradeChunks(t *testing.T, f *fixture, id string, n int) store.Ref {
	t.Helper()
	ref := store.RefOf(id)
	b := store.Batch{Ref: ref, SubmittedAt: submitAt}
	for i := range n {
		b.TradeIDs, b.ChunkOffsets = append(b.TradeIDs, fmt.Sprintf("T%d", i)), append(b.ChunkOffsets, i)
	}
	if _, err := f.store.Claim(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return ref
}

// TestEventsReadOnlyNewOutcomes: a refresh of an event stream reads the
// outcomes recorded since its last read, not every chunk's: it read the
// batch's whole Summary at each, 500,000 chunk records for a risk run of
// as many scenarios, a sixth of a core per client watching.
func TestEventsReadOnlyNewOutcomes(t *testing.T) {
	const n = 10_000
	f, st, ref := manyChunks(t, n)
	put := func(i int) {
		t.Helper()
		c := store.Chunk{Index: i, State: store.ChunkPriced, Trades: 1, ArrivedAt: submitAt.Add(time.Duration(i) * time.Millisecond)}
		if _, err := f.store.Put(context.Background(), ref, "", 1, c); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		put(i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := openEvents(t, ctx, f.srv.URL+"/batches/many/events", "", "")
	c.mustChunk(t, "1/0")
	c.mustChunk(t, "1/0-1")
	c.mustChunk(t, "1/0-2")
	for i := 3; i < 6; i++ {
		before := st.records.Load()
		put(i)
		e := c.mustChunk(t, fmt.Sprintf("1/0-%d", i))
		if e.Index != i || e.FirstTrade != i || e.Trades != 1 || e.Progress.ChunksDone != i+1 || e.Progress.Priced != i+1 || e.Progress.Chunks != n {
			t.Errorf("chunk %d: %+v", i, e)
		}
		if read := st.records.Load() - before; read > 5 {
			t.Fatalf("the refresh for one new outcome of %d chunks read %d chunk records, want the new one's", n, read)
		}
	}
}

// TestEventsResumeCountsWhatWasSeen: a client resuming with a
// Last-Event-ID whose chunks were recorded after others it has not seen
// (not the first of the order recorded), over more than a page of reads,
// gets each chunk it has not seen once, in the order recorded, with the
// progress counting the chunks it has seen, wherever they were recorded.
func TestEventsResumeCountsWhatWasSeen(t *testing.T) {
	f := newFixture(t)
	const n = 3000
	ref := claimOneTradeChunks(t, f, "resumed", n)
	// The last chunk first, the first last: the client saw the first
	// half, recorded last.
	for k := range n {
		i := n - 1 - k
		c := store.Chunk{Index: i, State: store.ChunkPriced, Trades: 1, ArrivedAt: submitAt.Add(time.Duration(k) * time.Millisecond)}
		if _, err := f.store.Put(context.Background(), ref, "", 1, c); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := openEvents(t, ctx, f.srv.URL+"/batches/resumed/events", "", fmt.Sprintf("1/0-%d", n/2-1))
	for k := range n / 2 {
		i := n - 1 - k
		id := fmt.Sprintf("1/0-%d,%d-%d", n/2-1, i, n-1)
		switch k {
		case 0:
			id = fmt.Sprintf("1/0-%d,%d", n/2-1, i)
		case n/2 - 1:
			id = fmt.Sprintf("1/0-%d", n-1)
		}
		e := c.mustChunk(t, id)
		if e.Index != i || e.Progress.ChunksDone != n/2+k+1 || e.Progress.Priced != n/2+k+1 {
			t.Fatalf("event %d: chunk %d, %d done, %d priced; want chunk %d, %d done", k, e.Index, e.Progress.ChunksDone, e.Progress.Priced, i, n/2+k+1)
		}
	}
	if st := c.mustEnd(t, fmt.Sprintf("1/0-%d", n-1)); st.State != "completed" || st.Priced != n {
		t.Errorf("end: %s, %d priced", st.State, st.Priced)
	}
}

// TestStreamResultsReadOnlyNewOutcomes: a refresh of a results stream
// reads the outcomes recorded since its last read, not every chunk's: it
// read the batch's whole Summary at each, as the event stream did.
func TestStreamResultsReadOnlyNewOutcomes(t *testing.T) {
	const n = 10_000
	f, st, ref := manyChunks(t, n)
	put := func(i int) { t.Helper(); putNPV(t, f, ref, i, submitAt) }
	// until reads the stream up to the result of trade i.
	var body []byte
	until := func(c *sseClient, i int) {
		t.Helper()
		want := fmt.Sprintf(`"id":"T%d"`, i)
		for !strings.Contains(string(body), want) {
			b, err := c.br.ReadByte()
			if err != nil {
				t.Fatalf("reading the results up to T%d: %v; read %s", i, err, body)
			}
			body = append(body, b)
		}
	}
	put(0)
	put(2) // ahead of chunk 1, written after it
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := openEvents(t, ctx, f.srv.URL+"/batches/many/results?stream=true", "", "")
	until(c, 0)
	// Chunk 1 lets chunk 2, read before, go too.
	for _, step := range [][2]int{{1, 2}, {3, 3}, {4, 4}} {
		before := st.records.Load()
		put(step[0])
		until(c, step[1])
		if read := st.records.Load() - before; read > 5 {
			t.Fatalf("the refresh for one new outcome of %d chunks read %d chunk records, want the new one's", n, read)
		}
	}
	if want := "{\"batchId\":\"many\",\"results\":[\n{\"id\":\"T0\",\"npv\":0},\n{\"id\":\"T1\",\"npv\":1},\n{\"id\":\"T2\",\"npv\":2},\n{\"id\":\"T3\",\"npv\":3},\n{\"id\":\"T4\""; !strings.HasPrefix(string(body), want) {
		t.Errorf("results streamed:\n%s\nwant them in order:\n%s", body, want)
	}
}

// slowWrites is a memory store whose WriteResults takes 60 ms: a chunk's
// results that take that long to go to the client.
type slowWrites struct{ *store.Mem }

func (s slowWrites) WriteResults(ctx context.Context, ref store.Ref, attempt, index int, w io.Writer) error {
	time.Sleep(60 * time.Millisecond)
	return s.Mem.WriteResults(ctx, ref, attempt, index, w)
}

// TestStreamResultsRestNotForWrites: a results stream rests five times its
// reads of the batch, not the time its writes to the client took: the
// chunk that came while it wrote the one before waited 300 ms more.
func TestStreamResultsRestNotForWrites(t *testing.T) {
	f := newFixtureWith(t, func(o *aggregator.Options) { o.Store = slowWrites{o.Store.(*store.Mem)} })
	ids, offs := []string{"T0", "T1"}, []int{0, 1}
	if _, err := f.store.Claim(context.Background(), store.Batch{Ref: store.RefOf("written"), TradeIDs: ids, ChunkOffsets: offs, SubmittedAt: submitAt}); err != nil {
		t.Fatal(err)
	}
	f.mustPost(t, "/", mustEvent(t, events.TypeBatchAccepted, "written/accepted", "written", events.BatchAccepted{
		BatchID: "written", Attempt: 1, Trades: 2, ChunkOffsets: offs, SubmittedAt: submitAt}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := openEvents(t, ctx, f.srv.URL+"/batches/written/results?stream=true", "", "")
	post := func(i int) {
		r := batch.TradeResult{ID: ids[i]}
		r.SetValue(pricing.NPV, 1)
		cp := withResults(t, events.ChunkPriced{BatchID: "written", Index: i, Chunks: 2, Offset: i}, []batch.TradeResult{r})
		f.mustPost(t, "/", mustEvent(t, events.TypeChunkPriced, fmt.Sprintf("written/chunk/%d/priced", i), "written", cp))
	}
	post(0)
	var body []byte
	for !strings.Contains(string(body), `"T0"`) {
		b, err := c.br.ReadByte()
		if err != nil {
			t.Fatalf("reading chunk 0: %v", err)
		}
		body = append(body, b)
	}
	start := time.Now()
	post(1)
	if _, err := io.ReadAll(c.br); err != nil {
		t.Fatal(err)
	}
	// The write of chunk 1 (60 ms), and no rest of 300 ms for chunk 0's.
	if took := time.Since(start); took > 250*time.Millisecond {
		t.Errorf("the batch's end streamed %v after its last outcome, want a write's time (60 ms), not a rest of five", took.Round(time.Millisecond))
	}
}

// claimedAgainStore is a memory store whose next Tally, or Summary, once
// armed, is of an earlier claim of the id at the same attempt (its
// submission a second before): the batch read, then forgotten and
// claimed again before the reader's next read, of its outcomes.
type claimedAgainStore struct {
	*store.Mem
	tally, summary atomic.Bool
}

func (s *claimedAgainStore) Tally(ctx context.Context, ref store.Ref) (*store.Tally, error) {
	t, err := s.Mem.Tally(ctx, ref)
	if err == nil && s.tally.CompareAndSwap(true, false) {
		t.SubmittedAt = t.SubmittedAt.Add(-time.Second)
	}
	return t, err
}

func (s *claimedAgainStore) Summary(ctx context.Context, ref store.Ref) (*store.Summary, error) {
	sum, err := s.Mem.Summary(ctx, ref)
	if err == nil && s.summary.CompareAndSwap(true, false) {
		sum.SubmittedAt = sum.SubmittedAt.Add(-time.Second)
	}
	return sum, err
}

// TestStreamsOfABatchClaimedAgainWhileRead: an event stream whose batch
// was claimed again at the same attempt (its id forgotten and used again)
// between its read of the tally and of the outcomes reports the
// outcomes as the new claim's, once each, not as the claim it read the
// tally of (and again as the new one's at its next read); a results
// stream that read the layout of the claim before is cut short, not
// written on with another batch's outcomes.
func TestStreamsOfABatchClaimedAgainWhileRead(t *testing.T) {
	var st *claimedAgainStore
	f := newFixtureWith(t, func(o *aggregator.Options) {
		st = &claimedAgainStore{Mem: o.Store.(*store.Mem)}
		o.Store = st
	})
	ref := claimOneTradeChunks(t, f, "again", 3)
	put := func(i int) { t.Helper(); putNPV(t, f, ref, i, submitAt.Add(time.Duration(i)*time.Millisecond)) }
	put(0)
	put(1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	st.summary.Store(true)
	rs := openEvents(t, ctx, f.srv.URL+"/batches/again/results?stream=true", "", "")
	var body []byte
	for !strings.Contains(string(body), `"id":"T1"`) {
		b, err := rs.br.ReadByte()
		if err != nil {
			t.Fatalf("reading the results up to T1: %v; read %s", err, body)
		}
		body = append(body, b)
	}

	st.tally.Store(true)
	c := openEvents(t, ctx, f.srv.URL+"/batches/again/events", "", "")
	tag := "1." + strconv.FormatInt(submitAt.UnixMilli(), 36) + "/"
	for _, want := range []string{"0", "0-1"} {
		e, err := c.next()
		if err != nil || e.event != aggregator.EventChunk || e.id != tag+want {
			t.Fatalf("event %q id %q (%s), %v; want a chunk event %q", e.event, e.id, e.data, err, tag+want)
		}
	}
	put(2)
	c.mustChunk(t, "1/0-2")
	c.mustEnd(t, "1/0-2")

	rest, err := io.ReadAll(rs.br)
	if body = append(body, rest...); err == nil || strings.Contains(string(body), `"id":"T2"`) {
		t.Errorf("results stream of a batch claimed again: %s (%v), want it cut short", body, err)
	}
}
