package aggregator

import (
	"errors"
	"net/http"
	"strconv"

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
	limit := DefaultListLimit
	if v := r.URL.Query().Get("limit"); v != "" {
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
		sum, err := f.opt.Store.Summary(ctx, ref)
		if errors.Is(err, store.ErrNotFound) {
			continue // forgotten since
		}
		if err != nil {
			host.WriteError(w, f.unavailable("", "", err))
			return
		}
		st := StatusOf(sum, now)
		list.Batches = append(list.Batches, BatchItem{
			BatchID: st.BatchID, State: st.State, Attempt: st.Attempt, Trades: st.Trades, Chunks: st.Chunks,
			ChunksDone: st.ChunksDone, SubmittedAt: st.Timings.SubmittedAt, DurationSeconds: st.Timings.DurationSeconds,
			StatusURL: f.opt.PublicURL + "/batches/" + st.BatchID,
		})
	}
	host.WriteJSON(w, http.StatusOK, list)
}
