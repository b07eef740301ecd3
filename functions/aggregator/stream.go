package aggregator

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pricefn/pricefn/api"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/store"
)

// The server-sent events of GET /batches/{id}/events.
const (
	// EventChunk carries a ChunkEvent: one chunk's outcome, as recorded.
	EventChunk = "chunk"
	// EventEnd carries the Status of the finished batch; the stream ends
	// after it.
	EventEnd = "end"
)

// streamKeepalive is how often an idle stream sends a comment, so that
// proxies and load balancers do not close it as idle.
const streamKeepalive = 15 * time.Second

// streamRetry is the reconnection delay the stream asks clients for.
const streamRetry = 2 * time.Second

// streamRest is how many times as long as its last read of the batch a
// stream (of events, or of results: resultsstream.go) waits from that
// read's end before the next (restAfter): a read copied every chunk's
// outcome before it read only those recorded since the last (streamPage),
// and three streams that read a batch of 16,000 chunks at each of their
// outcomes took 10 s of CPU, one of 500,000 chunks (whose outcomes come
// faster than a read) a core of its own. Its reads take a sixth of its
// time at most, and it reports several chunks at once.
const streamRest = 5

// ChunkEvent is the data of an EventChunk: one chunk's outcome as the
// aggregator recorded it (its ChunkTiming, as in the status's timeline),
// and the batch's progress counted over the chunks the stream has
// reported so far, this one included.
type ChunkEvent struct {
	BatchID string `json:"batchId"`
	Attempt int    `json:"attempt"`
	ChunkTiming
	// FirstTrade is the input index of the chunk's first trade.
	FirstTrade int `json:"firstTrade"`
	// PricingSeconds is PricedAt - DeliveredAt, in seconds (pricer busy
	// time).
	PricingSeconds float64  `json:"pricingSeconds,omitempty"`
	Progress       Progress `json:"progress"`
}

// serveEvents answers GET /batches/{id}/events: a text/event-stream of one
// EventChunk per chunk outcome recorded, in the order they were recorded
// (those recorded before the request first), then one EventEnd with the
// batch's Status once every chunk has an outcome, and the end of the
// stream. Each event's id names the attempt, its claim and the chunks
// reported so far ("1.mi9x2k3c/0-4,7", eventID): a client that reconnects
// with it as Last-Event-ID gets only the chunks it has not seen (all of
// them if the batch was priced again since, or is another batch of the
// id), so that no chunk is lost or reported twice,
// whatever order replicas record them in. The stream ends without
// EventEnd when the server drains; a client reconnects then.
func (f *Function) serveEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	if err := host.CheckParams(r.URL, "aggregator", "GET /batches/{id}/events"); err != nil {
		host.WriteError(w, err)
		return
	}
	seen, err := parseEventID(r.Header.Get("Last-Event-ID"))
	if err != nil {
		host.WriteError(w, host.Errorf(http.StatusBadRequest, "aggregator: Last-Event-ID: %w", err))
		return
	}
	ref := store.Ref{Tenant: host.TenantOf(ctx), ID: id}
	changed, stop, err := f.opt.Store.Watch(ctx, ref)
	if err != nil {
		host.WriteError(w, f.unavailable(id, "", err))
		return
	}
	defer func() { stop() }()
	read := time.Now()
	t, err := f.currentTally(ctx, ref)
	if err != nil {
		host.WriteError(w, f.readError(id, "", err))
		return
	}
	took := time.Since(read) // the refresh's reads' length, so far
	if seen.of(&t.Header) {
		if n := seen.max(); n >= t.Chunks {
			host.WriteError(w, host.Errorf(http.StatusBadRequest, "aggregator: Last-Event-ID: chunk %d: batch %q has %d chunks", n, id, t.Chunks))
			return
		}
	}
	tp := t.TraceParent // the batch's trace context, for the log

	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx and the like: do not buffer
	w.WriteHeader(http.StatusOK)
	s := &stream{w: w, st: f.opt.Store, ref: ref, seen: seen}
	fmt.Fprintf(w, "retry: %d\n\n", streamRetry.Milliseconds())
	keepalive := time.NewTicker(streamKeepalive)
	defer keepalive.Stop()
	var next time.Time // the earliest the next read may start (streamRest)
	for {
		s.reading = 0
		err := s.report(ctx, t)
		next = restAfter(took + s.reading)
		var fault storeFault
		switch {
		case errors.Is(err, store.ErrStale):
			// Claimed again since t was read: the new attempt's, at once.
		case errors.As(err, &fault):
			// Forgotten after its retention, or the store is away: the
			// client reconnects and is told.
			f.opt.Log.Warn().Err(fault.error).Str("batchid", id).Str(events.ExtTraceParent, tp).Msg("event stream ended")
			return
		case err != nil:
			return // the client is gone
		case s.done() && t.Done():
			s.end(StatusOfTally(t, f.opt.Now()))
			rc.Flush()
			return
		default:
			// Not done, or its last outcomes were recorded after t was
			// read: their change, seen then, is read at once.
			if rc.Flush() != nil {
				return
			}
			if !f.awaitChange(ctx, w, rc, changed, t.Deadline, keepalive.C) || !f.rest(ctx, time.Until(next)) {
				return
			}
			stop()
			stop = func() {}
			if changed, stop, err = f.opt.Store.Watch(ctx, ref); err != nil {
				stop = func() {}
				f.opt.Log.Warn().Err(err).Str("batchid", id).Str(events.ExtTraceParent, tp).Msg("event stream: watch failed; the client reconnects")
				return
			}
		}
		read = time.Now()
		t, err = f.currentTally(ctx, ref)
		took = time.Since(read)
		if err != nil {
			// Forgotten after its retention, or the store is away: the
			// client reconnects and is told.
			f.opt.Log.Warn().Err(err).Str("batchid", id).Str(events.ExtTraceParent, tp).Msg("event stream ended")
			return
		}
		tp = t.TraceParent
	}
}

