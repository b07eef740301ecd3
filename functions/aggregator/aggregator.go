// Package aggregator is the function that collects priced chunks and
// serves the results API. It records io.pricefn.batch.accepted and
// io.pricefn.chunk.priced events idempotently (delivery is at least once
// and unordered: a duplicate chunk is counted and ignored, chunks may come
// in any order), records dead-lettered chunks, ends batches whose deadline
// passes with chunks missing, and announces each batch's end once with
// io.pricefn.batch.completed. Batch state lives in a store.Store shared
// with ingress and every other aggregator replica; the function keeps none.
//
// Ingress claims a batch in the store before it sends any event, so a
// chunk of a batch the store does not know is answered 404, which a broker
// retries: only a store that is not shared makes that last.
//
// A batch id is an idempotency key: an event of another batch submitted
// under the id (another events.Digest), or of an earlier attempt of it, is
// acknowledged, logged and ignored.
package aggregator

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/protocol"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/store"
)

// sender sends one event to the broker; the CloudEvents client and
// *host.Sender satisfy it.
type sender interface {
	Send(ctx context.Context, e event.Event) protocol.Result
}

// Options configures the aggregator. Store is required.
type Options struct {
	// Store keeps the batches; ingress claims them there.
	Store store.Store
	// Sender delivers batch.completed to the broker (K_SINK); nil
	// announces nothing.
	Sender sender
	// Source is the CloudEvents source of batch.completed.
	Source string
	// PublicURL is the base of the results API in batch.completed ("" gives
	// relative URLs).
	PublicURL string
	// MaxWait caps ?wait on the results API; 0 means DefaultMaxWait.
	MaxWait time.Duration
	// UnknownGrace is how long ?wait holds a request for a batch the
	// store does not know, in case it is about to be claimed; a poll for an
	// id that never existed answers 404 after it rather than after the
	// whole wait. 0 means DefaultUnknownGrace.
	UnknownGrace time.Duration
	// SweepEvery is how often Run looks for batches past their deadline;
	// 0 means DefaultSweepEvery.
	SweepEvery time.Duration
	// AnnounceTimeout bounds the send of one batch.completed, a broker's
	// 429s and their retries included; 0 means half of
	// store.AnnounceLease. A send given up releases the claim.
	AnnounceTimeout time.Duration
	// Log receives one line per batch event.
	Log zerolog.Logger
	// Registerer receives the aggregator's metrics; nil registers none.
	Registerer prometheus.Registerer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Defaults for the zero fields of Options.
const (
	// DefaultSource is the source of batch.completed.
	DefaultSource = "/pricefn/aggregator"
	// DefaultMaxWait caps ?wait.
	DefaultMaxWait = 5 * time.Minute
	// DefaultUnknownGrace is how long ?wait waits for an unknown batch.
	DefaultUnknownGrace = 5 * time.Second
	// DefaultSweepEvery is how often deadlines are checked.
	DefaultSweepEvery = time.Second
)

// Function is the aggregator function.
type Function struct {
	opt       Options
	metrics   *metrics
	drain     chan struct{}
	drainOnce sync.Once
	// failing counts the failures in a row to end or announce each
	// batch, for the log.
	failing repeats
}

// New returns the aggregator. It panics if opt.Store is nil or its metrics
// cannot be registered with opt.Registerer (registered twice): programmer
// errors.
func New(opt Options) *Function {
	if opt.Store == nil {
		panic("aggregator: New without a Store")
	}
	if opt.Source == "" {
		opt.Source = DefaultSource
	}
	if opt.MaxWait <= 0 {
		opt.MaxWait = DefaultMaxWait
	}
	if opt.UnknownGrace <= 0 {
		opt.UnknownGrace = DefaultUnknownGrace
	}
	if opt.SweepEvery <= 0 {
		opt.SweepEvery = DefaultSweepEvery
	}
	if opt.AnnounceTimeout <= 0 || opt.AnnounceTimeout > store.AnnounceLease/2 {
		opt.AnnounceTimeout = store.AnnounceLease / 2
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	m := newMetrics(opt.Registerer, opt.Store)
	if opt.Registerer != nil {
		opt.Store = m.timed(opt.Store)
	}
	return &Function{opt: opt, metrics: m, drain: make(chan struct{})}
}

// Drain makes every long poll answer at once with what it has; call it
// when the server shuts down.
func (f *Function) Drain() { f.drainOnce.Do(func() { close(f.drain) }) }

// Handle records a batch.accepted or chunk.priced event. It never replies.
// An event it cannot read, or a chunk that does not fit its batch, is a
// 400 and nothing is stored; a chunk of a batch not known yet is a 404,
// which the broker retries.
func (f *Function) Handle(ctx context.Context, e event.Event) (*event.Event, error) {
	switch e.Type() {
	case events.TypeBatchAccepted:
		return nil, f.accepted(ctx, e)
	case events.TypeChunkPriced:
		return nil, f.priced(ctx, e)
	}
	f.metrics.reject(rejectWrongType)
	return nil, host.Errorf(http.StatusBadRequest, "aggregator: %w: got %q, want %s or %s", events.ErrWrongType, e.Type(), events.TypeBatchAccepted, events.TypeChunkPriced)
}

// refOf names the batch id of event e's tenant.
func refOf(e event.Event, id string) store.Ref {
	return store.Ref{Tenant: events.Tenant(e), ID: id}
}

// attemptOf reads an event's attempt: events without one are attempt 1.
func attemptOf(n int) int { return max(n, 1) }

func (f *Function) accepted(ctx context.Context, e event.Event) error {
	a, err := events.Decode[events.BatchAccepted](e, events.TypeBatchAccepted)
	switch ext := events.BatchID(e); {
	case err != nil:
	case a.BatchID == "":
		err = errors.New("batch.accepted without batchId")
	case batch.CheckBatchID(a.BatchID) != nil:
		// No batch ingress accepted has it: refused before it is
		// quoted in errors and log lines, whatever its length.
		err = fmt.Errorf("batch.accepted: %w", batch.CheckBatchID(a.BatchID))
	case ext != "" && ext != a.BatchID:
		err = fmt.Errorf("batch.accepted: batchid extension %q differs from batchId %q", host.Short(ext), host.Short(a.BatchID))
	}
	if err != nil {
		f.metrics.rejected.WithLabelValues(rejectMalformed).Inc()
		return host.Errorf(http.StatusBadRequest, "aggregator: %w", err)
	}
	ref, attempt := refOf(e, a.BatchID), attemptOf(a.Attempt)
	log := f.opt.Log.With().Str("batchid", a.BatchID).Int("attempt", attempt).Str(events.ExtTraceParent, traceParent(e)).Logger()
	upd, err := f.opt.Store.Accept(ctx, ref, a.Digest, attempt, f.opt.Now().UTC())
	if err != nil {
		return f.storeError(err, log, "batch.accepted")
	}
	if upd.Duplicate {
		f.metrics.duplicates.WithLabelValues("batch_accepted").Inc()
		log.Debug().Msg("duplicate batch.accepted ignored")
	} else {
		log.Info().Int("trades", a.Trades).Int("chunks", len(a.ChunkOffsets)).Msg("batch accepted")
	}
	return f.announce(ctx, ref, attempt, upd, false)
}

// storeError turns a store's refusal of an event into the delivery's
// answer: an unknown batch is a 404 (retried: its claim may not be
// visible yet), another batch's or an earlier attempt's event is
// acknowledged and ignored, a chunk that does not fit is a 400.
func (f *Function) storeError(err error, log zerolog.Logger, what string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		f.metrics.chunks.WithLabelValues("early").Inc()
		f.metrics.rejected.WithLabelValues(rejectUnknownBatch).Inc()
		return host.Errorf(http.StatusNotFound, "aggregator: %s: %w: retry later", what, err)
	case errors.Is(err, store.ErrConflict):
		f.metrics.chunks.WithLabelValues("conflict").Inc()
		log.Error().Err(err).Msgf("%s of another batch submitted under the same id ignored", what)
		return nil
	case errors.Is(err, store.ErrStale):
		f.metrics.chunks.WithLabelValues("stale").Inc()
		log.Warn().Err(err).Msgf("%s of an earlier attempt ignored", what)
		return nil
	case errors.Is(err, store.ErrBadChunk):
		f.metrics.reject(rejectBadChunk)
		return host.Errorf(http.StatusBadRequest, "aggregator: %s: %w", what, err)
	}
	return host.Errorf(http.StatusServiceUnavailable, "aggregator: %s: %w", what, err)
}

func (f *Function) priced(ctx context.Context, e event.Event) error {
	c, err := events.Decode[events.ChunkPriced](e, events.TypeChunkPriced)
	switch ext := events.BatchID(e); {
	case err != nil:
	case c.BatchID == "":
		err = errors.New("chunk.priced without batchId")
	case batch.CheckBatchID(c.BatchID) != nil:
		err = fmt.Errorf("chunk.priced: %w", batch.CheckBatchID(c.BatchID))
	case ext != "" && ext != c.BatchID:
		err = fmt.Errorf("chunk.priced: batchid extension %q differs from batchId %q", host.Short(ext), host.Short(c.BatchID))
	}
	if err != nil {
		f.metrics.reject(rejectMalformed)
		// The event's id and batchid are the sender's, of any length.
		return host.Errorf(http.StatusBadRequest, "aggregator: chunk.priced %s (batchid %q): %w", host.Short(e.ID()), host.Short(events.BatchID(e)), err)
	}
	ref, attempt := refOf(e, c.BatchID), attemptOf(c.Attempt)
	log := f.opt.Log.With().Str("batchid", c.BatchID).Int("attempt", attempt).Int("chunk", c.Index).Str(events.ExtTraceParent, traceParent(e)).Logger()
	what := fmt.Sprintf("chunk %d of batch %s", c.Index, c.BatchID)
	// The chunk's layout alone: the batch's Summary, every chunk's
	// outcome, read for each outcome took the square of its chunks.
	lay, err := f.opt.Store.Layout(ctx, ref, c.Index)
	if err != nil {
		return f.storeError(err, log, what)
	}
	if lay.Digest != c.Digest && c.Digest != "" {
		return f.storeError(fmt.Errorf("%w: %s", store.ErrConflict, ref), log, what)
	}
	if attempt != lay.Attempt {
		return f.storeError(fmt.Errorf("%w: attempt %d, now %d", store.ErrStale, attempt, lay.Attempt), log, what)
	}
	// The results stay the bytes the pricer wrote: scanned for their ids
	// and errors, not decoded.
	sc, err := c.ScanResults()
	if err == nil && c.TotalPartials[""] == nil && c.Totals[""] == nil {
		// A pricer of an earlier release may send no totals: the
		// results' own, then, overall only (the chunk does not name
		// underlyings).
		var rs []batch.TradeResult
		if rs, err = c.DecodeResults(); err == nil {
			var t batch.ChunkTotaler
			t.Add(rs, nil)
			c.TotalPartials = t.Partials()
		}
	}
	if err != nil {
		f.metrics.reject(rejectMalformed)
		return host.Errorf(http.StatusBadRequest, "aggregator: %s: %w", what, err)
	}
	if err := checkChunk(lay, &c, sc.IDs.Len()); err != nil {
		f.metrics.reject(rejectBadChunk)
		return host.Errorf(http.StatusBadRequest, "aggregator: %w", err)
	}
	ids, err := f.opt.Store.Trades(ctx, ref, attempt, c.Index)
	if err != nil {
		return f.storeError(err, log, what)
	}
	for k := range sc.IDs.Len() {
		if !sc.IDs.Is(k, ids[k]) {
			f.metrics.reject(rejectBadChunk)
			return host.Errorf(http.StatusBadRequest, "aggregator: %w: batch %s chunk %d result %d is for trade %q, want %q", store.ErrBadChunk, c.BatchID, c.Index, k, sc.IDs.At(k), ids[k])
		}
	}
	encoded, err := storedResults(lay, &c, sc.Run) // scenarios.go
	if err != nil {
		f.metrics.reject(rejectMalformed)
		return host.Errorf(http.StatusBadRequest, "aggregator: %s: %w", what, err)
	}
	failed := sc.Failed
	upd, err := f.opt.Store.Put(ctx, ref, c.Digest, attempt, store.Chunk{
		Index:       c.Index,
		State:       store.ChunkPriced,
		Results:     encoded,
		Given:       host.DataGiven(ctx), // kept as it is, not copied
		Trades:      sc.IDs.Len(),
		Failed:      failed,
		Totals:      c.Totals,
		Partials:    c.TotalPartials,
		RequestedAt: c.RequestedAt,
		StartedAt:   c.StartedAt,
		FinishedAt:  c.FinishedAt,
		ArrivedAt:   f.opt.Now().UTC(),
		PricedBy:    c.PricedBy,
	})
	if err != nil {
		return f.storeError(err, log, what)
	}
	switch {
	case upd.Late:
		f.metrics.chunks.WithLabelValues("late").Inc()
		log.Warn().Msg("chunk arrived after the batch's deadline ended it: ignored")
	case upd.Duplicate:
		f.metrics.chunks.WithLabelValues("duplicate").Inc()
		f.metrics.duplicates.WithLabelValues("chunk_priced").Inc()
		log.Info().Msg("duplicate chunk ignored")
	default:
		f.metrics.chunks.WithLabelValues("priced").Inc()
		f.metrics.observeTransit(c.RequestedAt, c.StartedAt, c.FinishedAt, f.opt.Now())
		log.Debug().Int("trades", sc.IDs.Len()).Int("failed", failed).Msg("chunk recorded")
	}
	return f.announce(ctx, ref, attempt, upd, false)
}

// checkChunk checks that c, with n results, is chunk c.Index of the
// batch lay describes: the same chunk count and offset, one result per
// trade.
func checkChunk(lay store.Layout, c *events.ChunkPriced, n int) error {
	chunks := lay.Chunks
	if c.Index < 0 || c.Index >= chunks || c.Chunks != chunks {
		return fmt.Errorf("%w: batch %s has %d chunks, got chunk %d of %d", store.ErrBadChunk, c.BatchID, chunks, c.Index, c.Chunks)
	}
	lo, hi := lay.Lo, lay.Hi
	if c.Offset != lo || n != hi-lo {
		return fmt.Errorf("%w: batch %s chunk %d holds trades [%d, %d), got %d results from %d", store.ErrBadChunk, c.BatchID, c.Index, lo, hi, n, c.Offset)
	}
	return nil
}

// HandleDeadLetter receives the events the broker gave up delivering. A
// dead chunk.requested marks its chunk dead, with the broker's
// knativeerror* extensions as the reason; a dead chunk.priced or
// batch.accepted is recorded if it still can be, and a chunk.priced that
// cannot be (its results do not fit the batch) marks its chunk dead, so
// that the batch still finishes. An error the broker retries is returned
// for the broker to retry: nothing is dropped that a later attempt could
// record. Other events are logged and dropped: there is nowhere further to
// send them.
func (f *Function) HandleDeadLetter(ctx context.Context, e event.Event) (*event.Event, error) {
	f.metrics.deadLetter(e.Type())
	log := f.opt.Log.With().Str("batchid", host.Short(events.BatchID(e))).Str("type", host.Short(e.Type())).Str("id", host.Short(e.ID())).Str(events.ExtTraceParent, traceParent(e)).Logger()
	switch e.Type() {
	case events.TypeChunkRequested:
		return nil, f.dead(ctx, e, deadReason(e))
	case events.TypeChunkPriced, events.TypeBatchAccepted:
		_, err := f.Handle(ctx, e)
		switch {
		case err == nil || events.Retryable(host.Status(err)):
			return nil, err
		case e.Type() == events.TypeChunkPriced:
			return nil, f.dead(ctx, e, fmt.Sprintf("%s; its result was refused: %s", deadReason(e), host.Message(err)))
		}
		log.Error().Str("error", host.Message(err)).Msg("dead-lettered event dropped")
		return nil, nil
	}
	log.Warn().Str("reason", deadReason(e)).Str("dest", deadDest(e)).Str("data", host.Clip(deadData(e), maxReasonPart)).Msg("dead-lettered event dropped")
	return nil, nil
}

// dead records the chunk of a dead-lettered chunk.requested or
// chunk.priced as dead, for reason.
func (f *Function) dead(ctx context.Context, e event.Event, reason string) error {
	var c struct {
		BatchID string `json:"batchId"`
		Attempt int    `json:"attempt"`
		Index   *int   `json:"index"`
		Digest  string `json:"digest"`
		// RequestedAt is when ingress sent the chunk (the timeline's).
		RequestedAt time.Time `json:"requestedAt"`
	}
	if err := json.Unmarshal(e.Data(), &c); err != nil || c.BatchID == "" || c.Index == nil {
		return host.Errorf(http.StatusBadRequest, "aggregator: dead-lettered %s %s without batchId and index", host.Short(e.Type()), host.Short(e.ID()))
	}
	if err := batch.CheckBatchID(c.BatchID); err != nil {
		return host.Errorf(http.StatusBadRequest, "aggregator: dead-lettered %s %s: %w", host.Short(e.Type()), host.Short(e.ID()), err)
	}
	index, attempt, ref := *c.Index, attemptOf(c.Attempt), refOf(e, c.BatchID)
	log := f.opt.Log.With().Str("batchid", c.BatchID).Int("attempt", attempt).Int("chunk", index).Str(events.ExtTraceParent, traceParent(e)).Logger()
	upd, err := f.opt.Store.Put(ctx, ref, c.Digest, attempt, store.Chunk{Index: index, State: store.ChunkDead, Reason: reason,
		RequestedAt: c.RequestedAt, ArrivedAt: f.opt.Now().UTC()})
	if err != nil {
		return f.storeError(err, log, fmt.Sprintf("dead-lettered chunk %d of batch %s", index, c.BatchID))
	}
	switch {
	case upd.Late || upd.Duplicate:
		f.metrics.chunks.WithLabelValues("duplicate").Inc()
		f.metrics.duplicates.WithLabelValues("dead_letter").Inc()
		log.Info().Str("reason", reason).Msg("dead letter for a chunk with an outcome ignored")
	default:
		f.metrics.chunks.WithLabelValues("dead").Inc()
		log.Error().Str("reason", reason).Str("dest", deadDest(e)).Str("data", host.Clip(deadData(e), maxReasonPart)).Msg("chunk dead-lettered")
	}
	return f.announce(ctx, ref, attempt, upd, false)
}

// deadReason describes why the broker dead-lettered e, from the
// knativeerrorcode and knativeerrordata extensions. They are outside the
// event's signature, written by whoever posted the dead letter: the reason
// is shown to the batch's tenant (status, trade errors, console, pricefn
// trace), so its control characters, a terminal's escapes among them, are
// replaced. It names no address: knativeerrordest, the subscriber's URL,
// is the log's (deadDest), as is the address of a subscriber that did not
// answer, which the broker's "dispatch error" quotes.
func deadReason(e event.Event) string {
	ext := e.Extensions()
	str := func(k string) string {
		if v, ok := ext[k]; ok {
			return printable(fmt.Sprint(v))
		}
		return ""
	}
	var b strings.Builder
	b.WriteString("delivery failed")
	if c := str("knativeerrorcode"); c != "" {
		b.WriteString(" with status " + host.Clip(c, maxReasonPart))
	}
	if d := deadData(e); d != "" {
		b.WriteString(": " + host.Clip(dispatchError(d), maxReasonPart))
	}
	return b.String()
}

// deadData is the broker's report of why it could not deliver e
// (knativeerrordata, decoded), whole. The log keeps it, cut as the
// reason's parts are, with the address a subscriber that did not answer
// was dialled at, which the reason leaves out (dispatchError).
func deadData(e event.Event) string {
	v, ok := e.Extensions()["knativeerrordata"]
	if !ok {
		return ""
	}
	// Trimmed before its control characters are replaced: the newline
	// that ends a subscriber's JSON answer came back as a trailing U+FFFD.
	d := printable(strings.TrimSpace(fmt.Sprint(v)))
	if raw, err := base64.StdEncoding.DecodeString(d); err == nil && utf8.Valid(raw) {
		d = printable(strings.TrimSpace(string(raw)))
	}
	return d
}

// deadDest is the subscriber a dead letter's broker could not deliver e
// to (knativeerrordest), for the log.
func deadDest(e event.Event) string {
	v, ok := e.Extensions()["knativeerrordest"]
	if !ok {
		return ""
	}
	return host.Clip(printable(fmt.Sprint(v)), maxReasonPart)
}

// dispatchError keeps of a broker's report of a subscriber that did not
// answer, Knative's "dispatch error: " and Go's error for the request
// (`Post "http://pricer.ns.svc.cluster.local": dial tcp 10.0.0.7:80:
// connect: connection refused`), its last part, the cause, which names no
// address ("dispatch error: connection refused"); any other report, the
// subscriber's answer, is left as it is.
func dispatchError(d string) string {
	for _, prefix := range []string{"dispatch error: ", "broker: dispatch error: "} {
		if rest, ok := strings.CutPrefix(d, prefix); ok {
			if i := strings.LastIndex(rest, ": "); i >= 0 {
				rest = rest[i+len(": "):]
			}
			return "dispatch error: " + rest
		}
	}
	return d
}

// maxReasonPart bounds, in bytes, each extension of the broker's report
// in a dead chunk's reason. The reason is repeated in the error of each of
// the chunk's trades: a report of 100 KB, which anyone who posts a dead
// letter may write, would have made the results of a 10,000-trade chunk a
// gigabyte.
const maxReasonPart = 500

// printable replaces s's control characters, format characters (bidi
// overrides that reorder what a reader sees, zero-width ones) and line or
// paragraph separators, and bytes that are not UTF-8, with U+FFFD,
// keeping the rest of its text as it is.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(s, string(utf8.RuneError)))
}

