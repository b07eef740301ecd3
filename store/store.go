// Package store keeps the state of batches: what ingress accepted, each
// chunk's outcome and results, and who announces a batch's end. Several
// ingress and aggregator replicas share one Store, so each method is one
// atomic step and the functions keep no batch state of their own.
//
// Mem keeps batches in one process (pricefn dev); subpackage redisstore
// keeps them in Redis, shared by every replica. Subpackage storetest is the
// conformance suite both pass.
//
// A batch is known by its id; keys are scoped by tenant (Ref), so that two
// tenants may use the same client id without meeting. Each submission of
// an id is an attempt: a batch that ended failed or partial may be priced
// again under its id, and the events of the new attempt carry its number,
// so that they are not taken for duplicates of the old one's.
package store

import (
	"cmp"
	"context"
	"errors"
	"io"
	"slices"
	"time"

	"github.com/pricefn/pricefn/api"
	"github.com/pricefn/pricefn/pricing/fsum"
)

// Store keeps batches. Every method is atomic with respect to every other
// caller of the same store, in this process or another.
type Store interface {
	// Claim records a submission of batch b.Ref for ingress, atomically:
	// an unknown id (or one forgotten) starts attempt 1; the same content
	// (b.Digest) as a batch pending, running or completed is that batch
	// (Claim.New false: nothing to price); the same content as a batch
	// that ended failed or partial starts the next attempt, once that end
	// is announced (Announced; ErrAnnouncing before); other content under
	// an id in use is ErrConflict. A new attempt's trades are recorded
	// with it.
	Claim(ctx context.Context, b Batch) (Claim, error)
	// Accept records that the aggregator has seen attempt's batch.accepted
	// at time at. It returns ErrNotFound for an unknown batch or attempt,
	// ErrConflict for another digest and ErrStale for an older attempt.
	Accept(ctx context.Context, ref Ref, digest string, attempt int, at time.Time) (Update, error)
	// Put records the outcome of chunk c.Index of attempt of batch ref:
	// priced (with its results) or dead. It checks the digest and applies
	// first-outcome-wins in one step: a later outcome of the same chunk is
	// a duplicate (or late, after the deadline ended the batch) and
	// changes nothing. Errors: ErrNotFound, ErrConflict, ErrStale,
	// ErrBadChunk.
	Put(ctx context.Context, ref Ref, digest string, attempt int, c Chunk) (Update, error)
	// Summary returns the batch's metadata and chunk states, sized by its
	// chunks, not its trades; ErrNotFound for an unknown batch.
	Summary(ctx context.Context, ref Ref) (*Summary, error)
	// Brief returns the batch's metadata and its chunks counted by state
	// (its Header and its chunks counted), from counts the store keeps:
	// read in time that does not grow with the chunks, for a listing of
	// many batches. ErrNotFound for an unknown batch.
	Brief(ctx context.Context, ref Ref) (*Brief, error)
	// Tally returns the batch's metadata and its outcomes added up (what
	// its status shows), from sums the store keeps as outcomes are
	// recorded: read in time that does not grow with the chunks, for a
	// status read, which a client polls. ErrNotFound for an unknown batch.
	Tally(ctx context.Context, ref Ref) (*Tally, error)
	// Chunks returns the outcomes of chunks from to from+n (fewer past
	// the last) of attempt of batch ref, by index (their Index set;
	// Results empty, as a Summary's), and each one's trade count (hi -
	// lo of Summary.Bounds): a page of a timeline, read in time that
	// grows with n, not with the batch's chunks. ErrNotFound for an
	// unknown batch or attempt, ErrStale for an earlier attempt.
	Chunks(ctx context.Context, ref Ref, attempt, from, n int) (chunks []Chunk, trades []int, err error)
	// Arrivals returns the outcomes of attempt of batch ref in the order
	// they were recorded, the from-th (from 0) and at most n-1 after it
	// (Results empty, as a Summary's), with each one's trade range: what
	// an event stream reads at each change, those recorded since its last
	// read, in time that grows with n, not with the batch's chunks. A
	// store that kept no such order of the batch (outcomes of it recorded
	// by an earlier release) returns every outcome, by index, whatever
	// from and n, with Arrived.All set. ErrNotFound for an unknown batch
	// or attempt, ErrStale for an earlier attempt (or one claimed again,
	// its id used again, while the store read it).
	Arrivals(ctx context.Context, ref Ref, attempt, from, n int) (*Arrived, error)
	// Layout returns what an outcome of chunk index is checked against:
	// the batch's digest, attempt and chunk count, and the chunk's trade
	// range (none for an index outside the batch), without the other
	// chunks' states, which Summary reads: an aggregator that read them
	// for each outcome took time growing with the chunks for each, the
	// square of them for the batch. ErrNotFound for an unknown batch.
	Layout(ctx context.Context, ref Ref, index int) (Layout, error)
	// Trades returns the trade ids of chunk index of attempt.
	Trades(ctx context.Context, ref Ref, attempt, index int) (ids []string, err error)
	// WriteResults writes the results of chunk index of attempt to w as
	// the pricer encoded them (see batch.AppendResults), in one call of
	// w.Write (the aggregator hands them on as a whole, uncopied); it
	// writes nothing for a chunk without results.
	WriteResults(ctx context.Context, ref Ref, attempt, index int, w io.Writer) error
	// Expire ends attempt of batch ref if its deadline has passed at now
	// with chunks missing: they become dead with reason. It changes
	// nothing for a batch that has ended, or whose deadline has not
	// passed; but on an ended batch whose announcement claim was released
	// (Release) or has lapsed (AnnounceLease) it grants the claim, as a
	// redelivered chunk would.
	Expire(ctx context.Context, ref Ref, attempt int, now time.Time, reason string) (Update, error)
	// Overdue lists the unfinished batches whose deadline is before now,
	// and the ended ones whose announcement claim was released or has
	// lapsed, at most limit of them: the deadline sweep's work (Expire
	// each).
	Overdue(ctx context.Context, now time.Time, limit int) ([]Ref, error)
	// Recent lists tenant's batches, newest claim first, at most limit
	// (and at most MaxRecent) of them; some may have been forgotten since.
	Recent(ctx context.Context, tenant string, limit int) ([]Ref, error)
	// Watch returns a channel closed at the next change of batch ref (its
	// creation included). Call stop when done waiting.
	Watch(ctx context.Context, ref Ref) (changed <-chan struct{}, stop func(), err error)
	// Sent records that ingress handed every chunk of attempt to the
	// broker, at at (Summary.SentAt). A batch claimed long ago and still
	// not sent lost its ingress between the claim and the sends: its next
	// submission sends its chunks again. Errors: ErrNotFound, ErrConflict,
	// ErrStale.
	Sent(ctx context.Context, ref Ref, digest string, attempt int, at time.Time) error
	// Sending records that an ingress is sending attempt's chunks and was
	// alive at at (Summary.SendingAt; the latest is kept): the sign of
	// life a live ingress gives while it sends. A batch never recorded
	// Sent that goes without one for long lost its ingress; its next
	// submission sends its chunks again. Errors: as Sent's.
	Sending(ctx context.Context, ref Ref, digest string, attempt int, at time.Time) error
	// Release gives back the claim to announce attempt's end that an
	// Update granted (by is its Update.AnnounceBy), after the announcement
	// failed, so that the next delivery of any of its chunks claims it
	// again, or the deadline sweep (Overdue, Expire) where no delivery
	// comes. It changes nothing once the claim is another's (this one
	// lapsed and was granted again) or the announcement is made.
	Release(ctx context.Context, ref Ref, attempt int, by time.Time) error
	// Pin marks batch ref as being read (its results document written)
	// until unpin is called: a store that forgets finished batches for
	// room (Mem) spares it meanwhile.
	Pin(ctx context.Context, ref Ref) (unpin func())
	// Announced records that the holder of the claim to announce
	// attempt's end made the announcement, at at (Summary.AnnouncedAt).
	// A claim not followed by Announced within AnnounceLease lapses: its
	// holder died before it announced (or before it could Release), and
	// the deadline sweep (Overdue, Expire) grants the claim again.
	Announced(ctx context.Context, ref Ref, attempt int, at time.Time) error
}

