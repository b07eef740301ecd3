package engine

import "math"

// qdPlus is the QD+ approximation of an American put's exercise boundary
// (Li 2010, "Analytical approximations for the critical stock prices of
// American options", as Andersen-Lake-Offengenden and QuantLib's
// QdPlusAmericanEngine use it): the starting point of the fixed-point
// iteration. k is the strike, r the rate, q the dividend yield, vol the
// Black volatility, xmax the boundary's limit at expiry and s the spot
// (which only sets the search range).
type qdPlus struct {
	k, r, q, vol, xmax, s float64
}

// qdPlusMaxIter bounds the Halley steps of qdPlus.boundary.
const qdPlusMaxIter = 10

// boundary returns the QD+ boundary at tau years before expiry: the root of
// the QD+ equation by Halley's method from x_max, and by bisection where
// that does not settle.
func (p qdPlus) boundary(tau float64) float64 {
	if tau <= 0 {
		return p.xmax
	}
	e := p.evaluator(tau)
	xmin := qlEpsilon * 1e4 * math.Min(0.5*(p.k+p.s), p.xmax)
	x := p.xmax
	for range qdPlusMaxIter {
		f, f1, f2 := e.eval(x)
		lf := f * f2 / (f1 * f1)
		step := f / f1 / (1 - 0.5*lf)
		next := math.Max(xmin, x-step)
		if math.IsNaN(next) || math.IsInf(next, 0) {
			break
		}
		if math.Abs(next-x) < 1e-5*x {
			return next
		}
		x = next
	}
	// Bisection on [xmin, hi], hi widened until the sign changes.
	lo, hi := xmin, math.Max(p.xmax, 0.5*(p.xmax+p.s))
	flo, _, _ := e.eval(lo)
	fhi, _, _ := e.eval(hi)
	for i := 0; i < 50 && flo*fhi > 0; i++ {
		hi *= 2
		fhi, _, _ = e.eval(hi)
	}
	if !(flo*fhi <= 0) {
		return math.Min(math.Max(x, xmin), p.xmax)
	}
	for range 200 {
		mid := 0.5 * (lo + hi)
		fm, _, _ := e.eval(mid)
		if fm*flo > 0 {
			lo, flo = mid, fm
		} else {
			hi = mid
		}
		if hi-lo <= 1e-10*hi {
			break
		}
	}
	return math.Min(0.5*(lo+hi), p.xmax)
}

// qdPlusEval is the QD+ equation at one time to expiry.
type qdPlusEval struct {
	tau, k, vol2, v, r, q, dr, dq float64
	alpha, beta                   float64
}

// evaluator returns the QD+ equation at tau years before expiry.
func (p qdPlus) evaluator(tau float64) qdPlusEval {
	vol2 := p.vol * p.vol
	dr, dq := math.Exp(-p.r*tau), math.Exp(-p.q*tau)
	// r/(1-e^{-rτ}), by its series where rτ is small (and for r = 0).
	ddr := p.r / -math.Expm1(-p.r*tau)
	if math.Abs(p.r*tau) <= 1e-5 {
		ddr = 1 / (tau * (1 - 0.5*p.r*tau*(1-p.r*tau/3)))
	}
	omega := 2 * (p.r - p.q) / vol2
	root := math.Sqrt((omega-1)*(omega-1) + 8*ddr/vol2)
	lambda := 0.5 * (-(omega - 1) - root)
	lambdaPrime := 2 * ddr * ddr / (vol2 * root)
	alpha := 2 * dr / (vol2 * (2*lambda + omega - 1))
	beta := alpha*(ddr+lambdaPrime/(2*lambda+omega-1)) - lambda
	return qdPlusEval{tau: tau, k: p.k, vol2: vol2, v: p.vol * math.Sqrt(tau), r: p.r, q: p.q,
		dr: dr, dq: dq, alpha: alpha, beta: beta}
}

// eval returns the QD+ equation at boundary candidate s and its first two
// derivatives in s.
func (e qdPlusEval) eval(s float64) (f, f1, f2 float64) {
	s = math.Max(qlEpsilon, s)
	dp := math.Log(s*e.dq/(e.k*e.dr))/e.v + 0.5*e.v
	dm := dp - e.v
	nP, nM := normCDF(-dp), normCDF(-dm)
	phiP := normPDF(dp)
	npv := e.dr*e.k*nM - s*e.dq*nP
	theta := e.r*e.k*e.dr*nM - e.q*s*e.dq*nP - e.vol2*s/(2*e.v)*e.dq*phiP
	charm := -e.dq * (phiP*((e.r-e.q)/e.v-dm/(2*e.tau)) + e.q*nP)
	f = (1-e.dq*nP)*s - e.beta*(e.k-s-npv) + e.alpha*theta/e.dr
	f1 = 1 - e.dq*nP + e.dq/e.v*phiP + e.beta*(1-e.dq*nP) + e.alpha/e.dr*charm
	gamma := phiP * e.dq / (e.v * s)
	colour := gamma * (e.q + (e.r-e.q)*dp/e.v + (1-dp*dm)/(2*e.tau))
	f2 = e.dq*(phiP/(s*e.v)-phiP*dp/(s*e.v*e.v)) + e.beta*gamma + e.alpha/e.dr*colour
	return f, f1, f2
}
