package batch

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/fsum"
)

// scenarioBlock is how many scenario markets the pricing loop holds at a
// time: a batch of 10,000 scenarios on a market of 1,000 underlyings does
// not hold 10,000 copies of it.
const scenarioBlock = 64

// taskCost is the estimated work of one task of the scenario pricing loop
// (some trades in one scenario), in nanoseconds: enough to make a task's
// claim and the merge of its sums vanish next to it.
const taskCost = 50_000

// priceIn values one unit of the trade in the market of env, its terms
// bound to that market as compile binds them to the base market.
// The engines are the market's (a scenario's barrier is hit when the
// shift crosses it).
func (b *bound[T]) priceIn(r *pricing.Result, env *compileEnv, want pricing.Measures) (err error) {
	t := &b.t
	if b.bind != nil {
		bt := b.t
		b.bind(&bt, env)
		t = &bt
	}
	if b.into != nil {
		return b.into(t, r, env.m, want, env.e)
	}
	*r, err = b.price(t, env.m, want, env.e)
	return err
}

// scenarioPricer is a priceable that can be valued in another market than
// the one it was compiled against.
type scenarioPricer interface {
	priceIn(r *pricing.Result, env *compileEnv, want pricing.Measures) error
}

// Every registry entry's bound trade is one (a european binds its
// underlying at compile time: it must bind to each scenario's).
var _ scenarioPricer = (*bound[europeanTerms])(nil)

// npvIn returns the npv of trade i (its quantity included) in the market
// of env, or NaN when the trade fails there: a fault of its terms, of the
// market, an engine panic or a value that is not finite. It is how both
// the base npv of the P&L and every scenario npv are valued, so that a
// scenario that moves nothing has a P&L of exactly 0.
func (j *Job) npvIn(i int, env *compileEnv) (v float64) {
	c := &j.all()[i]
	if c.err != nil || c.p == nil {
		return math.NaN()
	}
	defer func() {
		if p := recover(); p != nil {
			v = math.NaN()
		}
	}()
	var r pricing.Result
	var err error
	if sp, ok := c.p.(scenarioPricer); ok {
		err = sp.priceIn(&r, env, pricing.Of(pricing.NPV))
	} else {
		err = c.p.priceUnit(&r, env.m, pricing.Of(pricing.NPV))
	}
	if err != nil || !r.Set.Has(pricing.NPV) {
		return math.NaN()
	}
	v = r.NPV * c.qty
	if math.IsInf(v, 0) {
		return math.NaN()
	}
	return v
}

// failsInBase reports whether trade i's base valuation, for npv and the
// batch's measures other than the greeks, fails: it is then left out of
// every scenario's sums, though its npv alone may price (a quoted price
// outside the no-arbitrage bounds fails only its impliedVol). The greeks
// are left out of the test, in process and in a scenario chunk alike
// (which values the trade again, having no results): valued again once a
// chunk, a Monte Carlo trade's bumped greeks would cost a chunk of few
// scenarios several times its work. rs holds j's results, or is nil.
func (j *Job) failsInBase(i int, rs []TradeResult) bool {
	want := j.Want &^ pricing.Greeks
	if want&^pricing.Of(pricing.NPV) == 0 {
		return false // npvIn's valuation is the test
	}
	if i < len(rs) && rs[i].Error == "" {
		return false // valued with more measures, and priced
	}
	var tr TradeResult
	j.priceFor(&j.all()[i], &tr, want)
	return tr.Error != ""
}

// Scenarios returns the number of scenarios the job prices.
func (j *Job) Scenarios() int {
	if j.scen == nil {
		return 0
	}
	return len(j.scen.run.List)
}

// ScenarioDetail reports whether the batch asks for each trade's npv in
// every scenario (scenarioDetail "trades").
func (j *Job) ScenarioDetail() bool {
	return j.scen != nil && j.scen.run.Detail == DetailTrades
}

