package engine

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"testing"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/instrument"
	"github.com/pricefn/pricefn/pricing/market"
)

// amCases is a spread of American options for the property tests: calls and
// puts, in, at and out of the money, short and long, low and high vol,
// positive, zero and negative rates and dividend yields.
func amCases() []americanOption {
	var out []americanOption
	for _, call := range []bool{false, true} {
		for _, k := range []float64{60, 95, 100, 130} {
			for _, t := range []float64{3.0 / 365, 0.5, 4} {
				for _, rq := range [][2]float64{{0.05, 0}, {0.03, 0.08}, {-0.01, 0.02}, {0.0, -0.01}, {0.09, 0.09}} {
					for _, vol := range []float64{0.05, 0.3, 1.2} {
						out = append(out, americanOption{call: call, spot: 100, k: k, t: t, r: rq[0], q: rq[1], vol: vol})
					}
				}
			}
		}
	}
	return out
}

// amIntrinsic returns the exercise value of o now.
func amIntrinsic(o americanOption) float64 {
	if o.call {
		return math.Max(o.spot-o.k, 0)
	}
	return math.Max(o.k-o.spot, 0)
}

// TestFDAmericanBounds checks no-arbitrage bounds on every case: the
// American price is at least the exercise value, at least the European
// price (within the reference tolerance, the grid's error), at most the
// spot for a call and the strike for a put; and it satisfies the put-call
// bounds S e^{-qT} - K <= C - P <= S - K e^{-rT} for r, q >= 0.
func TestFDAmericanBounds(t *testing.T) {
	t.Parallel()
	for i, o := range amCases() {
		if i%amStride != 0 {
			continue
		}
		g := americanPrice(o, DefaultAmericanTimeSteps, DefaultAmericanGridPoints)
		eu, _, _, _ := americanEuropean(o.call, o.spot, o.k, o.t, o.r, o.q, o.vol)
		upper := o.k
		if o.call {
			upper = o.spot
		}
		switch {
		case !(g.npv >= amIntrinsic(o)):
			t.Errorf("%+v: npv %.10g below exercise value %.10g", o, g.npv, amIntrinsic(o))
		case g.npv < eu-amRefTol(eu):
			t.Errorf("%+v: npv %.10g below European %.10g", o, g.npv, eu)
		case g.npv > upper:
			t.Errorf("%+v: npv %.10g above %.10g", o, g.npv, upper)
		}
		if o.call || o.r < 0 || o.q < 0 {
			continue
		}
		c := o
		c.call = true
		cg := americanPrice(c, DefaultAmericanTimeSteps, DefaultAmericanGridPoints)
		lo := o.spot*math.Exp(-o.q*o.t) - o.k
		hi := o.spot - o.k*math.Exp(-o.r*o.t)
		tol := amRefTol(cg.npv) + amRefTol(g.npv)
		if d := cg.npv - g.npv; d < lo-tol || d > hi+tol {
			t.Errorf("%+v: C - P = %.10g outside [%.10g, %.10g]", o, d, lo, hi)
		}
	}
}

// TestFDAmericanEuropeanWhenNoEarlyExercise checks that a call with q <= 0
// <= r and a put with r <= 0 <= q, which are never worth exercising early,
// get exactly the Black-Scholes-Merton price, and that a call with q = 0 but
// r < 0 does not: there a deep in-the-money call is worth exercising at once.
// (From vol·sqrt(T) = 4 on, the engine reproduces QuantLib's
// finite-difference price instead, see americanReplicaStdDev.)
func TestFDAmericanEuropeanWhenNoEarlyExercise(t *testing.T) {
	for _, o := range amCases() {
		if !(o.call && o.q <= 0 && o.r >= 0 || !o.call && o.r <= 0 && o.q >= 0) || o.vol*math.Sqrt(o.t) >= americanReplicaStdDev {
			continue
		}
		g := americanPrice(o, DefaultAmericanTimeSteps, DefaultAmericanGridPoints)
		eu, delta, gamma, _ := americanEuropean(o.call, o.spot, o.k, o.t, o.r, o.q, o.vol)
		if g.npv != eu || g.delta != delta || g.gamma != gamma {
			t.Errorf("%+v: got %+v, European npv %v delta %v gamma %v", o, g, eu, delta, gamma)
		}
	}
	// QuantLib's AnalyticEuropeanEngine, from american_hard.csv.
	n := 0
	for _, row := range amCSV(t, "testdata/american_hard.csv") {
		q, r := amFloat(t, row, "q"), amFloat(t, row, "r")
		if row["right"] != "call" || q > 0 || r < 0 {
			continue
		}
		days, _ := strconv.Atoi(row["days"])
		o := americanOption{call: true, spot: amFloat(t, row, "spot"), k: amFloat(t, row, "strike"), q: q, r: r, vol: amFloat(t, row, "vol"), t: float64(days) / 365}
		if o.vol*math.Sqrt(o.t) >= americanReplicaStdDev {
			continue
		}
		g := americanPrice(o, DefaultAmericanTimeSteps, DefaultAmericanGridPoints)
		if want := amFloat(t, row, "european"); math.Abs(g.npv-want) > 1e-9*math.Max(1, want) {
			t.Errorf("%s: npv %.12g, QuantLib European %.12g", row["id"], g.npv, want)
		}
		n++
	}
	if n < 20 {
		t.Errorf("only %d calls with q <= 0 <= r in american_hard.csv", n)
	}
	deep := americanOption{call: true, spot: 200, k: 100, t: 1, r: -0.05, q: 0, vol: 0.1}
	eu, _, _, _ := americanEuropean(true, 200, 100, 1, -0.05, 0, 0.1)
	if g := americanPrice(deep, DefaultAmericanTimeSteps, DefaultAmericanGridPoints); g.npv != 100 || eu >= 100 {
		t.Errorf("deep call with r < 0: npv %v (want the exercise value 100), European %v", g.npv, eu)
	}
}

