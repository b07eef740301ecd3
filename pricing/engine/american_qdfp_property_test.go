package engine

import (
	"fmt"
	"math"
	"testing"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/instrument"
)

// TestQdFpAmericanBounds checks no-arbitrage bounds on every case of
// amCases: the price is at least the exercise value and the European price,
// at most the strike for a put and the spot for a call (times e^{-rT}, or
// e^{-qT}, where that is above 1).
func TestQdFpAmericanBounds(t *testing.T) {
	t.Parallel()
	for i, o := range amCases() {
		if i%amStride != 0 {
			continue
		}
		g, ok := QdFpAmerican{}.price(o, true)
		if !ok {
			g = americanPrice(o, DefaultAmericanTimeSteps, DefaultAmericanGridPoints)
		}
		eu := blackScholes(o.call, o.spot, o.k, o.r, o.q, o.vol, o.t, false).npv
		upper := o.k * math.Max(1, math.Exp(-o.r*o.t))
		if o.call {
			upper = o.spot * math.Max(1, math.Exp(-o.q*o.t))
		}
		tol := 1e-12 * math.Max(1, upper)
		if !(g.npv >= amIntrinsic(o)-tol && g.npv >= eu-1e-9*math.Max(1, eu) && g.npv <= upper+tol) {
			t.Errorf("%+v: npv %.12g, intrinsic %.12g, European %.12g, upper %.12g", o, g.npv, amIntrinsic(o), eu, upper)
		}
		for _, v := range []float64{g.npv, g.delta, g.gamma, g.theta} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("%+v: %+v", o, g)
			}
		}
	}
}

// TestQdFpAmericanSymmetry checks the McDonald-Schroder symmetry through
// Price, each side on its own market: C(S, K, r, q) = P(K, S, q, r), with
// delta and gamma related by the homogeneity of the price (dC/dS =
// (P - K·dP/dK)/S with the put's spot K, d²C/dS² = (K/S)²·d²P/dK²).
func TestQdFpAmericanSymmetry(t *testing.T) {
	want := pricing.Of(pricing.NPV, pricing.Delta, pricing.Gamma, pricing.Theta)
	for _, c := range []struct{ s, k, r, q, vol float64 }{
		{100, 90, 0.05, 0.02, 0.3}, {100, 120, 0.01, 0.06, 0.2}, {80, 100, -0.01, 0.03, 0.4}, {100, 100, 0.08, 0.08, 0.25},
	} {
		co, cm := amMarket(instrument.Call, c.s, c.k, c.q, c.r, c.vol, 600)
		po, pm := amMarket(instrument.Put, c.k, c.s, c.r, c.q, c.vol, 600)
		cr, err := QdFpAmerican{}.Price(co, cm, want)
		if err != nil {
			t.Fatal(err)
		}
		pr, err := QdFpAmerican{}.Price(po, pm, want)
		if err != nil {
			t.Fatal(err)
		}
		if !withinAbsOrRel(cr.NPV, pr.NPV, 1e-12, 1e-12) {
			t.Errorf("%+v: call %.15g, symmetric put %.15g", c, cr.NPV, pr.NPV)
		}
		// The put here has spot K and strike S: its strike derivative
		// gives the call's delta.
		dCall := (pr.NPV - c.k*pr.Delta) / c.s
		if !withinAbsOrRel(cr.Delta, dCall, 1e-12, 1e-10) {
			t.Errorf("%+v: call delta %.15g, from the put %.15g", c, cr.Delta, dCall)
		}
		if g := c.k * c.k / (c.s * c.s) * pr.Gamma; !withinAbsOrRel(cr.Gamma, g, 1e-12, 1e-10) {
			t.Errorf("%+v: call gamma %.15g, from the put %.15g", c, cr.Gamma, g)
		}
	}
}

