package engine_test

import (
	"fmt"
	"time"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/engine"
	"github.com/pricefn/pricefn/pricing/instrument"
	"github.com/pricefn/pricefn/pricing/market"
)

// ExampleFDAmerican prices a one-year at-the-money American put and call on
// a stock without dividends, at 5% rates and 20% vol. The put is within a
// tenth of the tolerance of QuantLib's finite-difference reference (6.0901;
// the exact price is 6.0904); the call is never exercised early and is the
// European call, the textbook 10.4506.
func ExampleFDAmerican() {
	asOf := dates.New(2026, time.November, 25)
	m := &pricing.Market{
		ValuationDate: asOf,
		Curves:        map[string]pricing.YieldCurve{"USD": market.NewFlatCurve(0.05)},
		Underlyings:   map[string]pricing.Underlying{"ACME": {Spot: 100, Vol: 0.2, Curve: "USD"}},
	}
	for _, right := range []instrument.Right{instrument.Put, instrument.Call} {
		o := &instrument.American{Option: instrument.Option{Underlying: "ACME", Right: right, Strike: 100, Expiry: asOf.AddDays(365)}}
		r, err := engine.FDAmerican{}.Price(o, m, pricing.Of(pricing.NPV, pricing.Delta))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: npv %.4f delta %.4f\n", right, r.NPV, r.Delta)
	}
	// Output:
	// put: npv 6.0899 delta -0.4110
	// call: npv 10.4506 delta 0.6368
}
