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
	lnXMax := math.Log(qdfpXMax(m.k, m.r, m.q))
	lnS := math.Log(m.s)
	// B(T) is the boundary at the node ξ = 1 (z = 1).
	if lnBT := lnXMax - math.Sqrt(math.Max(chebEval(w.c, 1), 0)); lnS <= lnBT {
		return qdfpPutValue{npv: m.k - m.s, delta: -1, exercise: true}
	}
	eu := blackScholes(false, m.s, m.k, m.r, m.q, m.vol, m.t, greeks)
	sqrtT := math.Sqrt(m.t)
	var v, d, g float64
	px := &ru.px
	for j := range px.w {
		sinT, cosT := px.sin[j], px.cos[j]
		t := m.t * sinT * sinT
		sw := m.vol * sqrtT * sinT // σ√t
		lnB := lnXMax - math.Sqrt(math.Max(chebEval(w.c, 2*cosT-1), 0))
		dp := (lnS-lnB+(m.r-m.q)*t)/sw + 0.5*sw
		dm := dp - sw
		rk := m.r * m.k * math.Exp(-m.r*t)
		qs := m.q * m.s * math.Exp(-m.q*t)
		wt := m.t * px.w[j]
		nP := normCDF(-dp)
		v += wt * (rk*normCDF(-dm) - qs*nP)
		if !greeks {
			continue
		}
		phiP, phiM := normPDF(dp), normPDF(dm)
		d += wt * ((-rk*phiM/m.s+qs*phiP/m.s)/sw - qs/m.s*nP)
		g += wt * (rk*phiM*dp - qs*phiP*dm) / (m.s * m.s * sw * sw)
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