// AnnounceLease is how long the claim to announce a batch's end stays its
// holder's without Announced: far longer than an announcement's send
// takes, short enough that a batch whose aggregator died holding it is
// announced soon after. A holder slower than this announces a second
// time, under the same CloudEvent id, which a consumer can deduplicate.
const AnnounceLease = 2 * time.Minute

// Errors of a Store.
var (
	// ErrNotFound reports an unknown batch (or attempt).
	ErrNotFound = errors.New("store: batch not found")
	// ErrConflict reports an id in use by a batch of other content.
	ErrConflict = errors.New("store: batch id in use by another batch")
	// ErrStale reports an event of an attempt that a newer one replaced.
	ErrStale = errors.New("store: event of an earlier attempt")
	// ErrBadChunk reports a chunk that does not fit its batch.
	ErrBadChunk = errors.New("store: chunk does not fit its batch")
	// ErrLimit reports a claim over its tenant's Limits.
	ErrLimit = errors.New("store: tenant limit reached")
	// ErrAnnouncing reports a claim of the next attempt of a batch whose
	// attempt ended and whose end is not announced yet (batch.completed):
	// the new attempt would replace the record the announcement is made
	// from, and it would never be. A moment later it is.
	ErrAnnouncing = errors.New("store: the batch's last attempt ended and its end is being announced")
)

