// Package aggregator is the function that collects priced chunks and
// serves the results API. It records io.pricefn.batch.accepted and
// io.pricefn.chunk.priced events idempotently (delivery is at least once
// and unordered: a duplicate chunk is counted and ignored, chunks may come
// in any order), records dead-lettered chunks, and announces each batch's
// end once with io.pricefn.batch.completed. Batch state lives behind Store.
//
// A chunk.priced event for a batch whose batch.accepted has not arrived yet
// is answered 404, which a broker retries with backoff: ingress sends
// batch.accepted before any chunk, so the wait is short, and nothing is
// stored for a batch the aggregator cannot check the chunk against.
//
// A batch id is an idempotency key: a batch submitted again under an id in
// use, with other content (another events.Digest), is not mixed into the
// first one. Its events are acknowledged, logged and ignored, and the first
// batch's results stand.
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
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/protocol"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
)

// sender sends one event to the broker; the CloudEvents client and
// *host.Sender satisfy it.
type sender interface {
	Send(ctx context.Context, e event.Event) protocol.Result
}

// Options configures the aggregator. Store is required.
type Options struct {
	// Store keeps the batches.
	Store Store
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
	// aggregator does not know. Ingress answers 202 once batch.accepted is
	// with the broker, a moment before it reaches the aggregator, so a poll
	// right after submitting waits this long for the batch to appear; a
	// poll for an id that never existed answers 404 after it rather than
	// after the whole wait. 0 means DefaultUnknownGrace.
	UnknownGrace time.Duration
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
	// DefaultUnknownGrace is how long ?wait waits for an unknown batch: a
	// broker's first retries of batch.accepted fit in it (Knative's
	// defaults: 0.2 + 0.4 + 0.8 + 1.6 s).
	DefaultUnknownGrace = 5 * time.Second
)

// Function is the aggregator function.
type Function struct {
	opt       Options
	metrics   *metrics
	drain     chan struct{}
	drainOnce sync.Once
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
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Function{opt: opt, metrics: newMetrics(opt.Registerer), drain: make(chan struct{})}
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
	f.metrics.chunks.WithLabelValues("rejected").Inc()
	return nil, host.Errorf(http.StatusBadRequest, "aggregator: %w: got %q, want %s or %s", events.ErrWrongType, e.Type(), events.TypeBatchAccepted, events.TypeChunkPriced)
}

func (f *Function) accepted(ctx context.Context, e event.Event) error {
	a, err := events.Decode[events.BatchAccepted](e, events.TypeBatchAccepted)
	if err == nil {
		err = checkAccepted(&a, events.BatchID(e))
	}
	if err != nil {
		return host.Errorf(http.StatusBadRequest, "aggregator: %w", err)
	}
	upd, err := f.opt.Store.Create(ctx, a, f.opt.Now().UTC())
	if err != nil {
		return fmt.Errorf("aggregator: batch %s: %w", a.BatchID, err)
	}
	log := f.opt.Log.With().Str("batchid", a.BatchID).Logger()
	if upd.Duplicate {
		// Ignored either way; a claim it got (after a failed announcement)
		// is still the first batch's to announce.
		if rec, err := f.opt.Store.Get(ctx, a.BatchID); err != nil || !f.conflict(rec, a.Digest, log) {
			log.Debug().Msg("duplicate batch.accepted ignored")
		}
	} else {
		log.Info().Int("trades", len(a.TradeIDs)).Int("chunks", len(a.ChunkOffsets)).Msg("batch accepted")
	}
	return f.announce(ctx, a.BatchID, upd)
}

