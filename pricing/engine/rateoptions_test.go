package engine

import (
	"math"
	"strings"
	"testing"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/instrument"
)

// rateVols are the vol kinds the parity tests run under.
var rateVols = []RateVol{
	{Type: Lognormal, Vol: 0.3},
	{Type: Lognormal, Vol: 0.25, Displacement: 0.02},
	{Type: Normal, Vol: 0.008},
}

// testSwaption is a 2y into 5y swaption on the zero curve, dual curve when
// forecast is set.
func testSwaption(t testing.TB, side instrument.SwapSide, strike float64, forecast string) *instrument.Swaption {
	expiry := ratesDate(t, "2028-11-24")
	return &instrument.Swaption{Expiry: expiry, Swap: instrument.Swap{Curve: "zeros", ForecastCurve: forecast, Notional: 1e7,
		FixedRate: strike, Start: expiry, Maturity: ratesDate(t, "2033-11-24"), Side: side,
		FixedFrequency: dates.Annual, FixedDayCount: dates.Thirty360, FloatFrequency: dates.Semiannual, FloatDayCount: dates.Act360,
		Calendar: dates.TARGET, Convention: dates.ModifiedFollowing}}
}

// TestSwaptionParity checks payer - receiver = the forward swap's value
// (paying the strike), for every vol kind, single and dual curve, and that
// the annuity and fair rate reprice the swap.
func TestSwaptionParity(t *testing.T) {
	m := ratesMarket(t, "2026-11-25")
	for _, vol := range rateVols {
		for _, fc := range []string{"", "fwd"} {
			for _, k := range []float64{0.01, 0.03, 0.05} {
				e := BlackSwaption{Vol: vol}
				p, err := e.Price(testSwaption(t, instrument.PayFixed, k, fc), m, pricing.Of(pricing.NPV))
				if err != nil {
					t.Fatal(err)
				}
				r, err := e.Price(testSwaption(t, instrument.ReceiveFixed, k, fc), m, pricing.Of(pricing.NPV))
				if err != nil {
					t.Fatal(err)
				}
				sw := testSwaption(t, instrument.PayFixed, k, fc).Swap
				fwdSwap, err := DiscountingSwap{}.Price(&sw, m, pricing.Of(pricing.NPV))
				if err != nil {
					t.Fatal(err)
				}
				if d := p.NPV - r.NPV - fwdSwap.NPV; math.Abs(d) > 1e-8 {
					t.Errorf("%+v %q K=%v: payer - receiver - swap = %.3g", vol, fc, k, d)
				}
				if d := p.Annuity*(p.FairRate-k) - fwdSwap.NPV; math.Abs(d) > 1e-8 {
					t.Errorf("%+v %q K=%v: annuity·(fair - K) - swap = %.3g", vol, fc, k, d)
				}
				if p.Vega <= 0 || math.Abs(p.Vega-r.Vega) > 1e-9*p.Vega {
					t.Errorf("%+v %q K=%v: vegas %v and %v, want equal and positive", vol, fc, k, p.Vega, r.Vega)
				}
			}
		}
	}
}

// testCapFloor is a 10y quarterly cap (floor) starting in a month.
func testCapFloor(t testing.TB, typ instrument.CapFloorType, strike float64, forecast string) *instrument.CapFloor {
	return &instrument.CapFloor{Type: typ, Curve: "zeros", ForecastCurve: forecast, Notional: 1e7, Strike: strike,
		Start: ratesDate(t, "2026-12-28"), Maturity: ratesDate(t, "2036-12-29"), Frequency: dates.Quarterly,
		DayCount: dates.Act360, Calendar: dates.TARGET, Convention: dates.ModifiedFollowing}
}

// TestCapFloorParity checks cap - floor = the floating leg less the strike
// leg (a swap paying the strike on the cap's own schedule and day count,
// valued coupon by coupon), for every vol kind, single and dual curve.
func TestCapFloorParity(t *testing.T) {
	m := ratesMarket(t, "2026-11-25")
	for _, vol := range rateVols {
		for _, fc := range []string{"", "fwd"} {
			for _, k := range []float64{0.01, 0.03, 0.05} {
				e := BlackCapFloor{Vol: vol}
				c, err := e.Price(testCapFloor(t, instrument.Cap, k, fc), m, pricing.Of(pricing.NPV))
				if err != nil {
					t.Fatal(err)
				}
				f, err := e.Price(testCapFloor(t, instrument.Floor, k, fc), m, pricing.Of(pricing.NPV))
				if err != nil {
					t.Fatal(err)
				}
				cf := testCapFloor(t, instrument.Cap, k, fc)
				leg, err := cf.Leg()
				if err != nil {
					t.Fatal(err)
				}
				disc, fwd := m.Curves["zeros"], m.Curves["zeros"]
				if fc != "" {
					fwd = m.Curves[fc]
				}
				var swap float64
				for _, cp := range leg {
					pay := m.YearFraction(cp.Pay)
					rate := (fwd.Discount(m.YearFraction(cp.FixingStart))/fwd.Discount(m.YearFraction(cp.FixingEnd)) - 1) / cp.Span
					swap += 1e7 * cp.Accrual * (rate - k) * disc.Discount(pay)
				}
				if d := c.NPV - f.NPV - swap; math.Abs(d) > 1e-7 {
					t.Errorf("%+v %q K=%v: cap - floor - swap = %.3g", vol, fc, k, d)
				}
				if c.Vega <= 0 || math.Abs(c.Vega-f.Vega) > 1e-9*c.Vega {
					t.Errorf("%+v %q K=%v: vegas %v and %v, want equal and positive", vol, fc, k, c.Vega, f.Vega)
				}
			}
		}
	}
}

