package engine

import (
	"math"
	"reflect"
	"testing"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/instrument"
	"github.com/pricefn/pricefn/pricing/market"
)

// TestBlackScholesHaug checks blackScholes against Haug's tables as
// QuantLib's europeanoption.cpp does (testdata/ref_european.csv), and against
// QuantLib 1.29's values of the same cases to 1e-12.
func TestBlackScholesHaug(t *testing.T) {
	for _, row := range readRefTable(t, "ref_european.csv") {
		s, k, tt := row.num("spot"), row.num("strike"), row.num("t_eff")
		bs := blackScholes(row.isCall(), s, k, row.num("r"), row.num("q"), row.num("vol"), tt, true)
		var got float64
		switch q := row.str("quantity"); q {
		case "npv":
			got = bs.npv
		case "delta":
			got = bs.delta
		case "gamma":
			got = bs.gamma
		case "vega":
			got = bs.vega
		case "theta":
			got = bs.theta
		case "rho":
			got = bs.rho
		case "thetaPerDay":
			got = bs.theta / 365
		case "elasticity":
			got = bs.delta * s / bs.npv
		case "dividendRho": // dV/dq = -T·S·delta for calls and puts alike
			got = -tt * s * bs.delta
		default:
			t.Fatalf("line %d: unknown quantity %q", row.line, q)
		}
		if want, tol := row.num("expected"), row.num("tolerance"); !withinAbsOrRel(got, want, tol, 0) {
			t.Errorf("line %d %s: %s = %.10g, Haug %.10g (tol %g)", row.line, row.str("option_type"), row.str("quantity"), got, want, tol)
		}
		if ql := row.num("ql129_value"); !withinAbsOrRel(got, ql, 1e-12, 1e-12) {
			t.Errorf("line %d %s: %s = %.16g, QuantLib 1.29 %.16g", row.line, row.str("option_type"), row.str("quantity"), got, ql)
		}
	}
}

// europeanCase is one European option on equityMarket, expiring days after
// refValDate, with the values QuantLib 1.29 gives it.
type europeanCase struct {
	right                               instrument.Right
	spot, strike, r, q, vol             float64
	days                                int
	npv, delta, gamma, vega, theta, rho float64
}

// quantLibEuropean are edge cases priced by QuantLib 1.29's
// AnalyticEuropeanEngine (Debian python3 bindings; flat Actual365Fixed
// curves, valuation date 2026-11-25): vol from 2% to 150%, negative rates
// and dividend yields, one day to thirty years, deep in and out of the money.
var quantLibEuropean = []europeanCase{
	{instrument.Call, 100, 100, 0.05, 0.02, 0.02, 365, 2.9535204318711337, 0.9159743780444123, 0.06252831944368614, 12.505663888737228, -2.7253037514270595, 88.64391737257012},
	{instrument.Put, 100, 120, -0.01, 0.0, 1.5, 730, 90.54386267479798, -0.1672010726182822, 0.001180243078751304, 35.407292362539124, -14.350374335318424, -214.5279398732524},
	{instrument.Call, 100, 50, 0.03, 0.01, 0.2, 1, 50.00136973166127, 0.9999726031150276, 0.0, 0.0, -0.4999041142887854, 0.13697504268449723},
	{instrument.Put, 100, 50, 0.03, 0.01, 0.2, 1, -5.5512671938885736e-15, -1.1101926079726574e-16, 0.0, 0.0, 5.5500505778825594e-17, -1.5207284618734246e-17},
	{instrument.Call, 100, 105, -0.005, -0.01, 0.3, 10950, 82.25033568806737, 1.09531592651572, 0.002218916078510165, 199.70244706591478, -1.9574218770277716, 818.4377089051385},
	{instrument.Put, 80, 100, 0.1, 0.05, 0.6, 3650, 22.38356943439797, -0.0830013410386281, 0.0008756832861483204, 33.626238188095506, 1.5615751619514442, -290.2367671748822},
	{instrument.Call, 100, 300, 0.02, 0.0, 0.15, 90, 3.577662689513771e-49, 7.135169844259924e-49, 1.409487871751277e-48, 5.2131743201758016e-46, -1.599872642154916e-46, 1.750535313870729e-47},
	{instrument.Put, 100, 100, -0.02, 0.03, 0.05, 7, 0.32679547567042816, -0.5533846104323048, 0.5705960469939065, 5.471468943777163, -9.905909549098972, -1.0675528647460308},
}

