package aggregator

import (
	"fmt"
	"time"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/pricing"
)

// The states of a batch (wire format section 5).
const (
	StatePending   = "pending"   // accepted, no chunk outcome yet
	StateRunning   = "running"   // some chunks have an outcome
	StateCompleted = "completed" // every chunk priced
	StatePartial   = "partial"   // every chunk has an outcome, some dead
	StateFailed    = "failed"    // every chunk dead
)

// Status is the status document of GET /batches/{id}.
type Status struct {
	BatchID string `json:"batchId"`
	State   string `json:"state"`
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
	// FailedChunks says why each dead chunk failed.
	FailedChunks []FailedChunk `json:"failedChunks,omitempty"`
	Timings      Timings       `json:"timings"`
	// Totals sums npv and the sensitivities of the priced trades.
	Totals     Totals `json:"totals"`
	ResultsURL string `json:"resultsUrl,omitempty"`
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

// totalMeasures are the measures Totals sums.
var totalMeasures = []pricing.Measure{pricing.NPV, pricing.Delta, pricing.Gamma, pricing.Vega, pricing.Theta, pricing.Rho, pricing.PV01}

// add adds r's measures to s.
func (s Sums) add(r *pricing.Result) {
	for _, m := range totalMeasures {
		if v, ok := r.Value(m); ok {
			s[m.String()] += v
		}
	}
}

// merge adds o to s.
func (s Sums) merge(o Sums) {
	for k, v := range o {
		s[k] += v
	}
}

// add adds o to t.
func (t *Totals) add(o Totals) {
	if t.All == nil {
		t.All = Sums{}
	}
	t.All.merge(o.All)
	for u, s := range o.ByUnderlying {
		if t.ByUnderlying == nil {
			t.ByUnderlying = map[string]Sums{}
		}
		if t.ByUnderlying[u] == nil {
			t.ByUnderlying[u] = Sums{}
		}
		t.ByUnderlying[u].merge(s)
	}
}

// chunkTotals sums the results of a chunk whose first trade is trade
// offset; underlyings is BatchAccepted.Underlyings.
func chunkTotals(results []batch.TradeResult, offset int, underlyings []string) Totals {
	t := Totals{All: Sums{}}
	for k := range results {
		r := &results[k]
		if r.Error != "" {
			continue
		}
		t.All.add(&r.Result)
		if offset+k < len(underlyings) {
			if u := underlyings[offset+k]; u != "" {
				if t.ByUnderlying == nil {
					t.ByUnderlying = map[string]Sums{}
				}
				if t.ByUnderlying[u] == nil {
					t.ByUnderlying[u] = Sums{}
				}
				t.ByUnderlying[u].add(&r.Result)
			}
		}
	}
	return t
}

// StatusOf computes the status of r at time now. Sums are added chunk by
// chunk in index order, so they are the same whatever order chunks arrive
// in.
func StatusOf(r *Record, now time.Time) Status {
	s := Status{
		BatchID:    r.Accepted.BatchID,
		Trades:     len(r.Accepted.TradeIDs),
		Chunks:     len(r.Chunks),
		Duplicates: r.Duplicates,
		ResultsURL: r.Accepted.ResultsURL,
		Totals:     Totals{All: Sums{}},
		Timings:    Timings{SubmittedAt: r.Accepted.SubmittedAt, AcceptedAt: r.AcceptedAt},
	}
	var first, last time.Time
	for i := range r.Chunks {
		c := &r.Chunks[i]
		lo, hi := r.bounds(i)
		switch c.State {
		case ChunkWaiting:
			s.Pending += hi - lo
			continue
		case ChunkPriced:
			s.Priced += len(c.Results) - c.Failed
			s.Failed += c.Failed
			s.Totals.add(c.Totals)
			s.Timings.PricingSeconds += c.FinishedAt.Sub(c.StartedAt).Seconds()
		case ChunkDead:
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
	switch {
	case s.ChunksDone < s.Chunks && s.ChunksDone == 0:
		s.State = StatePending
	case s.ChunksDone < s.Chunks:
		s.State = StateRunning
	case s.ChunksFailed == 0:
		s.State = StateCompleted
	case s.ChunksFailed == s.Chunks:
		s.State = StateFailed
	default:
		s.State = StatePartial
	}
	end := now
	if !first.IsZero() {
		s.Timings.FirstChunkAt, s.Timings.LastChunkAt = &first, &last
	}
	if s.ChunksDone == s.Chunks {
		end = last
		if last.IsZero() { // no chunks at all
			end = r.AcceptedAt
		}
		s.Timings.CompletedAt = &end
	}
	s.Timings.DurationSeconds = end.Sub(r.Accepted.SubmittedAt).Seconds()
	return s
}

// Finished reports whether a state is final.
func Finished(state string) bool { return state != StatePending && state != StateRunning }

// ResultsOf returns one result per trade of r, in input order. The trades
// of a dead chunk get an error naming the chunk and why it failed; those
// of a chunk without an outcome yet say so.
func ResultsOf(r *Record) []batch.TradeResult {
	ids := r.Accepted.TradeIDs
	out := make([]batch.TradeResult, 0, len(ids))
	for i := range r.Chunks {
		c := &r.Chunks[i]
		if c.State == ChunkPriced {
			out = append(out, c.Results...)
			continue
		}
		lo, hi := r.bounds(i)
		for _, id := range ids[lo:hi] {
			msg := fmt.Sprintf("trade %s: not priced: chunk %d failed: %s", id, i, c.Reason)
			if c.State == ChunkWaiting {
				msg = fmt.Sprintf("trade %s: not priced yet: chunk %d is pending", id, i)
			}
			out = append(out, batch.TradeResult{ID: id, Error: msg})
		}
	}
	return out
}

// missingIDs lists the trades of r's dead chunks.
func missingIDs(r *Record) []string {
	var out []string
	for i := range r.Chunks {
		if r.Chunks[i].State == ChunkDead {
			lo, hi := r.bounds(i)
			out = append(out, r.Accepted.TradeIDs[lo:hi]...)
		}
	}
	return out
}
