package batch

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/pricefn/pricefn/pricing"
)

// Options tunes pricing. The zero value is valid: it uses every core and
// every engine's defaults.
type Options struct {
	// Workers is how many trades are priced at once; 0 means GOMAXPROCS.
	Workers int
	// Engines configures the engines when Price compiles a batch; a Job
	// keeps the settings it was compiled with (CompileWith).
	Engines Engines
	// Cores, when set, bounds the workers pricing at once across all the
	// calls of Price, PriceBlocks and PriceScenarios that share it: a
	// worker holds one of its units while it prices (and encodes) a block
	// of trades, or values a task of scenarios. A pricer
	// given two chunks at once, each priced on every core, ran twice as
	// many workers as it had cores, and 2,000 FD Americans took 5-10%
	// longer than chunks taken one at a time; sharing the cores, a chunk
	// still takes every core the other leaves, and its single-threaded
	// parts (its event read, its reply) run beside the other's pricing.
	Cores *semaphore.Weighted
}

// workers is o.Workers, or GOMAXPROCS for 0.
func (o *Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// acquire takes one of o.Cores' units, if o has them.
func (o *Options) acquire(ctx context.Context) error {
	if o.Cores == nil {
		return nil
	}
	return o.Cores.Acquire(ctx, 1)
}

// release gives back a unit acquire took.
func (o *Options) release() {
	if o.Cores != nil {
		o.Cores.Release(1)
	}
}

// block is how many trades a worker claims at a time: enough to make the
// claim's cost vanish next to a European's ~100 ns, few enough to balance
// costly trades across workers.
const block = 8

// Price values every trade of the job in parallel and returns one result per
// trade, in input order. Each trade's result depends only on the trade and
// the market, never on scheduling, so the output is the same to the last bit
// however the work is spread. Price fails only if ctx ends first.
func (j *Job) Price(ctx context.Context, opt Options) ([]TradeResult, error) {
	trades := j.all()
	out := make([]TradeResult, len(trades))
	workers := opt.workers()
	if n := (len(trades) + block - 1) / block; workers > n {
		workers = max(n, 1)
	}
	var next atomic.Int64
	g, ctx := errgroup.WithContext(ctx)
	for range workers {
		g.Go(func() error {
			for {
				if err := ctx.Err(); err != nil {
					return err
				}
				lo := int(next.Add(block)) - block
				if lo >= len(trades) {
					return nil
				}
				// A unit of opt.Cores once there is a block to price:
				// a worker with none left waited its turn for one (the
				// call's end held up behind other calls' blocks).
				if err := opt.acquire(ctx); err != nil {
					return err
				}
				for i := lo; i < min(lo+block, len(trades)); i++ {
					j.priceOne(&trades[i], &out[i])
				}
				opt.release()
			}
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("batch: pricing %s: %w", j.ID, err)
	}
	return out, nil
}

// PriceTradeInto values trade i alone into tr, which must be zero: in
// place (a result returned by value escaped to the heap, some 200 bytes a
// trade, and was copied again into its slot).
func (j *Job) PriceTradeInto(i int, tr *TradeResult) { j.priceOne(&j.all()[i], tr) }

// priceOne values the compiled trade c into tr, which must be zero: in
// place, as a result is some 200 bytes.
func (j *Job) priceOne(c *compiled, tr *TradeResult) { j.priceFor(c, tr, j.Want) }

// priceFor is priceOne for the measures want.
func (j *Job) priceFor(c *compiled, tr *TradeResult, want pricing.Measures) {
	tr.ID = c.id
	defer func() {
		// An engine bug on one trade must not take the batch, or the
		// pricer process and every chunk in flight, down with it.
		if p := recover(); p != nil {
			*tr = TradeResult{ID: c.id, Error: fmt.Sprintf("trade %s: internal error in the pricing engine: %v", c.id, p)}
		}
	}()
	if c.err != nil {
		tr.Error = c.err.Error()
		return
	}
	r := &tr.Result
	if err := c.p.priceUnit(r, &j.Market, want); err != nil {
		*tr = TradeResult{ID: c.id, Error: tradeError(c.id, err)}
		return
	}
	r.Scale(c.qty)
	r.Set &= want
	if finite(r) {
		return
	}
	for set := r.Set; set != 0; set &= set - 1 {
		m := pricing.Measure(bits.TrailingZeros32(uint32(set)))
		if v, ok := r.Value(m); ok && (math.IsNaN(v) || math.IsInf(v, 0)) {
			*tr = TradeResult{ID: c.id, Error: fmt.Sprintf("trade %s: %s is not finite (%v): the inputs are outside what the engine can price", c.id, m, v)}
			return
		}
	}
}

// finite reports whether every float of r, set or not, is finite: the
// cheap test that spares the per-measure one for almost every trade (x-x
// is 0 for a finite x, NaN otherwise). The differences are summed as a
// tree, in pairs, then pairs of pairs: the sum waits on five additions,
// where one after another it waited on sixteen.
func finite(r *pricing.Result) bool {
	a := (r.NPV - r.NPV) + (r.NPVStdErr - r.NPVStdErr)
	b := (r.Delta - r.Delta) + (r.Gamma - r.Gamma)
	c := (r.Vega - r.Vega) + (r.Theta - r.Theta)
	d := (r.Rho - r.Rho) + (r.FairRate - r.FairRate)
	e := (r.PV01 - r.PV01) + (r.CleanPrice - r.CleanPrice)
	f := (r.DirtyPrice - r.DirtyPrice) + (r.Accrued - r.Accrued)
	g := (r.Yield - r.Yield) + (r.Duration - r.Duration)
	h := (r.Convexity - r.Convexity) + (r.ImpliedVol - r.ImpliedVol)
	return ((a+b)+(c+d))+((e+f)+(g+h))+(r.Annuity-r.Annuity) == 0
}

// Price decodes nothing: it compiles b and prices it, returning the results
// document, with its scenarios and risk when b has scenarios. A batch-level
// fault is an *Error.
func Price(ctx context.Context, b *Batch, opt Options) (*Results, error) {
	j, err := CompileWith(b, opt.Engines)
	if err != nil {
		return nil, err
	}
	rs, err := j.Price(ctx, opt)
	if err != nil {
		return nil, err
	}
	res := &Results{BatchID: b.ID, Results: rs}
	if err := j.priceScenarioResults(ctx, opt, res); err != nil {
		return nil, err
	}
	return res, nil
}

// tradeError words an engine's error for the result of trade id: a fault
// of market data names its path in the batch document.
func tradeError(id string, err error) string {
	var me *pricing.MarketError
	if errors.As(err, &me) {
		// The name and value are cut as pricing.Shown cuts them: every
		// trade using the item repeats the message.
		path := "market.curves." + pricing.Shown(me.Name)
		if me.Kind == "underlying" {
			path = "market.underlyings." + pricing.Shown(me.Name)
		}
		if me.Field != "" {
			path += "." + me.Field
		}
		return fmt.Sprintf("trade %s: %s %s, got %s", id, path, me.Reason, pricing.Shown(me.Value))
	}
	return fmt.Sprintf("trade %s: %v", id, err)
}