func TestAnalyticEuropeanQuantLib(t *testing.T) {
	for _, c := range quantLibEuropean {
		o := instrument.European{Option: instrument.Option{Underlying: "X", Right: c.right, Strike: c.strike, Expiry: refValDate.AddDays(c.days)}}
		res, err := AnalyticEuropean{}.Price(&o, equityMarket(c.spot, c.r, c.q, c.vol), pricing.Of(pricing.NPV).With(pricing.Delta))
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if want := setNPV | pricing.Greeks; res.Set != want {
			t.Errorf("%+v: Set = %b, want %b", c, res.Set, want)
		}
		// QuantLib's erf-based normal distribution leaves ~1e-15 of noise
		// on deep out-of-the-money values (it returns a negative npv), and
		// its theta, a sum divided by T, loses ~1e-11 at one day (ours
		// matches a 40-digit evaluation there).
		for _, m := range []struct {
			name      string
			got, want float64
		}{
			{"npv", res.NPV, c.npv}, {"delta", res.Delta, c.delta}, {"gamma", res.Gamma, c.gamma},
			{"vega", res.Vega, c.vega}, {"theta", res.Theta, c.theta}, {"rho", res.Rho, c.rho},
		} {
			if !withinAbsOrRel(m.got, m.want, 1e-13, 1e-10) {
				t.Errorf("%v S=%v K=%v r=%v q=%v vol=%v days=%d: %s = %.16g, QuantLib %.16g", c.right, c.spot, c.strike, c.r, c.q, c.vol, c.days, m.name, m.got, m.want)
			}
		}
	}
}

// bsGrid is a grid of (S, K, r, q, vol, T) for the identity tests.
func bsGrid() [][6]float64 {
	var out [][6]float64
	for _, k := range []float64{60, 95, 100, 140} {
		for _, r := range []float64{-0.01, 0.05} {
			for _, q := range []float64{0, 0.03} {
				for _, vol := range []float64{0.05, 0.3, 1.2} {
					for _, tt := range []float64{0.05, 1, 7} {
						out = append(out, [6]float64{100, k, r, q, vol, tt})
					}
				}
			}
		}
	}
	return out
}

func TestBlackScholesPutCallParity(t *testing.T) {
	for _, c := range bsGrid() {
		s, k, r, q, vol, tt := c[0], c[1], c[2], c[3], c[4], c[5]
		call := blackScholes(true, s, k, r, q, vol, tt, true)
		put := blackScholes(false, s, k, r, q, vol, tt, true)
		fwd := s*math.Exp(-q*tt) - k*math.Exp(-r*tt)
		checks := []struct {
			name      string
			got, want float64
		}{
			{"C-P", call.npv - put.npv, fwd},
			{"deltaC-deltaP", call.delta - put.delta, math.Exp(-q * tt)},
			{"gammaC-gammaP", call.gamma - put.gamma, 0},
			{"vegaC-vegaP", call.vega - put.vega, 0},
			{"rhoC-rhoP", call.rho - put.rho, k * tt * math.Exp(-r*tt)},
			{"thetaC-thetaP", call.theta - put.theta, q*s*math.Exp(-q*tt) - r*k*math.Exp(-r*tt)},
		}
		for _, ch := range checks {
			if !withinAbsOrRel(ch.got, ch.want, 1e-12, 1e-12) {
				t.Errorf("%v: %s = %.15g, want %.15g", c, ch.name, ch.got, ch.want)
			}
		}
	}
}

