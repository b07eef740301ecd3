package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"time"
)

// Mem is a Store in one process's memory, for pricefn dev, where ingress
// and the aggregator share it. It forgets a finished batch Retain after it
// finished and an unfinished one MaxAge past its deadline (its claim,
// without one), and keeps about
// MaxBytes of trades and results (MemOptions.MaxBytes), forgetting the
// oldest finished batches first. Its zero value is not usable; call NewMem.
type Mem struct {
	opt     MemOptions
	mu      sync.Mutex
	batches map[Ref]*memBatch
	recent  map[string]*claims // by tenant
	// open holds each tenant's unfinished batches, which its Limits
	// bound: looked for among every batch held, a claim took time
	// growing with them (3 ms with 80,000 small batches).
	open      map[string]map[*memBatch]struct{}
	lastClaim uint64 // the number of the last claim made (memBatch.claim)
	watches   Watchers
	bytes     int64 // trade ids, results and records held (MaxBytes)
	// held is each tenant's part of bytes, and lastDone the batch that
	// finished last (which a pass over MaxBytes keeps): a batch that
	// finishes makes the one before it one more a pass may forget, if
	// its tenant holds more than its share (finished).
	held     map[string]int64
	lastDone *memBatch
	// left is what the last pass over MaxBytes left held (sweep), a
	// forgotten batch's bytes taken off.
	left      int64
	swept     time.Time // last sweep
	freed     int64     // bytes forgotten since the last call of opt.Freed
	lastFreed time.Time // when opt.Freed was last called
	lastWrite time.Time // the last Claim or Put, refused ones too
}

