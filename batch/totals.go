package batch

import (
	"math"

	"github.com/pricefn/pricefn/pricing"
)

// TotalMeasures are the measures a chunk's totals sum: the amounts that
// add up over a portfolio.
var TotalMeasures = [...]pricing.Measure{pricing.NPV, pricing.Delta, pricing.Gamma, pricing.Vega, pricing.Theta, pricing.Rho, pricing.PV01}

// ChunkTotals sums the measures of TotalMeasures over the results that
// priced (an error result adds nothing), for all trades under the key ""
// and per underlying under its name: underlyings[k] is the underlying of
// result k ("" or missing for a trade without one, as rates trades, which
// count in "" only). A measure no result set is absent, and so is one
// whose sum overflows float64. The pricer computes
// it where the results are made (Batch.Underlyings gives the chunk's); the
// sums are those the aggregator's status adds chunk by chunk in index
// order.
func ChunkTotals(results []TradeResult, underlyings []string) map[string]map[string]float64 {
	var t ChunkTotaler
	t.Add(results, underlyings)
	return t.Totals()
}

// ChunkTotaler sums ChunkTotals' totals over results given a run at a
// time, in input order: the same sums, to the last bit, as ChunkTotals of
// all the runs at once. The zero value is ready.
type ChunkTotaler struct {
	all totals
	by  map[string]*totals
	// recent are the totals of the last underlyings met: a chunk's trades
	// name few, in runs or shuffled, and are summed without a look-up.
	recent [4]struct {
		name string
		t    *totals
	}
	next int // the recent one the next look-up replaces
}

// Add adds a run of results; underlyings[k] is the underlying of
// results[k], as in ChunkTotals.
func (t *ChunkTotaler) Add(results []TradeResult, underlyings []string) {
	for k := range results {
		r := &results[k]
		if r.Error != "" {
			continue
		}
		t.all.add(&r.Result)
		if k < len(underlyings) && underlyings[k] != "" {
			t.of(underlyings[k]).add(&r.Result)
		}
	}
}

// of returns the totals of underlying u.
func (t *ChunkTotaler) of(u string) *totals {
	for k := range t.recent {
		if r := &t.recent[k]; r.t != nil && r.name == u {
			return r.t
		}
	}
	if t.by == nil {
		t.by = map[string]*totals{}
	}
	tu := t.by[u]
	if tu == nil {
		tu = new(totals)
		t.by[u] = tu
	}
	t.recent[t.next].name, t.recent[t.next].t = u, tu
	t.next = (t.next + 1) % len(t.recent)
	return tu
}

// Totals returns the sums so far, as ChunkTotals does.
func (t *ChunkTotaler) Totals() map[string]map[string]float64 {
	out := make(map[string]map[string]float64, len(t.by)+1)
	out[""] = t.all.named()
	for u, s := range t.by {
		out[u] = s.named()
	}
	return out
}

// totals are the running sums of TotalMeasures over some results, and
// which of them any result set.
type totals struct {
	sum [numTotals]float64
	set uint8
}

const numTotals = len(TotalMeasures)

func (s *totals) add(r *pricing.Result) {
	for i, m := range TotalMeasures {
		if v, ok := r.Value(m); ok {
			s.sum[i] += v
			s.set |= 1 << i
		}
	}
}

// named returns the sums by measure name.
func (s *totals) named() map[string]float64 {
	out := make(map[string]float64, numTotals)
	for i, m := range TotalMeasures {
		// A sum past float64's range is left out: JSON has no infinity,
		// and the chunk's results must still be told.
		if v := s.sum[i]; s.set&(1<<i) != 0 && !math.IsInf(v, 0) && !math.IsNaN(v) {
			out[m.String()] = v
		}
	}
	return out
}

// Underlyings returns the underlying of each trade ("" for a trade without
// one), or nil when no trade has one: ChunkTotals' second argument.
func (b *Batch) Underlyings() []string {
	var out []string
	for i := range b.Trades {
		if u := b.Trades[i].Underlying; u != "" {
			if out == nil {
				out = make([]string, len(b.Trades))
			}
			out[i] = u
		}
	}
	return out
}
