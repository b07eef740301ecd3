package engine

import "math"

// The exercise boundary of an American put, after Andersen, Lake and
// Offengenden (2016), "High-performance American option pricing", Journal
// of Computational Finance 20(1), and QuantLib's QdFpAmericanEngine.
//
// For a put on spot S with strike K, rate r, dividend yield q and vol σ, the
// boundary B(τ) at time τ before expiry solves B = K·e^{-(r-q)τ}·N/D with,
// for the fixed-point system FP-B,
//
//	N = Φ(d-(τ, B/K)) + r ∫_0^τ e^{ru} Φ(d-(τ-u, B(τ)/B(u))) du
//	D = Φ(d+(τ, B/K)) + q ∫_0^τ e^{qu} Φ(d+(τ-u, B(τ)/B(u))) du
//
// and for FP-A
//
//	N = φ(d-)/(σ√τ) + r ∫_0^τ e^{ru} φ(d-(τ-u, ·))/(σ√(τ-u)) du
//	D = φ(d+)/(σ√τ) + Φ(d+) + q ∫_0^τ e^{qu} [Φ(d+(τ-u, ·)) + φ(d+(τ-u, ·))/(σ√(τ-u))] du
//
// where d±(t, z) = (ln z + (r-q)t)/(σ√t) ± σ√t/2. The boundary is stored as
// H(ξ) = ln(B/x_max)² on n+1 Chebyshev nodes in ξ = sqrt(τ/T), x_max = B(0+)
// (K·min(1, r/q), or K when q <= 0), started from the QD+ approximation and
// improved by one partial Jacobi-Newton step and then plain fixed-point
// steps.

// qdfpMarket is the put of one pricing: spot, strike, rate, dividend yield,
// vol and expiry in years, with r > 0, or r = 0 and q < 0 (the regimes
// with a single exercise boundary).
type qdfpMarket struct {
	s, k, r, q, vol, t float64
}

// qdfpXMax returns B(0+), the limit of the put's exercise boundary at
// expiry, for r > 0 or r = 0 > q (Andersen and Lake 2021, table 2).
func qdfpXMax(k, r, q float64) float64 {
	if q > 0 && r < q {
		return k * r / q
	}
	return k
}

// qdfpWork is the scratch space of one pricing, reused through a pool.
type qdfpWork struct {
	h, c []float64 // node values of H and their Chebyshev coefficients
	y, g []float64 // node values of sqrt(H) = -ln(B/x_max) and their image under the fixed-point map
	aa   anderson
	// Per node k (k = 0..n-1, τ_k > 0) and fixed-point point j, at
	// index k*l+j: the Chebyshev abscissa of u, the weights with e^{ru}
	// and e^{qu}, 1/(σ√(τ-u)), σ√(τ-u)/2 and (r-q)(τ-u)/(σ√(τ-u)).
	z, er, eq, invSW, halfSW, drift []float64
	// tz holds T_0..T_n at each fixed-point abscissa z, (n+1) per point.
	tz []float64
	// The convergence check's premium, per point j of the check rule:
	// Chebyshev abscissa, weights with rK·e^{-rt} and qS·e^{-qt}, σ√t and
	// (ln S + (r-q)t)/(σ√t) + σ√t/2.
	chkZ, chkR, chkQ, chkSW, chkD []float64
}

// resize makes w hold a rule of n intervals and l fixed-point points.
func (w *qdfpWork) resize(n, l int) {
	grow := func(s []float64, m int) []float64 {
		if cap(s) < m {
			return make([]float64, m)
		}
		return s[:m]
	}
	w.h, w.c, w.y, w.g = grow(w.h, n+1), grow(w.c, n+1), grow(w.y, n+1), grow(w.g, n+1)
	nl := n * l
	w.z, w.er, w.eq = grow(w.z, nl), grow(w.er, nl), grow(w.eq, nl)
	w.invSW, w.halfSW, w.drift = grow(w.invSW, nl), grow(w.halfSW, nl), grow(w.drift, nl)
	w.tz = grow(w.tz, nl*(n+1))
	w.chkZ, w.chkR, w.chkQ = grow(w.chkZ, qdfpCheckPoints), grow(w.chkR, qdfpCheckPoints), grow(w.chkQ, qdfpCheckPoints)
	w.chkSW, w.chkD = grow(w.chkSW, qdfpCheckPoints), grow(w.chkD, qdfpCheckPoints)
}

