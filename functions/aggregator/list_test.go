package aggregator_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/pricefn/pricefn/functions/aggregator"
	"github.com/pricefn/pricefn/store"
)

// TestListReadsNoChunks: GET /batches shows each batch from the counts
// the store keeps (Store.Brief), reading none of its chunks, as its
// status tells it: read whole (Summary) for each, a listing of 100
// batches of 10,000 chunks copied a million chunks a request.
func TestListReadsNoChunks(t *testing.T) {
	var probe *summaryProbe
	f := newFixtureWith(t, func(o *aggregator.Options) {
		probe = &summaryProbe{Mem: o.Store.(*store.Mem)}
		o.Store = probe
	})
	f.mustPost(t, "/", f.acceptedEvent(t, "pending"))
	f.mustPost(t, "/", f.acceptedEvent(t, "running"))
	f.mustPost(t, "/", pricedEvent(t, "running", 1))
	f.mustPost(t, "/", f.acceptedEvent(t, "partial"))
	f.mustPost(t, "/", pricedEvent(t, "partial", 2))
	f.mustPost(t, "/dead-letter", deadLetter(t, "partial", 0))
	f.mustPost(t, "/", pricedEvent(t, "partial", 1))
	f.mustPost(t, "/", f.acceptedEvent(t, "completed"))
	for _, i := range []int{2, 0, 1} {
		f.mustPost(t, "/", pricedEvent(t, "completed", i))
	}
	want := map[string]aggregator.Status{}
	for _, id := range []string{"pending", "running", "partial", "completed"} {
		want[id] = f.status(t, id)
	}
	probe.mu.Lock()
	probe.read = 0
	probe.mu.Unlock()
	code, body := f.get(t, "/batches")
	var list aggregator.BatchList
	if err := json.Unmarshal([]byte(body), &list); code != http.StatusOK || err != nil || len(list.Batches) != 4 {
		t.Fatalf("list %d %s (%v), want 4 batches", code, body, err)
	}
	if probe.read != 0 {
		t.Errorf("the listing read %d chunks, want none", probe.read)
	}
	for _, b := range list.Batches {
		st := want[b.BatchID]
		if b.State != st.State || b.State != b.BatchID || b.Attempt != st.Attempt || b.Trades != st.Trades || b.Chunks != st.Chunks || b.ChunksDone != st.ChunksDone || !b.SubmittedAt.Equal(st.Timings.SubmittedAt) {
			t.Errorf("listed %+v, want as its status: %+v", b, st)
		}
		// The fixture's clock moves a second at each reading: a running
		// batch's duration is a later one's.
		if d := st.Timings.DurationSeconds; st.Timings.CompletedAt != nil && b.DurationSeconds != d || st.Timings.CompletedAt == nil && b.DurationSeconds <= d {
			t.Errorf("listed %s with a duration of %g s, its status %g s", b.BatchID, b.DurationSeconds, d)
		}
	}
}