// MaxRecent bounds the batches Recent remembers per tenant.
const MaxRecent = 1000

// DefaultTenant is the tenant of batches submitted without one.
const DefaultTenant = "_"

// Ref names a batch: a tenant's batch id.
type Ref struct {
	Tenant, ID string
}

// RefOf returns the default tenant's batch id.
func RefOf(id string) Ref { return Ref{Tenant: DefaultTenant, ID: id} }

// String returns "tenant/id".
func (r Ref) String() string { return r.tenant() + "/" + r.ID }

func (r Ref) tenant() string {
	if r.Tenant == "" {
		return DefaultTenant
	}
	return r.Tenant
}

// Batch is what ingress records of a batch it accepts.
type Batch struct {
	Ref
	// Digest identifies the content (events.Digest).
	Digest string
	// TradeIDs lists the trade ids in input order.
	TradeIDs []string
	// ChunkOffsets[i] is the index of chunk i's first trade; chunk i
	// holds the trades up to the next chunk's offset, none when that is
	// the same (a scenario chunk: Summary.Bounds).
	ChunkOffsets []int
	SubmittedAt  time.Time
	// Deadline is when the batch ends partial if chunks are missing,
	// kept to the millisecond (cut, not rounded), as every Store keeps it.
	Deadline   time.Time
	ResultsURL string
	// TraceParent is the W3C trace context of the batch's events, for
	// what the store's own clock starts (a deadline's batch.completed).
	TraceParent string
	// Limits bound the tenant's unfinished batches, this one included.
	Limits Limits
}

// Limits bound what one tenant has in flight: batches claimed and not
// finished, and their trades. Zero fields are no bound.
type Limits struct {
	MaxOpen   int
	MaxTrades int
}

// Claim is the outcome of Store.Claim.
type Claim struct {
	// Attempt is the batch's attempt number, from 1.
	Attempt int
	// New says the attempt starts here: its chunks are to be priced.
	New bool
	// State is the state of the existing batch when not New.
	State string
}

// Update reports what an Accept, Put or Expire did.
type Update struct {
	// Duplicate says the outcome was already recorded.
	Duplicate bool
	// Late says the outcome came after the deadline ended the batch.
	Late bool
	// Announce says the batch is finished (every chunk has an outcome) and
	// the caller holds the claim to announce it: exactly one caller gets
	// it, unless the claim is released or lapses.
	Announce bool
	// AnnounceBy is when the claim granted lapses (Summary.AnnounceBy):
	// the claim's own token, which Release takes.
	AnnounceBy time.Time
}

// ChunkState is where a chunk is.
type ChunkState uint8

// The chunk states.
const (
	// ChunkWaiting: no outcome yet.
	ChunkWaiting ChunkState = iota
	// ChunkPriced: its results arrived.
	ChunkPriced
	// ChunkDead: its delivery failed for good (dead-lettered), or the
	// batch's deadline passed without it.
	ChunkDead
)

