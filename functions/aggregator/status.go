package aggregator

import (
	"maps"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/pricefn/pricefn/api"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/store"
)

// The status documents, defined with the rest of the public API's.
type (
	Status      = api.Status
	FailedChunk = api.FailedChunk
	Timings     = api.Timings
	Sums        = api.Sums
	Totals      = api.Totals
	ChunkTiming = api.ChunkTiming
	Progress    = api.Progress
)

// dropOverflows removes the sums of t that overflowed float64: JSON has
// no infinity, and the status must still be served.
func dropOverflows(t *Totals) {
	overflowed := func(_ string, v float64) bool { return math.IsInf(v, 0) || math.IsNaN(v) }
	maps.DeleteFunc(t.All, overflowed)
	for _, s := range t.ByUnderlying {
		maps.DeleteFunc(s, overflowed)
	}
}

// rounded returns the totals, each rounded once; a total beyond float64's
// range is infinite (dropOverflows).
func rounded(e store.Totals) Totals {
	t := Totals{All: Sums{}}
	for u, ms := range e {
		sums := t.All
		if u != "" {
			if t.ByUnderlying == nil {
				t.ByUnderlying = map[string]Sums{}
			}
			sums = Sums{}
			t.ByUnderlying[u] = sums
		}
		for m, s := range ms {
			if s.Beyond {
				sums[m] = math.Inf(1)
				continue
			}
			sums[m] = s.Sum.Value()
		}
	}
	return t
}

// MaxFailedChunks bounds the dead chunks a status names with their
// reasons (the first, by index; ChunksFailed counts them all): a batch of
// 16,000 chunks its deadline ended had a status of 4.5 MB, every read of
// it, the end of its event stream included.
const MaxFailedChunks = store.MaxFirstDead

// StatusOf computes the status of batch sum at time now: StatusOfTally
// of its chunks added up.
func StatusOf(sum *store.Summary, now time.Time) Status { return StatusOfTally(sum.TallyOf(), now) }

// StatusOfTally computes the status of the batch t adds up at time now.
// Its totals are the chunks' exact sums (store.Totals) rounded once: the
// same to the last bit whatever order chunks arrive in and however the
// batch was cut. (A sum whose chunks add up past float64's range on the
// way is infinite, and left out: the order of chunks decides only whether
// a total of some 1e308 is told.)
func StatusOfTally(t *store.Tally, now time.Time) Status {
	s := Status{
		BatchID:    t.Ref.ID,
		Progress:   progressOfTally(t),
		Attempt:    t.Attempt,
		Duplicates: t.Duplicates,
		Late:       t.Late,
		ResultsURL: t.ResultsURL,
		Timings:    Timings{SubmittedAt: t.SubmittedAt, AcceptedAt: t.AcceptedAt, SentAt: t.SentAt, SendingAt: t.SendingAt},
	}
	if !t.Deadline.IsZero() {
		d := t.Deadline
		s.Timings.Deadline = &d
	}
	s.Timings.PricingSeconds = t.Pricing.Seconds()
	for _, c := range t.FirstDead[:min(len(t.FirstDead), MaxFailedChunks)] {
		s.FailedChunks = append(s.FailedChunks, FailedChunk{Index: c.Index, Trades: c.Trades, Reason: c.Reason})
	}
	first, last := t.FirstAt, t.LastAt
	end := now
	if !first.IsZero() {
		s.Timings.FirstChunkAt, s.Timings.LastChunkAt = &first, &last
	}
	if s.ChunksDone == s.Chunks {
		end = last
		if last.IsZero() { // no chunks at all
			// Done once claimed: when the aggregator heard of it, or,
			// before it has (batch.accepted is on its way), at its
			// submission, not in year 1.
			end = t.AcceptedAt
			if end.IsZero() {
				end = t.SubmittedAt
			}
		}
		s.Timings.CompletedAt = &end
	}
	s.Timings.DurationSeconds = end.Sub(t.SubmittedAt).Seconds()
	s.State = t.State() // also for a batch of no chunks
	s.Totals = rounded(t.Totals)
	dropOverflows(&s.Totals)
	return s
}

// progressOfTally returns the counts of the batch t adds up.
func progressOfTally(t *store.Tally) Progress {
	p := Progress{
		State: t.State(), Trades: t.Trades, Priced: t.Priced, Failed: t.Failed, Missing: t.Missing,
		Chunks: t.Chunks, ChunksDone: t.ChunksDone, ChunksFailed: t.ChunksDead,
		ScenarioChunks: t.ScenarioChunks, ScenarioChunksDone: t.ScenarioChunksDone,
	}
	p.Pending = p.Trades - p.Priced - p.Failed - p.Missing
	return p
}