// checkAccepted checks that a describes a batch: chunk offsets start at 0
// and increase within the trades.
func checkAccepted(a *events.BatchAccepted, ext string) error {
	if a.BatchID == "" {
		return errors.New("batch.accepted without batchId")
	}
	if ext != "" && ext != a.BatchID {
		return fmt.Errorf("batch.accepted: batchid extension %q differs from batchId %q", ext, a.BatchID)
	}
	for i, o := range a.ChunkOffsets {
		if (i == 0 && o != 0) || (i > 0 && o <= a.ChunkOffsets[i-1]) || o >= len(a.TradeIDs) {
			return fmt.Errorf("batch.accepted %s: chunkOffsets[%d] = %d is out of order or range", a.BatchID, i, o)
		}
	}
	if len(a.TradeIDs) > 0 && len(a.ChunkOffsets) == 0 {
		return fmt.Errorf("batch.accepted %s: %d trades in no chunk", a.BatchID, len(a.TradeIDs))
	}
	if a.Underlyings != nil && len(a.Underlyings) != len(a.TradeIDs) {
		return fmt.Errorf("batch.accepted %s: %d underlyings for %d trades", a.BatchID, len(a.Underlyings), len(a.TradeIDs))
	}
	return nil
}

func (f *Function) priced(ctx context.Context, e event.Event) error {
	c, err := events.Decode[events.ChunkPriced](e, events.TypeChunkPriced)
	switch ext := events.BatchID(e); {
	case err != nil:
	case c.BatchID == "":
		err = errors.New("chunk.priced without batchId")
	case ext != "" && ext != c.BatchID:
		err = fmt.Errorf("chunk.priced: batchid extension %q differs from batchId %q", ext, c.BatchID)
	}
	if err != nil {
		f.metrics.chunks.WithLabelValues("rejected").Inc()
		return host.Errorf(http.StatusBadRequest, "aggregator: %w", err)
	}
	rec, err := f.opt.Store.Get(ctx, c.BatchID)
	if errors.Is(err, ErrNotFound) {
		f.metrics.chunks.WithLabelValues("early").Inc()
		return host.Errorf(http.StatusNotFound, "aggregator: chunk %d of batch %s: batch not known yet (its batch.accepted has not arrived): retry later", c.Index, c.BatchID)
	}
	if err != nil {
		return fmt.Errorf("aggregator: batch %s: %w", c.BatchID, err)
	}
	log := f.opt.Log.With().Str("batchid", c.BatchID).Int("chunk", c.Index).Logger()
	if f.conflict(rec, c.Digest, log) {
		return nil
	}
	if err := checkChunk(rec, &c); err != nil {
		f.metrics.chunks.WithLabelValues("rejected").Inc()
		return host.Errorf(http.StatusBadRequest, "%w", err)
	}
	failed := 0
	for i := range c.Results {
		if c.Results[i].Error != "" {
			failed++
		}
	}
	upd, err := f.opt.Store.Put(ctx, c.BatchID, Chunk{
		Index:      c.Index,
		State:      ChunkPriced,
		Results:    c.Results,
		Failed:     failed,
		Totals:     chunkTotals(c.Results, c.Offset, rec.Accepted.Underlyings),
		StartedAt:  c.StartedAt,
		FinishedAt: c.FinishedAt,
		ArrivedAt:  f.opt.Now().UTC(),
		PricedBy:   c.PricedBy,
	})
	if err != nil {
		return fmt.Errorf("aggregator: batch %s chunk %d: %w", c.BatchID, c.Index, err)
	}
	if upd.Duplicate {
		f.metrics.chunks.WithLabelValues("duplicate").Inc()
		log.Info().Msg("duplicate chunk ignored")
	} else {
		f.metrics.chunks.WithLabelValues("priced").Inc()
		log.Debug().Int("trades", len(c.Results)).Int("failed", failed).Msg("chunk recorded")
	}
	return f.announce(ctx, c.BatchID, upd)
}

// conflict reports whether an event of digest belongs to another batch
// than rec, submitted later under the same id: then it is acknowledged and
// ignored, logged and counted, so that the first batch's results stand
// unmixed (ingress, which keeps no state, cannot refuse the reused id).
// Events without a digest are taken as rec's.
func (f *Function) conflict(rec *Record, digest string, log zerolog.Logger) bool {
	if digest == "" || rec.Accepted.Digest == "" || digest == rec.Accepted.Digest {
		return false
	}
	f.metrics.chunks.WithLabelValues("conflict").Inc()
	log.Error().Str("digest", digest).Str("batchDigest", rec.Accepted.Digest).
		Msg("event of another batch submitted under the same id ignored: the first batch's results stand")
	return true
}

