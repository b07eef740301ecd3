package aggregator

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/pricefn/pricefn/api"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/store"
)

// The list documents, defined with the rest of the public API's.
type (
	BatchList = api.BatchList
	BatchItem = api.BatchItem
)

// Default and largest ?limit of GET /batches.
const (
	DefaultListLimit = 50
	MaxListLimit     = 500
)

// serveList answers GET /batches?limit=N with the tenant's recent batches.
func (f *Function) serveList(w http.ResponseWriter, r *http.Request) {
	if err := host.CheckParams(r.URL, "aggregator", "GET /batches", "limit"); err != nil {
		host.WriteError(w, err)
		return
	}
	limit := DefaultListLimit
	// An empty one (?limit=) is refused, as the timeline's is: it was
	// taken for the default.
	if v := r.URL.Query().Get("limit"); r.URL.Query().Has("limit") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxListLimit {
			host.WriteError(w, host.Errorf(http.StatusBadRequest, "aggregator: limit %q: want 1 to %d", host.Short(v), MaxListLimit))
			return
		}
		limit = n
	}
	ctx := r.Context()
	refs, err := f.opt.Store.Recent(ctx, host.TenantOf(ctx), limit)
	if err != nil {
		host.WriteError(w, f.unavailable("", "", err))
		return
	}
	list := BatchList{Batches: []BatchItem{}}
	now := f.opt.Now()
	for _, ref := range refs {
		// The batch's counts, not its chunks: a listing of 100 batches of
		// 10,000 chunks read and copied every one of them.
		b, err := f.opt.Store.Brief(ctx, ref)
		if errors.Is(err, store.ErrNotFound) {
			continue // forgotten since
		}
		if err != nil {
			host.WriteError(w, f.unavailable("", "", err))
			return
		}
		list.Batches = append(list.Batches, BatchItem{
			BatchID: b.Ref.ID, State: b.State(), Attempt: b.Attempt, Trades: b.Trades, Chunks: b.Chunks,
			ChunksDone: b.Done, SubmittedAt: b.SubmittedAt, DurationSeconds: briefDuration(b, now).Seconds(),
			StatusURL: f.opt.PublicURL + "/batches/" + b.Ref.ID,
		})
	}
	host.WriteJSON(w, http.StatusOK, list)
}

// briefDuration is the batch's duration as its status tells it (StatusOf):
// submission to completion, or to now while it runs.
func briefDuration(b *store.Brief, now time.Time) time.Duration {
	end := now
	if b.Done == b.Chunks {
		end = b.LastAt
		if end.IsZero() { // no chunks at all
			end = b.AcceptedAt
			if end.IsZero() {
				end = b.SubmittedAt
			}
		}
	}
	return end.Sub(b.SubmittedAt)
}
