package pricer

import (
	"context"
	"fmt"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
)

// price values the chunk c compiled as job. A scenario chunk returns no
// trade results but the exact sums of its trades in its scenarios, placed
// among the batch's (wire format section 1c); a base chunk returns its
// trades' results, each with its npv in every scenario under
// scenarioDetail "trades". It fails only if ctx ends first.
func (f *Function) price(ctx context.Context, c *events.ChunkRequested, job *batch.Job, types []string) ([]batch.TradeResult, *batch.ScenarioPartials, error) {
	opt := batch.Options{Workers: f.opt.Workers}
	if blk := c.Scenarios; blk != nil {
		p, err := job.PriceScenarios(ctx, opt, nil)
		if err != nil {
			return nil, nil, err
		}
		p.Offset, p.Of, p.Risk = blk.Offset, blk.Of, blk.Risk
		return []batch.TradeResult{}, p, nil
	}
	results, err := f.metrics.price(ctx, job, types, f.opt.Workers)
	if err == nil && job.ScenarioDetail() {
		_, err = job.PriceScenarios(ctx, opt, results)
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