// awaitChange waits for a change of the batch or its deadline (zero for
// none), writing a comment at each keepalive tick. It returns false when
// the stream is to end: the client left, a write failed, or the server
// drains.
func (f *Function) awaitChange(ctx context.Context, w io.Writer, rc *http.ResponseController, changed <-chan struct{}, deadline time.Time, keepalive <-chan time.Time) bool {
	var expire <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline) + 10*time.Millisecond)
		defer t.Stop()
		expire = t.C
	}
	for {
		select {
		case <-changed:
			return true
		case <-expire:
			return true
		case <-keepalive:
			if _, err := io.WriteString(w, ": keepalive\n\n"); err != nil || rc.Flush() != nil {
				return false
			}
		case <-ctx.Done():
			return false
		case <-f.drain:
			return false
		}
	}
}

// restAfter returns when the next read may start after reads that took
// took and have just ended: streamRest times their length from now,
// counted down while the stream waits for a change, so that one that
// comes after a quiet spell (the batch's end) is read at once. The writes
// to the client between them do not count: a first read that sent a
// batch's 176 MB of results to a slow client rested five times that.
func restAfter(took time.Duration) time.Time {
	return time.Now().Add(streamRest * took)
}

// rest waits d, the changes meanwhile to be read at once after it. It
// returns false when the stream is to end: the client left, or the server
// drains.
func (f *Function) rest(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-f.drain:
		return false
	}
}

// stream writes one client's events.
type stream struct {
	w    io.Writer
	st   store.Store
	ref  store.Ref
	seen eventID
	prog Progress
	// attempt and claim (claimTag) are the batch's whose outcomes the
	// stream has read, in the order recorded (Store.Arrivals), up to next,
	// the position of the first it has not.
	attempt int
	claim   string
	next    int
	// reading is how long its reads of the outcomes took (restAfter).
	reading time.Duration
}

// streamPage is how many outcomes a stream reads at a time
// (Store.Arrivals): a stream reads those recorded since its last read,
// not every chunk's at each change, which took a sixth of a core per
// client watching a batch of 500,000 chunks; and a page at a time, in
// memory that does not grow with the batch, the first read of one
// priced already included.
const streamPage = 1000

