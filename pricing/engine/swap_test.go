package engine

import (
	"strings"
	"testing"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/instrument"
	"github.com/pricefn/pricefn/pricing/market"
)

type swapCase struct {
	asOf, curve, forecast string
	notional, rate        float64
	start, maturity       string
	side                  instrument.SwapSide
	fixF                  dates.Frequency
	fixDC                 dates.DayCount
	fltF                  dates.Frequency
	fltDC                 dates.DayCount
	spread                float64
	cal                   dates.Calendar
	conv                  dates.Convention
	npv, fair, pv01       float64
}

// swapCases are QuantLib 1.29 VanillaSwap values (testdata/gen_rates.py):
// single and dual curve with a spread, a seasoned swap whose running
// coupon fixes on the valuation date, unadjusted monthly legs with a
// weekend start, a Saturday valuation date with preceding rolls, and a
// seasoned swap whose paid 30/360 float period (30 to 31 March) has no
// length.
var swapCases = []swapCase{
	{"2026-11-25", "zeros", "", 1e+07, 0.031, "2026-11-25", "2036-11-25", instrument.PayFixed, dates.Annual, dates.Thirty360, dates.Semiannual, dates.Act360, 0, dates.TARGET, dates.ModifiedFollowing, 268264.4101695176, 0.03417894858898553, 8481.182098149322},
	{"2026-11-25", "zeros", "fwd", 2.5e+07, 0.029, "2027-02-24", "2041-02-24", instrument.ReceiveFixed, dates.Semiannual, dates.ActActISDA, dates.Quarterly, dates.Act365Fixed, 0.0015, dates.TARGET, dates.ModifiedFollowing, -2025837.3555995142, 0.03633359110445636, -26709.726515132934},
	{"2026-11-25", "flat", "", 5e+06, 0.0305, "2025-11-25", "2030-11-25", instrument.PayFixed, dates.Annual, dates.Act365Fixed, dates.Quarterly, dates.Act360, 0, dates.NoHolidays, dates.Unadjusted, -838.6877135606483, 0.03045485363368231, 1914.1547667077975},
	{"2026-11-25", "zeros", "", 1e+06, 0.027, "2026-12-26", "2029-08-31", instrument.PayFixed, dates.Monthly, dates.Thirty360, dates.Monthly, dates.Act360, -0.0005, dates.WeekendsOnly, dates.Unadjusted, -375.96359082970594, 0.02685494161974298, 258.4288847340067},
	{"2026-11-28", "flat", "zeros", 7e+06, 0.025, "2026-11-30", "2033-05-31", instrument.ReceiveFixed, dates.Quarterly, dates.Act360, dates.Semiannual, dates.Act360, 0, dates.WeekendsOnly, dates.Preceding, -266555.80642721185, 0.031381104955021076, -4031.52835558448},
	{"2026-11-30", "flat", "", 1e+06, 0.03, "2026-03-30", "2027-05-31", instrument.PayFixed, dates.Monthly, dates.Act360, dates.Monthly, dates.Thirty360, 0, dates.NoHolidays, dates.Unadjusted, -187.43351402695043, 0.0296260058500268, 49.557930576003855},
}

func (c swapCase) swap(t testing.TB) *instrument.Swap {
	return &instrument.Swap{Curve: c.curve, ForecastCurve: c.forecast, Notional: c.notional, FixedRate: c.rate,
		Start: ratesDate(t, c.start), Maturity: ratesDate(t, c.maturity), Side: c.side,
		FixedFrequency: c.fixF, FixedDayCount: c.fixDC, FloatFrequency: c.fltF, FloatDayCount: c.fltDC,
		Spread: c.spread, Calendar: c.cal, Convention: c.conv}
}

func TestDiscountingSwap(t *testing.T) {
	for _, c := range swapCases {
		m := ratesMarket(t, c.asOf)
		s := c.swap(t)
		if err := s.Validate(m.ValuationDate); err != nil {
			t.Fatal(err)
		}
		r, err := DiscountingSwap{}.Price(s, m, allRates)
		if err != nil {
			t.Fatalf("%s: %v", c.maturity, err)
		}
		if !ratesClose(r.NPV, c.npv, 1e-6, 1e-10) {
			t.Errorf("swap to %s: npv %.12g, QuantLib %.12g", c.maturity, r.NPV, c.npv)
		}
		if !ratesClose(r.FairRate, c.fair, 1e-12, 0) {
			t.Errorf("swap to %s: fairRate %.15g, QuantLib %.15g", c.maturity, r.FairRate, c.fair)
		}
		if !ratesClose(r.PV01, c.pv01, 1e-6, 1e-8) {
			t.Errorf("swap to %s: pv01 %.12g, QuantLib %.12g", c.maturity, r.PV01, c.pv01)
		}
		if !ratesClose(sumCashflows(r.Cashflows), r.NPV, 1e-6, 1e-12) {
			t.Errorf("swap to %s: cash flows sum to %v, npv %v", c.maturity, sumCashflows(r.Cashflows), r.NPV)
		}
		for i := 1; i < len(r.Cashflows); i++ {
			if r.Cashflows[i].Date < r.Cashflows[i-1].Date || r.Cashflows[i].Date <= m.ValuationDate {
				t.Errorf("swap to %s: cash flow %d on %s out of order", c.maturity, i, r.Cashflows[i].Date)
			}
		}
	}
}

