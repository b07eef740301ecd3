package aggregator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pricefn/pricefn/functions/aggregator"
	"github.com/pricefn/pricefn/store"
)

// TestTimelinePages: ?timeline=true gives a page of the chunks' timeline,
// at most aggregator.DefaultTimelineLimit of them unless ?limit says
// otherwise (up to MaxTimelineLimit), from ?from, and says where the next
// page starts: every chunk's in one document, a batch of 1,000,000 chunks
// had a status of 290 MB.
func TestTimelinePages(t *testing.T) {
	f := newFixture(t)
	const n = 2500
	ids, offs := make([]string, n), make([]int, n)
	for i := range n {
		ids[i], offs[i] = fmt.Sprintf("T%d", i), i
	}
	ref := store.RefOf("paged")
	if _, err := f.store.Claim(context.Background(), store.Batch{Ref: ref, TradeIDs: ids, ChunkOffsets: offs, SubmittedAt: submitAt}); err != nil {
		t.Fatal(err)
	}
	page := func(query string) (aggregator.Status, int) {
		t.Helper()
		code, body := f.get(t, "/batches/paged?"+query)
		var st aggregator.Status
		if err := json.Unmarshal([]byte(body), &st); code != http.StatusOK || err != nil {
			t.Fatalf("?%s: %d %.300s (%v)", query, code, body, err)
		}
		return st, len(body)
	}
	check := func(query string, from, to int, next *int) {
		t.Helper()
		st, size := page(query)
		if len(st.Timeline) != to-from || len(st.Timeline) > 0 && (st.Timeline[0].Index != from || st.Timeline[len(st.Timeline)-1].Index != to-1) {
			t.Errorf("?%s: %d chunks' timings, want chunks %d to %d", query, len(st.Timeline), from, to-1)
		}
		if (st.TimelineNext == nil) != (next == nil) || next != nil && *st.TimelineNext != *next {
			t.Errorf("?%s: next page at %v, want %v", query, st.TimelineNext, next)
		}
		if st.Chunks != n || st.Trades != n {
			t.Errorf("?%s: status of %d chunks, %d trades, want %d", query, st.Chunks, st.Trades, n)
		}
		if max := 1000 + 150*(to-from); size > max {
			t.Errorf("?%s: %d bytes, want at most %d", query, size, max)
		}
	}
	at := func(i int) *int { return &i }
	check("timeline=true", 0, aggregator.DefaultTimelineLimit, at(aggregator.DefaultTimelineLimit))
	check("timeline=true&from=1000", 1000, 2000, at(2000))
	check("timeline=true&from=2000&limit=1000", 2000, n, nil)
	check("timeline=true&from=10&limit=5", 10, 15, at(15))
	check("timeline&limit=10000", 0, n, nil)
	check("timeline=true&from=2499", 2499, n, nil)
	check("timeline=true&from=2500", n, n, nil)
	check("timeline=true&from=9000", n, n, nil)
	check("", 0, 0, nil)
	for _, query := range []string{"timeline=true&limit=0", "timeline=true&limit=10001", "timeline=true&from=-1", "timeline=true&from=x", "timeline=true&limit=", "from=5", "limit=5", "timeline=false&from=0"} {
		code, body := f.get(t, "/batches/paged?"+query)
		if code != http.StatusBadRequest || !strings.Contains(body, "from") && !strings.Contains(body, "limit") {
			t.Errorf("?%s: %d %.200s, want a 400 naming the parameter", query, code, body)
		}
	}
}

// TestTimelinePageReadsItsChunks: a page of the timeline reads its own
// chunks (Store.Chunks), not the batch's every chunk: read whole for each
// page, the pages of a batch of 1,000,000 chunks read it 1,000 times.
func TestTimelinePageReadsItsChunks(t *testing.T) {
	var probe *summaryProbe
	f := newFixtureWith(t, func(o *aggregator.Options) {
		probe = &summaryProbe{Mem: o.Store.(*store.Mem)}
		o.Store = probe
	})
	const n = 2500
	ids, offs := make([]string, n), make([]int, n)
	for i := range n {
		ids[i], offs[i] = fmt.Sprintf("T%d", i), i
	}
	ref := store.RefOf("paged")
	if _, err := f.store.Claim(context.Background(), store.Batch{Ref: ref, TradeIDs: ids, ChunkOffsets: offs, SubmittedAt: submitAt}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Put(context.Background(), ref, "", 1, store.Chunk{Index: 1003, State: store.ChunkDead, Reason: "gone", ArrivedAt: submitAt.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	st := f.status(t, "paged?timeline=true&from=1000&limit=10")
	if probe.read != 0 {
		t.Errorf("a page of 10 chunks read %d chunks' summaries, want none", probe.read)
	}
	if len(st.Timeline) != 10 || st.Timeline[0].Index != 1000 || st.Timeline[3].State != "dead" || st.Timeline[3].Reason != "gone" || st.Timeline[3].Trades != 1 || st.TimelineNext == nil || *st.TimelineNext != 1010 {
		t.Errorf("page %+v, next %v: want chunks 1000 to 1009, 1003 dead, the next page at 1010", st.Timeline, st.TimelineNext)
	}
	if st.ChunksFailed != 1 || st.Chunks != n {
		t.Errorf("status %+v, want 1 of %d chunks dead", st.Progress, n)
	}
}