// storeFault is a stream's failed read of the store, told apart from a
// failed write to its client (gone).
type storeFault struct{ error }

// report writes an EventChunk for each chunk of the batch t describes
// that got its outcome since the last report and that the client has not
// seen, in the order recorded (by arrival time within a page read). It
// returns store.ErrStale when the batch
// was claimed again since t was read.
func (s *stream) report(ctx context.Context, t *store.Tally) error {
	if !s.seen.of(&t.Header) { // a new attempt, or a new batch of the id, starts over
		s.seen = eventID{attempt: t.Attempt}
	}
	s.seen.claim = claimTag(t.SubmittedAt)
	if s.attempt != t.Attempt || s.claim != s.seen.claim {
		s.attempt, s.claim, s.next = t.Attempt, s.seen.claim, 0
	}
	counted := 0 // the outcomes before it are counted in s.prog
	if s.next == 0 {
		s.prog = progressOf(t)
		// A client resuming: the chunks it has seen count in the progress
		// of the first it has not, wherever they were recorded.
		for more := len(s.seen.ranges) > 0; more; {
			a, err := s.read(ctx, counted)
			if err != nil || a.All {
				return s.reportAll(t, a, err)
			}
			for k := range a.Chunks {
				if s.seen.has(a.Chunks[k].Index) {
					count(&s.prog, &a.Chunks[k], a.Lo[k], a.Hi[k])
				}
			}
			counted += len(a.Chunks)
			more = len(a.Chunks) == streamPage
		}
	}
	for {
		a, err := s.read(ctx, s.next)
		if err != nil || a.All {
			return s.reportAll(t, a, err)
		}
		if err := s.reportPage(t, a, counted-s.next); err != nil {
			return err
		}
		s.next += len(a.Chunks)
		if len(a.Chunks) < streamPage {
			return nil
		}
	}
}

// reportPage writes an EventChunk for each outcome of a the client has not
// seen, by their arrival time (ArrivedAt, then index), having counted
// those it has seen, past the first skip (counted already).
func (s *stream) reportPage(t *store.Tally, a *store.Arrived, skip int) error {
	var fresh []int
	for k := range a.Chunks {
		switch {
		case !s.seen.has(a.Chunks[k].Index):
			fresh = append(fresh, k)
		case k >= skip:
			count(&s.prog, &a.Chunks[k], a.Lo[k], a.Hi[k])
		}
	}
	slices.SortFunc(fresh, func(i, j int) int {
		return cmp.Or(a.Chunks[i].ArrivedAt.Compare(a.Chunks[j].ArrivedAt), cmp.Compare(a.Chunks[i].Index, a.Chunks[j].Index))
	})
	for _, k := range fresh {
		c := &a.Chunks[k]
		s.seen.add(c.Index)
		count(&s.prog, c, a.Lo[k], a.Hi[k])
		if err := s.write(EventChunk, chunkEvent(t, c, a.Lo[k], a.Hi[k], s.prog)); err != nil {
			return err
		}
	}
	return nil
}

// read reads a page of the outcomes of the stream's attempt from
// position from; a failed read is a storeFault, but for store.ErrStale,
// which a page of another claim of the id than the stream's is, too (the
// batch forgotten and claimed again, at the same attempt, since its
// tally was read).
func (s *stream) read(ctx context.Context, from int) (*store.Arrived, error) {
	defer func(start time.Time) { s.reading += time.Since(start) }(time.Now())
	a, err := s.st.Arrivals(ctx, s.ref, s.attempt, from, streamPage)
	switch {
	case err != nil && !errors.Is(err, store.ErrStale):
		return nil, storeFault{err}
	case err == nil && claimTag(a.SubmittedAt) != s.claim:
		return nil, fmt.Errorf("%w: %s attempt %d, claimed again since its tally was read", store.ErrStale, s.ref, s.attempt)
	}
	return a, err
}