// TestFDAmericanSymmetry checks the put-call symmetry C(S, K, r, q) =
// P(K, S, q, r) of American options, and the greeks the engine derives from
// it against bumped prices.
func TestFDAmericanSymmetry(t *testing.T) {
	t.Parallel()
	for i, o := range amCases() {
		if !o.call || i%(3*amStride) != 0 {
			continue
		}
		p := americanOption{spot: o.k, k: o.spot, t: o.t, r: o.q, q: o.r, vol: o.vol}
		c, pp := americanPrice(o, 2000, 400), americanPrice(p, 2000, 400)
		if math.Abs(c.npv-pp.npv) > 1e-12*math.Max(1, c.npv) {
			t.Errorf("%+v: call %.15g, symmetric put %.15g", o, c.npv, pp.npv)
		}
	}
}

// TestFDAmericanMonotoneInVol checks that prices rise with volatility.
func TestFDAmericanMonotoneInVol(t *testing.T) {
	t.Parallel()
	for _, base := range []americanOption{
		{call: false, spot: 100, k: 100, t: 1, r: 0.05, q: 0},
		{call: false, spot: 100, k: 120, t: 5, r: 0.08, q: 0.01},
		{call: true, spot: 100, k: 90, t: 2, r: 0.02, q: 0.06},
		{call: true, spot: 50, k: 100, t: 0.25, r: -0.01, q: 0.03},
	} {
		prev := -1.0
		for i := 0; i <= 24; i++ {
			o := base
			o.vol = 0.02 * math.Pow(75, float64(i)/24) // 2% to 150%
			v := americanPrice(o, DefaultAmericanTimeSteps, DefaultAmericanGridPoints).npv
			if v < prev-1e-6 {
				t.Errorf("%+v: npv %.10g below %.10g at the lower vol", o, v, prev)
			}
			prev = math.Max(prev, v)
		}
	}
}

// TestFDAmericanPrice checks what Price sets and its handling of the
// market: quantities come out per unit, the measures are npv, delta, gamma
// and theta whatever was asked, and the rate is the curve's zero rate to
// expiry.
func TestFDAmericanPrice(t *testing.T) {
	o, m := amMarket(instrument.Put, 100, 105, 0.01, 0.04, 0.25, 365)
	res, err := FDAmerican{}.Price(o, m, pricing.Of(pricing.NPV, pricing.Vega))
	if err != nil {
		t.Fatal(err)
	}
	if want := pricing.Of(pricing.NPV, pricing.Delta, pricing.Gamma, pricing.Theta); res.Set != want {
		t.Errorf("Set = %b, want %b", res.Set, want)
	}
	g := americanPrice(americanOption{spot: 100, k: 105, t: 1, r: 0.04, q: 0.01, vol: 0.25}, DefaultAmericanTimeSteps, DefaultAmericanGridPoints)
	if !amClose(res.NPV, g.npv) || !amClose(res.Delta, g.delta) || !amClose(res.Gamma, g.gamma) || !amClose(res.Theta, g.theta) {
		t.Errorf("Price %+v, want %+v", res, g)
	}
	if !(res.Delta < 0 && res.Delta > -1 && res.Gamma > 0 && res.Theta < 0) {
		t.Errorf("greeks of an out-of-the-money put: %+v", res)
	}
	// A coarser grid is a different, still sensible, price.
	coarse, err := FDAmerican{TimeSteps: 100, GridPoints: 50}.Price(o, m, pricing.Of(pricing.NPV))
	if err != nil || math.Abs(coarse.NPV-res.NPV) > 0.05 || coarse.NPV == res.NPV {
		t.Errorf("100 x 50 grid: %v, %v (fine grid %v)", coarse.NPV, err, res.NPV)
	}
	// A tiny or negative grid is raised to the minimum.
	if tiny, err := (FDAmerican{TimeSteps: 1, GridPoints: -3}).Price(o, m, 0); err != nil || !(tiny.NPV > 5 && tiny.NPV < 15) {
		t.Errorf("1 x minimum grid: %v, %v", tiny.NPV, err)
	}
}

