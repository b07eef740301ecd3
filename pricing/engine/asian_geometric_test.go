package engine

import (
	"math"
	"testing"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/instrument"
	"github.com/pricefn/pricefn/pricing/market"
)

// flatLogFwd returns ln(F(t)/S) = (r-q)·t at each time.
func flatLogFwd(times []float64, r, q float64) []float64 {
	out := make([]float64, len(times))
	for i, t := range times {
		out[i] = (r - q) * t
	}
	return out
}

// TestGeometricAsianLiterature checks geometricAsian against Clewlow &
// Strickland's discrete case (testdata/ref_asian.csv, as QuantLib's
// asianoptions.cpp) and, with 100,000 fixings, against Haug's continuous
// geometric average (the discrete value converges to it as 1/N).
func TestGeometricAsianLiterature(t *testing.T) {
	n := 0
	for _, row := range readRefTable(t, "ref_asian.csv") {
		tc := row.str("test_case")
		if tc != "testAnalyticDiscreteGeometricAveragePrice" && tc != "testAnalyticContinuousGeometricAveragePrice" {
			continue
		}
		n++
		s, k, r, q, vol, tt := row.num("spot"), row.num("strike"), row.num("r"), row.num("q"), row.num("vol"), row.num("t")
		var times []float64
		ql := math.NaN()
		if tc == "testAnalyticDiscreteGeometricAveragePrice" {
			times = row.nums("fixing_times")
			ql = row.num("ql129_value")
		} else {
			const fixings = 100_000
			times = make([]float64, fixings)
			for i := range times {
				times[i] = tt * float64(i+1) / fixings
			}
		}
		g := geometricAsian(row.isCall(), s, k, vol, q, r, tt, math.Exp(-r*tt), times, flatLogFwd(times, r, q), false)
		if want, tol := row.num("expected"), row.num("tolerance"); !withinAbsOrRel(g.npv, want, tol, 0) {
			t.Errorf("line %d %s: npv %.12g, literature %.12g (tol %g)", row.line, row.str("test_case"), g.npv, want, tol)
		}
		if !math.IsNaN(ql) && !withinAbsOrRel(g.npv, ql, 1e-13, 1e-13) {
			t.Errorf("line %d: npv %.16g, QuantLib 1.29 %.16g", row.line, g.npv, ql)
		}
	}
	if n != 2 {
		t.Errorf("%d geometric rows, want 2", n)
	}
}

// quantLibGeometric are cases priced by QuantLib 1.29's
// AnalyticDiscreteGeometricAveragePriceAsianEngine (Debian python3
// bindings; flat Actual365Fixed curves, valuation date 2026-11-25, fixings
// the given days after it, expiry on the last fixing), with its greeks.
var quantLibGeometric = []struct {
	right                               instrument.Right
	spot, strike, r, q, vol             float64
	fixings                             []int
	npv, delta, gamma, vega, theta, rho float64
}{
	{instrument.Call, 100, 100, 0.05, 0.02, 0.25, []int{30, 60, 90, 120, 150, 180}, 4.753089666885822, 0.534124645626918, 0.03415667778547588, 16.674166966374916, -12.038681261497606, 13.021240106967612},
	{instrument.Put, 100, 110, -0.01, 0.0, 0.8, []int{30, 60, 91, 121, 152, 182, 212, 243, 273, 304, 334, 365}, 28.83102713146747, -0.5025699725787292, 0.007742330310685755, 29.872889026358767, -25.566337238075285, -55.99045921123577},
	{instrument.Call, 50, 40, 0.02, 0.04, 0.03, []int{7, 14}, 9.963487180611814, 0.9986562803131749, 0.0, -0.007182117084444068, 1.197926023884381, 1.054262264755757},
	{instrument.Put, 100, 95, 0.0, 0.0, 0.4, []int{1}, 0.004771379560440603, -0.006939866047975255, 0.009236821328990627, 0.1012254392218155, -7.389457063192504, -0.00191440543659718},
	{instrument.Call, 100, 120, 0.06, 0.01, 0.3, []int{91, 182, 273, 364, 455, 546, 637, 728, 819, 910, 1001, 1092, 1183, 1274, 1365, 1456, 1547, 1638, 1729, 1820, 1911, 2002, 2093, 2184, 2275, 2366, 2457, 2548, 2639, 2730, 2821, 2912, 3003, 3094, 3185, 3276, 3367, 3458, 3549, 3640}, 14.41539982920183, 0.40090934459603156, 0.004539590304740884, 27.005306416363258, -3.1824383703665027, 61.14406261943826},
}

// asianOn returns an Asian option on "X" fixing the given days after
// refValDate and expiring on the last fixing.
func asianOn(right instrument.Right, strike float64, avg instrument.Averaging, days []int) instrument.Asian {
	fix := make([]dates.Date, len(days))
	for i, d := range days {
		fix[i] = refValDate.AddDays(d)
	}
	return instrument.Asian{
		Option:    instrument.Option{Underlying: "X", Right: right, Strike: strike, Expiry: fix[len(fix)-1]},
		Averaging: avg, Fixings: fix,
	}
}

