package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMills checks the tabulated Mills ratio against millsRatioExact (from
// math.Erfc) over [0, millsMax], at random points and at every interval's
// ends, and the normal distribution made from it: within 2e-15 absolute of
// normCDF, which rounds as QuantLib (whose asymptotic series, below 1e-8,
// is itself off by up to 1e-7 relative, 1e-15 absolute), and in the lower
// tail (the tail a deep
// out-of-the-money option's price is made of) within 3e-15 relative of
// math.Erfc, which keeps its relative accuracy there where QuantLib's
// 0.5·(1+erf) does not. (Rounding a/√2 costs the reference a²·1.1e-16
// relative, and rounding a² the density half that: the bound allows both.)
func TestMills(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	check := func(a float64) {
		t.Helper()
		got, want := mills(a), millsRatioExact(a)
		if rel := math.Abs(got-want) / want; rel > 3e-15 {
			t.Fatalf("mills(%v) = %.17g, want %.17g: relative error %.3g", a, got, want, rel)
		}
		phi := invSqrt2Pi * math.Exp(-a*a/2)
		lower := phi * got
		if want := 0.5 * math.Erfc(a*sqrtHalf); math.Abs(lower-want) > (3e-15+a*a*2.2e-16)*want {
			t.Fatalf("N(-%v) from the Mills ratio %.17g, math.Erfc %.17g", a, lower, want)
		}
		for _, x := range []float64{a, -a} {
			if got, want := cdfFromTail(lower, x), normCDF(x); math.Abs(got-want) > 2e-15 {
				t.Fatalf("N(%v) from the Mills ratio %.17g, normCDF %.17g", x, got, want)
			}
		}
	}
	for range 1_000_000 {
		check(rng.Float64() * millsMax)
	}
	for i := range int(millsIntervals) {
		edge := (float64(i) + 0.5) * millsWidth
		for _, a := range []float64{math.Nextafter(edge, 0), edge, math.Nextafter(edge, 100)} {
			if a <= millsMax {
				check(a)
			}
		}
	}
	check(0)
	check(millsMax)
}

// TestCdfFromTail checks the branch-free choice of tail, signed zero
// included.
func TestCdfFromTail(t *testing.T) {
	for _, c := range []struct{ lower, x, want float64 }{
		{0.25, -1, 0.25}, {0.25, 1, 0.75}, {1e-300, -40, 1e-300}, {1e-300, 40, 1},
		{0.5, 0, 0.5}, {0.5, math.Copysign(0, -1), 0.5},
	} {
		if got := cdfFromTail(c.lower, c.x); got != c.want {
			t.Errorf("cdfFromTail(%v, %v) = %v, want %v", c.lower, c.x, got, c.want)
		}
	}
}

// TestBlackScholesFastPath checks the formula's fast path (the Mills
// ratio, φ(d2) from φ(d1), the inlined exponentials) against the same
// formula on math.Erfc and math's exponentials, over calls and puts, deep
// in and out of the money, short and long expiries, negative rates and
// q > r: within 1e-13 relative or 5e-13 absolute on every measure (a
// price near the money is the difference of two terms of some 50 on
// S = K = 100, each within a few ulp; the reference tolerances are 1e-8). (QuantLib's own normal distribution, normCDF, is
// not the yardstick here: in the lower tail it keeps 1e-16 absolute, and
// its asymptotic series below 1e-8 some 5e-8 relative.)
func TestBlackScholesFastPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 200_000 {
		call := i%2 == 0
		s, k := 100.0, 100*math.Exp((rng.Float64()-0.5)*3)
		r, q := (rng.Float64()-0.3)*0.2, rng.Float64()*0.1
		vol, tt := 0.02+rng.Float64()*0.8, 1.0/365+rng.Float64()*10
		got := blackScholes(call, s, k, r, q, vol, tt, true)
		want := blackScholesErfc(call, s, k, r, q, vol, tt)
		for _, m := range [][3]any{{"npv", got.npv, want.npv}, {"delta", got.delta, want.delta}, {"gamma", got.gamma, want.gamma},
			{"vega", got.vega, want.vega}, {"theta", got.theta, want.theta}, {"rho", got.rho, want.rho}} {
			g, w := m[1].(float64), m[2].(float64)
			if !withinAbsOrRel(g, w, 5e-13, 1e-13) {
				t.Fatalf("call %v s %v k %v r %v q %v vol %v t %v: %s %.17g, on math.Erfc %.17g", call, s, k, r, q, vol, tt, m[0], g, w)
			}
		}
	}
}

// TestBlackScholesTinyAmounts: a spot and strike whose discounted values
// underflow to 0 price at 0, not NaN (their ratio is not taken).
func TestBlackScholesTinyAmounts(t *testing.T) {
	for _, call := range []bool{true, false} {
		got := blackScholes(call, 1e-250, 1e-250, 1, 1, 0.2, 200, false)
		want := blackScholesErfc(call, 1e-250, 1e-250, 1, 1, 0.2, 200)
		if got.npv != want.npv || !withinAbsOrRel(got.delta, want.delta, 0, 1e-13) || got.rho != want.rho {
			t.Errorf("call %v: %+v, want %+v", call, got, want)
		}
	}
}

// mills returns R(a) from the table.
func mills(a float64) float64 { return millsPoly(millsAt(a)) }

// blackScholesErfc is the Black-Scholes formula as QuantLib writes it, on
// math.Erfc and math's exponentials.
func blackScholesErfc(call bool, s, k, r, q, vol, t float64) (out bsm) {
	sd := vol * math.Sqrt(t)
	df, dq := math.Exp(-r*t), math.Exp(-q*t)
	d1 := (math.Log(s/k)+(r-q)*t)/sd + 0.5*sd
	d2 := d1 - sd
	w := 1.0
	if !call {
		w = -1
	}
	n1, n2 := 0.5*math.Erfc(-w*d1*sqrtHalf), 0.5*math.Erfc(-w*d2*sqrtHalf)
	out.npv = w * (s*dq*n1 - k*df*n2)
	out.delta = w * dq * n1
	out.rho = w * k * t * df * n2
	sPhi := s * dq * invSqrt2Pi * math.Exp(-d1*d1/2)
	out.gamma = sPhi / (s * s * sd)
	out.vega = sPhi * math.Sqrt(t)
	out.theta = r*out.npv - (r-q)*s*out.delta - 0.5*sPhi*sd/t
	return out
}