// boundary computes the exercise boundary of put m with rule ru (FP-A when
// fpA, FP-B otherwise) and leaves its Chebyshev coefficients of H in w.c.
// It takes at most iters fixed-point steps, the first a partial
// Jacobi-Newton step, and stops once the last step changed no node's
// -ln(B/x_max) by more than resTol and the premium's estimated remaining
// change is at most eps (in currency).
func (w *qdfpWork) boundary(m qdfpMarket, ru *qdfpRule, iters int, eps, resTol float64, fpA bool) {
	n, l := ru.n, len(ru.fp.w)
	w.resize(n, l)
	xmax := qdfpXMax(m.k, m.r, m.q)
	lnXMax := math.Log(xmax)
	sqrtT := math.Sqrt(m.t)
	// Initial guess: QD+ at every node with τ > 0.
	qd := qdPlus{k: m.k, r: m.r, q: m.q, vol: m.vol, xmax: xmax, s: m.s}
	for k := 0; k < n; k++ {
		xi := 0.5 * (1 + ru.cosPi[k])
		b := qd.boundary(m.t * xi * xi)
		w.h[k] = qdfpH(b, lnXMax)
	}
	w.h[n] = 0
	// Constants of the fixed-point integrals.
	for k := 0; k < n; k++ {
		xi := 0.5 * (1 + ru.cosPi[k])
		tau := m.t * xi * xi
		sqrtTau := sqrtT * xi
		for j := 0; j < l; j++ {
			i := k*l + j
			u := tau * ru.fp.sin[j] * ru.fp.sin[j]
			sw := m.vol * sqrtTau * ru.fp.cos[j] // σ√(τ-u)
			wt := tau * ru.fp.w[j]
			w.z[i] = 2*xi*ru.fp.sin[j] - 1
			w.er[i] = wt * math.Exp(m.r*u)
			w.eq[i] = wt * math.Exp(m.q*u)
			w.invSW[i] = 1 / sw
			w.halfSW[i] = 0.5 * sw
			w.drift[i] = (m.r - m.q) * (tau - u) / sw
			chebBasis(w.z[i], w.tz[i*(n+1):(i+1)*(n+1)])
		}
	}
	w.checkSetup(m, &ru.chk, sqrtT)
	w.aa.reset(n, andersonMemory)
	for k := 0; k < n; k++ {
		w.y[k] = math.Sqrt(w.h[k])
	}
	ru.chebCoeffs(w.h, w.c)
	prevV, prevDV := math.NaN(), math.Inf(1)
	for it := range iters {
		res := 0.0
		for k := 0; k < n; k++ {
			xi := 0.5 * (1 + ru.cosPi[k])
			tau := m.t * xi * xi
			lnB := lnXMax - w.y[k]
			b := math.Exp(lnB)
			nv, dv, nd, dd := w.fixedPoint(m, k, l, tau, b, lnB, lnXMax, fpA)
			alpha := m.k * math.Exp(-(m.r-m.q)*tau)
			f := alpha * nv / dv
			if it == 0 {
				// Partial Jacobi-Newton: the derivative of f through the
				// terms outside the integrals only.
				fd := alpha * (nd/dv - dd*nv/(dv*dv))
				if bn := b - (f-b)/(fd-1); bn > 0 && !math.IsInf(bn, 0) {
					f = bn
				}
			}
			g := w.y[k]
			if f > 0 && !math.IsInf(f, 0) {
				g = math.Max(lnXMax-math.Log(f), 0)
			}
			w.g[k] = g
			res = math.Max(res, math.Abs(g-w.y[k]))
		}
		if it == 0 {
			copy(w.y[:n], w.g[:n])
		} else {
			w.aa.step(w.y[:n], w.g[:n])
		}
		for k := 0; k < n; k++ {
			w.y[k] = math.Max(w.y[k], 0) // B <= x_max
			w.h[k] = w.y[k] * w.y[k]
		}
		ru.chebCoeffs(w.h, w.c)
		// Stop once the premium (on the coarse check rule) has settled:
		// its last change, scaled up by the estimated contraction
		// factor of the iteration (linear convergence leaves an error of
		// about ρ/(1-ρ) times the last change), is below eps.
		v := w.checkValue(lnXMax)
		dv := math.Abs(v - prevV)
		rho := math.Min(dv/prevDV, 0.95)
		if res <= 1e-12 || it > 1 && res <= resTol && dv*math.Max(1, rho/(1-rho)) <= eps {
			break
		}
		prevV, prevDV = v, dv
	}
}

