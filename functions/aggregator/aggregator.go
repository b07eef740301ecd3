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
	// MaxWait caps ?wait on the results API; 0 means 5 minutes.
	MaxWait time.Duration
	// Log receives one line per batch event.
	Log zerolog.Logger
	// Registerer receives the aggregator's metrics; nil registers none.
	Registerer prometheus.Registerer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultSource is the source of batch.completed unless Options says.
const DefaultSource = "/pricefn/aggregator"

// Function is the aggregator function.
type Function struct {
	opt       Options
	metrics   *metrics
	drain     chan struct{}
	drainOnce sync.Once
}

// New returns the aggregator. It panics if opt.Store is nil, a programmer
// error.
func New(opt Options) *Function {
	if opt.Store == nil {
		panic("aggregator: New without a Store")
	}
	if opt.Source == "" {
		opt.Source = DefaultSource
	}
	if opt.MaxWait <= 0 {
		opt.MaxWait = 5 * time.Minute
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
		log.Debug().Msg("duplicate batch.accepted ignored")
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
	if err == nil && c.BatchID == "" {
		err = errors.New("chunk.priced without batchId")
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
	if err := checkChunk(rec, &c); err != nil {
		f.metrics.chunks.WithLabelValues("rejected").Inc()
		return host.Errorf(http.StatusBadRequest, "aggregator: %w", err)
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
	log := f.opt.Log.With().Str("batchid", c.BatchID).Int("chunk", c.Index).Logger()
	if upd.Duplicate {
		f.metrics.chunks.WithLabelValues("duplicate").Inc()
		log.Info().Msg("duplicate chunk ignored")
	} else {
		f.metrics.chunks.WithLabelValues("priced").Inc()
		log.Debug().Int("trades", len(c.Results)).Int("failed", failed).Msg("chunk recorded")
	}
	return f.announce(ctx, c.BatchID, upd)
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
// batch.accepted is recorded if it still can be. Other events are logged
// and dropped: there is nowhere further to send them.
func (f *Function) HandleDeadLetter(ctx context.Context, e event.Event) (*event.Event, error) {
	log := f.opt.Log.With().Str("batchid", events.BatchID(e)).Str("type", e.Type()).Str("id", e.ID()).Logger()
	switch e.Type() {
	case events.TypeChunkRequested:
		return nil, f.dead(ctx, e)
	case events.TypeChunkPriced, events.TypeBatchAccepted:
		_, err := f.Handle(ctx, e)
		if err != nil && host.Status(err) < 500 {
			log.Error().Err(err).Msg("dead-lettered event dropped")
			return nil, nil
		}
		return nil, err
	}
	log.Warn().Str("reason", deadReason(e)).Msg("dead-lettered event dropped")
	return nil, nil
}

// dead records a dead-lettered chunk.requested.
func (f *Function) dead(ctx context.Context, e event.Event) error {
	var c struct {
		BatchID string `json:"batchId"`
		Index   int    `json:"index"`
	}
	if err := json.Unmarshal(e.Data(), &c); err != nil || c.BatchID == "" {
		return host.Errorf(http.StatusBadRequest, "aggregator: dead-lettered chunk.requested %s without batchId and index: %v", e.ID(), err)
	}
	reason := deadReason(e)
	upd, err := f.opt.Store.Put(ctx, c.BatchID, Chunk{Index: c.Index, State: ChunkDead, Reason: reason, ArrivedAt: f.opt.Now().UTC()})
	switch {
	case errors.Is(err, ErrNotFound):
		return host.Errorf(http.StatusNotFound, "aggregator: dead-lettered chunk %d of unknown batch %s", c.Index, c.BatchID)
	case errors.Is(err, ErrBadChunk):
		return host.Errorf(http.StatusBadRequest, "aggregator: %w", err)
	case err != nil:
		return fmt.Errorf("aggregator: batch %s chunk %d: %w", c.BatchID, c.Index, err)
	}
	log := f.opt.Log.With().Str("batchid", c.BatchID).Int("chunk", c.Index).Logger()
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