// Chunk is the outcome of one chunk.
type Chunk struct {
	Index int        `json:"index"`
	State ChunkState `json:"state"`
	// Results holds the chunk's results as batch.AppendResults encodes
	// them (ChunkPriced); a Summary leaves it empty. Put copies them,
	// unless Given.
	Results []byte `json:"-"`
	// Given says Results are given away with the chunk: nothing changes
	// them after Put, which may keep them as they are (an event's data
	// that came from this process, host.DataGiven).
	Given bool `json:"-"`
	// Trades counts the chunk's results; Failed those with an error.
	Trades int `json:"trades,omitempty"`
	Failed int `json:"failed,omitempty"`
	// Partials are the chunk's portfolio sums, by underlying ("" for
	// all) and measure name, exact: each the partials of its value
	// (batch.ChunkTotaler.Partials), which the status adds up.
	Partials map[string]map[string][]float64 `json:"partials,omitempty"`
	// Totals are the same sums rounded, as a chunk from a pricer of an
	// earlier release has them instead (and as the store kept them
	// before Partials).
	Totals map[string]map[string]float64 `json:"totals,omitempty"`
	// Reason says why the chunk is dead (ChunkDead).
	Reason string `json:"reason,omitempty"`
	// RequestedAt is when ingress sent the chunk, by its clock.
	RequestedAt time.Time `json:"requestedAt,omitzero"`
	// StartedAt and FinishedAt bound the pricing, by the pricer's clock.
	StartedAt  time.Time `json:"startedAt,omitzero"`
	FinishedAt time.Time `json:"finishedAt,omitzero"`
	// ArrivedAt is when the aggregator recorded the outcome.
	ArrivedAt time.Time `json:"arrivedAt,omitzero"`
	// PricedBy names the pricer instance.
	PricedBy string `json:"pricedBy,omitempty"`
	// Deliveries counts the outcomes that arrived for the chunk, the first
	// and its duplicates.
	Deliveries int `json:"deliveries,omitempty"`
}

// Arrived is what Store.Arrivals returns: outcomes of a batch, in the
// order recorded.
type Arrived struct {
	// Chunks are the outcomes, with their Index and Deliveries.
	Chunks []Chunk
	// Lo and Hi bound the trades of each of Chunks, [Lo[i], Hi[i]), as
	// Summary.Bounds.
	Lo, Hi []int
	// All says the store kept no order of the batch's outcomes: Chunks
	// are every outcome recorded, by index.
	All bool
	// SubmittedAt is the submission time of the batch's claim read, which
	// tells it from another batch claimed under its id, at the same
	// attempt, once it was forgotten: a reader that read the batch's
	// Tally before checks that the outcomes are of the batch it read.
	SubmittedAt time.Time
}

// PricingTime is how long the chunk's pricing took: FinishedAt less
// StartedAt, or none without either (a pricer that sent none) or with
// FinishedAt before StartedAt. The time since year 1, saturated, added
// up for two chunks overflowed a batch's sum (Tally.Pricing).
func (c *Chunk) PricingTime() time.Duration {
	if c.StartedAt.IsZero() || c.FinishedAt.IsZero() || c.FinishedAt.Before(c.StartedAt) {
		return 0
	}
	return c.FinishedAt.Sub(c.StartedAt)
}

// Summary is a batch as a Store keeps it, without its trades and results.
type Summary struct {
	Header
	ChunkOffsets []int
	// Chunks holds one entry per chunk, by index.
	Chunks []Chunk
}

