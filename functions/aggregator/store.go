package aggregator

import (
	"context"
	"errors"
	"time"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
)

// Store keeps the batches the aggregator collects. Several aggregator
// replicas may share one store, so each method is one atomic step; the
// aggregator keeps no batch state of its own. MemStore is the in-memory
// implementation.
type Store interface {
	// Create records an accepted batch. A batch that exists already is left
	// as it is and reported as a duplicate (at-least-once delivery).
	Create(ctx context.Context, a events.BatchAccepted, at time.Time) (Update, error)
	// Put records the outcome of chunk c.Index of batch id: priced or dead.
	// The first outcome of a chunk wins; later ones are counted as
	// duplicates and otherwise ignored. It returns ErrNotFound for an
	// unknown batch and ErrBadChunk for an index the batch does not have.
	Put(ctx context.Context, id string, c Chunk) (Update, error)
	// Get returns a snapshot of batch id, or ErrNotFound. The snapshot's
	// results are shared with the store and must not be modified.
	Get(ctx context.Context, id string) (*Record, error)
	// Watch returns a channel closed at the next change of batch id (its
	// creation included). Call stop when done waiting.
	Watch(ctx context.Context, id string) (changed <-chan struct{}, stop func(), err error)
	// Release gives back the claim to announce batch id's completion that
	// an Update granted, after the announcement failed, so that the next
	// delivery of any of its chunks claims it again.
	Release(ctx context.Context, id string) error
}

// Errors of a Store.
var (
	// ErrNotFound reports an unknown batch.
	ErrNotFound = errors.New("aggregator: batch not found")
	// ErrBadChunk reports a chunk that does not fit its batch.
	ErrBadChunk = errors.New("aggregator: chunk does not fit its batch")
)

// Update reports what a Create or Put did.
type Update struct {
	// Duplicate says the batch or the chunk's outcome was already recorded.
	Duplicate bool
	// Announce says the batch is finished (every chunk has an outcome) and
	// the caller holds the claim to announce it: exactly one caller gets
	// it, unless the claim is released.
	Announce bool
}

// ChunkState is where a chunk is.
type ChunkState uint8

// The chunk states.
const (
	// ChunkWaiting: no outcome yet.
	ChunkWaiting ChunkState = iota
	// ChunkPriced: its results arrived.
	ChunkPriced
	// ChunkDead: its delivery failed for good (dead-lettered).
	ChunkDead
)

// Chunk is the outcome of one chunk.
type Chunk struct {
	Index int
	State ChunkState
	// Results holds one result per trade of the chunk (ChunkPriced).
	Results []batch.TradeResult
	// Failed counts the results with an error.
	Failed int
	// Totals are the chunk's portfolio sums.
	Totals Totals
	// Reason says why the chunk is dead (ChunkDead).
	Reason string
	// StartedAt and FinishedAt bound the pricing, by the pricer's clock.
	StartedAt, FinishedAt time.Time
	// ArrivedAt is when the aggregator recorded the outcome.
	ArrivedAt time.Time
	// PricedBy names the pricer instance.
	PricedBy string
	// Deliveries counts the outcomes that arrived for the chunk, the first
	// and its duplicates.
	Deliveries int
}

// Record is one batch as a Store keeps it.
type Record struct {
	Accepted   events.BatchAccepted
	AcceptedAt time.Time
	// Chunks holds one entry per chunk, by index.
	Chunks []Chunk
	// Duplicates counts duplicate deliveries of chunk outcomes.
	Duplicates int
	// Announced says the completion announcement is claimed (or made).
	Announced bool
}

// Done reports whether every chunk has an outcome.
func (r *Record) Done() bool {
	for i := range r.Chunks {
		if r.Chunks[i].State == ChunkWaiting {
			return false
		}
	}
	return true
}

// bounds returns the trade range [lo, hi) of chunk i.
func (r *Record) bounds(i int) (lo, hi int) {
	offs := r.Accepted.ChunkOffsets
	lo, hi = offs[i], len(r.Accepted.TradeIDs)
	if i+1 < len(offs) {
		hi = offs[i+1]
	}
	return lo, hi
}
