package engine_test

import (
	"fmt"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/engine"
	"github.com/pricefn/pricefn/pricing/instrument"
	"github.com/pricefn/pricefn/pricing/market"
)

// A one-year at-the-money call, 5% rates, 20% vol: the textbook 10.4506.
func ExampleAnalyticEuropean() {
	asOf := dates.New(2026, 11, 25)
	m := &pricing.Market{
		ValuationDate: asOf,
		Curves:        map[string]pricing.YieldCurve{"USD": market.NewFlatCurve(0.05)},
		Underlyings:   map[string]pricing.Underlying{"ACME": {Spot: 100, Vol: 0.2, Curve: "USD"}},
	}
	o := instrument.European{Option: instrument.Option{Underlying: "ACME", Right: instrument.Call, Strike: 100, Expiry: asOf.AddDays(365)}}
	r, err := engine.AnalyticEuropean{}.Price(&o, m, pricing.Of(pricing.NPV).With(pricing.Delta))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("npv %.4f delta %.4f gamma %.4f vega %.4f theta %.4f rho %.4f\n", r.NPV, r.Delta, r.Gamma, r.Vega, r.Theta, r.Rho)
	// Output: npv 10.4506 delta 0.6368 gamma 0.0188 vega 37.5240 theta -6.4140 rho 53.2325
}

// A barrier already crossed is an error naming the field and the reason.
func ExampleAnalyticBarrier_crossed() {
	asOf := dates.New(2026, 11, 25)
	m := &pricing.Market{
		ValuationDate: asOf,
		Curves:        map[string]pricing.YieldCurve{"USD": market.NewFlatCurve(0.05)},
		Underlyings:   map[string]pricing.Underlying{"ACME": {Spot: 100, Vol: 0.2, Curve: "USD"}},
	}
	o := instrument.Barrier{
		Option: instrument.Option{Underlying: "ACME", Right: instrument.Put, Strike: 100, Expiry: asOf.AddDays(365)},
		Type:   instrument.DownOut, Level: 105,
	}
	_, err := engine.AnalyticBarrier{}.Price(&o, m, pricing.Of(pricing.NPV))
	fmt.Println(err)
	// Output: barrier must not be above spot 100 for a downOut option (it is already crossed), got 105
}