// Header is what a Store keeps of a batch besides its chunks: a Summary's
// and a Tally's.
type Header struct {
	Ref         Ref
	Digest      string
	Attempt     int
	Trades      int
	SubmittedAt time.Time
	Deadline    time.Time
	ResultsURL  string
	TraceParent string
	// AcceptedAt is when the aggregator saw batch.accepted (zero before).
	AcceptedAt time.Time
	// SentAt is when ingress had sent every chunk (zero before: Sent).
	SentAt time.Time
	// SendingAt is the latest sign of life of the ingress sending the
	// chunks (zero before any: Sending), to the millisecond (cut), as
	// the Deadline and AnnounceBy.
	SendingAt time.Time
	// Duplicates counts duplicate deliveries of chunk outcomes; Late the
	// outcomes that came after the deadline.
	Duplicates int
	Late       int
	// Announced says the completion announcement is claimed (or made).
	Announced bool
	// AnnounceBy is when the claim to announce lapses if its holder has
	// not announced by then (AnnounceLease after its grant); zero when
	// the claim is not held, or the announcement made.
	AnnounceBy time.Time
	// AnnouncedAt is when the announcement was made (zero before:
	// Announced).
	AnnouncedAt time.Time
}

// Brief is what Store.Brief returns of a batch: what a listing shows.
type Brief struct {
	Ref         Ref
	Attempt     int
	Trades      int
	SubmittedAt time.Time
	AcceptedAt  time.Time
	// Chunks counts the batch's chunks; Done those with an outcome, Dead
	// those dead (ChunkDead) among them.
	Chunks, Done, Dead int
	// LastAt is the latest ArrivedAt of the chunks with an outcome (zero
	// before the first).
	LastAt time.Time
}

// BriefOf returns the Brief of the batch s describes, counting its chunks.
func (s *Summary) BriefOf() *Brief {
	b := &Brief{Ref: s.Ref, Attempt: s.Attempt, Trades: s.Trades, SubmittedAt: s.SubmittedAt, AcceptedAt: s.AcceptedAt, Chunks: len(s.Chunks)}
	for i := range s.Chunks {
		c := &s.Chunks[i]
		if c.State == ChunkWaiting {
			continue
		}
		b.Done++
		if c.State == ChunkDead {
			b.Dead++
		}
		if c.ArrivedAt.After(b.LastAt) {
			b.LastAt = c.ArrivedAt
		}
	}
	return b
}

// State returns the batch's state, as Summary.State.
func (b *Brief) State() string { return stateOf(b.Chunks, b.Done, b.Dead) }

// MaxFirstDead bounds the dead chunks a Tally names (FirstDead).
const MaxFirstDead = 100

// Tally is what Store.Tally returns of a batch: its Header, with its
// chunks' outcomes added up.
type Tally struct {
	Header
	// Chunks counts the batch's chunks, ScenarioChunks those holding no
	// trades of their own (a risk run's scenario chunks); ChunksDone those
	// with an outcome, ScenarioChunksDone of the scenario chunks,
	// ChunksDead the dead ones.
	Chunks, ScenarioChunks, ChunksDone, ScenarioChunksDone, ChunksDead int
	// Priced and Failed count the trades of the priced chunks priced
	// and priced to an error; Missing those of the dead chunks.
	Priced, Failed, Missing int
	// Pricing is the priced chunks' pricing times added up (FinishedAt
	// less StartedAt), exactly.
	Pricing time.Duration
	// FirstAt and LastAt are the earliest and the latest ArrivedAt of an
	// outcome (zero before the first).
	FirstAt, LastAt time.Time
	// Totals are the priced chunks' sums added up exactly (AddTotals).
	Totals Totals
	// FirstDead are the first dead chunks by index, at most MaxFirstDead,
	// with their Index, Reason and Trades (their trade count).
	FirstDead []Chunk
}

// Totals are exact sums of a batch's priced chunks, by underlying (""
// for all) and measure.
type Totals map[string]map[string]*Total

// Total is one exact sum of Totals.
type Total struct {
	Sum fsum.Sum
	// Beyond says a chunk's sum was beyond float64's range: the total is
	// unknown.
	Beyond bool
}

// Add adds a priced chunk's sums: its partials, or the totals of a chunk
// priced by a pricer of an earlier release, which sent none.
func (t Totals) Add(c *Chunk) {
	if c.Partials != nil {
		for u, ms := range c.Partials {
			for m, ps := range ms {
				s := t.of(u, m)
				s.Beyond = s.Beyond || len(ps) == 0
				for _, p := range ps {
					s.Sum.Add(p)
				}
			}
		}
		return
	}
	for u, ms := range c.Totals {
		for m, v := range ms {
			t.of(u, m).Sum.Add(v)
		}
	}
}