// Default and largest ?limit of a status's timeline (?timeline=true), in
// chunks, and its first chunk (?from=N): a chunk's timing is some 290
// bytes, and the timeline of every chunk of a batch of 1,000,000 (the
// most ingress takes) made one document of 290 MB, every read of it.
// Status.TimelineNext says where the next page starts.
const (
	DefaultTimelineLimit = 1000
	MaxTimelineLimit     = 10_000
)

// timelinePage is a page of a status's timeline: the chunks from From,
// at most Limit of them.
type timelinePage struct {
	From, Limit int
}

// timelinePageOf reads ?from and ?limit, which page the timeline asked
// for (timeline true): a 400 for a bad one, or for either without it.
func timelinePageOf(q url.Values, timeline bool) (timelinePage, error) {
	p := timelinePage{Limit: DefaultTimelineLimit}
	if !timeline {
		for _, name := range []string{"from", "limit"} {
			if q.Has(name) {
				return p, host.Errorf(http.StatusBadRequest, "aggregator: %s pages the timeline: add timeline=true", name)
			}
		}
		return p, nil
	}
	if v := q.Get("from"); q.Has("from") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, host.Errorf(http.StatusBadRequest, "aggregator: from %q: want a chunk index, 0 or more", host.Short(v))
		}
		p.From = n
	}
	if v := q.Get("limit"); q.Has("limit") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxTimelineLimit {
			return p, host.Errorf(http.StatusBadRequest, "aggregator: limit %q: want 1 to %d chunks", host.Short(v), MaxTimelineLimit)
		}
		p.Limit = n
	}
	return p, nil
}

// Timeline returns the timeline of the chunks of batch sum on page p, by
// index, and the index the next page starts at (nil after the last).
func Timeline(sum *store.Summary, p timelinePage) ([]ChunkTiming, *int) {
	from := min(p.From, len(sum.Chunks))
	to := from + min(p.Limit, len(sum.Chunks)-from)
	trades := make([]int, to-from)
	for i := range trades {
		lo, hi := sum.Bounds(from + i)
		trades[i] = hi - lo
	}
	return timelineOf(sum.Chunks[from:to], trades, sum.SubmittedAt, len(sum.Chunks))
}

// timelineOf returns the timeline of chunks, a page of those of a batch
// of n chunks submitted at submitted, each of the trades of its entry
// in trades (Store.Chunks), and the index the next page starts at (nil
// after the last).
func timelineOf(chunks []store.Chunk, trades []int, submitted time.Time, n int) ([]ChunkTiming, *int) {
	out := make([]ChunkTiming, len(chunks))
	for i := range chunks {
		out[i] = timingOf(&chunks[i], trades[i], submitted)
	}
	if len(chunks) == 0 || chunks[len(chunks)-1].Index+1 >= n {
		return out, nil
	}
	next := chunks[len(chunks)-1].Index + 1
	return out, &next
}

// timingOf returns the timeline of chunk c, of trades trades, of a batch
// submitted at submitted.
func timingOf(c *store.Chunk, trades int, submitted time.Time) ChunkTiming {
	t := ChunkTiming{Index: c.Index, Trades: trades, State: "pending", Failed: c.Failed, PricedBy: c.PricedBy, Deliveries: c.Deliveries, Reason: c.Reason}
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
	t.RequestedAt, t.DeliveredAt, t.PricedAt, t.RecordedAt = at(c.RequestedAt), at(c.StartedAt), at(c.FinishedAt), at(c.ArrivedAt)
	if t.DeliveredAt != nil && !submitted.IsZero() {
		q := c.StartedAt.Sub(submitted).Seconds()
		t.QueuedSeconds = &q
	}
	return t
}

// boolParam reads a yes-or-no query parameter such as ?timeline: absent
// or false is no, empty or true yes; anything else is a 400.
func boolParam(q url.Values, name string) (bool, error) {
	if !q.Has(name) {
		return false, nil
	}
	v := q.Get(name)
	if v == "" {
		return true, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, host.Errorf(http.StatusBadRequest, "aggregator: %s %q: want true or false", name, host.Short(v))
	}
	return b, nil
}