// amClose reports whether a and b agree to 1e-9 relative: what the round
// trip of a rate through a discount factor leaves.
func amClose(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// TestFDAmericanInvalid checks that unpriceable inputs give errors naming
// the field, not NaN.
func TestFDAmericanInvalid(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*instrument.American, *pricing.Market)
		field string // of the *pricing.InputError, "" for an *pricing.UnknownError
	}{
		{"unknown underlying", func(o *instrument.American, _ *pricing.Market) { o.Underlying = "X" }, ""},
		{"unknown curve", func(_ *instrument.American, m *pricing.Market) {
			m.Underlyings["U"] = pricing.Underlying{Spot: 100, Vol: 0.2, Curve: "X"}
		}, ""},
		{"zero strike", func(o *instrument.American, _ *pricing.Market) { o.Strike = 0 }, "strike"},
		{"NaN strike", func(o *instrument.American, _ *pricing.Market) { o.Strike = math.NaN() }, "strike"},
		{"expired", func(o *instrument.American, m *pricing.Market) { o.Expiry = m.ValuationDate }, "expiry"},
		{"zero spot", func(_ *instrument.American, m *pricing.Market) {
			m.Underlyings["U"] = pricing.Underlying{Spot: 0, Vol: 0.2, Curve: "C"}
		}, "market.underlyings.U.spot"},
		{"infinite spot", func(_ *instrument.American, m *pricing.Market) {
			m.Underlyings["U"] = pricing.Underlying{Spot: math.Inf(1), Vol: 0.2, Curve: "C"}
		}, "market.underlyings.U.spot"},
		{"zero vol", func(_ *instrument.American, m *pricing.Market) {
			m.Underlyings["U"] = pricing.Underlying{Spot: 100, Curve: "C"}
		}, "market.underlyings.U.vol"},
		{"NaN vol", func(_ *instrument.American, m *pricing.Market) {
			m.Underlyings["U"] = pricing.Underlying{Spot: 100, Vol: math.NaN(), Curve: "C"}
		}, "market.underlyings.U.vol"},
		{"vanishing vol", func(_ *instrument.American, m *pricing.Market) {
			m.Underlyings["U"] = pricing.Underlying{Spot: 100, Vol: 1e-300, Curve: "C"}
		}, "market.underlyings.U.vol"},
		{"NaN dividend", func(_ *instrument.American, m *pricing.Market) {
			m.Underlyings["U"] = pricing.Underlying{Spot: 100, Vol: 0.2, DividendYield: math.NaN(), Curve: "C"}
		}, "market.underlyings.U.dividendYield"},
		{"NaN rate", func(_ *instrument.American, m *pricing.Market) { m.Curves["C"] = market.NewFlatCurve(math.NaN()) }, "market.curves.C"},
		{"infinite rate", func(_ *instrument.American, m *pricing.Market) { m.Curves["C"] = market.NewFlatCurve(math.Inf(1)) }, "market.curves.C"},
	} {
		o, m := amMarket(instrument.Call, 100, 100, 0, 0.03, 0.2, 30)
		tc.edit(o, m)
		res, err := FDAmerican{}.Price(o, m, pricing.Of(pricing.NPV))
		var ie *pricing.InputError
		var ue *pricing.UnknownError
		switch {
		case err == nil:
			t.Errorf("%s: no error, npv %v", tc.name, res.NPV)
		case tc.field == "" && !errors.As(err, &ue):
			t.Errorf("%s: %v, want an *UnknownError", tc.name, err)
		case tc.field != "" && (!errors.As(err, &ie) || ie.Field != tc.field):
			t.Errorf("%s: %v, want an *InputError for %s", tc.name, err, tc.field)
		}
	}
}

