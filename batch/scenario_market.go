package batch

import (
	"fmt"
	"math"
	"slices"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/market"
)

// scenarioSet is a job's scenarios compiled: each scenario's shift of
// each curve and underlying of the market resolved ("*" included), and
// what the pricing loop needs of the trades.
type scenarioSet struct {
	run *ScenarioRun
	// base is the base market as scenario markets are: each trade's base
	// npv for P&L is valued on it as its scenario npvs are.
	base *compileEnv
	// engines are the job's engines as scenario markets use them: a
	// barrier the shift moves spot through is hit in that scenario.
	engines *Engines
	// unds names the underlyings of the trades, sorted; tradeUnd[i] is
	// the index in unds of trade i's underlying, -1 for none.
	unds     []string
	tradeUnd []int32
	// beyond[s] names the curves scenario s shifts beyond the rates a
	// curve may have (nil for none): the trades that use one fail in s
	// alone, as trades on a curve with such rates fail in the base market.
	// curves[i] names the curves trade i uses, its underlying's
	// included; made only when some scenario has such a curve.
	beyond []map[string]bool
	curves [][]string
}

// compileScenarios checks b's scenarios and risk against its market and
// resolves them for j. A shift naming a curve or underlying the market
// lacks, and a confidence with no scenario in its tail (k < 1), are batch
// errors naming the field. It returns nil for a batch without scenarios.
func compileScenarios(b *Batch, j *Job) (*scenarioSet, error) {
	run := &b.Scenarios
	if r := run.Risk; r != nil {
		for _, l := range []struct {
			name string
			cs   []Confidence
		}{{"var", r.VaR}, {"es", r.ES}} {
			for i, c := range l.cs {
				if k := c.TailSize(len(run.List)); k < 1 {
					return nil, batchErr(fmt.Sprintf("risk.%s[%d]", l.name, i), "confidence %s leaves no scenario in the tail: k = ceil(N (1 - a)) = %d with N = %d scenarios", c.Text, k, len(run.List))
				}
			}
		}
	}
	if len(run.List) == 0 {
		return nil, nil
	}
	if cells := len(b.Trades) * len(run.List); run.Detail == DetailTrades && cells > MaxScenarioDetail {
		return nil, batchErr("scenarioDetail", "%d trades x %d scenarios is %d npvs, more than the limit of %d: ask for the sums alone", len(b.Trades), len(run.List), cells, MaxScenarioDetail)
	}
	set := &scenarioSet{run: run}
	for s := range run.List {
		sc := &run.List[s]
		path := fmt.Sprintf("scenarios[%d]", s)
		for name := range sc.Curves {
			if _, ok := b.Market.Curves[name]; !ok && name != "*" {
				return nil, batchErr(path+".curves."+pricing.Shown(name), "unknown curve %q (market has: %s)", pricing.Shown(name), keyList(b.Market.Curves))
			}
		}
		for name := range sc.Underlyings {
			if _, ok := b.Market.Underlyings[name]; !ok && name != "*" {
				return nil, batchErr(path+".underlyings."+pricing.Shown(name), "unknown underlying %q (market has: %s)", pricing.Shown(name), keyList(b.Market.Underlyings))
			}
		}
		for name := range j.Market.Curves {
			if sh, ok := sc.curveShift(name); ok && sh.Parallel != 0 {
				if _, out := shiftedOutOfRange(j.Market.Curves[name], sh.Parallel); out {
					if set.beyond == nil {
						set.beyond = make([]map[string]bool, len(run.List))
					}
					if set.beyond[s] == nil {
						set.beyond[s] = map[string]bool{}
					}
					set.beyond[s][name] = true
				}
			}
		}
	}
	set.base = j.bindMarket(&j.Market, j.engines)
	e := *j.engines
	e.Barrier.HitIfCrossed = true
	set.engines = &e
	names := map[string]int32{}
	set.tradeUnd = make([]int32, len(b.Trades))
	for i := range b.Trades {
		set.tradeUnd[i] = -1
		if u := b.Trades[i].Underlying; u != "" {
			names[u] = 0
		}
	}
	set.unds = sortedKeys(names)
	for k, u := range set.unds {
		names[u] = int32(k)
	}
	for i := range b.Trades {
		if u := b.Trades[i].Underlying; u != "" {
			set.tradeUnd[i] = names[u]
		}
	}
	if set.beyond != nil {
		set.curves = make([][]string, len(b.Trades))
		for i := range b.Trades {
			t := &b.Trades[i]
			set.curves[i] = t.Curves
			if u, ok := j.Market.Underlyings[t.Underlying]; ok && u.Curve != "" {
				set.curves[i] = append(slices.Clip(t.Curves), u.Curve)
			}
		}
	}
	return set, nil
}