// MemOptions tunes a Mem.
type MemOptions struct {
	Options
	// MaxBytes bounds the trade ids and results kept, with each batch's
	// and chunk's own record and totals (batchBytes, chunkBytes); 0 means
	// DefaultMaxBytes. Past it the oldest finished batches are forgotten
	// first, of the tenants holding more than their share, never the one
	// that finished last, down to a sixteenth below MaxBytes (memSlack);
	// unfinished ones are never forgotten before MaxAge. Past twice
	// MaxBytes the oldest finished batches go, whoever holds them.
	MaxBytes int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Freed, when set, is called (outside the store's lock) by a sweep
	// once batches holding at least FreedEvery bytes were forgotten since
	// its last call, nothing was claimed or put for FreedQuiet and FreedGap
	// has passed since that call; or at once when the store forgot the
	// last batches it held: a process can give the
	// memory back to the system then (debug.FreeOSMemory) rather than at
	// its next garbage collection, which an idle process may not have for
	// minutes. The aggregator's Overdue, every second, is the sweep that
	// finds the store quiet.
	Freed func()
}

// FreedEvery is how many bytes of forgotten batches make Mem call
// MemOptions.Freed; FreedQuiet how long after the last claim or chunk
// (the store is idle), and FreedGap the least time between two calls
// (but at once when it holds no batch any more). A full store forgets a
// batch at every new one; while batches keep coming, the garbage
// collector reuses the memory of those it forgot, and giving it back to
// the system instead costs a collection and then a page fault for every
// page the next batches touch (bench/README.md, "Memory given back").
const (
	FreedEvery = 8 << 20
	FreedQuiet = 2 * time.Second
	FreedGap   = 10 * time.Second
)

// DefaultMaxBytes is Mem's default bound on the trades and results it
// keeps.
const DefaultMaxBytes = 1 << 30

// memBatch is one batch: its summary and, per chunk, trades and results.
type memBatch struct {
	sum        Summary
	ids        [][]string // per chunk
	results    [][]byte   // per chunk
	bytes      int64
	finishedAt time.Time // zero while unfinished
	// waiting counts the chunks with no outcome: Summary.Waiting, which
	// counts them over, would make each of a batch's n outcomes cost n
	// (a scenario batch of 500,000 chunks took minutes to record).
	waiting int
	// tally adds up the outcomes as they are recorded, for Tally and
	// Brief (its Header unused: sum has it). Added up over the chunks at
	// each read, a status read of a batch of 100,000 chunks allocated 21
	// MB and a listing of 100 batches of 10,000 copied them all.
	tally Tally
	// arrived holds the indexes of the chunks with an outcome, in the
	// order recorded (Arrivals).
	arrived   []int
	createdAt time.Time
	claim     uint64 // its claim's number, unique in the Mem
	readers   int    // Pin's holders
}

var _ Store = (*Mem)(nil)

// NewMem returns an empty Mem.
func NewMem(opt MemOptions) *Mem {
	opt.Options = opt.Options.WithDefaults()
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Mem{opt: opt, batches: map[Ref]*memBatch{}, recent: map[string]*claims{}, open: map[string]map[*memBatch]struct{}{}, held: map[string]int64{}}
}

// memSlack is the part of MaxBytes (a sixteenth) a pass over it forgets
// below it, and that more must be held before the next pass (sweep).
const memSlack = 16

// sweepEvery is how often the store looks for batches to forget.
const sweepEvery = time.Second

// sweep forgets expired batches, at most once per sweepEvery, and
// finished ones while over MaxBytes (dropFairly). s.mu is held; it calls
// opt.Freed in a goroutine of its own when enough was forgotten.
func (s *Mem) sweep() {
	now := s.opt.Now()
	defer func() {
		if s.opt.Freed == nil || s.freed == 0 {
			return
		}
		if len(s.batches) == 0 || s.freed >= FreedEvery && since(now, s.lastWrite) >= FreedQuiet && since(now, s.lastFreed) >= FreedGap {
			s.freed, s.lastFreed = 0, now
			go s.opt.Freed()
		}
	}()
	if now.Sub(s.swept) >= sweepEvery || now.Before(s.swept) {
		s.swept = now
		for ref, b := range s.batches {
			if b.expired(now, s.opt.Options) {
				s.drop(ref, b)
			}
		}
	}
	// Over MaxBytes, a pass looks at every batch: it forgets down to
	// MaxBytes less a sixteenth (dropFairly), and the next comes once
	// that much more is held, not at every claim and chunk of a full
	// store, which took time growing with the batches it held for each
	// (6 ms a claim with 20,000 small batches): where it could not forget
	// enough (unfinished batches, pinned ones, tenants within their
	// share), once a sixteenth more than it left is held, a batch
	// finishes or a read of one ends (left is reset), or past twice
	// MaxBytes.
	if s.bytes <= s.opt.MaxBytes || s.bytes <= s.left+s.opt.MaxBytes/memSlack && s.bytes <= 2*s.opt.MaxBytes {
		return
	}
	defer func() { s.left = s.bytes }()
	var done []*memBatch
	for _, b := range s.batches {
		if !b.finishedAt.IsZero() {
			done = append(done, b)
		}
	}
	slices.SortFunc(done, func(a, b *memBatch) int { return a.finishedAt.Compare(b.finishedAt) })
	// The batch that finished last is kept, even alone over MaxBytes: its
	// client has yet to fetch its results. So are those being read (Pin),
	// while the store holds less than twice MaxBytes: dropped between two
	// of its chunks (a million trades' results, 176 MB, take seconds to
	// send), a batch's document was cut short.
	older := done[:max(len(done)-1, 0)]
	s.dropFairly(older)
	for _, b := range older {
		if s.bytes <= 2*s.opt.MaxBytes {
			return
		}
		if s.batches[b.sum.Ref] == b { // not dropped above
			s.drop(b.sum.Ref, b)
		}
	}
}

// dropFairly forgets batches of older (finished, oldest first, none
// being read) until the store is a sixteenth below MaxBytes (sweep): each
// time the oldest batch of the tenant that holds the most bytes, of those
// holding more than their share (that bound over the tenants holding
// batches). A
// tenant's batches push out its own results before another's, so one
// tenant cannot cut another's retention short while it holds more than
// that tenant does; and a tenant within its share keeps its results when
// the store is full of another's unfinished batches, which cannot be
// forgotten: the store then holds more than MaxBytes, up to twice it
// (sweep). s.mu is held.
func (s *Mem) dropFairly(older []*memBatch) {
	held := make(map[string]int64)
	for ref, b := range s.batches {
		held[ref.Tenant] += b.bytes
	}
	low := s.opt.MaxBytes - s.opt.MaxBytes/memSlack
	share := low / int64(max(len(held), 1))
	queues := make(map[string][]*memBatch)
	for _, b := range older {
		if b.readers == 0 {
			queues[b.sum.Ref.Tenant] = append(queues[b.sum.Ref.Tenant], b)
		}
	}
	for s.bytes > low {
		tenant, found := "", false
		for t, q := range queues {
			if len(q) == 0 || held[t] <= share {
				continue
			}
			if !found || held[t] > held[tenant] || held[t] == held[tenant] && q[0].finishedAt.Before(queues[tenant][0].finishedAt) {
				tenant, found = t, true
			}
		}
		if !found {
			return
		}
		b := queues[tenant][0]
		queues[tenant] = queues[tenant][1:]
		held[tenant] -= b.bytes
		s.drop(b.sum.Ref, b)
	}
}

// Pin implements Store: a batch being read is spared while the store
// holds less than twice MaxBytes.
func (s *Mem) Pin(ctx context.Context, ref Ref) (unpin func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.get(ref)
	if err != nil {
		return func() {}
	}
	b.readers++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if b.readers--; b.readers == 0 {
				s.left = 0 // one more the next sweep may forget
			}
			s.mu.Unlock()
		})
	}
}

