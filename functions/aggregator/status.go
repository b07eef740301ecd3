package aggregator

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/store"
)

// The states of a batch (wire format section 5).
const (
	StatePending   = store.StatePending
	StateRunning   = store.StateRunning
	StateCompleted = store.StateCompleted
	StatePartial   = store.StatePartial
	StateFailed    = store.StateFailed
)

// Status is the status document of GET /batches/{id}.
type Status struct {
	BatchID string `json:"batchId"`
	State   string `json:"state"`
	// Attempt numbers the submissions of the id that were priced.
	Attempt int `json:"attempt"`
	// Trades counts the batch's trades: Priced ones have results, Failed
	// ones an error result, Missing ones sit in dead chunks and Pending ones
	// in chunks without an outcome yet.
	Trades  int `json:"trades"`
	Priced  int `json:"priced"`
	Failed  int `json:"failed"`
	Missing int `json:"missing"`
	Pending int `json:"pending"`
	// Chunks counts the chunks; ChunksDone have an outcome, ChunksFailed
	// of them are dead. Duplicates counts duplicate deliveries ignored.
	Chunks       int `json:"chunks"`
	ChunksDone   int `json:"chunksDone"`
	ChunksFailed int `json:"chunksFailed"`
	Duplicates   int `json:"duplicates"`
	// Late counts chunk outcomes that came after the deadline.
	Late int `json:"late,omitempty"`
	// FailedChunks says why each dead chunk failed.
	FailedChunks []FailedChunk `json:"failedChunks,omitempty"`
	Timings      Timings       `json:"timings"`
	// Totals sums npv and the sensitivities of the priced trades.
	Totals     Totals `json:"totals"`
	ResultsURL string `json:"resultsUrl,omitempty"`
	// Timeline follows each chunk, when asked for (?timeline=true).
	Timeline []ChunkTiming `json:"timeline,omitempty"`
}

// FailedChunk is one dead chunk.
type FailedChunk struct {
	Index  int    `json:"index"`
	Trades int    `json:"trades"`
	Reason string `json:"reason"`
}

// Timings are a batch's times. Durations are in seconds.
type Timings struct {
	SubmittedAt  time.Time  `json:"submittedAt"`
	AcceptedAt   time.Time  `json:"acceptedAt"`
	FirstChunkAt *time.Time `json:"firstChunkAt,omitempty"`
	LastChunkAt  *time.Time `json:"lastChunkAt,omitempty"`
	CompletedAt  *time.Time `json:"completedAt,omitempty"`
	// Deadline is when the batch ends partial if chunks are missing.
	Deadline *time.Time `json:"deadline,omitempty"`
	// DurationSeconds runs from submission to completion, or to now.
	DurationSeconds float64 `json:"durationSeconds"`
	// PricingSeconds sums the chunks' pricing times (pricer busy time).
	PricingSeconds float64 `json:"pricingSeconds"`
}

// Sums maps a measure name to its sum over trades.
type Sums map[string]float64

// Totals are portfolio sums: over all priced trades and per underlying.
// Rates trades count in All only.
type Totals struct {
	All          Sums            `json:"all"`
	ByUnderlying map[string]Sums `json:"byUnderlying,omitempty"`
}

// merge adds o to s.
func (s Sums) merge(o Sums) {
	for k, v := range o {
		s[k] += v
	}
}

// addChunk adds a chunk's totals (batch.ChunkTotals) to t.
func (t *Totals) addChunk(c map[string]map[string]float64) {
	for u, s := range c {
		if u == "" {
			t.All.merge(s)
			continue
		}
		if t.ByUnderlying == nil {
			t.ByUnderlying = map[string]Sums{}
		}
		if t.ByUnderlying[u] == nil {
			t.ByUnderlying[u] = Sums{}
		}
		t.ByUnderlying[u].merge(s)
	}
}