// TestQdFpAmericanGreeks checks delta and gamma against central differences
// of the price in the spot, and theta against the change of the price with
// the time to expiry, on options across the regimes (puts and calls, in
// and out of the money, r > q, r < q, negative rates, never-exercised
// Europeans). The differences are taken with a high-precision scheme so
// that their own error stays below the tolerances.
func TestQdFpAmericanGreeks(t *testing.T) {
	t.Parallel()
	hp := QdFpAmerican{Nodes: 32, Iterations: 60, BoundaryPoints: 32, PricePoints: 96}
	for _, o := range []americanOption{
		{call: false, spot: 100, k: 105, t: 1.5, r: 0.05, q: 0.02, vol: 0.3},
		{call: false, spot: 90, k: 100, t: 0.5, r: 0.08, q: 0, vol: 0.2},
		{call: false, spot: 120, k: 100, t: 3, r: 0.03, q: 0.06, vol: 0.35},
		{call: true, spot: 110, k: 100, t: 1, r: 0.02, q: 0.07, vol: 0.25},
		{call: true, spot: 95, k: 100, t: 2, r: -0.01, q: 0.03, vol: 0.3},
		{call: true, spot: 100, k: 100, t: 1, r: -0.005, q: 0, vol: 0.4},
		{call: false, spot: 100, k: 100, t: 1, r: -0.01, q: 0.02, vol: 0.3}, // European
	} {
		g, ok := QdFpAmerican{}.price(o, true)
		if !ok {
			t.Fatalf("%+v: no QdFp price", o)
		}
		price := func(s, tt float64) float64 {
			p := o
			p.spot, p.t = s, tt
			v, _ := hp.price(p, false)
			return v.npv
		}
		h := 1e-3 * o.spot
		up, mid, dn := price(o.spot+h, o.t), price(o.spot, o.t), price(o.spot-h, o.t)
		delta := (up - dn) / (2 * h)
		gamma := (up - 2*mid + dn) / (h * h)
		dt := 1e-4
		theta := (price(o.spot, o.t-dt) - price(o.spot, o.t+dt)) / (2 * dt)
		if !withinAbsOrRel(g.delta, delta, 1e-6, 1e-5) {
			t.Errorf("%+v: delta %.10g, finite difference %.10g", o, g.delta, delta)
		}
		if !withinAbsOrRel(g.gamma, gamma, 1e-6, 1e-3) {
			t.Errorf("%+v: gamma %.10g, finite difference %.10g", o, g.gamma, gamma)
		}
		if !withinAbsOrRel(g.theta, theta, 1e-5, 1e-3) {
			t.Errorf("%+v: theta %.10g, finite difference %.10g", o, g.theta, theta)
		}
	}
}

// TestQdFpAmericanRegimes checks the regimes of rates and yields: where
// early exercise is never optimal the price and greeks are the European
// ones exactly (as QuantLib); where a put would have two exercise
// boundaries (q < r < 0, and r < q < 0 for a call) Price falls back to
// FDAmerican; and exercised options are worth their payoff, with theta 0.
func TestQdFpAmericanRegimes(t *testing.T) {
	want := pricing.Of(pricing.NPV, pricing.Delta, pricing.Gamma, pricing.Theta)
	for _, c := range []struct {
		right   instrument.Right
		r, q    float64
		s, k    float64
		regime  string // "european", "fd" or "boundary"
		payoffs bool   // deep enough in the money to be exercised now
	}{
		{instrument.Put, -0.01, 0.02, 100, 100, "european", false},
		{instrument.Put, 0, 0, 100, 100, "european", false},
		{instrument.Put, -0.02, -0.01, 100, 100, "european", false},
		{instrument.Call, 0.03, 0, 100, 100, "european", false},
		{instrument.Call, 0.02, -0.01, 100, 100, "european", false},
		{instrument.Put, -0.01, -0.03, 100, 100, "fd", false},
		{instrument.Call, -0.03, -0.01, 100, 100, "fd", false},
		{instrument.Call, -0.01, 0, 100, 100, "boundary", false},  // the put of the symmetry has r = 0 > q
		{instrument.Put, 0.01, 0.05, 100, 100, "boundary", false}, // q > r
		{instrument.Put, 0.08, 0, 40, 100, "boundary", true},
		{instrument.Call, 0, 0.1, 300, 100, "boundary", true},
	} {
		o, m := amMarket(c.right, c.s, c.k, c.q, c.r, 0.25, 365)
		name := fmt.Sprintf("%v S=%g K=%g r=%g q=%g", c.right, c.s, c.k, c.r, c.q)
		got, err := QdFpAmerican{}.Price(o, m, want)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		in, _ := americanMarket(&o.Option, m)
		switch c.regime {
		case "european":
			bs := blackScholes(in.call, in.spot, in.k, in.r, in.q, in.vol, in.t, true)
			if got.NPV != bs.npv || got.Delta != bs.delta || got.Gamma != bs.gamma || got.Theta != bs.theta {
				t.Errorf("%s: %+v, European %+v", name, got, bs)
			}
		case "fd":
			fd, err := FDAmerican{}.Price(o, m, want)
			if err != nil {
				t.Fatal(err)
			}
			if got.NPV != fd.NPV || got.Delta != fd.Delta || got.Gamma != fd.Gamma || got.Theta != fd.Theta {
				t.Errorf("%s: %+v, FDAmerican %+v", name, got, fd)
			}
		case "boundary":
			eu := blackScholes(in.call, in.spot, in.k, in.r, in.q, in.vol, in.t, false).npv
			if !(got.NPV > eu) {
				t.Errorf("%s: npv %.12g not above the European %.12g", name, got.NPV, eu)
			}
			if c.payoffs {
				in := math.Abs(c.s - c.k)
				delta := -1.0
				if c.right == instrument.Call {
					delta = 1
				}
				if got.NPV != in || got.Delta != delta || got.Gamma != 0 || got.Theta != 0 {
					t.Errorf("%s: %+v, want the payoff %g with delta %g", name, got, in, delta)
				}
			}
		}
	}
}

