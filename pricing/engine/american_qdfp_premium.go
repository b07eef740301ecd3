package engine

import "math"

// The early-exercise premium of an American put, from its exercise
// boundary B (Kim 1990; Andersen-Lake-Offengenden 2016, eq. 9): with
// d±(t, z) = (ln z + (r-q)t)/(σ√t) ± σ√t/2 and B read at τ = T-t,
//
//	V(S) = p(S) + ∫_0^T [r K e^{-rt} Φ(-d-(t, S/B)) - q S e^{-qt} Φ(-d+(t, S/B))] dt
//
// where p is the European put. B does not depend on S, so delta and gamma
// are the derivatives of the integrand in S:
//
//	∂/∂S:   -r K e^{-rt} φ(d-)/(Sσ√t) - q e^{-qt} Φ(-d+) + q e^{-qt} φ(d+)/(σ√t)
//	∂²/∂S²:  r K e^{-rt} φ(d-) d+/(S²σ²t) - q e^{-qt} φ(d+) d-/(Sσ²t)
//
// The integrals are taken in θ with t = T sin²θ, where sqrt(t) = √T sin θ
// and sqrt(τ/T) = cos θ, the boundary's own Chebyshev variable.

// qdfpPutValue is an American put's value and its first two derivatives in
// the spot; exercise reports that the spot is in the exercise region,
// where the value is the payoff K - S.
type qdfpPutValue struct {
	npv, delta, gamma float64
	exercise          bool
}

// premium prices put m from the boundary whose coefficients w.c hold, with
// the pricing rule of ru; it computes delta and gamma only if greeks is
// set.
func (w *qdfpWork) premium(m qdfpMarket, ru *qdfpRule, greeks bool) qdfpPutValue {
	lnXMax, lnS, a := w.distance(m)
	if a <= 0 {
		return qdfpPutValue{npv: m.k - m.s, delta: -1, exercise: true}
	}
	eu := blackScholes(false, m.s, m.k, m.r, m.q, m.vol, m.t, greeks)
	sqrtT := math.Sqrt(m.t)
	var v, d, g float64
	px := &ru.px
	if a < qdfpNearBoundary {
		// The spot near the boundary: the integrands turn from 0 to
		// their value over t of (ln(S/B)/σ)², a·√T in √t, which the rule
		// over the whole time resolves poorly. The angles are split at
		// sin θ = 4a, the rule taken on each part.
		split := math.Asin(4 * a)
		for _, part := range [2][2]float64{{0, split}, {split, math.Pi / 2}} {
			half := (part[1] - part[0]) / 2
			for j, x := range px.x {
				sinT, cosT := math.Sincos(part[0] + half*(1+x))
				dv, dd, dg := w.premiumAt(m, lnS, lnXMax, sqrtT, sinT, cosT, m.t*half*px.lw[j]*2*sinT*cosT, greeks)
				v, d, g = v+dv, d+dd, g+dg
			}
		}
	} else {
		for j := range px.w {
			dv, dd, dg := w.premiumAt(m, lnS, lnXMax, sqrtT, px.sin[j], px.cos[j], m.t*px.w[j], greeks)
			v, d, g = v+dv, d+dd, g+dg
		}
	}
	out := qdfpPutValue{npv: math.Max(eu.npv, 0) + math.Max(v, 0)}
	if greeks {
		out.delta = eu.delta + d
		out.gamma = eu.gamma + g
	}
	if in := m.k - m.s; out.npv < in {
		out.npv = in
	}
	return out
}

// distance returns ln S of put m, the log of its boundary's limit
// (qdfpXMax), and a, the spot's distance from the boundary now, B(T) (at
// the node ξ = 1, z = 1), as ln(S/B(T)) in units of σ√T: at most 0 in the
// exercise region.
func (w *qdfpWork) distance(m qdfpMarket) (lnXMax, lnS, a float64) {
	lnXMax = math.Log(qdfpXMax(m.k, m.r, m.q))
	lnS = math.Log(m.s)
	lnBT := lnXMax - math.Sqrt(math.Max(chebEval(w.c, 1), 0))
	if lnS <= lnBT {
		return lnXMax, lnS, 0
	}
	return lnXMax, lnS, (lnS - lnBT) / (m.vol * math.Sqrt(m.t))
}

// qdfpNearRule is the distance of the spot from the boundary now, ln(S/B(T))
// in units of σ√T, under which the boundary is computed again on the rule of
// the near tier (qdfpNearTier, qdfpNear). With the coarser rules of the first
// two tiers, options of a few weeks at 0.3 to 0.5 of σ√T from the boundary
// missed by up to 3.7 times the reference tolerance (a random cross-check
// against QuantLib 1.29's QdFp engine).
const qdfpNearRule = 1.0

// qdfpNearBoundary is the distance of the spot from the boundary now,
// ln(S/B(T)) in units of σ√T, under which premium splits its integrals
// (at sin θ = 4a, a quarter of the way or less): nearer, the rule over
// the whole time missed by up to three times the reference tolerance
// (1e-5 absolute or 1e-6 relative) at 0.05% to 0.8% from the boundary,
// and gamma by a quarter, which turned theta positive. Under it the
// boundary takes a finer rule still (qdfpNearestTier).
const qdfpNearBoundary = 0.25

// premiumAt is the premium integrals' terms at the angle whose sine and
// cosine are sinT and cosT, of weight wt (dt included): the value's, and
// delta's and gamma's when greeks is set.
func (w *qdfpWork) premiumAt(m qdfpMarket, lnS, lnXMax, sqrtT, sinT, cosT, wt float64, greeks bool) (v, d, g float64) {
	t := m.t * sinT * sinT
	sw := m.vol * sqrtT * sinT // σ√t
	lnB := lnXMax - math.Sqrt(math.Max(chebEval(w.c, 2*cosT-1), 0))
	dp := (lnS-lnB+(m.r-m.q)*t)/sw + 0.5*sw
	dm := dp - sw
	rk := m.r * m.k * math.Exp(-m.r*t)
	qs := m.q * m.s * math.Exp(-m.q*t)
	nP := normCDF(-dp)
	v = wt * (rk*normCDF(-dm) - qs*nP)
	if !greeks {
		return v, 0, 0
	}
	phiP, phiM := normPDF(dp), normPDF(dm)
	d = wt * ((-rk*phiM/m.s+qs*phiP/m.s)/sw - qs/m.s*nP)
	g = wt * (rk*phiM*dp - qs*phiP*dm) / (m.s * m.s * sw * sw)
	return v, d, g
}
