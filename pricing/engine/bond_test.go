package engine

import (
	"strings"
	"testing"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/instrument"
	"github.com/pricefn/pricefn/pricing/market"
)

type bondCase struct {
	asOf, curve                                       string
	face, coupon                                      float64
	issue, maturity                                   string
	freq                                              dates.Frequency
	dc                                                dates.DayCount
	cal                                               dates.Calendar
	conv                                              dates.Convention
	settlementDays                                    int
	npv, clean, dirty, accrued, yield, dur, convexity float64
}

// bondCases are QuantLib 1.29 FixedRateBond values with
// DiscountingBondEngine and BondFunctions (testdata/gen_rates.py): a
// settlement lag, a Saturday valuation date, a coupon paid between the
// valuation and settlement dates, a bond issued after the valuation date,
// and a monthly zero-coupon 30/360 bond with month-end dates.
var bondCases = []bondCase{
	{"2026-11-25", "zeros", 100, 0.0325, "2024-03-15", "2034-03-15", dates.Semiannual, dates.ActActISDA, dates.TARGET, dates.ModifiedFollowing, 2, 100.70734568649618, 100.06893459575991, 100.7189345957599, 0.649999999999995, 0.03238840603828431, 6.4092776645278775, 47.3700059451104},
	{"2026-11-28", "flat", 1000, 0.045, "2025-08-31", "2035-02-28", dates.Semiannual, dates.Thirty360, dates.WeekendsOnly, dates.Following, 0, 1118.1686308992025, 110.68524545496471, 111.83524545496472, 1.1500000000000066, 0.030252906942367562, 6.878438083972381, 56.026162130188595},
	{"2026-11-25", "zeros", 100, 0.05, "2021-11-26", "2031-11-26", dates.Annual, dates.Act365Fixed, dates.TARGET, dates.Unadjusted, 3, 113.60042716464923, 108.57716610262737, 108.63196062317533, 0.05479452054795164, 0.0311774802684784, 4.4203034972516955, 24.885364534240665},
	{"2026-11-25", "flat", 100, 0.02, "2026-12-10", "2030-12-10", dates.Quarterly, dates.Act360, dates.NoHolidays, dates.Unadjusted, 1, 96.18569756299249, 96.30435580003568, 96.30435580003568, 0.0, 0.029698752832412724, 3.875843560161161, 16.361459293212107},
	{"2026-11-25", "zeros", 500, 0.0, "2026-01-31", "2046-07-31", dates.Monthly, dates.Thirty360, dates.TARGET, dates.Preceding, 0, 251.13266570378266, 50.22653314075653, 50.22653314075653, 0.0, 0.03482958197593689, 19.742697508225916, 391.4145683057766},
}

func (c bondCase) bond(t testing.TB) *instrument.FixedRateBond {
	return &instrument.FixedRateBond{Curve: c.curve, Face: c.face, Coupon: c.coupon, Issue: ratesDate(t, c.issue),
		Maturity: ratesDate(t, c.maturity), Frequency: c.freq, DayCount: c.dc, Calendar: c.cal, Convention: c.conv,
		SettlementDays: c.settlementDays}
}

// price prices the bond of c in its market for want, a failure fatal.
func (c bondCase) price(t *testing.T, want pricing.Measures) (pricing.Result, *instrument.FixedRateBond, *pricing.Market) {
	t.Helper()
	m := ratesMarket(t, c.asOf)
	b := c.bond(t)
	if err := b.Validate(m.ValuationDate); err != nil {
		t.Fatal(err)
	}
	r, err := DiscountingBond{}.Price(b, m, want)
	if err != nil {
		t.Fatalf("bond to %s: %v", c.maturity, err)
	}
	return r, b, m
}

// check compares r's prices with c's QuantLib values, and, with
// quotes, its yield, duration and convexity.
func (c bondCase) check(t *testing.T, r pricing.Result, quotes bool) {
	t.Helper()
	type value struct {
		name           string
		got, want, tol float64
	}
	checks := []value{
		{"npv", r.NPV, c.npv, 1e-9 * c.face},
		{"cleanPrice", r.CleanPrice, c.clean, 1e-9},
		{"dirtyPrice", r.DirtyPrice, c.dirty, 1e-9},
		{"accrued", r.Accrued, c.accrued, 1e-11},
	}
	if quotes {
		checks = append(checks, value{"yield", r.Yield, c.yield, 1e-13}, value{"duration", r.Duration, c.dur, 1e-7},
			value{"convexity", r.Convexity, c.convexity, 1e-5})
	}
	for _, ck := range checks {
		if !ratesClose(ck.got, ck.want, ck.tol, 0) {
			t.Errorf("bond to %s: %s %.12g, QuantLib %.12g", c.maturity, ck.name, ck.got, ck.want)
		}
	}
}

func TestDiscountingBond(t *testing.T) {
	for _, c := range bondCases {
		r, _, _ := c.price(t, allRates)
		c.check(t, r, true)
		if !ratesClose(sumCashflows(r.Cashflows), r.NPV, 1e-9*c.face, 0) {
			t.Errorf("bond to %s: cash flows sum to %v, npv %v", c.maturity, sumCashflows(r.Cashflows), r.NPV)
		}
	}
}