// releaseTimeout bounds giving back the claim to announce.
const releaseTimeout = 10 * time.Second

// announce sends batch.completed when upd holds the claim and records it
// made; if the send fails it releases the claim and fails the delivery, so
// that the broker redelivers it and the redelivery announces. A claim held
// by an aggregator that dies before either lapses (store.AnnounceLease),
// and the deadline sweep announces.
func (f *Function) announce(ctx context.Context, ref store.Ref, attempt int, upd store.Update, count bool) error {
	if !upd.Announce {
		return nil
	}
	sum, err := f.opt.Store.Summary(ctx, ref)
	if err != nil {
		return host.Errorf(http.StatusServiceUnavailable, "aggregator: batch %s: %w", ref.ID, err)
	}
	if sum.Attempt != attempt || !sum.Done() {
		// A resubmission claimed the id between the outcome that ended
		// this attempt and this read (a client waiting on the results
		// may resubmit a partial or failed batch at once): the ended
		// attempt's record is gone, and the new attempt announces its
		// own end. Nothing to send, and the delivery is done.
		f.opt.Log.Info().Str("batchid", ref.ID).Int("attempt", attempt).Int("current", sum.Attempt).
			Msg("batch ended and was resubmitted before its end was announced: not announced")
		return nil
	}
	// The event being handled's trace, else (a deadline's sweep) the
	// batch's own.
	tp := host.TraceParentOf(ctx)
	if tp == "" {
		tp = sum.TraceParent
	}
	log := f.opt.Log.With().Str("batchid", ref.ID).Int("attempt", attempt).Str(events.ExtTraceParent, tp).Logger()
	st := StatusOf(sum, f.opt.Now())
	if f.opt.Sender != nil {
		var missing []string
		missing, err = f.missingIDs(ctx, sum)
		var e event.Event
		if err == nil {
			e, err = events.New(events.TypeBatchCompleted, f.opt.Source, completedEventID(ref, attempt, sum.Digest), ref.ID, events.BatchCompleted{
				BatchID:         ref.ID,
				Attempt:         attempt,
				State:           st.State,
				Trades:          st.Trades,
				Priced:          st.Priced,
				Failed:          st.Failed,
				Missing:         st.Missing,
				Chunks:          st.Chunks,
				ChunksDone:      st.ChunksDone,
				MissingTradeIDs: missing,
				ResultsURL:      f.resultsURL(sum),
				SubmittedAt:     st.Timings.SubmittedAt,
				CompletedAt:     *st.Timings.CompletedAt,
				DurationSeconds: st.Timings.DurationSeconds,
			})
		}
		if err == nil {
			e.SetExtension(events.ExtTenant, ref.Tenant)
			if tp != "" {
				e.SetExtension(events.ExtTraceParent, tp)
			}
			// Within the claim's lease: a broker answering 429 is retried
			// until the context ends, and a send held past the lease would
			// be made again by whoever took the lapsed claim.
			sctx, cancel := context.WithTimeout(ctx, f.opt.AnnounceTimeout)
			err = f.opt.Sender.Send(sctx, e)
			cancel()
		}
		if err != nil {
			err = host.Errorf(http.StatusServiceUnavailable, "aggregator: batch %s: announcing completion: %w", ref.ID, err)
			if count {
				// Before the claim is given back: counted after, the
				// claim's next holder could announce the batch and forget
				// its failures first, and this one would start a new count
				// for a batch announced (a stray warning, a count never
				// forgotten).
				n, logged := f.failing.fail(ref, err)
				err = &countedFailure{err: err, n: n, logged: logged}
			}
			// Its own time: ctx may be what ran out (a client gone).
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
			if rerr := f.opt.Store.Release(rctx, ref, attempt, upd.AnnounceBy); rerr != nil {
				log.Error().Err(rerr).Msg("releasing the announcement claim failed")
			}
			cancel()
			return err
		}
	}
	// Made (or nothing to send it to): the claim is kept for good. Should
	// this record fail, the claim lapses and the sweep announces again,
	// under the same event id.
	if err := f.opt.Store.Announced(ctx, ref, attempt, f.opt.Now()); err != nil {
		log.Warn().Err(err).Msg("recording the announcement failed: it is made again once its claim lapses")
	}
	f.metrics.batches.WithLabelValues(st.State).Inc()
	f.metrics.latency.WithLabelValues(st.State).Observe(st.Timings.DurationSeconds)
	log.Info().Str("state", st.State).Int("trades", st.Trades).Int("priced", st.Priced).Int("failed", st.Failed).
		Int("missing", st.Missing).Int("duplicates", st.Duplicates).Float64("seconds", st.Timings.DurationSeconds).Msg("batch finished")
	return nil
}