// Merge adds the sums of o to t.
func (t Totals) Merge(o Totals) {
	for u, ms := range o {
		for m, e := range ms {
			s := t.of(u, m)
			s.Sum.Merge(&e.Sum)
			s.Beyond = s.Beyond || e.Beyond
		}
	}
}

func (t Totals) of(u, m string) *Total {
	if t[u] == nil {
		t[u] = map[string]*Total{}
	}
	s := t[u][m]
	if s == nil {
		s = new(Total)
		t[u][m] = s
	}
	return s
}

// Clone returns a copy of t that shares no memory with it.
func (t Totals) Clone() Totals {
	out := make(Totals, len(t))
	for u, ms := range t {
		out[u] = make(map[string]*Total, len(ms))
		for m, s := range ms {
			out[u][m] = &Total{Sum: s.Sum.Clone(), Beyond: s.Beyond}
		}
	}
	return out
}

// TallyOf returns the Tally of the batch s describes, adding up its
// chunks.
func (s *Summary) TallyOf() *Tally {
	t := &Tally{Header: s.Header, Chunks: len(s.Chunks), Totals: Totals{}}
	for i := range s.Chunks {
		lo, hi := s.Bounds(i)
		t.scenario(lo, hi)
		if s.Chunks[i].State != ChunkWaiting {
			t.Add(&s.Chunks[i], lo, hi)
		}
	}
	return t
}

// scenario counts a chunk of trades [lo, hi) among the scenario chunks
// if it holds none.
func (t *Tally) scenario(lo, hi int) {
	if lo == hi {
		t.ScenarioChunks++
	}
}

// Add adds the outcome of chunk c, of trades [lo, hi), to t. A dead
// chunk past the first MaxFirstDead by index is counted, not named.
func (t *Tally) Add(c *Chunk, lo, hi int) {
	t.ChunksDone++
	if lo == hi {
		t.ScenarioChunksDone++
	}
	if t.FirstAt.IsZero() || c.ArrivedAt.Before(t.FirstAt) {
		t.FirstAt = c.ArrivedAt
	}
	if c.ArrivedAt.After(t.LastAt) {
		t.LastAt = c.ArrivedAt
	}
	if c.State == ChunkDead {
		t.ChunksDead++
		t.Missing += hi - lo
		i, _ := slices.BinarySearchFunc(t.FirstDead, c.Index, func(d Chunk, index int) int { return cmp.Compare(d.Index, index) })
		if i < MaxFirstDead {
			t.FirstDead = slices.Insert(t.FirstDead, i, Chunk{Index: c.Index, State: ChunkDead, Reason: c.Reason, Trades: hi - lo})
			t.FirstDead = t.FirstDead[:min(len(t.FirstDead), MaxFirstDead)]
		}
		return
	}
	t.Priced += c.Trades - c.Failed
	t.Failed += c.Failed
	t.Pricing += c.PricingTime()
	t.Totals.Add(c)
}

// Waiting is how many chunks have no outcome yet.
func (t *Tally) Waiting() int { return t.Chunks - t.ChunksDone }

// Done reports whether every chunk has an outcome.
func (t *Tally) Done() bool { return t.Waiting() == 0 }

// State returns the batch's state.
func (t *Tally) State() string { return stateOf(t.Chunks, t.ChunksDone, t.ChunksDead) }

// Unannounced reports whether the batch has ended and its end waits for
// an announcer at now (Summary.Unannounced).
func (t *Tally) Unannounced(now time.Time) bool { return t.Done() && t.claimFree(now) }

// Layout is what Store.Layout returns of a batch and one of its chunks.
type Layout struct {
	Digest  string
	Attempt int
	// Chunks counts the batch's chunks.
	Chunks int
	// Lo and Hi bound the chunk's trades, [Lo, Hi) (Summary.Bounds):
	// equal for a scenario chunk, and zero for an index outside the
	// batch.
	Lo, Hi int
}

// LayoutOf returns the Layout of chunk index of the batch s describes.
func (s *Summary) LayoutOf(index int) Layout {
	l := Layout{Digest: s.Digest, Attempt: s.Attempt, Chunks: len(s.ChunkOffsets)}
	if index >= 0 && index < l.Chunks {
		l.Lo, l.Hi = s.Bounds(index)
	}
	return l
}

