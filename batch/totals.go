package batch

import "github.com/pricefn/pricefn/pricing"

// TotalMeasures are the measures a chunk's totals sum: the amounts that
// add up over a portfolio.
var TotalMeasures = []pricing.Measure{pricing.NPV, pricing.Delta, pricing.Gamma, pricing.Vega, pricing.Theta, pricing.Rho, pricing.PV01}

// ChunkTotals sums the measures of TotalMeasures over the results that
// priced (an error result adds nothing), for all trades under the key ""
// and per underlying under its name: underlyings[k] is the underlying of
// result k ("" or missing for a trade without one, as rates trades, which
// count in "" only). A measure no result set is absent. The pricer computes
// it where the results are made (Batch.Underlyings gives the chunk's); the
// sums are those the aggregator's status adds chunk by chunk in index
// order.
func ChunkTotals(results []TradeResult, underlyings []string) map[string]map[string]float64 {
	t := map[string]map[string]float64{"": {}}
	for k := range results {
		r := &results[k]
		if r.Error != "" {
			continue
		}
		addTotals(t[""], &r.Result)
		if k < len(underlyings) && underlyings[k] != "" {
			u := underlyings[k]
			if t[u] == nil {
				t[u] = map[string]float64{}
			}
			addTotals(t[u], &r.Result)
		}
	}
	return t
}

// addTotals adds r's measures of TotalMeasures to s.
func addTotals(s map[string]float64, r *pricing.Result) {
	for _, m := range TotalMeasures {
		if v, ok := r.Value(m); ok {
			s[m.String()] += v
		}
	}
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
