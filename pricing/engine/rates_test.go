package engine

import (
	"math"
	"testing"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/market"
)

// ratesMarket returns the market of the rates tests on asOf: curves "flat"
// (3%), "fwd" (3.45%) and "zeros" (linear zero rates), as
// testdata/gen_rates.py builds them in QuantLib.
func ratesMarket(t testing.TB, asOf string) *pricing.Market {
	t.Helper()
	d := ratesDate(t, asOf)
	pillars := []struct {
		date string
		rate float64
	}{{"2027-05-25", 0.021}, {"2028-11-25", 0.026}, {"2031-11-25", 0.031}, {"2036-11-25", 0.034}, {"2056-11-25", 0.036}}
	var times, rates []float64
	for _, p := range pillars {
		times = append(times, dates.YearFraction365(d, ratesDate(t, p.date)))
		rates = append(rates, p.rate)
	}
	zc, err := market.NewZeroCurve(times, rates)
	if err != nil {
		t.Fatal(err)
	}
	return &pricing.Market{ValuationDate: d, Curves: map[string]pricing.YieldCurve{
		"flat": market.NewFlatCurve(0.03), "fwd": market.NewFlatCurve(0.0345), "zeros": zc,
	}}
}

func ratesDate(t testing.TB, s string) dates.Date {
	t.Helper()
	d, err := dates.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// ratesClose reports whether got is within abs or rel*|want| of want.
func ratesClose(got, want, abs, rel float64) bool {
	d := math.Abs(got - want)
	return d <= abs || d <= rel*math.Abs(want)
}

// allRates asks for every measure a rates engine reports.
var allRates = pricing.Of(pricing.NPV, pricing.FairRate, pricing.PV01, pricing.CleanPrice, pricing.DirtyPrice,
	pricing.Accrued, pricing.Yield, pricing.Duration, pricing.Convexity, pricing.Cashflows)

// sumCashflows returns the sum of amount times discount factor.
func sumCashflows(cfs []pricing.Cashflow) float64 {
	var s float64
	for _, c := range cfs {
		s += c.Amount * c.Discount
	}
	return s
}
