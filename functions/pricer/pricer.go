// Package pricer is the function that prices one chunk of a batch: it
// receives io.pricefn.chunk.requested, prices the chunk's trades across the
// cores it has, and replies with io.pricefn.chunk.priced, which the broker
// routes to the aggregator. It keeps no state between events but the
// bootstrapped curves it has built, which the next chunks on the same
// curve use as they are (batch.CurveCache).
package pricer

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/semaphore"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
)

// Options configures the pricer. The zero value is valid.
type Options struct {
	// Source is the CloudEvents source of its replies.
	Source string
	// Name names this instance in its replies (PricedBy), e.g. K_SERVICE.
	Name string
	// Workers is how many trades are priced at once; 0 means every core.
	Workers int
	// Log receives one line per chunk.
	Log zerolog.Logger
	// Registerer receives the pricer's metrics; nil registers none.
	Registerer prometheus.Registerer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// LateGrace is how long past its batch's deadline a chunk is still
	// priced (clocks differ); later it is skipped, its delivery done
	// with no reply. 0 means DefaultLateGrace.
	LateGrace time.Duration
	// Curves keeps the bootstrapped curves of the chunks priced, for the
	// chunks after that carry the same curve (the other chunks of a
	// batch, a chunk delivered again): each is bootstrapped once, not
	// once a chunk. A curve is shared by the chunks of one tenant
	// (batch.Engines.CurveScope): another tenant's chunk builds its own.
	// nil means a cache of batch.DefaultCurveCachePillars of the
	// pricer's own.
	Curves *batch.CurveCache
}

// DefaultLateGrace is Options.LateGrace's default: the aggregator ends a
// batch at its deadline by its own clock, and ignores what comes later.
const DefaultLateGrace = 30 * time.Second

// DefaultSource is the source of the pricer's replies unless Options says.
const DefaultSource = "/pricefn/pricer"

// Function is the pricer function.
type Function struct {
	opt     Options
	metrics *metrics
	// cores are shared by the chunks it prices at once (Knative's
	// containerConcurrency, pricefn dev's --chunks-at-once): each chunk
	// prices on all of them, never on more between them.
	cores *semaphore.Weighted
}

// priceOptions are the options a chunk is priced with.
func (f *Function) priceOptions() batch.Options {
	return batch.Options{Workers: f.opt.Workers, Cores: f.cores}
}