// reportAll is report of a batch whose store kept no order of its
// outcomes (one an earlier release recorded), a its every outcome
// (store.Arrived.All), unless err: the chunks the client has not seen,
// by their arrival time, as a page. The next report reads them all
// again.
func (s *stream) reportAll(t *store.Tally, a *store.Arrived, err error) error {
	if err != nil {
		return err
	}
	s.next = 0
	s.prog = progressOf(t)
	return s.reportPage(t, a, 0)
}

// done reports whether the stream has counted every chunk's outcome.
func (s *stream) done() bool { return s.prog.ChunksDone >= s.prog.Chunks }

// end writes the EventEnd.
func (s *stream) end(st Status) error { return s.write(EventEnd, st) }

func (s *stream) write(event string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.w, "id: %s\nevent: %s\ndata: %s\n\n", s.seen, event, data)
	return err
}

// progressOf is the progress of the batch t describes before any chunk
// is counted: every trade pending.
func progressOf(t *store.Tally) Progress {
	return Progress{State: api.StatePending, Trades: t.Trades, Pending: t.Trades, Chunks: t.Chunks, ScenarioChunks: t.ScenarioChunks}
}

// count adds c, the outcome of a chunk of trades [lo, hi), to p.
func count(p *Progress, c *store.Chunk, lo, hi int) {
	p.ChunksDone++
	if lo == hi {
		p.ScenarioChunksDone++
	}
	if c.State == store.ChunkDead {
		p.ChunksFailed++
		p.Missing += hi - lo
	} else {
		p.Priced += c.Trades - c.Failed
		p.Failed += c.Failed
	}
	p.Pending = p.Trades - p.Priced - p.Failed - p.Missing
	switch {
	case p.ChunksDone < p.Chunks:
		p.State = api.StateRunning
	case p.ChunksFailed == 0:
		p.State = api.StateCompleted
	case p.ChunksFailed == p.Chunks:
		p.State = api.StateFailed
	default:
		p.State = api.StatePartial
	}
}

// chunkEvent describes c, the outcome of a chunk of trades [lo, hi) of
// the batch t describes.
func chunkEvent(t *store.Tally, c *store.Chunk, lo, hi int, p Progress) ChunkEvent {
	e := ChunkEvent{BatchID: t.Ref.ID, Attempt: t.Attempt, ChunkTiming: timingOf(c, hi-lo, t.SubmittedAt), FirstTrade: lo, Progress: p}
	if !c.StartedAt.IsZero() && !c.FinishedAt.IsZero() {
		e.PricingSeconds = c.FinishedAt.Sub(c.StartedAt).Seconds()
	}
	return e
}

// eventID is what a stream has reported: the attempt, the tag of its
// claim, and the set of its chunks, as sorted disjoint ranges [lo, hi].
// It prints as "ATTEMPT.CLAIM/LO-HI,I,..." ("1.mi9x2k3c/0-4,7"; "1.mi9x2k3c/"
// for none). The claim tells apart two batches of the same id and attempt
// (the first forgotten after its retention, or lost with a store's data,
// and the id used again): a stream resumed from the first's id reports
// every chunk of the second. An id without it ("1/0-4", as this server
// wrote them before) is taken as the current batch's.
type eventID struct {
	attempt int
	claim   string
	ranges  [][2]int
}

// claimTag is the tag of the claim submitted at submittedAt: that time,
// in milliseconds, base 36.
func claimTag(submittedAt time.Time) string {
	return strconv.FormatInt(max(submittedAt.UnixMilli(), 0), 36)
}

// of reports whether the id is of h's attempt (and claim, when it names
// one).
func (id *eventID) of(h *store.Header) bool {
	return id.attempt == h.Attempt && (id.claim == "" || id.claim == claimTag(h.SubmittedAt))
}

// maxClaimTag bounds a claim tag's length: 13 base-36 digits hold any
// int64.
const maxClaimTag = 13

// maxEventIDRanges bounds the ranges a Last-Event-ID may hold.
const maxEventIDRanges = 100_000

