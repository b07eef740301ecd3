package pricer

import (
	"context"
	"fmt"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
)

// priceInto prices the chunk c, b compiled as job, into the reply p, and
// counts its trades' outcomes: encoded as they are priced, in blocks on
// every core (metrics.priceEncoded), unless scenarios need every result
// first (price). It fails only if ctx ends first, or a result cannot be
// encoded.
func (f *Function) priceInto(ctx context.Context, p *events.ChunkPriced, c *events.ChunkRequested, b *batch.Batch, job *batch.Job, types []string) (*tally, error) {
	if c.Scenarios == nil && !job.ScenarioDetail() {
		buf, totals, counts, err := f.metrics.priceEncoded(ctx, job, types, b.Underlyings(), f.priceOptions())
		if err != nil {
			return nil, err
		}
		p.SetEncodedResults(buf, totals)
		return counts, nil
	}
	results, partials, err := f.price(ctx, c, job, types)
	if err != nil {
		return nil, err
	}
	p.Scenarios = partials
	if err := p.SetResults(results, b.Underlyings()); err != nil {
		return nil, err
	}
	counts := f.metrics.tally()
	counts.add(results, types)
	return counts, nil
}

// price values the chunk c compiled as job. A scenario chunk returns no
// trade results but the exact sums of its trades in its scenarios, placed
// among the batch's (wire format section 1c); a base chunk returns its
// trades' results, each with its npv in every scenario under
// scenarioDetail "trades". It fails only if ctx ends first.
func (f *Function) price(ctx context.Context, c *events.ChunkRequested, job *batch.Job, types []string) ([]batch.TradeResult, *batch.ScenarioPartials, error) {
	opt := f.priceOptions()
	if blk := c.Scenarios; blk != nil {
		p, err := job.PriceScenarios(ctx, opt, nil)
		if err != nil {
			return nil, nil, err
		}
		f.metrics.scenarioWork(p, types)
		p.Offset, p.Of, p.Risk = blk.Offset, blk.Of, blk.Risk
		return []batch.TradeResult{}, p, nil
	}
	results, err := f.metrics.price(ctx, job, types, f.priceOptions())
	if err == nil && job.ScenarioDetail() {
		var p *batch.ScenarioPartials
		if p, err = job.PriceScenarios(ctx, opt, results); err == nil {
			f.metrics.scenarioWork(p, types)
		}
	}
	return results, nil, err
}

// checkScenarioBlock checks a scenario chunk's place among its batch's
// scenarios: the scenarios it carries fit in the batch's count.
func checkScenarioBlock(c *events.ChunkRequested) error {
	blk := c.Scenarios
	if blk == nil {
		return nil
	}
	n := len(c.Batch.Scenarios.List)
	if n == 0 || blk.Offset < 0 || blk.Of > batch.MaxScenarios || blk.Offset+n > blk.Of {
		return fmt.Errorf("chunk.requested data: scenarios [%d, %d) of %d", blk.Offset, blk.Offset+n, blk.Of)
	}
	return nil
}