// TestBondYieldRoundTrip checks, with a tight solver, that the cash flows
// discounted at the curve-implied yield give back the dirty price, that
// the duration and convexity are the first two derivatives of that price
// in the yield, and that QuantLib's looser default lands within its
// accuracy of the exact yield.
func TestBondYieldRoundTrip(t *testing.T) {
	for _, c := range bondCases {
		m := ratesMarket(t, c.asOf)
		b := c.bond(t)
		def, err := DiscountingBond{}.Price(b, m, allRates)
		if err != nil {
			t.Fatal(err)
		}
		r, err := DiscountingBond{YieldAccuracy: 1e-15}.Price(b, m, allRates)
		if err != nil {
			t.Fatal(err)
		}
		flows, err := bondFlows(b)
		if err != nil {
			t.Fatal(err)
		}
		settle := max(b.Calendar.Advance(m.ValuationDate, b.SettlementDays), b.Issue)
		first := 0
		for flows[first].pay <= settle {
			first++
		}
		yc := newYieldCashflows(flows[first:], settle, b.DayCount, float64(b.Frequency))
		p, _ := yc.price(r.Yield)
		if got := p * 100 / b.Face; !ratesClose(got, r.DirtyPrice, 1e-11, 0) {
			t.Errorf("bond to %s: price at yield %v = %.14g, dirty %.14g", c.maturity, r.Yield, got, r.DirtyPrice)
		}
		if !ratesClose(def.Yield, r.Yield, DefaultYieldAccuracy, 0) {
			t.Errorf("bond to %s: default yield %v, exact %v", c.maturity, def.Yield, r.Yield)
		}
		const h = 1e-5
		up, _ := yc.price(r.Yield + h)
		down, _ := yc.price(r.Yield - h)
		if d := -(up - down) / (2 * h) / p; !ratesClose(d, r.Duration, 1e-6, 0) {
			t.Errorf("bond to %s: duration %v, finite difference %v", c.maturity, r.Duration, d)
		}
		if cv := (up - 2*p + down) / (h * h) / p; !ratesClose(cv, r.Convexity, 1e-3, 0) {
			t.Errorf("bond to %s: convexity %v, finite difference %v", c.maturity, r.Convexity, cv)
		}
	}
}

// settledBondCases are bonds that settle on or after their last payment,
// with QuantLib 1.29's npv and prices (testdata/gen_rates.py): the npv
// counts the flows after the valuation date; dirty, clean and accrued are
// 0 (yield, duration and convexity stay 0 here: they are errors).
var settledBondCases = []bondCase{
	{"2026-11-25", "flat", 100, 0.0125, "2024-11-30", "2026-11-30", dates.Monthly, dates.Thirty360, dates.WeekendsOnly, dates.ModifiedFollowing, 3, 100.06303642003594, 0.0, 0.0, 0.0, 0, 0, 0}, // settles 2026-11-30
	{"2026-11-25", "zeros", 100, 0.0325, "2024-03-15", "2026-11-26", dates.Semiannual, dates.ActActISDA, dates.TARGET, dates.ModifiedFollowing, 5, 101.63250864635638, 0.0, 0.0, 0.0, 0, 0, 0},  // settles 2026-12-02
}

// TestBondSettlingAtMaturity checks a bond with nothing paid after its
// settlement date: npv and zero prices as QuantLib, and an error saying it
// is not tradable when yield, duration or convexity is asked for, as
// QuantLib's BondFunctions throw "non tradable".
func TestBondSettlingAtMaturity(t *testing.T) {
	prices := pricing.Of(pricing.NPV, pricing.CleanPrice, pricing.DirtyPrice, pricing.Accrued, pricing.PV01, pricing.Cashflows)
	for _, c := range settledBondCases {
		r, b, m := c.price(t, prices)
		c.check(t, r, false)
		if !r.Set.Has(pricing.CleanPrice) {
			t.Errorf("bond to %s: no clean price", c.maturity)
		}
		for _, y := range []pricing.Measure{pricing.Yield, pricing.Duration, pricing.Convexity} {
			_, err := DiscountingBond{}.Price(b, m, pricing.Of(pricing.NPV, y))
			// The payment date (a maturity on a holiday is paid on another).
			if errorField(err) != "maturity" || !strings.Contains(err.Error(), "not tradable at settlement: its last payment is on "+c.maturity) {
				t.Errorf("bond to %s, %v: error %v, want one saying it is not tradable", c.maturity, y, err)
			}
		}
	}
}