// parseEventID reads a Last-Event-ID; "" is a stream that saw nothing.
func parseEventID(v string) (eventID, error) {
	var id eventID
	if v == "" {
		return id, nil
	}
	a, list, ok := strings.Cut(v, "/")
	a, claim, tagged := strings.Cut(a, ".")
	n, err := strconv.Atoi(a)
	if ok && errors.Is(err, strconv.ErrRange) {
		return id, fmt.Errorf("attempt %s out of range: no batch has been submitted that often", host.Short(a))
	}
	if !ok || err != nil || n < 1 || tagged && !validClaimTag(claim) {
		return id, fmt.Errorf("%q: want ATTEMPT.CLAIM/CHUNKS as the stream's ids are (\"1.mi9x2k3c/0-4,7\")", host.Short(v))
	}
	id.attempt, id.claim = n, claim
	if list == "" {
		return id, nil
	}
	parts := strings.Split(list, ",")
	if len(parts) > maxEventIDRanges {
		return id, fmt.Errorf("more than %d chunk ranges", maxEventIDRanges)
	}
	next := 0
	for _, p := range parts {
		l, h, isRange := strings.Cut(p, "-")
		lo, err1 := strconv.Atoi(l)
		hi, err2 := lo, error(nil)
		if isRange {
			hi, err2 = strconv.Atoi(h)
		}
		// A number past int (or at its end, where next would wrap) is
		// no batch's chunk: said so, not taken for a misordered list.
		if errors.Is(err1, strconv.ErrRange) || lo == math.MaxInt {
			return eventID{}, fmt.Errorf("chunk %s out of range: no batch has that many chunks", host.Short(l))
		}
		if errors.Is(err2, strconv.ErrRange) || hi == math.MaxInt {
			return eventID{}, fmt.Errorf("chunk %s out of range: no batch has that many chunks", host.Short(h))
		}
		if err1 != nil || err2 != nil || lo < next || hi < lo {
			return eventID{}, fmt.Errorf("%q: chunk ranges must be ascending and disjoint, as LO-HI or I", host.Short(p))
		}
		id.ranges = append(id.ranges, [2]int{lo, hi})
		next = hi + 1
	}
	return id, nil
}

// validClaimTag reports whether t can be a claim tag: 1 to maxClaimTag
// base-36 digits.
func validClaimTag(t string) bool {
	if t == "" || len(t) > maxClaimTag {
		return false
	}
	for _, c := range []byte(t) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// has reports whether chunk i is in the set.
func (id *eventID) has(i int) bool {
	k := sort.Search(len(id.ranges), func(k int) bool { return id.ranges[k][1] >= i })
	return k < len(id.ranges) && id.ranges[k][0] <= i
}

// add puts chunk i in the set, merging adjacent ranges.
func (id *eventID) add(i int) {
	k := sort.Search(len(id.ranges), func(k int) bool { return id.ranges[k][1] >= i-1 })
	switch {
	case k < len(id.ranges) && id.ranges[k][0] <= i && i <= id.ranges[k][1]:
		return // already in
	case k < len(id.ranges) && id.ranges[k][1] == i-1:
		id.ranges[k][1] = i
		if k+1 < len(id.ranges) && id.ranges[k+1][0] == i+1 {
			id.ranges[k][1] = id.ranges[k+1][1]
			id.ranges = slices.Delete(id.ranges, k+1, k+2)
		}
	case k < len(id.ranges) && id.ranges[k][0] == i+1:
		id.ranges[k][0] = i
	default:
		id.ranges = slices.Insert(id.ranges, k, [2]int{i, i})
	}
}

// max returns the largest chunk in the set, -1 for none.
func (id *eventID) max() int {
	if len(id.ranges) == 0 {
		return -1
	}
	return id.ranges[len(id.ranges)-1][1]
}

// String writes the id as parseEventID reads it.
func (id eventID) String() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(id.attempt))
	if id.claim != "" {
		b.WriteByte('.')
		b.WriteString(id.claim)
	}
	b.WriteByte('/')
	for k, r := range id.ranges {
		if k > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(r[0]))
		if r[1] > r[0] {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(r[1]))
		}
	}
	return b.String()
}