// New returns the pricer function. It panics if its metrics cannot be
// registered with opt.Registerer (registered twice), a programmer error.
func New(opt Options) *Function {
	if opt.Source == "" {
		opt.Source = DefaultSource
	}
	if opt.LateGrace <= 0 {
		opt.LateGrace = DefaultLateGrace
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Curves == nil {
		opt.Curves = batch.NewCurveCache(0)
	}
	cores := opt.Workers
	if cores <= 0 {
		cores = runtime.GOMAXPROCS(0)
	}
	return &Function{opt: opt, metrics: newMetrics(opt.Registerer, opt.Curves), cores: semaphore.NewWeighted(int64(cores))}
}

// Handle prices the chunk of a chunk.requested event and returns the
// chunk.priced reply. Trades that cannot be priced are results with an
// error; an event it cannot read (wrong type, malformed data, a batch that
// does not compile) is a 400, which a broker does not retry.
func (f *Function) Handle(ctx context.Context, e event.Event) (*event.Event, error) {
	defer f.metrics.requests.Begin()()
	started := f.opt.Now()
	c, b, err := readChunk(e)
	if err != nil {
		f.metrics.rejected.WithLabelValues(rejectMalformed).Inc()
		return nil, host.Errorf(http.StatusBadRequest, "pricer: %w", err)
	}
	defer b.Release() // its trades' memory serves a next chunk
	// The traceparent is logged cut as an error quotes a value: the
	// sender chose its length.
	tp, _ := e.Extensions()[events.ExtTraceParent].(string)
	log := f.opt.Log.With().Str("batchid", c.BatchID).Int("chunk", c.Index).Str(events.ExtTraceParent, host.Short(tp)).Logger()
	if !c.Deadline.IsZero() && started.After(c.Deadline.Add(f.opt.LateGrace)) {
		// The batch ended at its deadline: a queue (a broker's, a
		// restarted engine's) held this chunk past it. Pricing it would
		// be work thrown away, ahead of live batches' chunks.
		f.metrics.expired.Inc()
		log.Info().Time("deadline", c.Deadline).Msg("chunk of a batch past its deadline: skipped")
		return nil, nil
	}
	// Each trade compiled by the worker that prices it, just before: b
	// stays as it is until the chunk is priced (its release is deferred).
	// Its bootstrapped curves are those built for an earlier chunk.
	job, err := batch.CompileLazily(b, batch.Engines{Curves: f.opt.Curves, CurveScope: events.Tenant(e)})
	if err != nil {
		f.metrics.rejected.WithLabelValues(rejectInvalidBatch).Inc()
		return nil, host.Errorf(http.StatusBadRequest, "pricer: batch %s chunk %d: %w", c.BatchID, c.Index, err)
	}
	types := tradeTypes(b)
	priced := events.ChunkPriced{
		BatchID:     c.BatchID,
		Attempt:     c.Attempt,
		Index:       c.Index,
		Chunks:      c.Chunks,
		Offset:      c.Offset,
		RequestedAt: c.RequestedAt,
		StartedAt:   started.UTC(),
		PricedBy:    f.opt.Name,
		Digest:      c.Digest,
	}
	counts, err := f.priceInto(ctx, &priced, c, b, job, types)
	if err != nil {
		if ctx.Err() != nil {
			// Only a cancelled request gets here: the broker retries.
			return nil, host.Errorf(http.StatusServiceUnavailable, "pricer: batch %s chunk %d: %w", c.BatchID, c.Index, err)
		}
		return nil, fmt.Errorf("pricer: batch %s chunk %d: %w", c.BatchID, c.Index, err)
	}
	finished := f.opt.Now()
	priced.FinishedAt = finished.UTC()
	reply, err := events.New(events.TypeChunkPriced, f.opt.Source, PricedEventID(e.ID()), c.BatchID, priced)
	if err != nil {
		return nil, fmt.Errorf("pricer: batch %s chunk %d: %w", c.BatchID, c.Index, err)
	}
	reply.SetExtension(events.ExtTenant, events.Tenant(e))
	if tp, ok := e.Extensions()[events.ExtTraceParent]; ok {
		reply.SetExtension(events.ExtTraceParent, tp)
	}
	f.metrics.chunk.Observe(finished.Sub(started).Seconds())
	counts.record()
	log.Debug().Int("trades", job.Len()).Int("failed", counts.failures()).Float64("seconds", finished.Sub(started).Seconds()).Msg("chunk priced")
	return &reply, nil
}

// PricedEventID is the id of the chunk.priced reply to the chunk.requested
// event requestID: the same for every pricing of that chunk.
func PricedEventID(requestID string) string { return requestID + "/priced" }

// readChunk checks and decodes a chunk.requested event strictly: the
// event codec rejects unknown fields, and the batch in it decodes as
// batch.Decode does.
func readChunk(e event.Event) (*events.ChunkRequested, *batch.Batch, error) {
	c, err := events.Decode[events.ChunkRequested](e, events.TypeChunkRequested)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case c.BatchID == "":
		return nil, nil, fmt.Errorf("chunk.requested data: no batchId")
	case batch.CheckBatchID(c.BatchID) != nil:
		// No batch ingress accepted has it: refused before it is
		// quoted in errors and log lines, whatever its length.
		return nil, nil, fmt.Errorf("chunk.requested data: %w", batch.CheckBatchID(c.BatchID))
	case c.Chunks < 1 || c.Index < 0 || c.Index >= c.Chunks:
		return nil, nil, fmt.Errorf("chunk.requested data: index %d of %d chunks", c.Index, c.Chunks)
	case c.Offset < 0:
		return nil, nil, fmt.Errorf("chunk.requested data: offset %d", c.Offset)
	case c.Batch.Trades == nil:
		return nil, nil, fmt.Errorf("chunk.requested data: no batch")
	}
	if id := events.BatchID(e); id != "" && id != c.BatchID {
		return nil, nil, fmt.Errorf("batchid extension %q differs from the data's batchId %q", host.Short(id), c.BatchID)
	}
	b := &c.Batch
	b.ID = c.BatchID
	if err := checkScenarioBlock(&c); err != nil {
		return nil, nil, err
	}
	return &c, b, nil
}