// completedEventID is the id of attempt's batch.completed: the batch id
// (and its tenant, events.EventIDBase), the attempt and the start of the
// batch's digest, so that an id used again for other content, once its
// batch is forgotten (Options.Retain), or by another tenant, is announced
// under another event id, not one a consumer that deduplicates takes for
// the first batch's.
func completedEventID(ref store.Ref, attempt int, digest string) string {
	base := events.EventIDBase(ref.Tenant, ref.ID)
	s := base + "/completed"
	if attempt > 1 {
		s = fmt.Sprintf("%s/a%d/completed", base, attempt)
	}
	if h := strings.TrimPrefix(digest, "sha256:"); len(h) >= 12 {
		s += "/" + h[:12]
	}
	return s
}

// MaxMissingIDs bounds the trade ids batch.completed names as missing
// (its missing count has them all; the results, each one's error): 1,000
// of up to 256 bytes keep it within a broker's event size. Every one of
// them made 142,000 ids of 248 bytes an event over the local broker's 32
// MiB, refused (413) at each of its sends, so that the batch's end was
// never announced and the batch never submitted again (503, "being
// announced"), while the retries rebuilt it, some 40 MB, every second.
const MaxMissingIDs = 1000

// missingIDs lists the trades of the batch's dead chunks, the first
// MaxMissingIDs of them.
func (f *Function) missingIDs(ctx context.Context, sum *store.Summary) ([]string, error) {
	var out []string
	for i := range sum.Chunks {
		if len(out) == MaxMissingIDs {
			break
		}
		// A scenario chunk holds no trades: not asked for them, one
		// call (a round trip to Redis) for each of up to a million.
		if lo, hi := sum.Bounds(i); sum.Chunks[i].State == store.ChunkDead && lo < hi {
			ids, err := f.opt.Store.Trades(ctx, sum.Ref, sum.Attempt, i)
			if err != nil {
				return nil, err
			}
			out = append(out, ids[:min(len(ids), MaxMissingIDs-len(out))]...)
		}
	}
	return out, nil
}

// resultsURL is where the batch's results are served.
func (f *Function) resultsURL(sum *store.Summary) string {
	if f.opt.PublicURL == "" && sum.ResultsURL != "" {
		return sum.ResultsURL
	}
	return f.opt.PublicURL + "/batches/" + sum.Ref.ID + "/results"
}