// checkChunk checks that c is chunk c.Index of rec's batch: the same chunk
// count and offset, one result per trade, with the batch's trade ids.
func checkChunk(rec *Record, c *events.ChunkPriced) error {
	n := len(rec.Chunks)
	if c.Index < 0 || c.Index >= n || c.Chunks != n {
		return fmt.Errorf("%w: batch %s has %d chunks, got chunk %d of %d", ErrBadChunk, c.BatchID, n, c.Index, c.Chunks)
	}
	lo, hi := rec.bounds(c.Index)
	if c.Offset != lo || len(c.Results) != hi-lo {
		return fmt.Errorf("%w: batch %s chunk %d holds trades [%d, %d), got %d results from %d", ErrBadChunk, c.BatchID, c.Index, lo, hi, len(c.Results), c.Offset)
	}
	for k := range c.Results {
		if want := rec.Accepted.TradeIDs[lo+k]; c.Results[k].ID != want {
			return fmt.Errorf("%w: batch %s chunk %d result %d is for trade %q, want %q", ErrBadChunk, c.BatchID, c.Index, k, c.Results[k].ID, want)
		}
	}
	return nil
}

// HandleDeadLetter receives the events the broker gave up delivering. A
// dead chunk.requested marks its chunk dead, with the broker's
// knativeerror* extensions as the reason; a dead chunk.priced or
// batch.accepted is recorded if it still can be, and a chunk.priced that
// cannot be (its results do not fit the batch) marks its chunk dead, so
// that the batch still finishes. An error the broker retries (a chunk of a
// batch whose batch.accepted is late: 404) is returned for the broker to
// retry: nothing is dropped that a later attempt could record. Other events
// are logged and dropped: there is nowhere further to send them.
func (f *Function) HandleDeadLetter(ctx context.Context, e event.Event) (*event.Event, error) {
	log := f.opt.Log.With().Str("batchid", events.BatchID(e)).Str("type", e.Type()).Str("id", e.ID()).Logger()
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
	log.Warn().Str("reason", deadReason(e)).Msg("dead-lettered event dropped")
	return nil, nil
}

// dead records the chunk of a dead-lettered chunk.requested or
// chunk.priced as dead, for reason.
func (f *Function) dead(ctx context.Context, e event.Event, reason string) error {
	var c struct {
		BatchID string `json:"batchId"`
		Index   *int   `json:"index"`
		Digest  string `json:"digest"`
	}
	if err := json.Unmarshal(e.Data(), &c); err != nil || c.BatchID == "" || c.Index == nil {
		return host.Errorf(http.StatusBadRequest, "aggregator: dead-lettered %s %s without batchId and index", e.Type(), e.ID())
	}
	index := *c.Index
	log := f.opt.Log.With().Str("batchid", c.BatchID).Int("chunk", index).Logger()
	rec, err := f.opt.Store.Get(ctx, c.BatchID)
	switch {
	case errors.Is(err, ErrNotFound):
		return host.Errorf(http.StatusNotFound, "aggregator: dead-lettered chunk %d of unknown batch %s", index, c.BatchID)
	case err != nil:
		return fmt.Errorf("aggregator: batch %s: %w", c.BatchID, err)
	case f.conflict(rec, c.Digest, log):
		return nil
	}
	upd, err := f.opt.Store.Put(ctx, c.BatchID, Chunk{Index: index, State: ChunkDead, Reason: reason, ArrivedAt: f.opt.Now().UTC()})
	switch {
	case errors.Is(err, ErrNotFound):
		return host.Errorf(http.StatusNotFound, "aggregator: dead-lettered chunk %d of unknown batch %s", index, c.BatchID)
	case errors.Is(err, ErrBadChunk):
		return host.Errorf(http.StatusBadRequest, "%w", err)
	case err != nil:
		return fmt.Errorf("aggregator: batch %s chunk %d: %w", c.BatchID, index, err)
	}
	if upd.Duplicate {
		f.metrics.chunks.WithLabelValues("duplicate").Inc()
		log.Info().Str("reason", reason).Msg("dead letter for a chunk with an outcome ignored")
	} else {
		f.metrics.chunks.WithLabelValues("dead").Inc()
		log.Error().Str("reason", reason).Msg("chunk dead-lettered")
	}
	return f.announce(ctx, c.BatchID, upd)
}