// TestSwapAtFairRate checks that a swap struck at its fair rate is worth
// nothing, within 1e-8 of its notional.
func TestSwapAtFairRate(t *testing.T) {
	for _, c := range swapCases {
		m := ratesMarket(t, c.asOf)
		s := c.swap(t)
		r, err := DiscountingSwap{}.Price(s, m, pricing.Of(pricing.NPV, pricing.FairRate))
		if err != nil {
			t.Fatal(err)
		}
		s.FixedRate = r.FairRate
		r0, err := DiscountingSwap{}.Price(s, m, pricing.Of(pricing.NPV))
		if err != nil {
			t.Fatal(err)
		}
		if !ratesClose(r0.NPV, 0, 1e-8*s.Notional, 0) {
			t.Errorf("swap to %s at fair rate %v: npv %v", c.maturity, r.FairRate, r0.NPV)
		}
	}
}

// TestSwapOnBootstrappedCurve prices, with the swap engine, the swaps a
// curve was bootstrapped from: each is at par, within 1e-10 in rate.
func TestSwapOnBootstrappedCurve(t *testing.T) {
	asOf := ratesDate(t, "2026-11-25")
	base := instrument.Swap{Curve: "boot", Notional: 1e7, Side: instrument.PayFixed, Start: asOf,
		FixedFrequency: dates.Annual, FixedDayCount: dates.Thirty360, FloatFrequency: dates.Semiannual,
		FloatDayCount: dates.Act360, Calendar: dates.TARGET, Convention: dates.ModifiedFollowing}
	quotes := []market.Quote{
		market.Deposit{Start: asOf, End: ratesDate(t, "2027-02-25"), Rate: 0.0312, DayCount: dates.Act360},
		market.Deposit{Start: asOf, End: ratesDate(t, "2027-05-25"), Rate: 0.0320, DayCount: dates.Act360},
	}
	var swaps []instrument.Swap
	for i, years := range []int{1, 2, 3, 5, 7, 10, 15, 20, 30} {
		s := base
		s.Maturity, s.FixedRate = asOf.AddMonths(12*years), 0.033+0.0003*float64(i)
		swaps = append(swaps, s)
		quotes = append(quotes, market.ParSwap{Start: s.Start, Maturity: s.Maturity, Rate: s.FixedRate,
			FixedFrequency: s.FixedFrequency, FixedDayCount: s.FixedDayCount, FloatFrequency: s.FloatFrequency,
			FloatDayCount: s.FloatDayCount, Calendar: s.Calendar, Convention: s.Convention})
	}
	curve, err := market.Bootstrap(asOf, quotes)
	if err != nil {
		t.Fatal(err)
	}
	m := &pricing.Market{ValuationDate: asOf, Curves: map[string]pricing.YieldCurve{"boot": curve}}
	for _, s := range swaps {
		r, err := DiscountingSwap{}.Price(&s, m, pricing.Of(pricing.NPV, pricing.FairRate))
		if err != nil {
			t.Fatal(err)
		}
		if !ratesClose(r.FairRate, s.FixedRate, 1e-10, 0) || !ratesClose(r.NPV, 0, 1e-8*s.Notional, 0) {
			t.Errorf("par swap to %s: fairRate %.15g (quote %v), npv %v", s.Maturity, r.FairRate, s.FixedRate, r.NPV)
		}
	}
}

func TestSwapErrors(t *testing.T) {
	seasoned := func(start string) func(*instrument.Swap) { // swapCases[5], the paid 30/360 stub of no length
		return func(s *instrument.Swap) { *s = *swapCases[5].swap(t); s.Start = ratesDate(t, start) }
	}
	cases := []struct {
		name, asOf string
		edit       func(*instrument.Swap)
		want       string
	}{
		{"running coupon fixed in June", "2026-11-25", func(s *instrument.Swap) {
			s.Start, s.Maturity = ratesDate(t, "2026-06-10"), ratesDate(t, "2036-12-10")
		}, "past fixings"},
		{"unknown forecast curve", "2026-11-25", func(s *instrument.Swap) { s.ForecastCurve = "nope" }, `unknown curve "nope"`},
		// The past fixing, not the paid period of no length, is the fault.
		{"past fixing after a paid 30/360 stub of no length", "2026-12-01", seasoned("2026-03-30"),
			"the coupon from 2026-11-30 to 2026-12-31 fixed on 2026-11-30; past fixings"},
		// A live period of no length is still an error (QuantLib: "non positive time").
		{"live 30/360 stub of no length", "2026-11-25", seasoned("2027-03-30"),
			"30/360 gives the forward period from 2027-03-30 to 2027-03-31 no length"},
	}
	for _, c := range cases {
		m := ratesMarket(t, c.asOf)
		s := swapCases[0].swap(t)
		c.edit(s)
		if _, err := (DiscountingSwap{}).Price(s, m, allRates); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// BenchmarkSwap prices a 10-year TARGET swap (annual fixed, semiannual
// floating) on a zero curve: npv and fairRate; /pv01 adds the shifted
// revaluation.
func BenchmarkSwap(b *testing.B) {
	m := ratesMarket(b, "2026-11-25")
	s := swapCases[0].swap(b)
	b.Run("npv", func(b *testing.B) {
		want := pricing.Of(pricing.NPV, pricing.FairRate)
		for b.Loop() {
			if _, err := (DiscountingSwap{}).Price(s, m, want); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pv01", func(b *testing.B) {
		want := pricing.Of(pricing.NPV, pricing.FairRate, pricing.PV01)
		for b.Loop() {
			if _, err := (DiscountingSwap{}).Price(s, m, want); err != nil {
				b.Fatal(err)
			}
		}
	})
	s30 := swapCases[1].swap(b) // 14 years, quarterly floating, dual curve
	s30.Maturity = s30.Start.AddMonths(360)
	b.Run("30y-quarterly-dual", func(b *testing.B) {
		want := pricing.Of(pricing.NPV, pricing.FairRate)
		for b.Loop() {
			if _, err := (DiscountingSwap{}).Price(s30, m, want); err != nil {
				b.Fatal(err)
			}
		}
	})
}
