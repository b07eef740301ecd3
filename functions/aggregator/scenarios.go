package aggregator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/store"
)

// storedResults returns what the store keeps as the results of chunk c,
// laid out as lay says, given its trades' encoded results: those for a
// base chunk; for a scenario chunk (one that holds no trades of its own,
// batch.PlanChunks), its exact sums per scenario (batch.ScenarioPartials),
// encoded. A chunk that carries what its place does not hold is refused.
func storedResults(lay store.Layout, c *events.ChunkPriced, encoded []byte) ([]byte, error) {
	lo, hi := lay.Lo, lay.Hi
	switch {
	case lo == hi && c.Scenarios == nil:
		return nil, fmt.Errorf("%w: batch %s chunk %d is a scenario chunk, got no scenario sums", store.ErrBadChunk, c.BatchID, c.Index)
	case lo == hi:
		return json.Marshal(c.Scenarios)
	case c.Scenarios != nil:
		return nil, fmt.Errorf("%w: batch %s chunk %d holds trades [%d, %d), got scenario sums", store.ErrBadChunk, c.BatchID, c.Index, lo, hi)
	}
	return encoded, nil
}

// scenarioCollector gathers the scenario chunks of a batch while its
// results are written, and ends the document with the scenarios and their
// risk statistics.
type scenarioCollector struct {
	totals *batch.ScenarioTotals
	// missing lists the scenario chunks without sums (dead).
	missing []int
}

// collect adds scenario chunk c.Index of the batch sum lays out, whose
// outcome is c: its sums, or its trades as failed in its scenarios when
// it has none, or when its block's base chunk has none (base is that
// chunk's state): a trade not priced in the base market is left out of
// every scenario's sums (wire format 1c), and a scenario chunk's sums are
// whole, not per trade. The chunk's scenario ids are kept either way.
func (f *Function) collectScenarios(ctx context.Context, sum *store.Summary, c *store.Chunk, base store.ChunkState, col *scenarioCollector) error {
	i := c.Index
	if c.State != store.ChunkPriced {
		col.missing = append(col.missing, i)
		return nil
	}
	var buf bytes.Buffer
	if err := f.opt.Store.WriteResults(ctx, sum.Ref, sum.Attempt, i, &buf); err != nil {
		return err
	}
	var p batch.ScenarioPartials
	if err := json.Unmarshal(buf.Bytes(), &p); err != nil {
		return fmt.Errorf("aggregator: batch %s chunk %d: %w", sum.Ref.ID, i, err)
	}
	if col.totals == nil {
		col.totals = batch.NewScenarioTotals(p.Of, p.Risk)
	}
	add := &p
	if _, ok := blockBase(sum, i); ok && base != store.ChunkPriced {
		add = p.IDs()
		col.missing = append(col.missing, i)
	}
	if err := col.totals.Add(add); err != nil {
		return fmt.Errorf("aggregator: batch %s chunk %d: %w", sum.Ref.ID, i, err)
	}
	return nil
}

// blockBase returns the base chunk of chunk i's block, the last chunk at
// its offset (batch.PlanChunks), and whether there is one: the block of a
// batch of no trades is scenario chunks alone.
func blockBase(sum *store.Summary, i int) (int, bool) {
	j := i
	for j+1 < len(sum.ChunkOffsets) && sum.ChunkOffsets[j+1] == sum.ChunkOffsets[i] {
		j++
	}
	lo, hi := sum.Bounds(j)
	return j, lo < hi
}

// finish sets the scenario members of the document rw writes: the sums
// of every scenario chunk, the trades of the chunks that died (or whose
// block's base chunk died) counted as failed in their scenarios. A batch
// none of whose scenario chunks priced has no scenario members (nothing is
// known of its scenarios).
func (col *scenarioCollector) finish(sum *store.Summary, rw *batch.ResultsWriter) error {
	if col.totals == nil {
		return nil
	}
	ranges := batch.ScenarioRanges(sum.ChunkOffsets, sum.Trades, col.totals.Len())
	for _, i := range col.missing {
		// The block's base chunk, its last chunk, holds its trades.
		j, _ := blockBase(sum, i)
		lo, hi := sum.Bounds(j)
		col.totals.AddFailed(ranges[i][0], ranges[i][1], hi-lo)
	}
	scs, risk := col.totals.Results()
	if sum.Trades > 0 && !slices.ContainsFunc(scs, func(s batch.ScenarioResult) bool { return s.Failed < sum.Trades }) {
		// No trade priced in any scenario (every block's base chunk, or
		// every scenario chunk, died): a VaR of 0 would be a figure of
		// nothing. The scenarios stand, each counting every trade failed.
		risk = nil
	}
	return rw.SetScenarios(scs, risk)
}