func TestAnalyticGeometricAsianQuantLib(t *testing.T) {
	for _, c := range quantLibGeometric {
		o := asianOn(c.right, c.strike, instrument.Geometric, c.fixings)
		res, err := AnalyticGeometricAsian{}.Price(&o, equityMarket(c.spot, c.r, c.q, c.vol), pricing.Of(pricing.NPV, pricing.Vega))
		if err != nil {
			t.Fatal(err)
		}
		if want := setNPV | pricing.Greeks; res.Set != want {
			t.Errorf("Set = %b, want %b", res.Set, want)
		}
		for _, m := range []struct {
			name      string
			got, want float64
		}{
			{"npv", res.NPV, c.npv}, {"delta", res.Delta, c.delta}, {"gamma", res.Gamma, c.gamma},
			{"vega", res.Vega, c.vega}, {"theta", res.Theta, c.theta}, {"rho", res.Rho, c.rho},
		} {
			// QuantLib's theta takes its short rate from the discount
			// factor to 1e-4 years, -ln(DF)/1e-4, and so loses ~1e-11.
			if !withinAbsOrRel(m.got, m.want, 1e-13, 1e-10) {
				t.Errorf("%v K=%v vol=%v %d fixings: %s = %.16g, QuantLib %.16g", c.right, c.strike, c.vol, len(c.fixings), m.name, m.got, m.want)
			}
		}
	}
}

// TestGeometricAsianOneFixing checks that one fixing at expiry is the
// European option, greeks included.
func TestGeometricAsianOneFixing(t *testing.T) {
	for _, c := range bsGrid() {
		s, k, r, q, vol, tt := c[0], c[1], c[2], c[3], c[4], c[5]
		for _, call := range []bool{true, false} {
			times := []float64{tt}
			g := geometricAsian(call, s, k, vol, q, r, tt, math.Exp(-r*tt), times, flatLogFwd(times, r, q), true)
			e := blackScholes(call, s, k, r, q, vol, tt, true)
			for _, m := range []struct {
				name      string
				got, want float64
			}{
				{"npv", g.npv, e.npv}, {"delta", g.delta, e.delta}, {"gamma", g.gamma, e.gamma},
				{"vega", g.vega, e.vega}, {"theta", g.theta, e.theta}, {"rho", g.rho, e.rho},
			} {
				if !withinAbsOrRel(m.got, m.want, 1e-12, 1e-10) {
					t.Errorf("call=%v %v: %s = %.14g, European %.14g", call, c, m.name, m.got, m.want)
				}
			}
		}
	}
}

// TestGeometricAsianGreeksFiniteDifference checks each analytic greek
// against a central difference of geometricAsian prices on a flat curve;
// theta moves the valuation date, so every fixing comes closer.
func TestGeometricAsianGreeksFiniteDifference(t *testing.T) {
	for _, c := range bsGrid() {
		s, k, r, q, vol, tt := c[0], c[1], c[2], c[3], c[4], c[5]
		times := make([]float64, 12)
		for i := range times {
			times[i] = tt * float64(i+1) / 12
		}
		for _, call := range []bool{true, false} {
			v := func(s, r, vol, shift float64) float64 {
				ts := make([]float64, len(times))
				for i, ti := range times {
					ts[i] = ti - shift
				}
				return geometricAsian(call, s, k, vol, q, r, tt-shift, math.Exp(-r*(tt-shift)), ts, flatLogFwd(ts, r, q), false).npv
			}
			g := geometricAsian(call, s, k, vol, q, r, tt, math.Exp(-r*tt), times, flatLogFwd(times, r, q), true)
			sd := s * vol * math.Sqrt(tt)
			h1, h2, hv, hr, ht := 1e-5*sd, 1e-3*sd, 1e-5, 1e-5, 1e-3*times[0]
			for _, f := range []struct {
				name   string
				an, fd float64
				absTol float64
			}{
				{"delta", g.delta, (v(s+h1, r, vol, 0) - v(s-h1, r, vol, 0)) / (2 * h1), 1e-8},
				{"gamma", g.gamma, (v(s+h2, r, vol, 0) - 2*g.npv + v(s-h2, r, vol, 0)) / (h2 * h2), 1e-6},
				{"vega", g.vega, (v(s, r, vol+hv, 0) - v(s, r, vol-hv, 0)) / (2 * hv), 1e-6},
				{"rho", g.rho, (v(s, r+hr, vol, 0) - v(s, r-hr, vol, 0)) / (2 * hr), 1e-6},
				{"theta", g.theta, (v(s, r, vol, ht) - v(s, r, vol, -ht)) / (2 * ht), 1e-6},
			} {
				if !withinAbsOrRel(f.an, f.fd, f.absTol, 1e-6) {
					t.Errorf("call=%v %v: %s analytic %.12g, finite difference %.12g", call, c, f.name, f.an, f.fd)
				}
			}
		}
	}
}

