package batch

import (
	"math"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/fsum"
)

// TotalMeasures are the measures a chunk's totals sum: the amounts that
// add up over a portfolio.
var TotalMeasures = [...]pricing.Measure{pricing.NPV, pricing.Delta, pricing.Gamma, pricing.Vega, pricing.Theta, pricing.Rho, pricing.PV01}

// ChunkTotals sums the measures of TotalMeasures over the results that
// priced (an error result adds nothing), for all trades under the key ""
// and per underlying under its name: underlyings[k] is the underlying of
// result k ("" or missing for a trade without one, as rates trades, which
// count in "" only). A measure no result set is absent, and so is one
// whose sum overflows float64. The sums are exact, rounded once
// (ChunkTotaler.Partials gives them unrounded): the pricer computes them
// where the results are made (Batch.Underlyings gives the chunk's), and
// the aggregator's status adds the chunks' exact sums, so that a batch's
// totals do not depend on how it was cut into chunks.
func ChunkTotals(results []TradeResult, underlyings []string) map[string]map[string]float64 {
	var t ChunkTotaler
	t.Add(results, underlyings)
	return t.Totals()
}

// ChunkTotaler sums ChunkTotals' totals over results given a run at a
// time: the same sums, to the last bit, as ChunkTotals of all the runs at
// once, in any order. The zero value is ready.
type ChunkTotaler struct {
	// none sums the trades without an underlying; the sums for all
	// trades are none's and every underlying's, merged (exactly) when
	// asked for, so that each result is added once.
	none totals
	by   map[string]*totals
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
		if k < len(underlyings) && underlyings[k] != "" {
			t.of(underlyings[k]).add(&r.Result)
		} else {
			t.none.add(&r.Result)
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
	return collect(t, func(s *fsum.Sum) (float64, bool) {
		v := s.Value()
		return v, !math.IsInf(v, 0) && !math.IsNaN(v)
	})
}

// Partials returns the sums so far unrounded, keyed as Totals: each the
// partials of its exact value (fsum.Sum.Partials; [0] for an exact zero),
// which fsum.FromPartials or Wide.Add reads back. A sum beyond float64's
// range, which no partials hold, is an empty list: the batch's total of
// that measure is unknown. The pricer sends them; the aggregator adds them
// up for a batch's totals.
func (t *ChunkTotaler) Partials() map[string]map[string][]float64 {
	// The lists share arrays, a slab at a time: a chunk may have totals
	// on thousands of underlyings.
	var slab []float64
	return collect(t, func(s *fsum.Sum) ([]float64, bool) {
		if cap(slab)-len(slab) < 8 {
			slab = make([]float64, 0, 1024)
		}
		start := len(slab)
		switch v := s.Value(); {
		case math.IsInf(v, 0) || math.IsNaN(v):
		case v == 0:
			slab = append(slab, 0)
		default:
			slab = s.AppendPartials(slab)
		}
		return slab[start:len(slab):len(slab)], true
	})
}

// collect returns the sums of t by underlying ("" for all) and measure
// name, each as form gives it, if it does; a measure no result set is
// left out.
func collect[V any](t *ChunkTotaler, form func(*fsum.Sum) (V, bool)) map[string]map[string]V {
	var all totals
	all.merge(&t.none)
	for _, s := range t.by {
		all.merge(s)
	}
	out := make(map[string]map[string]V, len(t.by)+1)
	out[""] = named(&all, form)
	for u, s := range t.by {
		out[u] = named(s, form)
	}
	return out
}

// totals are the exact running sums of TotalMeasures over some results,
// and which of them any result set. The first fewTotals results' values
// are kept as they are (a chunk of many underlyings of a few trades each
// adds them without a sum's work), then all go into Wides.
type totals struct {
	few  [fewTotals][numTotals]float64
	wide *[numTotals]fsum.Wide
	n    int // results in few
	set  uint8
}

const (
	numTotals = len(TotalMeasures)
	fewTotals = 8
	// fewMax bounds the numbers an fsum.Sum adds for few: a handful of
	// them cannot make it overflow on the way (a Wide never does).
	fewMax = 0x1p1000
)

func (s *totals) add(r *pricing.Result) {
	// The fields of TotalMeasures, in its order, read directly: a look-up
	// by measure (Result.Value) a measure was half of a chunk's totals.
	v := [numTotals]float64{r.NPV, r.Delta, r.Gamma, r.Vega, r.Theta, r.Rho, r.PV01}
	if s.wide == nil {
		if s.n < fewTotals {
			f := &s.few[s.n]
			for i, m := range TotalMeasures {
				if r.Set&(1<<m) != 0 {
					f[i] = v[i]
					s.set |= 1 << i
				}
			}
			s.n++
			return
		}
		s.widen()
	}
	for i, m := range TotalMeasures {
		if r.Set&(1<<m) != 0 {
			s.wide[i].Add(v[i])
			s.set |= 1 << i
		}
	}
}

// widen moves the values of few into Wides.
func (s *totals) widen() {
	s.wide = new([numTotals]fsum.Wide)
	s.addFew(s)
	s.n = 0
}

// addFew adds the values o keeps in few to s's Wides.
func (s *totals) addFew(o *totals) {
	for k := range o.n {
		for i, x := range o.few[k] {
			s.wide[i].Add(x) // a 0 (not set) adds nothing
		}
	}
}

// merge adds o's sums to s's, s's as Wides.
func (s *totals) merge(o *totals) {
	if s.wide == nil {
		s.widen()
	}
	if o.wide != nil {
		for i := range s.wide {
			if o.set&(1<<i) != 0 {
				s.wide[i].Merge(&o.wide[i])
			}
		}
	} else {
		s.addFew(o)
	}
	s.set |= o.set
}

// sum returns the sum of measure i.
func (s *totals) sum(i int) fsum.Sum {
	if s.wide != nil {
		return s.wide[i].Sum()
	}
	var sum fsum.Sum
	for k := range s.n {
		if !(math.Abs(s.few[k][i]) < fewMax) {
			// Numbers a Sum might overflow on: a Wide's exact sum.
			var w fsum.Wide
			for k := range s.n {
				w.Add(s.few[k][i])
			}
			return w.Sum()
		}
		sum.Add(s.few[k][i])
	}
	return sum
}

// named returns the sums of s by measure name, each as form gives it, if
// it does.
func named[V any](s *totals, form func(*fsum.Sum) (V, bool)) map[string]V {
	out := make(map[string]V, numTotals)
	for i, m := range TotalMeasures {
		if s.set&(1<<i) == 0 {
			continue
		}
		sum := s.sum(i)
		if v, ok := form(&sum); ok {
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