// Unannounced reports whether the batch has ended and its end waits for
// an announcer at now: its claim released, or lapsed (AnnounceBy passed).
func (s *Summary) Unannounced(now time.Time) bool { return s.Done() && s.claimFree(now) }

// claimFree reports whether the claim to announce the batch's end is free
// at now: never granted, released, or lapsed (AnnounceBy passed).
func (s *Header) claimFree(now time.Time) bool {
	return !s.Announced || !s.AnnounceBy.IsZero() && now.After(s.AnnounceBy)
}

// Done reports whether every chunk has an outcome.
func (s *Summary) Done() bool { return s.Waiting() == 0 }

// Waiting is how many chunks have no outcome yet.
func (s *Summary) Waiting() int {
	n := 0
	for i := range s.Chunks {
		if s.Chunks[i].State == ChunkWaiting {
			n++
		}
	}
	return n
}

// Bounds returns the trade range [lo, hi) of chunk i.
func (s *Summary) Bounds(i int) (lo, hi int) {
	lo, hi = s.ChunkOffsets[i], s.Trades
	if i+1 < len(s.ChunkOffsets) {
		hi = s.ChunkOffsets[i+1]
	}
	return lo, hi
}

// The states of a batch (wire format section 5).
const (
	StatePending   = api.StatePending
	StateRunning   = api.StateRunning
	StateCompleted = api.StateCompleted
	StatePartial   = api.StatePartial
	StateFailed    = api.StateFailed
)

// State returns the batch's state.
func (s *Summary) State() string {
	done, dead := 0, 0
	for i := range s.Chunks {
		switch s.Chunks[i].State {
		case ChunkPriced:
			done++
		case ChunkDead:
			done++
			dead++
		}
	}
	return stateOf(len(s.Chunks), done, dead)
}

// stateOf is the state of a batch of n chunks, done of them with an
// outcome, dead of those dead.
func stateOf(n, done, dead int) string {
	switch {
	case done < n && done == 0:
		return StatePending
	case done < n:
		return StateRunning
	case dead == 0:
		return StateCompleted
	case dead == n:
		return StateFailed
	}
	return StatePartial
}

// Retryable reports whether a batch in state may be priced again under its
// id: it ended with chunks missing.
func Retryable(state string) bool { return state == StateFailed || state == StatePartial }

// Options are the settings every Store takes.
type Options struct {
	// Retain is how long a finished batch is kept; 0 means DefaultRetain.
	Retain time.Duration
	// MaxAge is how long an unfinished batch is kept past its deadline,
	// or past its claim when it has none: a safety net behind the
	// deadline, which ends the batch, however far that is; 0 means
	// DefaultMaxAge.
	MaxAge time.Duration
	// MaxRetained bounds the batches one tenant holds in a store that
	// counts them (redisstore): a claim that would leave the tenant more
	// forgets its oldest finished batches, by claim time, as their expiry
	// would; 0 means DefaultMaxRetained. Mem bounds its bytes instead
	// (MemOptions.MaxBytes).
	MaxRetained int
}

// Defaults of Options.
const (
	DefaultRetain = time.Hour
	DefaultMaxAge = 24 * time.Hour
	// DefaultMaxRetained is about 100-200 MB of one tenant's small
	// batches (1-2 KB each).
	DefaultMaxRetained = 100_000
)

func (o Options) retain() time.Duration {
	if o.Retain <= 0 {
		return DefaultRetain
	}
	return o.Retain
}

func (o Options) maxAge() time.Duration {
	if o.MaxAge <= 0 {
		return DefaultMaxAge
	}
	return o.MaxAge
}

func (o Options) maxRetained() int {
	if o.MaxRetained <= 0 {
		return DefaultMaxRetained
	}
	return o.MaxRetained
}

// WithDefaults returns o with its zero fields set to the defaults.
func (o Options) WithDefaults() Options {
	o.Retain, o.MaxAge, o.MaxRetained = o.retain(), o.maxAge(), o.maxRetained()
	return o
}