// TestAnalyticGeometricAsianTermStructure checks that each fixing takes its
// own forward from the curve: on a zero curve, one fixing at expiry is the
// European option at the zero rate to expiry, and the value of several
// fixings is the flat-curve formula with each fixing's own forward.
func TestAnalyticGeometricAsianTermStructure(t *testing.T) {
	zc, err := market.NewZeroCurve([]float64{0.25, 1, 3}, []float64{0.0, 0.03, 0.05})
	if err != nil {
		t.Fatal(err)
	}
	m := equityMarket(100, 0, 0.01, 0.3)
	m.Curves["C"] = zc

	o := asianOn(instrument.Call, 95, instrument.Geometric, []int{730})
	res, err := AnalyticGeometricAsian{}.Price(&o, m, pricing.Of(pricing.NPV))
	if err != nil {
		t.Fatal(err)
	}
	if e := blackScholes(true, 100, 95, zc.ZeroRate(2), 0.01, 0.3, 2, false); !withinAbsOrRel(res.NPV, e.npv, 1e-12, 1e-12) {
		t.Errorf("one fixing: npv %.15g, European %.15g", res.NPV, e.npv)
	}

	days := []int{91, 365, 730}
	o = asianOn(instrument.Put, 105, instrument.Geometric, days)
	res, err = AnalyticGeometricAsian{}.Price(&o, m, pricing.Of(pricing.NPV))
	if err != nil {
		t.Fatal(err)
	}
	times := []float64{91.0 / 365, 1, 2}
	logFwd := make([]float64, 3)
	for i, ti := range times {
		logFwd[i] = (zc.ZeroRate(ti) - 0.01) * ti
	}
	want := geometricAsian(false, 100, 105, 0.3, 0.01, 0, 2, zc.Discount(2), times, logFwd, false).npv
	if !withinAbsOrRel(res.NPV, want, 1e-12, 1e-12) {
		t.Errorf("three fixings: npv %.15g, want %.15g", res.NPV, want)
	}
}

// BenchmarkAsianGeometric prices one 12-fixing geometric Asian option per
// iteration (npv, as the reference batch asks), market look-up included.
func BenchmarkAsianGeometric(b *testing.B) {
	m := equityMarket(100, 0.03, 0.01, 0.25)
	o := asianOn(instrument.Call, 100, instrument.Geometric, []int{30, 61, 91, 122, 152, 183, 213, 244, 274, 305, 335, 365})
	want := pricing.Of(pricing.NPV)
	for b.Loop() {
		if _, err := (AnalyticGeometricAsian{}).Price(&o, m, want); err != nil {
			b.Fatal(err)
		}
	}
}

// TestGeometricAsianDeepOutOfTheMoney checks puts so far out of the money
// that QuantLib 1.29's Black formula, K·(1-N(d2)) - F·(1-N(d1)), keeps only
// the rounding of terms near 1: a put worth 2e-12 (the difference of two
// terms of about 60), which QuantLib prices at 1.988586724710907e-12, 0.2%
// off the exact 1.984873152198e-12 (mpmath at 60 digits on the same
// formula), and one on a spot of 1e15 worth nothing, which it priced at
// -0.099. The fixing of the first is 17 days before expiry.
func TestGeometricAsianDeepOutOfTheMoney(t *testing.T) {
	o := instrument.Asian{
		Option:    instrument.Option{Underlying: "X", Right: instrument.Put, Strike: 66.084515, Expiry: dates.New(2027, 10, 19)},
		Averaging: instrument.Geometric, Fixings: []dates.Date{dates.New(2027, 10, 2)},
	}
	res, err := AnalyticGeometricAsian{}.Price(&o, equityMarket(76.930879, 0.088601, 0.040893, 0.030905), pricing.Of(pricing.NPV))
	if err != nil {
		t.Fatal(err)
	}
	if want := 1.984873152198e-12; !withinAbsOrRel(res.NPV, want, 0, 1e-7) {
		t.Errorf("npv %.16g, exact %.16g", res.NPV, want)
	}

	far := instrument.Asian{
		Option:    instrument.Option{Underlying: "X", Right: instrument.Put, Strike: 53.495842, Expiry: dates.New(2028, 11, 9)},
		Averaging: instrument.Geometric, Fixings: []dates.Date{dates.New(2027, 5, 25), dates.New(2027, 11, 25), dates.New(2028, 5, 25), dates.New(2028, 11, 9)},
	}
	res, err = AnalyticGeometricAsian{}.Price(&far, equityMarket(1e15, 0.065483, 0.041997, 0.281244), pricing.Of(pricing.NPV, pricing.Delta))
	if err != nil {
		t.Fatal(err)
	}
	if res.NPV < 0 || res.NPV > 1e-100 || res.Delta > 0 || res.Delta < -1e-100 {
		t.Errorf("spot 1e15: npv %g, delta %g, want both 0 to within 1e-100", res.NPV, res.Delta)
	}
}
