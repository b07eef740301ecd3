package engine

import (
	"errors"
	"math"
	"testing"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/instrument"
	"github.com/pricefn/pricefn/pricing/market"
)

// TestEngineInputErrors checks that every engine rejects what its maths
// cannot price with an error, never a panic or a NaN.
func TestEngineInputErrors(t *testing.T) {
	opt := func(strike float64, days int) instrument.Option {
		return instrument.Option{Underlying: "X", Right: instrument.Call, Strike: strike, Expiry: refValDate.AddDays(days)}
	}
	price := func(o instrument.Option, m *pricing.Market) []error {
		_, e1 := AnalyticEuropean{}.Price(&instrument.European{Option: o}, m, pricing.Greeks)
		_, e2 := AnalyticBarrier{}.Price(&instrument.Barrier{Option: o, Type: instrument.DownOut, Level: 50}, m, 0)
		fix := []dates.Date{refValDate.AddDays(30), o.Expiry}
		_, e3 := AnalyticGeometricAsian{}.Price(&instrument.Asian{Option: o, Fixings: fix}, m, pricing.Greeks)
		_, e4 := MCArithmeticAsian{Paths: 100}.Price(&instrument.Asian{Option: o, Averaging: instrument.Arithmetic, Fixings: fix}, m, 0)
		return []error{e1, e2, e3, e4}
	}
	nanCurve := equityMarket(100, 0.05, 0, 0.2)
	nanCurve.Curves["C"] = market.NewFlatCurve(math.NaN())
	cases := []struct {
		name  string
		o     instrument.Option
		m     *pricing.Market
		field string // wanted InputError.Field; "" for an UnknownError
	}{
		{"zero spot", opt(100, 365), equityMarket(0, 0.05, 0, 0.2), "market.underlyings.X.spot"},
		{"NaN spot", opt(100, 365), equityMarket(math.NaN(), 0.05, 0, 0.2), "market.underlyings.X.spot"},
		{"infinite spot", opt(100, 365), equityMarket(math.Inf(1), 0.05, 0, 0.2), "market.underlyings.X.spot"},
		{"zero vol", opt(100, 365), equityMarket(100, 0.05, 0, 0), "market.underlyings.X.vol"},
		{"negative vol", opt(100, 365), equityMarket(100, 0.05, 0, -0.2), "market.underlyings.X.vol"},
		{"NaN dividend", opt(100, 365), equityMarket(100, 0.05, math.NaN(), 0.2), "market.underlyings.X.dividendYield"},
		{"NaN rate", opt(100, 365), nanCurve, "market.curves.C"},
		{"zero strike", opt(0, 365), equityMarket(100, 0.05, 0, 0.2), "strike"},
		{"expired", opt(100, 0), equityMarket(100, 0.05, 0, 0.2), "expiry"},
		{"unknown underlying", instrument.Option{Underlying: "Y", Strike: 100, Expiry: refValDate.AddDays(365)}, equityMarket(100, 0.05, 0, 0.2), ""},
	}
	engines := []string{"european", "barrier", "geometric asian", "arithmetic asian"}
	for _, c := range cases {
		for i, err := range price(c.o, c.m) {
			var unk *pricing.UnknownError
			switch {
			case err == nil:
				t.Errorf("%s, %s: no error", c.name, engines[i])
			case c.field == "" && !errors.As(err, &unk):
				t.Errorf("%s, %s: error %v, want an UnknownError", c.name, engines[i], err)
			case c.field != "" && errorField(err) != c.field:
				t.Errorf("%s, %s: error %v, want an InputError on %s", c.name, engines[i], err, c.field)
			}
		}
	}
}

// TestAsianInputErrors checks the terms the Asian engines check themselves.
func TestAsianInputErrors(t *testing.T) {
	m := equityMarket(100, 0.03, 0, 0.2)
	geo := asianOn(instrument.Call, 100, instrument.Geometric, []int{30, 60})
	ari := asianOn(instrument.Call, 100, instrument.Arithmetic, []int{30, 60})
	cases := []struct {
		name  string
		o     instrument.Asian
		mc    bool // price with MCArithmeticAsian, else AnalyticGeometricAsian
		field string
	}{
		{"arithmetic to the geometric engine", ari, false, "averaging"},
		{"geometric to the Monte Carlo engine", geo, true, "averaging"},
		{"no fixings", func() instrument.Asian { o := ari; o.Fixings = nil; return o }(), true, "fixings"},
		{"fixing on the valuation date", func() instrument.Asian { o := geo; o.Fixings = []dates.Date{refValDate, o.Expiry}; return o }(), false, "fixings[0]"},
		{"fixing after expiry", func() instrument.Asian { o := ari; o.Fixings = []dates.Date{o.Expiry, o.Expiry + 1}; return o }(), true, "fixings[1]"},
		{"fixings out of order", func() instrument.Asian { o := geo; o.Fixings = []dates.Date{o.Expiry, o.Expiry - 1}; return o }(), false, "fixings[1]"},
		{"negative paths", func() instrument.Asian { o := ari; o.Paths = -1; return o }(), true, "paths"},
	}
	for _, c := range cases {
		var err error
		if c.mc {
			_, err = MCArithmeticAsian{}.Price(&c.o, m, pricing.Of(pricing.NPV))
		} else {
			_, err = AnalyticGeometricAsian{}.Price(&c.o, m, pricing.Of(pricing.NPV))
		}
		var in *pricing.InputError
		if !errors.As(err, &in) || in.Field != c.field {
			t.Errorf("%s: error %v, want an InputError on %s", c.name, err, c.field)
		}
	}
}
