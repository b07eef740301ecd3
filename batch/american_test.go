package batch_test

import (
	"math"
	"testing"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/engine"
	"github.com/pricefn/pricefn/pricing/instrument"
	pmarket "github.com/pricefn/pricefn/pricing/market"
)

// TestAmericanEngineField checks the american trade's "engine" field: qdfp
// (engine.QdFpAmerican) by default and when named, fd
// (engine.FDAmerican) when named, and any other value a trade error naming
// the field.
func TestAmericanEngineField(t *testing.T) {
	doc := `{"valuationDate": "2026-11-25", "measures": ["npv", "delta", "gamma", "theta"], ` + market + `, "trades": [
		{"id": "A1", "type": "american", "underlying": "ACME", "right": "put", "strike": 105, "expiry": "2028-05-25"},
		{"id": "A2", "type": "american", "underlying": "ACME", "right": "put", "strike": 105, "expiry": "2028-05-25", "engine": "qdfp"},
		{"id": "A3", "type": "american", "underlying": "ACME", "right": "put", "strike": 105, "expiry": "2028-05-25", "engine": "fd"},
		{"id": "A4", "type": "american", "underlying": "ACME", "right": "put", "strike": 105, "expiry": "2028-05-25", "engine": "tree"}]}`
	rs, err := price(doc)
	if err != nil {
		t.Fatal(err)
	}
	asOf := dates.New(2026, 11, 25)
	m := &pricing.Market{
		ValuationDate: asOf,
		Curves:        map[string]pricing.YieldCurve{"USD": pmarket.NewFlatCurve(0.05)},
		Underlyings:   map[string]pricing.Underlying{"ACME": {Spot: 100, DividendYield: 0.02, Vol: 0.25, Curve: "USD"}},
	}
	o := &instrument.American{Option: instrument.Option{Underlying: "ACME", Right: instrument.Put, Strike: 105, Expiry: dates.New(2028, 5, 25)}}
	want := pricing.Of(pricing.NPV, pricing.Delta, pricing.Gamma, pricing.Theta)
	qd, err := engine.QdFpAmerican{}.Price(o, m, want)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := engine.FDAmerican{}.Price(o, m, want)
	if err != nil {
		t.Fatal(err)
	}
	for i, ref := range []pricing.Result{qd, qd, fd} {
		got := rs.Results[i]
		if got.Error != "" {
			t.Fatalf("%s: %s", got.ID, got.Error)
		}
		for _, ms := range []pricing.Measure{pricing.NPV, pricing.Delta, pricing.Gamma, pricing.Theta} {
			g, ok := got.Value(ms)
			w, _ := ref.Value(ms)
			if !ok || g != w {
				t.Errorf("%s: %s = %v (set %v), engine gives %v", got.ID, ms, g, ok, w)
			}
		}
	}
	// The two engines agree to the FD engine's accuracy, and differ.
	if d := math.Abs(qd.NPV - fd.NPV); d > 2e-3 || d == 0 {
		t.Errorf("qdfp %v and fd %v differ by %g", qd.NPV, fd.NPV, d)
	}
	if got, want := rs.Results[3].Error, `trade A4: engine must be one of fd, qdfp, got "tree"`; got != want {
		t.Errorf("A4: error %q, want %q", got, want)
	}
}
