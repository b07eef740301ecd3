package aggregator

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/store"
)

// BatchList is the answer of GET /batches: the tenant's recent batches,
// newest first.
type BatchList struct {
	Batches []BatchItem `json:"batches"`
}

// BatchItem is one batch of a BatchList.
type BatchItem struct {
	BatchID         string    `json:"batchId"`
	State           string    `json:"state"`
	Attempt         int       `json:"attempt"`
	Trades          int       `json:"trades"`
	Chunks          int       `json:"chunks"`
	ChunksDone      int       `json:"chunksDone"`
	SubmittedAt     time.Time `json:"submittedAt"`
	DurationSeconds float64   `json:"durationSeconds"`
	StatusURL       string    `json:"statusUrl"`
}

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
			host.WriteError(w, host.Errorf(http.StatusBadRequest, "aggregator: limit %q: want 1 to %d", truncate(v), MaxListLimit))
			return
		}
		limit = n
	}
	ctx := r.Context()
	refs, err := f.opt.Store.Recent(ctx, host.TenantOf(ctx), limit)
	if err != nil {
		host.WriteError(w, host.Errorf(http.StatusServiceUnavailable, "aggregator: listing batches: %w", err))
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
			host.WriteError(w, host.Errorf(http.StatusServiceUnavailable, "aggregator: listing batches: %w", err))
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

// truncate cuts echoed input to 200 characters.
func truncate(s string) string {
	if len(s) <= 200 {
		return s
	}
	return s[:200] + "..."
}