// maturingBondCases are bonds maturing on the valuation date, with QuantLib
// 1.29's npv, prices and pv01 (testdata/gen_rates.py) and their last
// payment date: QuantLib leaves out the flows on the valuation date, so npv
// is 0 unless the calendar rolls the last payment after it; they settle on
// or after that payment, so the prices are 0 and yield, duration and
// convexity are errors, as for settledBondCases.
var maturingBondCases = []struct {
	bondCase
	pv01 float64
	paid string
}{
	{bondCase{"2026-11-25", "zeros", 100, 0.0325, "2024-03-15", "2026-11-25", dates.Semiannual, dates.ActActISDA, dates.TARGET, dates.ModifiedFollowing, 2, 0.0, 0.0, 0.0, 0.0, 0, 0, 0}, 0.0, "2026-11-25"},  // settles 2026-11-27
	{bondCase{"2026-11-25", "flat", 100, 0.0125, "2024-11-30", "2026-11-25", dates.Monthly, dates.Thirty360, dates.WeekendsOnly, dates.ModifiedFollowing, 0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0}, 0.0, "2026-11-25"}, // settles 2026-11-25
	// A Saturday maturity, paid on Monday.
	{bondCase{"2026-11-28", "flat", 1000, 0.045, "2025-08-31", "2026-11-28", dates.Semiannual, dates.Thirty360, dates.WeekendsOnly, dates.Following, 0, 1022.5818905299243, 0.0, 0.0, 0.0, 0, 0, 0}, -0.0005603186907592317, "2026-11-30"}, // settles 2026-11-30
	// A Saturday maturity, paid on the Friday before.
	{bondCase{"2026-11-28", "zeros", 100, 0.05, "2021-11-28", "2026-11-28", dates.Annual, dates.Act365Fixed, dates.TARGET, dates.Preceding, 1, 0.0, 0.0, 0.0, 0.0, 0, 0, 0}, 0.0, "2026-11-27"}, // settles 2026-11-30
}

// TestBondMaturingOnValuationDate checks that a bond maturing on the
// valuation date is priced, not refused: npv, pv01, cash flows and prices
// as QuantLib's, and yield, duration and convexity an error naming the
// maturity and its last payment, as QuantLib's BondFunctions throw "non
// tradable".
func TestBondMaturingOnValuationDate(t *testing.T) {
	prices := pricing.Of(pricing.NPV, pricing.CleanPrice, pricing.DirtyPrice, pricing.Accrued, pricing.PV01, pricing.Cashflows)
	for _, c := range maturingBondCases {
		r, b, m := c.price(t, prices)
		c.check(t, r, false)
		if !ratesClose(r.PV01, c.pv01, 1e-12*c.face, 1e-8) { // the swap tests' 1e-6 on notionals of 1e6
			t.Errorf("bond to %s: pv01 %.12g, QuantLib %.12g", c.maturity, r.PV01, c.pv01)
		}
		if !ratesClose(sumCashflows(r.Cashflows), r.NPV, 1e-9*c.face, 0) {
			t.Errorf("bond to %s: cash flows sum to %v, npv %v", c.maturity, sumCashflows(r.Cashflows), r.NPV)
		}
		for _, y := range []pricing.Measure{pricing.Yield, pricing.Duration, pricing.Convexity} {
			_, err := DiscountingBond{}.Price(b, m, pricing.Of(pricing.NPV, y))
			if errorField(err) != "maturity" || !strings.Contains(err.Error(), "not tradable at settlement: its last payment is on "+c.paid) {
				t.Errorf("bond to %s, %v: error %v, want one saying it is not tradable", c.maturity, y, err)
			}
		}
	}
}

// BenchmarkBond prices a 10-year semiannual ACT/ACT bond on a zero curve:
// /npv alone, /all with prices, yield, duration and convexity.
func BenchmarkBond(b *testing.B) {
	m := ratesMarket(b, "2026-11-25")
	bd := bondCases[0].bond(b)
	for _, bc := range []struct {
		name string
		want pricing.Measures
	}{
		{"npv", pricing.Of(pricing.NPV)},
		{"all", pricing.Of(pricing.NPV, pricing.CleanPrice, pricing.DirtyPrice, pricing.Accrued, pricing.Yield, pricing.Duration, pricing.Convexity)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := (DiscountingBond{}).Price(bd, m, bc.want); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestBondYieldSolverFailure checks the error when the yield solver fails,
// as QuantLib's does ("unable to bracket root"), on a bond whose yield of
// about -62% exists on a flat -99% curve: it says the solver could not
// find it, not that none exists.
func TestBondYieldSolverFailure(t *testing.T) {
	m := ratesMarket(t, "2026-11-25")
	m.Curves["deep"] = market.NewFlatCurve(-0.99)
	b := &instrument.FixedRateBond{Curve: "deep", Face: 100, Coupon: 0, Issue: ratesDate(t, "2026-02-14"),
		Maturity: ratesDate(t, "2027-05-25"), Frequency: dates.Annual, DayCount: dates.ActActISDA,
		Calendar: dates.WeekendsOnly, Convention: dates.Unadjusted, SettlementDays: 2}
	_, err := DiscountingBond{}.Price(b, m, pricing.Of(pricing.NPV, pricing.Yield))
	if err == nil || !strings.Contains(err.Error(), "solver could not find a yield") || strings.Contains(err.Error(), "no bond yield") {
		t.Errorf("error %v, want one saying the solver could not find the yield", err)
	}
}
