package batch

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

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
	out := make([]TradeResult, len(j.trades))
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if n := (len(j.trades) + block - 1) / block; workers > n {
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
				if lo >= len(j.trades) {
					return nil
				}
				for i := lo; i < min(lo+block, len(j.trades)); i++ {
					out[i] = j.priceOne(i)
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("batch: pricing %s: %w", j.ID, err)
	}
	return out, nil
}

// PriceTrade values trade i alone.
func (j *Job) PriceTrade(i int) TradeResult { return j.priceOne(i) }

func (j *Job) priceOne(i int) (tr TradeResult) {
	c := &j.trades[i]
	defer func() {
		// An engine bug on one trade must not take the batch, or the
		// pricer process and every chunk in flight, down with it.
		if p := recover(); p != nil {
			tr = TradeResult{ID: c.id, Error: fmt.Sprintf("trade %s: internal error in the pricing engine: %v", c.id, p)}
		}
	}()
	if c.err != nil {
		return TradeResult{ID: c.id, Error: c.err.Error()}
	}
	r, err := c.p.price(&j.Market, j.Want)
	if err != nil {
		return TradeResult{ID: c.id, Error: tradeError(c.id, err)}
	}
	r.Scale(c.qty)
	r.Set &= j.Want
	for _, m := range pricing.AllMeasures() {
		if v, ok := r.Value(m); ok && (math.IsNaN(v) || math.IsInf(v, 0)) {
			return TradeResult{ID: c.id, Error: fmt.Sprintf("trade %s: %s is not finite (%v): the inputs are outside what the engine can price", c.id, m, v)}
		}
	}
	return TradeResult{ID: c.id, Result: r}
}

// Price decodes nothing: it compiles b and prices it, returning the results
// document. A batch-level fault is an *Error.
func Price(ctx context.Context, b *Batch, opt Options) (*Results, error) {
	j, err := CompileWith(b, opt.Engines)
	if err != nil {
		return nil, err
	}
	rs, err := j.Price(ctx, opt)
	if err != nil {
		return nil, err
	}
	return &Results{BatchID: b.ID, Results: rs}, nil
}

// tradeError words an engine's error for the result of trade id: a fault
// of market data names its path in the batch document.
func tradeError(id string, err error) string {
	var me *pricing.MarketError
	if errors.As(err, &me) {
		path := "market.curves." + me.Name
		if me.Kind == "underlying" {
			path = "market.underlyings." + me.Name
		}
		if me.Field != "" {
			path += "." + me.Field
		}
		return fmt.Sprintf("trade %s: %s %s, got %v", id, path, me.Reason, me.Value)
	}
	return fmt.Sprintf("trade %s: %v", id, err)
}