// since is how long before now t was; a t after now (the clock went
// back) is long ago.
func since(now, t time.Time) time.Duration {
	if now.Before(t) {
		return time.Duration(math.MaxInt64)
	}
	return now.Sub(t)
}

func (b *memBatch) expired(now time.Time, o Options) bool {
	if b.finishedAt.IsZero() {
		// A safety net behind the deadline, which ends the batch: kept
		// MaxAge past it (past its claim, without one), not forgotten
		// while it runs, however far its deadline.
		from := b.createdAt
		if b.sum.Deadline.After(from) {
			from = b.sum.Deadline
		}
		return now.Sub(from) > o.MaxAge
	}
	return now.Sub(b.finishedAt) > o.Retain
}

// drop forgets batch ref. s.mu is held.
func (s *Mem) drop(ref Ref, b *memBatch) {
	delete(s.batches, ref)
	s.closed(b)
	s.bytes -= b.bytes
	if s.held[ref.Tenant] -= b.bytes; s.held[ref.Tenant] <= 0 {
		delete(s.held, ref.Tenant)
	}
	s.left = max(s.left-b.bytes, 0)
	s.freed += b.bytes
	if s.lastDone == b {
		s.lastDone = nil // or its trade ids and results stay reachable
	}
	s.notify(ref)
}

// get returns a live batch. s.mu is held.
func (s *Mem) get(ref Ref) (*memBatch, error) {
	ref.Tenant = ref.tenant()
	b, ok := s.batches[ref]
	if !ok || b.expired(s.opt.Now(), s.opt.Options) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
	}
	return b, nil
}

