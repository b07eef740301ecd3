package engine

import (
	"errors"
	"math"
	"testing"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/instrument"
)

// accurateBlack returns Black's undiscounted price from the normalised
// out-of-the-money price (normLogBlack), plus the intrinsic value for an
// in-the-money option: full relative precision in the wings, as a
// reference for round trips.
func accurateBlack(call bool, f, k, s float64) float64 {
	x := -math.Abs(math.Log(f / k))
	b := math.Exp(normLogBlack(x, s))
	if b > 0.5*math.Exp(0.5*x) {
		b = math.Exp(0.5*x) - normBlackGap(x, s)
	}
	otm := math.Sqrt(f*k) * b
	intrinsic := f - k
	if !call {
		intrinsic = -intrinsic
	}
	return otm + max(intrinsic, 0)
}

// TestImpliedVolRoundTrip checks vol -> price -> vol across wings (strikes
// e^±3 times the forward), expiries from a day to 30 years and vols from 1%
// to 300%: the vol comes back to 1e-12 relative wherever the price
// determines it that well (its relative sensitivity to the vol,
// vega·σ/price, is at least 1e-3), and the price comes back to 2e-12
// relative, times that sensitivity where it exceeds 1.
func TestImpliedVolRoundTrip(t *testing.T) {
	worst := 0.0
	for _, call := range []bool{true, false} {
		for _, days := range []float64{1, 7, 30, 365, 3650, 10950} {
			tt := days / 365
			for _, vol := range []float64{0.01, 0.02, 0.1, 0.25, 0.5, 1, 1.5, 3} {
				for _, logM := range []float64{-3, -1, -0.3, -0.05, -0.001, 0, 0.001, 0.05, 0.3, 1, 3} {
					f, k := 100.0, 100*math.Exp(logM)
					s := vol * math.Sqrt(tt)
					p := accurateBlack(call, f, k, s)
					// Skip where the price does not pin the vol down (or
					// underflows): below 1e-300, or a relative vega < 1e-3.
					x := -math.Abs(logM)
					vega := math.Sqrt(f*k) * math.Exp(normLogVega(x, s)) * s
					if p < 1e-300 || vega/p < 1e-3 {
						continue
					}
					got, err := impliedStdDev(call, p, f, k)
					if err != nil {
						t.Errorf("call %v T=%v vol %v ln(K/F) %v: %v", call, tt, vol, logM, err)
						continue
					}
					rel := math.Abs(got/s - 1)
					worst = max(worst, rel)
					if rel > 1e-12 {
						t.Errorf("call %v T=%v vol %v ln(K/F) %v: price %.17g gives vol %.17g (rel err %.3g)", call, tt, vol, logM, p, got/math.Sqrt(tt), rel)
					}
					// price -> vol -> price, to 2e-12 relative times the
					// price's elasticity to the vol where that exceeds 1.
					if back := accurateBlack(call, f, k, got); math.Abs(back-p) > 2e-12*p*max(1, vega/p) {
						t.Errorf("call %v T=%v vol %v ln(K/F) %v: price %.17g comes back as %.17g", call, tt, vol, logM, p, back)
					}
				}
			}
		}
	}
	t.Logf("worst relative vol error %.3g", worst)
}

// TestImpliedVolEngine checks the engine on a market: it inverts
// AnalyticEuropean and rejects premiums on or outside the bounds.
func TestImpliedVolEngine(t *testing.T) {
	m := equityMarket(100, 0.03, 0.01, 0.2)
	for _, right := range []instrument.Right{instrument.Call, instrument.Put} {
		for _, k := range []float64{60, 95, 100, 110, 160} {
			o := &instrument.European{Option: instrument.Option{Underlying: "X", Right: right, Strike: k, Expiry: refValDate.AddDays(400)}}
			r, err := AnalyticEuropean{}.Price(o, m, pricing.Of(pricing.NPV))
			if err != nil {
				t.Fatal(err)
			}
			iv, err := ImpliedVolatility{}.Price(o, r.NPV, m)
			if err != nil || math.Abs(iv-0.2) > 1e-11 {
				t.Errorf("%v K=%v: implied vol %.15g (%v), want 0.2", right, k, iv, err)
			}
		}
	}
	call := &instrument.European{Option: instrument.Option{Underlying: "X", Right: instrument.Call, Strike: 100, Expiry: refValDate.AddDays(365)}}
	dq, df := math.Exp(-0.01), math.Exp(-0.03)
	for _, p := range []float64{-1, 0, 100*dq - 100*df, 100*dq - 100*df - 1e-3, 100 * dq, 150} {
		_, err := ImpliedVolatility{}.Price(call, p, m)
		var in *pricing.InputError
		if !errors.As(err, &in) || in.Field != "price" {
			t.Errorf("premium %v: error %v, want an InputError on price", p, err)
		}
	}
}

// TestImpliedVolSubnormalPremium checks premiums below the smallest
// normal double (a 10-day put 27% out of the money at 5% vol), where
// math.Log on amd64 is wrong (golang/go#56600): the random cross-check
// against QuantLib found 0.0501556 for 0.05 there. The vols are the exact
// roots (mpmath, 50 digits) of Black-Scholes with the wire conventions.
func TestImpliedVolSubnormalPremium(t *testing.T) {
	m := equityMarket(75.232029, -0.01, 0.053533, 0.3)
	put := &instrument.European{Option: instrument.Option{Underlying: "X", Right: instrument.Put, Strike: 55.095625, Expiry: refValDate.AddDays(10)}}
	for _, c := range []struct{ premium, want float64 }{
		{9.307391095050305e-309, 0.050000000000000003},
		{1e-300, 0.050671876823315394},
	} {
		iv, err := ImpliedVolatility{}.Price(put, c.premium, m)
		if err != nil || math.Abs(iv-c.want) > 1e-13 {
			t.Errorf("premium %v: implied vol %.17g (%v), want %.17g", c.premium, iv, err, c.want)
		}
	}
	for _, v := range []float64{5e-324, 1.45e-310, 0x1p-1022, 1e-300, 1} {
		if got, want := logPositive(v), math.Log2(v)*math.Ln2; math.Abs(got-want) > 1e-13*math.Abs(want)+1e-15 {
			t.Errorf("logPositive(%v) = %.17g, want %.17g", v, got, want)
		}
	}
}

// TestErfcx checks the scaled complementary error function against
// erfc·e^{x²} where that is accurate, and its asymptotic series.
func TestErfcx(t *testing.T) {
	for _, c := range []struct{ x, want float64 }{
		{0, 1},
		{1, 0.42758357615580700441},
		{-1, 5.0089800807622834},
		{5, 0.11070463773306862},
		{30, 0.018795888861416751},
		{100, 0.0056416137829894329},
	} {
		if got := erfcx(c.x); math.Abs(got-c.want) > 4e-16*c.want {
			t.Errorf("erfcx(%v) = %.17g, want %.17g", c.x, got, c.want)
		}
	}
}

// BenchmarkImpliedVol inverts a 1y 110-strike call.
func BenchmarkImpliedVol(b *testing.B) {
	m := equityMarket(100, 0.03, 0.01, 0.2)
	o := &instrument.European{Option: instrument.Option{Underlying: "X", Right: instrument.Call, Strike: 110, Expiry: refValDate.AddDays(365)}}
	r, _ := AnalyticEuropean{}.Price(o, m, pricing.Of(pricing.NPV))
	for b.Loop() {
		if _, err := (ImpliedVolatility{}).Price(o, r.NPV, m); err != nil {
			b.Fatal(err)
		}
	}
}