// TestQdFpAmericanMeasures checks that Price computes the greeks only when
// asked for one, and the npv alike either way.
func TestQdFpAmericanMeasures(t *testing.T) {
	o, m := amMarket(instrument.Put, 100, 105, 0.02, 0.05, 0.3, 548)
	npv, err := QdFpAmerican{}.Price(o, m, pricing.Of(pricing.NPV, pricing.Vega))
	if err != nil {
		t.Fatal(err)
	}
	all, err := QdFpAmerican{}.Price(o, m, pricing.Of(pricing.NPV, pricing.Theta))
	if err != nil {
		t.Fatal(err)
	}
	if npv.Set != pricing.Of(pricing.NPV) || all.Set != pricing.Of(pricing.NPV, pricing.Delta, pricing.Gamma, pricing.Theta) {
		t.Errorf("sets %v and %v", npv.Set, all.Set)
	}
	if npv.NPV != all.NPV {
		t.Errorf("npv %v without greeks, %v with", npv.NPV, all.NPV)
	}
}

// TestQdFpAmericanExtremes prices far corners of the inputs: finite values
// within the no-arbitrage bounds, never NaN or a panic.
func TestQdFpAmericanExtremes(t *testing.T) {
	t.Parallel()
	want := pricing.Of(pricing.NPV, pricing.Delta, pricing.Gamma, pricing.Theta)
	for _, call := range []bool{false, true} {
		for _, k := range []float64{1e-4, 1, 100, 1e4, 1e8} {
			for _, days := range []int{1, 365, 50 * 365} {
				for _, vol := range []float64{1e-4, 0.02, 1.5, 10} {
					for _, rq := range [][2]float64{{0.05, 0.02}, {-0.05, 0.3}, {0.3, -0.05}, {0, 0}, {0.02, 0.02}} {
						right := instrument.Put
						if call {
							right = instrument.Call
						}
						o, m := amMarket(right, 100, k, rq[1], rq[0], vol, days)
						name := fmt.Sprintf("%v K=%g T=%dd vol=%g r=%g q=%g", right, k, days, vol, rq[0], rq[1])
						res, err := QdFpAmerican{}.Price(o, m, want)
						if err != nil {
							t.Errorf("%s: %v", name, err)
							continue
						}
						tt := float64(days) / 365
						upper, intrinsic := k*math.Exp(math.Max(-rq[0]*tt, 0)), math.Max(k-100, 0)
						if call {
							upper, intrinsic = 100*math.Exp(math.Max(-rq[1]*tt, 0)), math.Max(100-k, 0)
						}
						if !(res.NPV >= intrinsic*(1-1e-12) && res.NPV <= upper*(1+1e-12)) {
							t.Errorf("%s: npv %v outside [%v, %v]", name, res.NPV, intrinsic, upper)
						}
					}
				}
			}
		}
	}
}

// TestQdFpAmericanConcurrent prices the same options from several
// goroutines at once (the scratch space is pooled): the results must equal
// the sequential ones to the last bit.
func TestQdFpAmericanConcurrent(t *testing.T) {
	t.Parallel()
	cases := amCases()
	want := make([]americanGreeks, len(cases))
	for i, o := range cases {
		want[i], _ = QdFpAmerican{}.price(o, true)
	}
	errs := make(chan string, 4*len(cases))
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := g; i < len(cases); i += 2 * amStride {
				if got, _ := (QdFpAmerican{}).price(cases[i], true); got != want[i] {
					errs <- fmt.Sprintf("%+v: %+v, sequential %+v", cases[i], got, want[i])
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