// beyondIn reports whether trade i uses a curve that scenario s shifts
// beyond the rates a curve may have.
func (set *scenarioSet) beyondIn(i, s int) bool {
	if set.beyond == nil || set.beyond[s] == nil {
		return false
	}
	for _, name := range set.curves[i] {
		if set.beyond[s][name] {
			return true
		}
	}
	return false
}

// bindMarket returns the compile environment of market m for engines e
// (j's, or a scenario's): m with its usable underlyings bound once
// (engine.BindEquity).
// An underlying that is not usable in m (a negative spot in a scenario) is
// left unbound, and the trades on it fail with its engine's error.
func (j *Job) bindMarket(m *pricing.Market, e *Engines) *compileEnv {
	env := &compileEnv{m: m, e: e}
	env.bindEquities()
	return env
}

// market builds the market of scenario s from j's base market: each
// curve shifted as a curve (market.ShiftCurve: a bootstrapped curve is
// shifted, not re-bootstrapped), each underlying shifted, nothing parsed
// again. Curves and underlyings the scenario leaves alone are the base
// market's own.
func (set *scenarioSet) market(j *Job, s int) *compileEnv {
	m := &pricing.Market{
		ValuationDate: j.Market.ValuationDate,
		Curves:        make(map[string]pricing.YieldCurve, len(j.Market.Curves)),
		Underlyings:   make(map[string]pricing.Underlying, len(j.Market.Underlyings)),
	}
	sc := &set.run.List[s]
	for name, c := range j.Market.Curves {
		if sh, ok := sc.curveShift(name); ok && (set.beyond == nil || !set.beyond[s][name]) {
			c = market.ShiftCurve(c, sh.Parallel)
		}
		m.Curves[name] = c
	}
	for name, u := range j.Market.Underlyings {
		if sh, ok := sc.underlyingShift(name); ok && sh != (UnderlyingShift{}) {
			u = sh.apply(u)
			if !usable(u) {
				// Left out: the trades on it fail in s alone, as trades on
				// such data fail in the base market (some engines, the
				// american's, check less than the market does).
				continue
			}
			if pricing.CheckVol("vol", u.Vol) != nil {
				// A vol shifted out of range fails in s the trades that
				// price on the Black vol alone: every engine that reads a
				// NaN vol refuses it, and a Heston trade does not read it.
				u.Vol = math.NaN()
			}
		}
		m.Underlyings[name] = u
	}
	return j.bindMarket(m, set.engines)
}

// usable reports whether a shifted underlying's spot and dividend yield,
// which every trade on it uses, are within the limits a base market's are
// checked against (buildUnderlying).
func usable(u pricing.Underlying) bool {
	return pricing.CheckAmount("spot", u.Spot) == nil && pricing.CheckRate("dividendYield", u.DividendYield) == nil
}

// curveShift returns sc's shift of the curve called name: its own entry,
// else "*"'s. Resolved as each scenario market is built, not held per
// curve and scenario: 10,000 scenarios of "*" on a market of 1,000 names
// held 10 million shifts, over a gigabyte.
func (sc *Scenario) curveShift(name string) (CurveShift, bool) {
	sh, ok := sc.Curves[name]
	if !ok {
		sh, ok = sc.Curves["*"]
	}
	return sh, ok
}

// underlyingShift returns sc's shift of the underlying called name, as
// curveShift.
func (sc *Scenario) underlyingShift(name string) (UnderlyingShift, bool) {
	sh, ok := sc.Underlyings[name]
	if !ok {
		sh, ok = sc.Underlyings["*"]
	}
	return sh, ok
}

// apply returns u shifted by sh.
func (sh UnderlyingShift) apply(u pricing.Underlying) pricing.Underlying {
	switch {
	case sh.SpotRel != nil:
		u.Spot *= 1 + *sh.SpotRel
	case sh.SpotAbs != nil:
		u.Spot += *sh.SpotAbs
	}
	switch {
	case sh.VolAbs != nil:
		u.Vol += *sh.VolAbs
	case sh.VolRel != nil:
		u.Vol *= 1 + *sh.VolRel
	}
	if sh.DividendYieldAbs != nil {
		u.DividendYield += *sh.DividendYieldAbs
	}
	return u
}

// shiftedOutOfRange reports whether shifting curve c by shift takes one of
// its zero rates (a flat curve's rate, a zero or bootstrapped curve's at
// its pillars) beyond pricing.MaxRate, as no base market may have it, and
// which.
func shiftedOutOfRange(c pricing.YieldCurve, shift float64) (rate float64, out bool) {
	var rates []float64
	switch c := c.(type) {
	case *market.FlatCurve:
		rates = []float64{c.Rate}
	case *market.ZeroCurve:
		rates = c.PillarRates()
	case *market.PiecewiseCurve:
		// A bootstrapped curve, shifted as a curve: its zero rates to its
		// pillars, between which each lies (its forwards are flat there).
		rates = c.PillarRates()
	}
	for _, r := range rates {
		if math.Abs(r+shift) > pricing.MaxRate {
			return r, true
		}
	}
	return 0, false
}