// TestBlackScholesGreeksFiniteDifference checks each analytic greek against
// a central difference of blackScholes prices.
func TestBlackScholesGreeksFiniteDifference(t *testing.T) {
	for _, c := range bsGrid() {
		s, k, r, q, vol, tt := c[0], c[1], c[2], c[3], c[4], c[5]
		for _, call := range []bool{true, false} {
			v := func(s, r, vol, tt float64) float64 { return blackScholes(call, s, k, r, q, vol, tt, false).npv }
			g := blackScholes(call, s, k, r, q, vol, tt, true)
			// Spot steps scale with S·σ√T, the width of the kink the
			// payoff smooths into.
			sd := s * vol * math.Sqrt(tt)
			h1, h2, hv, hr, ht := 1e-5*sd, 1e-3*sd, 1e-5, 1e-5, 1e-5*tt
			fd := []struct {
				name        string
				an, fd, tol float64
			}{
				{"delta", g.delta, (v(s+h1, r, vol, tt) - v(s-h1, r, vol, tt)) / (2 * h1), 1e-8},
				{"gamma", g.gamma, (v(s+h2, r, vol, tt) - 2*g.npv + v(s-h2, r, vol, tt)) / (h2 * h2), 1e-6},
				{"vega", g.vega, (v(s, r, vol+hv, tt) - v(s, r, vol-hv, tt)) / (2 * hv), 1e-6},
				{"rho", g.rho, (v(s, r+hr, vol, tt) - v(s, r-hr, vol, tt)) / (2 * hr), 1e-6},
				{"theta", g.theta, -(v(s, r, vol, tt+ht) - v(s, r, vol, tt-ht)) / (2 * ht), 1e-6},
			}
			for _, f := range fd {
				if !withinAbsOrRel(f.an, f.fd, f.tol, 1e-6) {
					t.Errorf("call=%v %v: %s analytic %.12g, finite difference %.12g", call, c, f.name, f.an, f.fd)
				}
			}
		}
	}
}

func TestAnalyticEuropeanSetsOnlyWhatItComputes(t *testing.T) {
	o := instrument.European{Option: instrument.Option{Underlying: "X", Right: instrument.Call, Strike: 100, Expiry: refValDate.AddDays(365)}}
	res, err := AnalyticEuropean{}.Price(&o, equityMarket(100, 0.05, 0, 0.2), pricing.Of(pricing.NPV))
	if err != nil {
		t.Fatal(err)
	}
	if res.Set != setNPV || res.Delta != 0 {
		t.Errorf("npv alone: Set = %b, delta = %v; want npv only", res.Set, res.Delta)
	}
	// 10.4506 is the textbook S=K=100, r=5%, vol=20%, T=1 call.
	if !withinAbsOrRel(res.NPV, 10.450583572185565, 1e-12, 0) {
		t.Errorf("npv = %.15g, want 10.450583572185565", res.NPV)
	}
}

// TestAnalyticEuropeanZeroCurve checks r = -ln(DF(T))/T on a curve that is
// not flat: the price is the flat-curve price at the zero rate to expiry.
func TestAnalyticEuropeanZeroCurve(t *testing.T) {
	zc, err := market.NewZeroCurve([]float64{0.5, 2}, []float64{0.01, 0.04})
	if err != nil {
		t.Fatal(err)
	}
	m := equityMarket(100, 0, 0.01, 0.25)
	m.Curves["C"] = zc
	o := instrument.European{Option: instrument.Option{Underlying: "X", Right: instrument.Put, Strike: 105, Expiry: refValDate.AddDays(365)}}
	res, err := AnalyticEuropean{}.Price(&o, m, pricing.Greeks)
	if err != nil {
		t.Fatal(err)
	}
	r := 0.01 + 0.03*(1-0.5)/1.5
	want := blackScholes(false, 100, 105, r, 0.01, 0.25, 1, true)
	if !withinAbsOrRel(res.NPV, want.npv, 1e-13, 0) || !withinAbsOrRel(res.Rho, want.rho, 1e-11, 0) {
		t.Errorf("npv %v rho %v, want %v %v", res.NPV, res.Rho, want.npv, want.rho)
	}
}