// qdfpH returns the transformed boundary ln(b/x_max)², with b capped at
// x_max (the boundary never exceeds its limit at expiry).
func qdfpH(b, lnXMax float64) float64 {
	x := math.Min(math.Log(b)-lnXMax, 0)
	return x * x
}

// fixedPoint returns N and D of the fixed-point system at node k (time τ,
// boundary b = e^{lnB}) and their derivatives in b through the terms
// outside the integrals.
func (w *qdfpWork) fixedPoint(m qdfpMarket, k, l int, tau, b, lnB, lnXMax float64, fpA bool) (nv, dv, nd, dd float64) {
	sqrtTau := math.Sqrt(tau)
	v := m.vol * sqrtTau
	dp := (lnB-math.Log(m.k)+(m.r-m.q)*tau)/v + 0.5*v
	dm := dp - v
	phiP, phiM := normPDF(dp), normPDF(dm)
	var ni, di float64
	c := w.c
	n := len(c) - 1
	for j := 0; j < l; j++ {
		i := k*l + j
		lnBu := lnXMax - math.Sqrt(math.Max(dot(c, w.tz[i*(n+1):(i+1)*(n+1)]), 0))
		dpu := (lnB-lnBu)*w.invSW[i] + w.drift[i] + w.halfSW[i]
		dmu := dpu - 2*w.halfSW[i]
		switch {
		case fpA:
			ni += w.er[i] * normPDF(dmu) * w.invSW[i]
			di += w.eq[i] * (normCDF(dpu) + normPDF(dpu)*w.invSW[i])
		case m.q == 0:
			ni += w.er[i] * normCDF(dmu)
		default:
			ni += w.er[i] * normCDF(dmu)
			di += w.eq[i] * normCDF(dpu)
		}
	}
	if fpA {
		nv = phiM/v + m.r*ni
		dv = phiP/v + normCDF(dp) + m.q*di
		nd = -phiM * dm / (b * v * v)
		dd = -phiP*dp/(b*v*v) + phiP/(b*v)
	} else {
		nv = normCDF(dm) + m.r*ni
		dv = normCDF(dp) + m.q*di
		nd = phiM / (b * v)
		dd = phiP / (b * v)
	}
	return nv, dv, nd, dd
}

// checkSetup prepares the convergence check's premium on rule a: the
// parts of the integrand of premiumValue that do not depend on the
// boundary.
func (w *qdfpWork) checkSetup(m qdfpMarket, a *qdfpAngles, sqrtT float64) {
	lnS := math.Log(m.s)
	for j := range a.w {
		t := m.t * a.sin[j] * a.sin[j]
		sw := m.vol * sqrtT * a.sin[j]
		wt := m.t * a.w[j]
		w.chkZ[j] = 2*a.cos[j] - 1
		w.chkR[j] = wt * m.r * m.k * math.Exp(-m.r*t)
		w.chkQ[j] = wt * m.q * m.s * math.Exp(-m.q*t)
		w.chkSW[j] = sw
		w.chkD[j] = (lnS+(m.r-m.q)*t)/sw + 0.5*sw
	}
}

// checkValue returns the early-exercise premium on the check rule from the
// boundary whose coefficients w.c hold.
func (w *qdfpWork) checkValue(lnXMax float64) float64 {
	var v float64
	for j, z := range w.chkZ {
		lnB := lnXMax - math.Sqrt(math.Max(chebEval(w.c, z), 0))
		dp := w.chkD[j] - lnB/w.chkSW[j]
		v += w.chkR[j]*normCDF(w.chkSW[j]-dp) - w.chkQ[j]*normCDF(-dp)
	}
	return v
}