// PriceScenarios values every trade of j in the base market (npv) and in
// each of its scenarios, and returns the exact sums per scenario (Offset 0,
// Of the job's scenario count, the batch's risk request). When rs holds
// j's results (Job.Price) and the batch asks for scenarioDetail "trades",
// each result that priced gets its ScenarioNPV. Each valuation depends only
// on the trade and the scenario, and the sums are exact, so the partials
// are the same however the work is spread. It fails only if ctx ends
// first, or when the job has no scenarios.
func (j *Job) PriceScenarios(ctx context.Context, opt Options, rs []TradeResult) (*ScenarioPartials, error) {
	set := j.scen
	if set == nil {
		return nil, errNoScenarios
	}
	n, ns := len(j.all()), len(set.run.List)
	workers := opt.workers()
	// Trade spans of about taskCost each.
	spans := []int{0}
	var cost float64
	for i := range n {
		cost += j.Cost(i) + 50
		if cost >= taskCost && i+1 < n {
			spans = append(spans, i+1)
			cost = 0
		}
	}
	spans = append(spans, n)
	nspan := len(spans) - 1

	base := make([]float64, n)
	var detail [][]float64
	if rs != nil && set.run.Detail == DetailTrades {
		detail = make([][]float64, n)
		for i := range detail {
			detail[i] = make([]float64, ns)
		}
	}
	acc := make([]scenarioAcc, ns)
	for s := range acc {
		acc[s].ID = set.run.List[s].ID
	}

	// run calls task(k, scratch) for k in [0, tasks) across the workers,
	// each holding a unit of opt.Cores, if set, while it runs a task,
	// adding their CPU time to busy: each holds its thread, whose CPU
	// clock is then its own (its wall time, where that clock cannot be
	// read, which counts the time it waited for a core).
	var busy atomic.Int64
	run := func(tasks int, task func(k int, sc *scratch)) error {
		g, gctx := errgroup.WithContext(ctx)
		var next atomic.Int64
		for range min(workers, tasks) {
			g.Go(func() error {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				start := time.Now()
				cpu0, ok := threadCPU()
				defer func() {
					took := time.Since(start)
					if cpu1, ok1 := threadCPU(); ok && ok1 {
						took = min(took, cpu1-cpu0)
					}
					busy.Add(int64(took))
				}()
				sc := &scratch{byU: make([]fsum.Sum, len(set.unds))}
				for {
					if err := gctx.Err(); err != nil {
						return err
					}
					k := int(next.Add(1)) - 1
					if k >= tasks {
						return nil
					}
					// A core of opt.Cores while it values (the
					// pricer's other chunk prices beside it), taken
					// once the task is claimed: no unit is waited for
					// when none is left.
					if err := opt.acquire(gctx); err != nil {
						return err
					}
					task(k, sc)
					opt.release()
				}
			})
		}
		return g.Wait()
	}
	err := run(nspan, func(k int, _ *scratch) {
		for i := spans[k]; i < spans[k+1]; i++ {
			base[i] = j.npvIn(i, set.base)
			if !math.IsNaN(base[i]) && j.failsInBase(i, rs) {
				base[i] = math.NaN()
			}
		}
	})
	for lo := 0; err == nil && lo < ns; lo += scenarioBlock {
		hi := min(lo+scenarioBlock, ns)
		envs := make([]*compileEnv, hi-lo)
		err = run(hi-lo, func(k int, _ *scratch) { envs[k] = set.market(j, lo+k) })
		if err != nil {
			break
		}
		err = run((hi-lo)*nspan, func(k int, sc *scratch) {
			s, span := lo+k/nspan, k%nspan
			env := envs[s-lo]
			for i := spans[span]; i < spans[span+1]; i++ {
				v := math.NaN()
				if !set.beyondIn(i, s) {
					v = j.npvIn(i, env)
				}
				if detail != nil {
					detail[i][s] = v
				}
				b := base[i]
				if math.IsNaN(v) || math.IsNaN(b) {
					sc.failed++
					continue
				}
				pnl := v - b
				sc.npv.Add(v)
				sc.pnl.Add(pnl)
				if u := set.tradeUnd[i]; u >= 0 {
					if !sc.seen(u) {
						sc.touched = append(sc.touched, u)
					}
					sc.byU[u].Add(pnl)
				}
			}
			acc[s].add(sc, set.unds)
		})
	}
	if err != nil {
		return nil, fmt.Errorf("batch: pricing the scenarios of %s: %w", j.ID, err)
	}
	out := &ScenarioPartials{Of: ns, Risk: set.run.Risk, Scenarios: make([]ScenarioSums, ns), Busy: time.Duration(busy.Load())}
	for s := range acc {
		out.Scenarios[s] = acc[s].ScenarioSums
	}
	for i := range detail {
		if i < len(rs) && rs[i].Error == "" {
			rs[i].ScenarioNPV = detail[i]
		}
	}
	return out, nil
}

// scratch is one worker's sums over the trades of its current task.
type scratch struct {
	npv, pnl fsum.Sum
	failed   int
	byU      []fsum.Sum // by underlying index
	touched  []int32    // the indices of byU in use
}

func (sc *scratch) seen(u int32) bool {
	for _, t := range sc.touched {
		if t == u {
			return true
		}
	}
	return false
}

// scenarioAcc is a scenario's sums, which the tasks of the scenario merge
// into.
type scenarioAcc struct {
	mu sync.Mutex
	ScenarioSums
}

// add merges sc into a and empties sc.
func (a *scenarioAcc) add(sc *scratch, unds []string) {
	a.mu.Lock()
	a.NPV.Merge(&sc.npv)
	a.PnL.Merge(&sc.pnl)
	a.Failed += sc.failed
	for _, u := range sc.touched {
		if a.ByUnderlying == nil {
			a.ByUnderlying = map[string]*fsum.Sum{}
		}
		name := unds[u]
		if a.ByUnderlying[name] == nil {
			a.ByUnderlying[name] = &fsum.Sum{}
		}
		a.ByUnderlying[name].Merge(&sc.byU[u])
		sc.byU[u].Reset()
	}
	a.mu.Unlock()
	sc.npv.Reset()
	sc.pnl.Reset()
	sc.failed = 0
	sc.touched = sc.touched[:0]
}

// priceScenarioResults adds the scenarios of j to res, as Price returns
// them: each scenario's sums rounded, the risk statistics and, under
// scenarioDetail "trades", each trade's scenarioNpv. A job without
// scenarios adds nothing.
func (j *Job) priceScenarioResults(ctx context.Context, opt Options, res *Results) error {
	if j.scen == nil {
		return nil
	}
	p, err := j.PriceScenarios(ctx, opt, res.Results)
	if err != nil {
		return err
	}
	t := NewScenarioTotals(p.Of, p.Risk)
	if err := t.Add(p); err != nil {
		return err
	}
	res.Scenarios, res.Risk = t.Results()
	if n := len(res.Results); n > 0 && !slices.ContainsFunc(res.Scenarios, func(s ScenarioResult) bool { return s.Failed < n }) {
		// No trade priced in any scenario: a VaR of 0 would be a figure
		// of nothing (the aggregator's finish leaves it out alike).
		res.Risk = nil
	}
	return nil
}
