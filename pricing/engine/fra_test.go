package engine

import (
	"errors"
	"testing"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/instrument"
)

func TestDiscountingFRA(t *testing.T) {
	// QuantLib 1.29 curves, the spec's formula (testdata/gen_rates.py).
	tests := []struct {
		asOf, curve, forecast string
		notional, rate        float64
		start, end            string
		dc                    dates.DayCount
		pos                   instrument.Position
		npv, fair             float64
	}{
		{"2026-11-25", "zeros", "", 5e+06, 0.024, "2027-05-25", "2027-11-25", dates.Act360, instrument.Long, 331.45842473532167, 0.02413267539088061},
		{"2026-11-25", "flat", "fwd", 1e+06, 0.031, "2026-11-25", "2027-02-25", dates.Act365Fixed, instrument.Short, -913.1795579559976, 0.034650439862925396},
		{"2026-11-25", "zeros", "", 2e+06, 0.03, "2029-01-31", "2029-04-30", dates.Thirty360, instrument.Long, -132.37032651360357, 0.029717503744089768},
	}
	for _, tt := range tests {
		m := ratesMarket(t, tt.asOf)
		f := &instrument.FRA{Curve: tt.curve, ForecastCurve: tt.forecast, Notional: tt.notional, Rate: tt.rate,
			Start: ratesDate(t, tt.start), End: ratesDate(t, tt.end), DayCount: tt.dc, Position: tt.pos}
		if err := f.Validate(m.ValuationDate); err != nil {
			t.Fatal(err)
		}
		r, err := DiscountingFRA{}.Price(f, m, allRates)
		if err != nil {
			t.Fatal(err)
		}
		if !ratesClose(r.NPV, tt.npv, 1e-8, 1e-12) || !ratesClose(r.FairRate, tt.fair, 1e-14, 0) {
			t.Errorf("FRA %s-%s: npv %.12g fair %.15g, QuantLib %.12g %.15g", tt.start, tt.end, r.NPV, r.FairRate, tt.npv, tt.fair)
		}
		if len(r.Cashflows) != 1 || !ratesClose(sumCashflows(r.Cashflows), r.NPV, 1e-9, 0) {
			t.Errorf("FRA cash flows %+v do not sum to npv %v", r.Cashflows, r.NPV)
		}
		// At its fair rate a FRA is worth nothing.
		f.Rate = r.FairRate
		if r0, _ := (DiscountingFRA{}).Price(f, m, pricing.Of(pricing.NPV)); !ratesClose(r0.NPV, 0, 1e-8*tt.notional, 0) {
			t.Errorf("FRA at its fair rate: npv %v", r0.NPV)
		}
	}
}

func TestDiscountingFRAPV01(t *testing.T) {
	m := ratesMarket(t, "2026-11-25")
	f := &instrument.FRA{Curve: "flat", Notional: 1e6, Rate: 0.03, Start: ratesDate(t, "2027-11-25"),
		End: ratesDate(t, "2028-11-25"), DayCount: dates.Act365Fixed, Position: instrument.Long}
	r, err := DiscountingFRA{}.Price(f, m, allRates)
	if err != nil {
		t.Fatal(err)
	}
	// Flat continuous curve: F = exp(r tau) - 1 over a year of 366 days.
	// A 1bp shift moves F by about 1bp * (1 + F) and discounts more.
	if r.PV01 < 90 || r.PV01 > 105 {
		t.Errorf("pv01 = %v, want about 97 (1bp on 1m for a year, discounted)", r.PV01)
	}
	if _, err := (DiscountingFRA{}).Price(&instrument.FRA{Curve: "nope"}, m, allRates); !errors.As(err, new(*pricing.UnknownError)) {
		t.Errorf("unknown curve: error %v, want *pricing.UnknownError", err)
	}
}

func BenchmarkFRA(b *testing.B) {
	m := ratesMarket(b, "2026-11-25")
	f := &instrument.FRA{Curve: "zeros", Notional: 5e6, Rate: 0.024, Start: ratesDate(b, "2027-05-25"),
		End: ratesDate(b, "2027-11-25"), DayCount: dates.Act360, Position: instrument.Long}
	want := pricing.Of(pricing.NPV, pricing.FairRate)
	for b.Loop() {
		if _, err := (DiscountingFRA{}).Price(f, m, want); err != nil {
			b.Fatal(err)
		}
	}
}

func TestFRAZeroLengthPeriod(t *testing.T) {
	m := ratesMarket(t, "2026-11-25")
	f := &instrument.FRA{Curve: "flat", Notional: 1e6, Rate: 0.03, Start: ratesDate(t, "2027-01-30"),
		End: ratesDate(t, "2027-01-31"), DayCount: dates.Thirty360, Position: instrument.Long}
	var ie *pricing.InputError
	if _, err := (DiscountingFRA{}).Price(f, m, allRates); !errors.As(err, &ie) || ie.Field != "end" {
		t.Errorf("zero 30/360 period: error %v, want an InputError on end", err)
	}
}