// Claim implements Store.
func (s *Mem) Claim(ctx context.Context, nb Batch) (Claim, error) {
	if err := nb.Check(); err != nil {
		return Claim{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastWrite = s.opt.Now()
	s.sweep()
	attempt := 1
	if b, err := s.get(nb.Ref); err == nil {
		if b.sum.Digest != nb.Digest {
			return Claim{}, fmt.Errorf("%w: %s", ErrConflict, nb.Ref)
		}
		st := b.tally.State() // counted, not counted over its chunks
		if b.waiting > 0 || !Retryable(st) {
			return Claim{Attempt: b.sum.Attempt, State: st}, nil
		}
		if b.sum.AnnouncedAt.IsZero() {
			return Claim{Attempt: b.sum.Attempt, State: st}, fmt.Errorf("%w: %s attempt %d", ErrAnnouncing, nb.Ref, b.sum.Attempt)
		}
		attempt = b.sum.Attempt + 1
	}
	// The limits first: a resubmission refused keeps the attempt it
	// would have replaced, its results and its number.
	if err := s.checkLimits(nb); err != nil {
		return Claim{}, err
	}
	// The attempt replaced, or a batch expired that no sweep has removed
	// yet: its bytes leave the count with it.
	if old, ok := s.batches[nb.Ref]; ok {
		s.drop(nb.Ref, old)
	}
	b := &memBatch{
		sum: Summary{
			Header: Header{
				Ref: nb.Ref, Digest: nb.Digest, Attempt: attempt, Trades: len(nb.TradeIDs), SubmittedAt: nb.SubmittedAt,
				Deadline:   nb.Deadline.Truncate(time.Millisecond), // as Redis keeps it
				ResultsURL: nb.ResultsURL, TraceParent: nb.TraceParent,
			},
			ChunkOffsets: slices.Clone(nb.ChunkOffsets), Chunks: make([]Chunk, len(nb.ChunkOffsets)),
		},
		createdAt: s.opt.Now(),
		waiting:   len(nb.ChunkOffsets),
		tally:     Tally{Chunks: len(nb.ChunkOffsets), Totals: Totals{}},
	}
	s.lastClaim++
	b.claim = s.lastClaim
	n := len(nb.ChunkOffsets)
	b.bytes = batchBytes + int64(n)*chunkBytes + int64(len(nb.ResultsURL)+len(nb.TraceParent))
	b.ids, b.results = make([][]string, n), make([][]byte, n)
	for i := range n {
		lo, hi := b.sum.Bounds(i)
		b.sum.Chunks[i].Index = i
		b.tally.scenario(lo, hi)
		b.ids[i] = nb.TradeIDs[lo:hi:hi]
		for _, id := range b.ids[i] {
			b.bytes += int64(len(id)) + 16
		}
	}
	s.batches[nb.Ref] = b
	s.opened(b)
	s.remember(b)
	s.bytes += b.bytes
	s.held[nb.Tenant] += b.bytes
	s.notify(nb.Ref)
	return Claim{Attempt: attempt, New: true, State: StatePending}, nil
}

// checkLimits reports whether claiming nb would take its tenant over
// nb.Limits. s.mu is held.
func (s *Mem) checkLimits(nb Batch) error {
	l := nb.Limits
	if l.MaxOpen <= 0 && l.MaxTrades <= 0 {
		return nil
	}
	now := s.opt.Now()
	open, trades := 0, 0
	for b := range s.open[nb.Tenant] {
		if !b.expired(now, s.opt.Options) {
			open++
			trades += b.sum.Trades
		}
	}
	return limitError(nb, open, trades)
}

// opened adds b to its tenant's unfinished batches, closed takes it
// off (finished or forgotten). s.mu is held.
func (s *Mem) opened(b *memBatch) {
	t := b.sum.Ref.Tenant
	if s.open[t] == nil {
		s.open[t] = map[*memBatch]struct{}{}
	}
	s.open[t][b] = struct{}{}
}

func (s *Mem) closed(b *memBatch) {
	t := b.sum.Ref.Tenant
	if delete(s.open[t], b); len(s.open[t]) == 0 {
		delete(s.open, t)
	}
}

// limitError reports a claim of nb, with open batches of trades trades
// already in flight for its tenant, over nb.Limits.
func limitError(nb Batch, open, trades int) error {
	l := nb.Limits
	if l.MaxOpen > 0 && open+1 > l.MaxOpen {
		return OpenLimitError(nb, open)
	}
	if l.MaxTrades > 0 && trades+len(nb.TradeIDs) > l.MaxTrades {
		return TradesLimitError(nb, trades)
	}
	return nil
}

// LimitError is the ErrLimit of a claim over one of its tenant's Limits.
// Its Reason is for the client as it is, with no "store:" of the
// engine's insides.
type LimitError struct {
	// Limit names the limit: LimitOpen or LimitTrades.
	Limit string
	// Reason says which of the tenant's limits the claim would pass,
	// its value and how far: "tenant acme has 2 unfinished batches, and
	// its limit of unfinished batches is 2".
	Reason string
}

// The Limits a LimitError names.
const (
	LimitOpen   = "unfinished batches"
	LimitTrades = "trades in flight"
)

// Error returns the reason after ErrLimit's text.
func (e *LimitError) Error() string { return ErrLimit.Error() + ": " + e.Reason }

// Is makes a LimitError an ErrLimit.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// OpenLimitError is the ErrLimit of a claim of nb refused because its
// tenant has open unfinished batches, Limits.MaxOpen.
func OpenLimitError(nb Batch, open int) error {
	batches := "batches"
	if open == 1 {
		batches = "batch"
	}
	return &LimitError{Limit: LimitOpen, Reason: fmt.Sprintf("%s %d unfinished %s, and its limit of unfinished batches is %d", tenantHas(nb.Tenant), open, batches, nb.Limits.MaxOpen)}
}

// TradesLimitError is the ErrLimit of a claim of nb refused because its
// tenant has trades in flight, which nb's would take past
// Limits.MaxTrades.
func TradesLimitError(nb Batch, trades int) error {
	return &LimitError{Limit: LimitTrades, Reason: fmt.Sprintf("%s %d trades in flight; %d more would pass its limit of %d", tenantHas(nb.Tenant), trades, len(nb.TradeIDs), nb.Limits.MaxTrades)}
}

// tenantHas opens a limit's message: "tenant acme has", or, for the
// default tenant (an engine without tokens, whose clients all share it),
// "the engine has" rather than the name "_" no client gave.
func tenantHas(tenant string) string {
	if tenant == "" || tenant == DefaultTenant {
		return "the engine has"
	}
	return "tenant " + tenant + " has"
}

// Check checks that b describes a batch: an id, and chunk offsets that
// start at 0 and never decrease within the trades (equal offsets are the
// chunks of a trade block that hold no trades of their own, the scenario
// chunks of batch.PlanChunks: only the last chunk at an offset holds the
// trades up to the next; a batch of no trades may have chunks, all scenario
// chunks at 0). It sets the default tenant.
func (b *Batch) Check() error {
	b.Tenant = b.tenant()
	if b.ID == "" {
		return fmt.Errorf("%w: no batch id", ErrBadChunk)
	}
	for i, o := range b.ChunkOffsets {
		if (i == 0 && o != 0) || (i > 0 && o < b.ChunkOffsets[i-1]) || o >= max(len(b.TradeIDs), 1) {
			return fmt.Errorf("%w: batch %s: chunk offset %d = %d is out of order or range", ErrBadChunk, b.Ref, i, o)
		}
	}
	if len(b.TradeIDs) > 0 && len(b.ChunkOffsets) == 0 {
		return fmt.Errorf("%w: batch %s: %d trades in no chunk", ErrBadChunk, b.Ref, len(b.TradeIDs))
	}
	return nil
}

// attempt returns batch ref at attempt after checking digest. s.mu is held.
func (s *Mem) attempt(ref Ref, digest string, attempt int) (*memBatch, error) {
	b, err := s.get(ref)
	switch {
	case err != nil:
		return nil, err
	case digest != "" && b.sum.Digest != digest:
		return nil, fmt.Errorf("%w: %s", ErrConflict, ref)
	case attempt < b.sum.Attempt:
		return nil, fmt.Errorf("%w: %s attempt %d (now %d)", ErrStale, ref, attempt, b.sum.Attempt)
	case attempt > b.sum.Attempt:
		return nil, fmt.Errorf("%w: %s attempt %d", ErrNotFound, ref, attempt)
	}
	return b, nil
}

// Accept implements Store.
func (s *Mem) Accept(ctx context.Context, ref Ref, digest string, attempt int, at time.Time) (Update, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.attempt(ref, digest, attempt)
	if err != nil {
		return Update{}, err
	}
	u := Update{Duplicate: !b.sum.AcceptedAt.IsZero()}
	if !u.Duplicate {
		b.sum.AcceptedAt = at
		s.finished(b) // a batch of no chunks ends here
		s.notify(b.sum.Ref)
	}
	return s.claim(b, u, s.opt.Now()), nil
}

// record applies f to the summary of batch ref at attempt (its digest
// checked unless empty), under s.mu.
func (s *Mem) record(ref Ref, digest string, attempt int, f func(sum *Summary)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.attempt(ref, digest, attempt)
	if err != nil {
		return err
	}
	f(&b.sum)
	return nil
}

// Sent implements Store.
func (s *Mem) Sent(ctx context.Context, ref Ref, digest string, attempt int, at time.Time) error {
	return s.record(ref, digest, attempt, func(sum *Summary) {
		if sum.SentAt.IsZero() {
			sum.SentAt = at
		}
	})
}

// Sending implements Store.
func (s *Mem) Sending(ctx context.Context, ref Ref, digest string, attempt int, at time.Time) error {
	at = at.Truncate(time.Millisecond) // as Redis keeps it
	return s.record(ref, digest, attempt, func(sum *Summary) {
		if at.After(sum.SendingAt) {
			sum.SendingAt = at
		}
	})
}

// Put implements Store.
func (s *Mem) Put(ctx context.Context, ref Ref, digest string, attempt int, c Chunk) (Update, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastWrite = s.opt.Now()
	s.sweep()
	b, err := s.attempt(ref, digest, attempt)
	if err != nil {
		return Update{}, err
	}
	if c.Index < 0 || c.Index >= len(b.sum.Chunks) {
		return Update{}, fmt.Errorf("%w: batch %s has no chunk %d", ErrBadChunk, b.sum.Ref, c.Index)
	}
	cur := &b.sum.Chunks[c.Index]
	if cur.State != ChunkWaiting {
		cur.Deliveries++
		u := Update{Duplicate: true}
		if expiredReason(cur.Reason) != cur.Reason {
			u = Update{Late: true}
			b.sum.Late++
		} else {
			b.sum.Duplicates++
		}
		s.notify(b.sum.Ref)
		return s.claim(b, u, s.lastWrite), nil
	}
	results, given := c.Results, c.Given
	c.Results, c.Given = nil, false
	*cur = c
	cur.Deliveries = 1
	b.waiting--
	b.arrived = append(b.arrived, c.Index)
	lo, hi := b.sum.Bounds(c.Index)
	b.tally.Add(cur, lo, hi)
	s.finished(b)
	if len(results) > 0 && !given {
		results = bytes.Clone(results)
	}
	b.results[c.Index] = results
	held := int64(len(results)) + outcomeBytes(c)
	b.bytes += held
	s.bytes += held
	s.held[b.sum.Ref.Tenant] += held
	s.sweep() // within MaxBytes again, older batches first
	s.notify(b.sum.Ref)
	return s.claim(b, Update{}, s.lastWrite), nil
}

// batchBytes and chunkBytes are what a batch's record (its Summary, its
// place in the store's map) and each of its chunks' hold, counted against
// MaxBytes with its trade ids and results: about 600 bytes for a batch of
// no trade, measured. Uncounted, a tenant's stream of tiny batches, each
// kept for Retain, grew the heap without bound (20,000 one-trade batches
// held 40 MB and counted 360 KB), and never made the store forget a batch.
const (
	batchBytes = 1 << 10
	chunkBytes = 256
)

// outcomeBytes is what c's outcome holds besides its results: its reason
// and pricer's name, and its totals, by underlying and measure, which a
// chunk of trades on many underlyings holds more of than its results.
func outcomeBytes(c Chunk) int64 {
	n := len(c.Reason) + len(c.PricedBy)
	for u, ms := range c.Partials {
		n += 64 + len(u)
		for m, p := range ms {
			n += 48 + len(m) + 8*len(p)
		}
	}
	for u, ms := range c.Totals {
		n += 64 + len(u)
		for m := range ms {
			n += 32 + len(m)
		}
	}
	return int64(n)
}

// expiredMark marks, in a Mem, the chunks a deadline ended.
const expiredMark = "\x00expired"

// finished records when b finished. s.mu is held.
func (s *Mem) finished(b *memBatch) {
	if b.finishedAt.IsZero() && b.waiting == 0 {
		b.finishedAt = s.opt.Now()
		s.closed(b)
		// The batch that finished before b is one more the next pass over
		// MaxBytes may forget, if its tenant holds more than its share
		// (dropFairly): reset at every finish, a store over MaxBytes with
		// nothing it may forget (its tenants within their shares) looked
		// at every batch it held at each.
		prev := s.lastDone
		s.lastDone = b
		if prev != nil && s.batches[prev.sum.Ref] == prev && prev.readers == 0 && s.overShare(prev.sum.Ref.Tenant) {
			s.left = 0
		}
	}
}

// overShare reports whether tenant holds more than its share of the
// store (dropFairly). s.mu is held.
func (s *Mem) overShare(tenant string) bool {
	low := s.opt.MaxBytes - s.opt.MaxBytes/memSlack
	return s.held[tenant] > low/int64(max(len(s.held), 1))
}

// claim grants the announcement claim, for AnnounceLease from now, when b
// is done and the claim is free (never granted, released or lapsed).
func (s *Mem) claim(b *memBatch, u Update, now time.Time) Update {
	if b.waiting == 0 && b.sum.claimFree(now) { // b.sum.Unannounced
		b.sum.Announced = true
		b.sum.AnnounceBy = now.Add(AnnounceLease).Truncate(time.Millisecond) // as Redis keeps it
		u.Announce, u.AnnounceBy = true, b.sum.AnnounceBy
	}
	return u
}

// Expire implements Store.
func (s *Mem) Expire(ctx context.Context, ref Ref, attempt int, now time.Time, reason string) (Update, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.attempt(ref, "", attempt)
	if err != nil {
		return Update{}, err
	}
	if b.waiting == 0 {
		if len(b.sum.Chunks) == 0 && b.sum.AcceptedAt.IsZero() {
			// First claimed at its batch.accepted; here once its deadline
			// has passed without one (lost: the aggregators down past the
			// broker's retries), or its end would never be announced.
			if b.sum.Deadline.IsZero() || !now.After(b.sum.Deadline) {
				return Update{}, nil
			}
			s.finished(b)
			s.notify(b.sum.Ref)
		}
		return s.claim(b, Update{}, now), nil // a released or lapsed announcement
	}
	if b.sum.Deadline.IsZero() || !now.After(b.sum.Deadline) {
		return Update{}, nil
	}
	for i := range b.sum.Chunks {
		if c := &b.sum.Chunks[i]; c.State == ChunkWaiting {
			*c = Chunk{Index: i, State: ChunkDead, Reason: expiredMark + reason, ArrivedAt: now}
			b.arrived = append(b.arrived, i)
			lo, hi := b.sum.Bounds(i)
			b.tally.Add(c, lo, hi)
		}
	}
	b.waiting = 0
	s.finished(b)
	s.notify(b.sum.Ref)
	return s.claim(b, Update{}, now), nil
}

// Overdue implements Store. It also forgets the batches past their
// retention: the aggregator asks every second, so memory is given back
// when no batch comes in.
func (s *Mem) Overdue(ctx context.Context, now time.Time, limit int) ([]Ref, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	var out []Ref
	for ref, b := range s.batches {
		if len(out) >= limit {
			break
		}
		overdue := b.finishedAt.IsZero() && !b.sum.Deadline.IsZero() && now.After(b.sum.Deadline)
		if overdue || !b.finishedAt.IsZero() && b.sum.claimFree(now) { // finished: done, so Unannounced
			out = append(out, ref)
		}
	}
	return out, nil
}

// Recent implements Store.
func (s *Mem) Recent(ctx context.Context, tenant string, limit int) ([]Ref, error) {
	if limit <= 0 {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opt.Now()
	// The tenant's claims, newest first, rather than every batch of the
	// store sorted: a tenant of 200,000 batches held the store's lock for
	// 75 ms a call, and a dozen calls a second of GET /batches stalled
	// every tenant's submissions and chunks.
	var out []Ref
	if c := s.recent[(Ref{Tenant: tenant}).tenant()]; c != nil {
		for i := len(c.list) - 1; i >= 0 && len(out) < min(limit, MaxRecent); i-- {
			if b := s.live(c.list[i]); b != nil && !b.expired(now, s.opt.Options) {
				out = append(out, b.sum.Ref)
			}
		}
	}
	return out, nil
}

// claims are a tenant's claims, in the order made: those of batches
// forgotten or claimed again since are left out once the list has grown
// to twice (and a few) what it held when they last were.
type claims struct {
	list []claimed
	kept int // len(list) when it was last cut
}

// claimed is a claim of a batch, in Mem.recent: its batch, unless it was
// forgotten since or claimed again (another attempt). The claim's number,
// not its time, tells the attempts apart: two claims may read the clock
// alike.
type claimed struct {
	ref   Ref
	claim uint64 // the memBatch's claim
}

// live returns the batch of claim c, nil when it is no longer the one
// held. s.mu is held.
func (s *Mem) live(c claimed) *memBatch {
	if b, ok := s.batches[c.ref]; ok && b.claim == c.claim {
		return b
	}
	return nil
}

// remember adds b, just claimed, to its tenant's claims. s.mu is held.
func (s *Mem) remember(b *memBatch) {
	c := s.recent[b.sum.Ref.Tenant]
	if c == nil {
		c = &claims{}
		s.recent[b.sum.Ref.Tenant] = c
	}
	c.list = append(c.list, claimed{ref: b.sum.Ref, claim: b.claim})
	if len(c.list) >= 2*c.kept+64 {
		c.list = slices.DeleteFunc(c.list, func(cl claimed) bool { return s.live(cl) == nil })
		c.kept = len(c.list)
	}
}

// Summary implements Store.
func (s *Mem) Summary(ctx context.Context, ref Ref) (*Summary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.get(ref)
	if err != nil {
		return nil, err
	}
	cp := b.sum
	cp.Chunks = slices.Clone(b.sum.Chunks)
	for i := range cp.Chunks {
		cp.Chunks[i].Reason = expiredReason(cp.Chunks[i].Reason)
	}
	return &cp, nil
}

// Brief implements Store, from the batch's counts.
func (s *Mem) Brief(ctx context.Context, ref Ref) (*Brief, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.get(ref)
	if err != nil {
		return nil, err
	}
	return &Brief{
		Ref: b.sum.Ref, Attempt: b.sum.Attempt, Trades: b.sum.Trades, SubmittedAt: b.sum.SubmittedAt, AcceptedAt: b.sum.AcceptedAt,
		Chunks: b.tally.Chunks, Done: b.tally.ChunksDone, Dead: b.tally.ChunksDead, LastAt: b.tally.LastAt,
	}, nil
}

// Tally implements Store, from the sums kept as outcomes are recorded.
func (s *Mem) Tally(ctx context.Context, ref Ref) (*Tally, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.get(ref)
	if err != nil {
		return nil, err
	}
	t := b.tally
	t.Header = b.sum.Header
	t.Totals = b.tally.Totals.Clone()
	t.FirstDead = slices.Clone(b.tally.FirstDead)
	for i := range t.FirstDead {
		t.FirstDead[i].Reason = expiredReason(t.FirstDead[i].Reason)
	}
	return &t, nil
}

// Chunks implements Store.
func (s *Mem) Chunks(ctx context.Context, ref Ref, attempt, from, n int) ([]Chunk, []int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.attempt(ref, "", attempt)
	if err != nil {
		return nil, nil, err
	}
	from = min(max(from, 0), len(b.sum.Chunks))
	to := from + min(max(n, 0), len(b.sum.Chunks)-from)
	chunks, trades := slices.Clone(b.sum.Chunks[from:to]), make([]int, to-from)
	for i := range chunks {
		chunks[i].Reason = expiredReason(chunks[i].Reason)
		lo, hi := b.sum.Bounds(from + i)
		trades[i] = hi - lo
	}
	return chunks, trades, nil
}

// Arrivals implements Store.
func (s *Mem) Arrivals(ctx context.Context, ref Ref, attempt, from, n int) (*Arrived, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.attempt(ref, "", attempt)
	if err != nil {
		return nil, err
	}
	from = min(max(from, 0), len(b.arrived))
	idx := b.arrived[from : from+min(max(n, 0), len(b.arrived)-from)]
	a := &Arrived{Chunks: make([]Chunk, len(idx)), Lo: make([]int, len(idx)), Hi: make([]int, len(idx)), SubmittedAt: b.sum.SubmittedAt}
	for k, i := range idx {
		a.Chunks[k] = b.sum.Chunks[i]
		a.Chunks[k].Reason = expiredReason(a.Chunks[k].Reason)
		a.Lo[k], a.Hi[k] = b.sum.Bounds(i)
	}
	return a, nil
}

// Layout implements Store.
func (s *Mem) Layout(ctx context.Context, ref Ref, index int) (Layout, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.get(ref)
	if err != nil {
		return Layout{}, err
	}
	return b.sum.LayoutOf(index), nil
}

// expiredReason strips the mark of a chunk ended by its deadline.
func expiredReason(r string) string {
	if len(r) >= len(expiredMark) && r[:len(expiredMark)] == expiredMark {
		return r[len(expiredMark):]
	}
	return r
}

// Trades implements Store.
func (s *Mem) Trades(ctx context.Context, ref Ref, attempt, index int) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.attempt(ref, "", attempt)
	if err != nil {
		return nil, err
	}
	if index < 0 || index >= len(b.ids) {
		return nil, fmt.Errorf("%w: batch %s has no chunk %d", ErrBadChunk, b.sum.Ref, index)
	}
	return b.ids[index], nil
}

// WriteResults implements Store.
func (s *Mem) WriteResults(ctx context.Context, ref Ref, attempt, index int, w io.Writer) error {
	s.mu.Lock()
	b, err := s.attempt(ref, "", attempt)
	var data []byte
	if err == nil {
		if index < 0 || index >= len(b.results) {
			err = fmt.Errorf("%w: batch %s has no chunk %d", ErrBadChunk, b.sum.Ref, index)
		} else {
			data = b.results[index] // never modified once set
		}
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// Watch implements Store.
func (s *Mem) Watch(ctx context.Context, ref Ref) (<-chan struct{}, func(), error) {
	ref.Tenant = ref.tenant()
	ch, stop := s.watches.Watch(ref.String())
	return ch, stop, nil
}

// notify wakes the waiters on batch ref.
func (s *Mem) notify(ref Ref) { s.watches.Notify(ref.String()) }

// Release implements Store.
func (s *Mem) Release(ctx context.Context, ref Ref, attempt int, by time.Time) error {
	return s.record(ref, "", attempt, func(sum *Summary) {
		if sum.AnnouncedAt.IsZero() && sum.AnnounceBy.Equal(by) { // else made, or a lapsed holder's: the claim is another's
			sum.Announced, sum.AnnounceBy = false, time.Time{}
		}
	})
}

// Announced implements Store.
func (s *Mem) Announced(ctx context.Context, ref Ref, attempt int, at time.Time) error {
	return s.record(ref, "", attempt, func(sum *Summary) {
		sum.Announced, sum.AnnouncedAt, sum.AnnounceBy = true, at, time.Time{}
	})
}