// deadReason describes why the broker dead-lettered e, from the
// knativeerrordest, knativeerrorcode and knativeerrordata extensions.
func deadReason(e event.Event) string {
	ext := e.Extensions()
	str := func(k string) string {
		if v, ok := ext[k]; ok {
			return fmt.Sprint(v)
		}
		return ""
	}
	var b strings.Builder
	b.WriteString("delivery failed")
	if d := str("knativeerrordest"); d != "" {
		b.WriteString(" to " + d)
	}
	if c := str("knativeerrorcode"); c != "" {
		b.WriteString(" with status " + c)
	}
	if d := str("knativeerrordata"); d != "" {
		if raw, err := base64.StdEncoding.DecodeString(d); err == nil && utf8.Valid(raw) {
			d = string(raw)
		}
		d = strings.TrimSpace(d)
		if len(d) > 500 {
			d = d[:500] + "..."
		}
		b.WriteString(": " + d)
	}
	return b.String()
}

// announce sends batch.completed when upd holds the claim; if the send
// fails it releases the claim and fails the delivery, so that the broker
// redelivers it and the redelivery announces.
func (f *Function) announce(ctx context.Context, id string, upd Update) error {
	if !upd.Announce {
		return nil
	}
	rec, err := f.opt.Store.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("aggregator: batch %s: %w", id, err)
	}
	st := StatusOf(rec, f.opt.Now())
	log := f.opt.Log.With().Str("batchid", id).Logger()
	if f.opt.Sender != nil {
		e, err := events.New(events.TypeBatchCompleted, f.opt.Source, id+"/completed", id, events.BatchCompleted{
			BatchID:         id,
			State:           st.State,
			Trades:          st.Trades,
			Priced:          st.Priced,
			Failed:          st.Failed,
			Missing:         st.Missing,
			Chunks:          st.Chunks,
			ChunksDone:      st.ChunksDone,
			MissingTradeIDs: missingIDs(rec),
			ResultsURL:      f.resultsURL(rec),
			SubmittedAt:     st.Timings.SubmittedAt,
			CompletedAt:     *st.Timings.CompletedAt,
			DurationSeconds: st.Timings.DurationSeconds,
		})
		if err == nil {
			err = f.opt.Sender.Send(ctx, e)
		}
		if err != nil {
			if rerr := f.opt.Store.Release(ctx, id); rerr != nil {
				log.Error().Err(rerr).Msg("releasing the announcement claim failed")
			}
			return host.Errorf(http.StatusServiceUnavailable, "aggregator: batch %s: announcing completion: %w", id, err)
		}
	}
	f.metrics.batches.WithLabelValues(st.State).Inc()
	f.metrics.latency.WithLabelValues(st.State).Observe(st.Timings.DurationSeconds)
	log.Info().Str("state", st.State).Int("trades", st.Trades).Int("priced", st.Priced).Int("failed", st.Failed).
		Int("missing", st.Missing).Int("duplicates", st.Duplicates).Float64("seconds", st.Timings.DurationSeconds).Msg("batch finished")
	return nil
}

// resultsURL is where rec's results are served.
func (f *Function) resultsURL(rec *Record) string {
	if f.opt.PublicURL == "" && rec.Accepted.ResultsURL != "" {
		return rec.Accepted.ResultsURL
	}
	return f.opt.PublicURL + "/batches/" + rec.Accepted.BatchID + "/results"
}