// TestRateOptionErrors checks the vol checks and the shifted-lognormal rule.
func TestRateOptionErrors(t *testing.T) {
	m := ratesMarket(t, "2026-11-25")
	for _, c := range []struct {
		vol    RateVol
		strike float64
		field  string
	}{
		{RateVol{Type: Lognormal, Vol: 0}, 0.03, "vol"},
		{RateVol{Type: Normal, Vol: 0.01, Displacement: 0.01}, 0.03, "displacement"},
		{RateVol{Type: Lognormal, Vol: 0.2}, -0.01, "displacement"},
		{RateVol{Type: Lognormal, Vol: 0.2, Displacement: 0.005}, -0.01, "displacement"},
	} {
		_, err := BlackCapFloor{Vol: c.vol}.Price(testCapFloor(t, instrument.Cap, c.strike, ""), m, pricing.Of(pricing.NPV))
		if errorField(err) != c.field {
			t.Errorf("cap %+v K=%v: error %v, want one on %s", c.vol, c.strike, err, c.field)
		}
		_, err = BlackSwaption{Vol: c.vol}.Price(testSwaption(t, instrument.PayFixed, c.strike, ""), m, pricing.Of(pricing.NPV))
		if errorField(err) != c.field {
			t.Errorf("swaption %+v K=%v: error %v, want one on %s", c.vol, c.strike, err, c.field)
		}
	}
	// The shifted rule passes with enough displacement.
	if _, err := (BlackCapFloor{Vol: RateVol{Type: Lognormal, Vol: 0.2, Displacement: 0.02}}).Price(testCapFloor(t, instrument.Cap, -0.01, ""), m, 0); err != nil {
		t.Errorf("displaced cap: %v", err)
	}
}

// BenchmarkSwaption prices a 2y into 5y payer swaption, all measures.
func BenchmarkSwaption(b *testing.B) {
	m := ratesMarket(b, "2026-11-25")
	s := testSwaption(b, instrument.PayFixed, 0.03, "")
	e := BlackSwaption{Vol: RateVol{Vol: 0.3}}
	for b.Loop() {
		if _, err := e.Price(s, m, pricing.Of(pricing.NPV, pricing.Vega)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCapFloor prices a 10y quarterly cap (40 caplets).
func BenchmarkCapFloor(b *testing.B) {
	m := ratesMarket(b, "2026-11-25")
	c := testCapFloor(b, instrument.Cap, 0.03, "")
	e := BlackCapFloor{Vol: RateVol{Vol: 0.3}}
	for b.Loop() {
		if _, err := e.Price(c, m, pricing.Of(pricing.NPV, pricing.Vega)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSwaptionStartBeforeExpiry checks that a swaption whose swap start
// rolls before the exercise date is refused on expiry, as QuantLib's
// swaption engines refuse it ("swap start before exercise date not
// supported"), and that a past fixing names expiry, a swaption's field.
func TestSwaptionStartBeforeExpiry(t *testing.T) {
	for _, c := range []struct {
		name, asOf, expiry string
		conv               dates.Convention
		want               string // "" prices
	}{
		{"month-end Sunday, modifiedFollowing", "2026-11-25", "2030-03-31", dates.ModifiedFollowing, "starts the swap on 2030-03-29"},
		{"Sunday, preceding", "2026-11-25", "2028-11-26", dates.Preceding, "starts the swap on 2028-11-24"},
		{"Sunday, following", "2026-11-25", "2028-11-26", dates.Following, ""},
		{"mid-month Sunday, modifiedFollowing", "2026-11-25", "2028-11-26", dates.ModifiedFollowing, ""},
		{"Sunday, unadjusted, fixed on the Friday before", "2026-11-28", "2026-11-29", dates.Unadjusted, "past fixings"},
	} {
		m := ratesMarket(t, c.asOf)
		s := testSwaption(t, instrument.PayFixed, 0.03, "")
		s.Expiry = ratesDate(t, c.expiry)
		s.Swap.Start, s.Swap.Convention, s.Swap.Calendar = s.Expiry, c.conv, dates.WeekendsOnly
		_, err := BlackSwaption{Vol: RateVol{Vol: 0.2}}.Price(s, m, pricing.Of(pricing.NPV))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (errorField(err) != "expiry" || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one on expiry containing %q", c.name, err, c.want)
		}
	}
}