// TestFDAmericanExtremes prices far corners of the inputs: they must give
// finite values within the no-arbitrage bounds, never NaN or a panic. A
// coarse grid keeps it quick; the code paths are those of the default one.
func TestFDAmericanExtremes(t *testing.T) {
	t.Parallel()
	e := FDAmerican{TimeSteps: 100, GridPoints: 40}
	for _, call := range []bool{false, true} {
		for _, k := range []float64{1e-4, 1, 100, 1e4, 1e8} {
			for _, days := range []int{1, 365, 50 * 365} {
				for _, vol := range []float64{1e-4, 0.02, 1.5, 10} {
					for _, rq := range [][2]float64{{0.05, 0.02}, {-0.05, 0.3}, {0.3, -0.05}, {0, 0}} {
						right := instrument.Put
						if call {
							right = instrument.Call
						}
						o, m := amMarket(right, 100, k, rq[1], rq[0], vol, days)
						res, err := e.Price(o, m, pricing.Of(pricing.NPV))
						name := fmt.Sprintf("%v K=%g T=%dd vol=%g r=%g q=%g", right, k, days, vol, rq[0], rq[1])
						if err != nil {
							t.Errorf("%s: %v", name, err)
							continue
						}
						// A put is worth at most K e^{max(-rT, 0)}, a call
						// S e^{max(-qT, 0)}.
						tt := float64(days) / 365
						upper, intrinsic := k*math.Exp(math.Max(-rq[0]*tt, 0)), math.Max(k-100, 0)
						if call {
							upper, intrinsic = 100*math.Exp(math.Max(-rq[1]*tt, 0)), math.Max(100-k, 0)
						}
						for _, v := range []float64{res.NPV, res.Delta, res.Gamma, res.Theta} {
							if math.IsNaN(v) || math.IsInf(v, 0) {
								t.Errorf("%s: %+v", name, res)
							}
						}
						if !(res.NPV >= intrinsic && res.NPV <= upper*(1+1e-12)) {
							t.Errorf("%s: npv %v outside [%v, %v]", name, res.NPV, intrinsic, upper)
						}
					}
				}
			}
		}
	}
}

// TestFDAmericanConcurrent prices the same trades from several goroutines
// at once: the results must equal the sequential ones to the last bit.
func TestFDAmericanConcurrent(t *testing.T) {
	cases := amCases()[:60]
	want := make([]americanGreeks, len(cases))
	for i, o := range cases {
		want[i] = americanPrice(o, 500, 200)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4*len(cases))
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := range cases {
				i := (i + 17*w) % len(cases)
				if got := americanPrice(cases[i], 500, 200); got != want[i] {
					errs <- fmt.Sprintf("%+v: %+v, sequentially %+v", cases[i], got, want[i])
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// amPlainPut solves the put o as the engine does, step by step with a plain
// Thomas solve and a separate floor, to check the fused passes.
func amPlainPut(o americanOption, steps, base int) (npv, snap float64) {
	w := new(americanWork)
	d, n := americanPutGrid(o, base)
	w.resize(n)
	j := w.grid(o, d)
	w.operator(o)
	w.payoff(o.k, o.spot, j)
	v, rhs, cp := w.v, make([]float64, n), make([]float64, n)
	step := func(dt float64) {
		h := 0.5 * dt
		for i := range v {
			rhs[i] = v[i] + h*w.di[i]*v[i]
			if i > 0 {
				rhs[i] += h * w.lo[i] * v[i-1]
			}
			if i < n-1 {
				rhs[i] += h * w.up[i] * v[i+1]
			}
		}
		for i := range v {
			a, b, c := -h*w.lo[i], 1-h*w.di[i], -h*w.up[i]
			if i > 0 {
				b -= a * cp[i-1]
				rhs[i] -= a * rhs[i-1]
			}
			cp[i] = c / b
			rhs[i] /= b
		}
		for i := n - 1; i >= 0; i-- {
			v[i] = rhs[i]
			if i < n-1 {
				v[i] -= cp[i] * v[i+1]
			}
		}
		for i := range v {
			v[i] = math.Max(v[i], w.g[i])
		}
	}
	dt, at, tt := o.t/float64(steps), americanThetaTime(o.t), o.t
	for i := 0; i < steps; i++ {
		next := tt - dt
		if i == steps-1 {
			next = 0
		}
		if next <= at && at < tt {
			step(tt - at)
			snap = v[j]
			if at > next {
				step(at - next)
			}
		} else {
			step(tt - next)
		}
		tt -= dt
	}
	return v[j], snap
}

// TestFDAmericanPasses checks the fused, two-node passes against a plain
// implementation of the same scheme, for odd and even grid sizes.
func TestFDAmericanPasses(t *testing.T) {
	for _, o := range amCases() {
		if o.call || o.r <= 0 && o.q >= 0 {
			continue
		}
		for _, n := range []int{17, 64} {
			d, nodes := americanPutGrid(o, n)
			g := americanSolvePut(o, 37, d, nodes)
			npv, snap := amPlainPut(o, 37, n)
			tol := 1e-10 * math.Max(1, npv)
			at := americanThetaTime(o.t)
			if math.Abs(g.npv-npv) > tol || math.Abs((g.theta*at+g.npv)-snap) > tol {
				t.Errorf("%+v n=%d: npv %.15g snapshot %.15g, plain %.15g %.15g", o, n, g.npv, g.theta*at+g.npv, npv, snap)
			}
		}
	}
}