// BenchmarkEuropean prices one European option with all five greeks per
// iteration, market look-up included, cycling through 64 trades.
func BenchmarkEuropean(b *testing.B) {
	m := equityMarket(100, 0.03, 0.01, 0.25)
	trades, want := europeanBenchTrades()
	i := 0
	for b.Loop() {
		if _, err := (AnalyticEuropean{}).Price(&trades[i%64], m, want); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// europeanBenchTrades are the benchmarks' 64 options on "X" (calls and
// puts, strikes 70 to 133, 30 days to 7 years) and their measures.
func europeanBenchTrades() ([]instrument.European, pricing.Measures) {
	trades := make([]instrument.European, 64)
	for i := range trades {
		right := instrument.Right(i % 2)
		trades[i] = instrument.European{Option: instrument.Option{Underlying: "X", Right: right, Strike: 70 + float64(i), Expiry: refValDate.AddDays(30 + 40*i)}}
	}
	return trades, pricing.Of(pricing.NPV) | pricing.Greeks
}

// BenchmarkEuropeanBound is BenchmarkEuropean on the underlying's market
// looked up once (BindEquity), as batch prices a compiled job.
func BenchmarkEuropeanBound(b *testing.B) {
	m := equityMarket(100, 0.03, 0.01, 0.25)
	em, err := BindEquity(m, "X")
	if err != nil {
		b.Fatal(err)
	}
	trades, want := europeanBenchTrades()
	i := 0
	for b.Loop() {
		if _, err := (AnalyticEuropean{}).PriceOn(&trades[i%64], em, want); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// TestPriceOnIsPrice checks that the bound path gives Price's result to
// the last bit.
func TestPriceOnIsPrice(t *testing.T) {
	m := equityMarket(100, 0.03, 0.01, 0.25)
	em, err := BindEquity(m, "X")
	if err != nil {
		t.Fatal(err)
	}
	want := pricing.Of(pricing.NPV) | pricing.Greeks
	for i := range 64 {
		o := instrument.European{Option: instrument.Option{Underlying: "X", Right: instrument.Right(i % 2), Strike: 70 + float64(i), Expiry: refValDate.AddDays(30 + 40*i)}}
		a, err1 := AnalyticEuropean{}.Price(&o, m, want)
		b, err2 := AnalyticEuropean{}.PriceOn(&o, em, want)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("trade %d: Price %+v (%v), PriceOn %+v (%v)", i, a, err1, b, err2)
		}
	}
	if _, err := BindEquity(m, "NONE"); err == nil {
		t.Error("BindEquity of an unknown underlying: no error")
	}
}

// TestTinySpotGreeksFinite checks the greeks of a European and a geometric
// Asian call on a spot of 1e-200, worth nothing: gamma divided by S², which
// underflows to 0 below 1e-154, and was NaN, failing the trade with no
// field named.
func TestTinySpotGreeksFinite(t *testing.T) {
	m := equityMarket(1e-200, 0.05, 0.01, 0.25)
	opt := instrument.Option{Underlying: "X", Right: instrument.Call, Strike: 100, Expiry: refValDate.AddDays(365)}
	all := pricing.Of(pricing.NPV, pricing.Delta, pricing.Gamma, pricing.Vega, pricing.Theta, pricing.Rho)
	eu, err := AnalyticEuropean{}.Price(&instrument.European{Option: opt}, m, all)
	if err != nil {
		t.Fatal(err)
	}
	as, err := AnalyticGeometricAsian{}.Price(&instrument.Asian{Option: opt, Averaging: instrument.Geometric, Fixings: []dates.Date{refValDate.AddDays(180), refValDate.AddDays(365)}}, m, all)
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]pricing.Result{"european": eu, "asian": as} {
		for _, g := range []float64{r.NPV, r.Delta, r.Gamma, r.Vega, r.Theta, r.Rho} {
			if g != 0 {
				t.Errorf("%s: npv %g, delta %g, gamma %g, vega %g, theta %g, rho %g; want all 0", name, r.NPV, r.Delta, r.Gamma, r.Vega, r.Theta, r.Rho)
				break
			}
		}
	}
}