// StatusOf computes the status of batch sum at time now. Sums are added
// chunk by chunk in index order, so they are the same whatever order
// chunks arrive in.
func StatusOf(sum *store.Summary, now time.Time) Status {
	s := Status{
		BatchID:    sum.Ref.ID,
		State:      sum.State(),
		Attempt:    sum.Attempt,
		Trades:     sum.Trades,
		Chunks:     len(sum.Chunks),
		Duplicates: sum.Duplicates,
		Late:       sum.Late,
		ResultsURL: sum.ResultsURL,
		Totals:     Totals{All: Sums{}},
		Timings:    Timings{SubmittedAt: sum.SubmittedAt, AcceptedAt: sum.AcceptedAt},
	}
	if !sum.Deadline.IsZero() {
		d := sum.Deadline
		s.Timings.Deadline = &d
	}
	var first, last time.Time
	for i := range sum.Chunks {
		c := &sum.Chunks[i]
		lo, hi := sum.Bounds(i)
		switch c.State {
		case store.ChunkWaiting:
			s.Pending += hi - lo
			continue
		case store.ChunkPriced:
			s.Priced += c.Trades - c.Failed
			s.Failed += c.Failed
			s.Totals.addChunk(c.Totals)
			s.Timings.PricingSeconds += c.FinishedAt.Sub(c.StartedAt).Seconds()
		case store.ChunkDead:
			s.Missing += hi - lo
			s.ChunksFailed++
			s.FailedChunks = append(s.FailedChunks, FailedChunk{Index: i, Trades: hi - lo, Reason: c.Reason})
		}
		s.ChunksDone++
		if first.IsZero() || c.ArrivedAt.Before(first) {
			first = c.ArrivedAt
		}
		if c.ArrivedAt.After(last) {
			last = c.ArrivedAt
		}
	}
	end := now
	if !first.IsZero() {
		s.Timings.FirstChunkAt, s.Timings.LastChunkAt = &first, &last
	}
	if s.ChunksDone == s.Chunks {
		end = last
		if last.IsZero() { // no chunks at all
			end = sum.AcceptedAt
		}
		s.Timings.CompletedAt = &end
	}
	s.Timings.DurationSeconds = end.Sub(sum.SubmittedAt).Seconds()
	return s
}

// Finished reports whether a state is final.
func Finished(state string) bool { return state != StatePending && state != StateRunning }

// ChunkTiming is one chunk's timeline: queued at ingress, delivered to a
// pricer, priced, recorded by the aggregator, and how many of its outcomes
// arrived. Times are UTC; DeliveredAt and PricedAt are by the pricer's
// clock, RecordedAt by the aggregator's.
type ChunkTiming struct {
	Index  int `json:"index"`
	Trades int `json:"trades"`
	// State is pending (no outcome yet), priced or dead.
	State string `json:"state"`
	// Failed counts the trades priced to an error result.
	Failed int `json:"failed,omitempty"`
	// QueuedSeconds runs from the batch's submission to a pricer starting
	// on the chunk: ingress's split and send, the broker's queue and its
	// retries (with their back-off), a pricer's cold start.
	QueuedSeconds *float64   `json:"queuedSeconds,omitempty"`
	DeliveredAt   *time.Time `json:"deliveredAt,omitempty"`
	PricedAt      *time.Time `json:"pricedAt,omitempty"`
	RecordedAt    *time.Time `json:"recordedAt,omitempty"`
	// PricedBy names the pricer instance.
	PricedBy string `json:"pricedBy,omitempty"`
	// Deliveries counts the outcomes that arrived for the chunk: more
	// than 1 means it was delivered again (a broker's retry after a lost
	// answer, a redelivery) and the extra outcomes were absorbed.
	Deliveries int `json:"deliveries,omitempty"`
	// Reason says why a dead chunk failed: the broker's last status after
	// its retries, or the deadline.
	Reason string `json:"reason,omitempty"`
}

// Timeline returns the timeline of each chunk of batch sum, by index.
func Timeline(sum *store.Summary) []ChunkTiming {
	out := make([]ChunkTiming, len(sum.Chunks))
	for i := range sum.Chunks {
		c := &sum.Chunks[i]
		lo, hi := sum.Bounds(i)
		t := ChunkTiming{Index: i, Trades: hi - lo, State: "pending", Failed: c.Failed, PricedBy: c.PricedBy, Deliveries: c.Deliveries, Reason: c.Reason}
		switch c.State {
		case store.ChunkPriced:
			t.State = "priced"
		case store.ChunkDead:
			t.State = "dead"
		}
		at := func(v time.Time) *time.Time {
			if v.IsZero() {
				return nil
			}
			v = v.UTC()
			return &v
		}
		t.DeliveredAt, t.PricedAt, t.RecordedAt = at(c.StartedAt), at(c.FinishedAt), at(c.ArrivedAt)
		if t.DeliveredAt != nil && !sum.SubmittedAt.IsZero() {
			q := c.StartedAt.Sub(sum.SubmittedAt).Seconds()
			t.QueuedSeconds = &q
		}
		out[i] = t
	}
	return out
}

// timelineWanted reads ?timeline: absent or false is no timeline, empty
// or true asks for one.
func timelineWanted(q url.Values) (bool, error) {
	if !q.Has("timeline") {
		return false, nil
	}
	v := q.Get("timeline")
	if v == "" {
		return true, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, host.Errorf(http.StatusBadRequest, "aggregator: timeline %q: want true or false", truncate(v))
	}
	return b, nil
}
