package engine

import (
	"fmt"
	"math"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/instrument"
)

// Defaults of AnalyticHeston, used where a field is zero.
const (
	// DefaultHestonAccuracy is the absolute accuracy the Fourier integral
	// is computed to, per unit of sqrt(F·K)·DF, or for a call of its upper
	// bound F·DF where that is smaller, as Gauss-Kronrod estimates it
	// (pessimistically: the error is usually far smaller): for an option
	// with forward and strike near 100, at most 3e-10 in price.
	DefaultHestonAccuracy = 1e-11
	// DefaultHestonMaxPieces bounds the adaptive integration's
	// subintervals, 41 characteristic-function evaluations each.
	DefaultHestonMaxPieces = 500
)

// hestonStartPieces is how many equal pieces the integration starts from:
// enough that the first error estimates see the integrand's shape.
const hestonStartPieces = 2

// A vol of variance hundreds of times the vol (σ > hestonWildSigma ·
// sqrt(max(v0, θ)): σ = 100 on a vol of 3%, σ = 20 on 0.01%) gives the
// integrand a feature narrow enough that the 41-point pair's error
// estimates miss it, from two pieces or sixteen: a 1-day call came out
// 2.9e-9 per unit of sqrt(F·K) off, a 7-day one 41% low, another 1-day
// one 47% low, under estimates within the accuracy. Such options take the
// 15-point pair from hestonWildStartPieces, whose estimates see it (as
// the engine's first rule, the 15-point pair from four pieces, did);
// market parameters (σ up to a few, vols of 5% and more) stay under a
// fortieth of the bound.
const (
	hestonWildSigma       = 100
	hestonWildStartPieces = 16
)

// A correlation within hestonEdgeRho of ±1 gives the integrand a feature
// that the 41-point pair's estimates on the pieces of a bisection of
// [0, 1) now and then miss, from two pieces as from four, eight or
// sixteen, where the vol of variance is well under the wild bound: at
// ρ = ±0.999999 and σ 5 to 60 times the vol, about one option in a
// thousand came out off under estimates within the accuracy (a 36-day
// call 5e-9 per unit of sqrt(F·K), a 1-year put 5e-10, a 1-day call and
// a 36-day put 2.3e-10), at ρ = ±0.99999 and ±0.999 by up to 7.4e-11 and
// 4.8e-11 (a 7-day put), and none found at ±0.98. Such options start from
// hestonEdgeStartPieces, whose bisections are other pieces, and on which
// the estimates saw the feature in every case found; market correlations,
// within ±0.9, stay on two.
const (
	hestonEdgeRho         = 1e-2
	hestonEdgeStartPieces = 3
)

// hestonWidths is how many of the control's widths in u, 1/sd, the
// integral's map of [0, ∞) onto [0, 1) puts below its midpoint. The
// Heston characteristic function decays more slowly than the control's,
// and at one width (u = x/(1-x)/sd) the steep tail took the last fifth of
// [0, 1), which the bisections worked over: at 6 widths the 41-point rule
// from two pieces takes 90 evaluations a trade on the options of make
// bench-compare where the 15-point rule from four at one width took 182,
// for the same accuracy.
const hestonWidths = 6

// The limits on Heston parameters beyond which no market quotes and the
// characteristic function's arithmetic would lose its meaning.
const (
	maxHestonVariance = 100.0  // v0 and theta: a 1000% vol
	maxHestonKappa    = 1000.0 // a half-life of under a day
	maxHestonSigma    = 100.0
	// minHestonSigma is the vol of variance below which the model is its
	// limit at 0 to double precision (the prices at 1e-15 and 1e-100 are
	// the same bits), and below which σ² underflows (at about 1e-154),
	// leaving κθ/σ² in the characteristic function 0/0: a smaller σ is
	// priced at this one.
	minHestonSigma = 1e-100
)

// AnalyticHeston prices European options under Heston's stochastic
// volatility model (the underlying's pricing.Heston) semi-analytically, as
// QuantLib's AnalyticHestonEngine does in its Andersen-Piterbarg form: the
// price is the Black price at the model's average expected variance
// vAvg = θ + (v0 - θ)(1 - e^{-κT})/(κT), a control variate, plus Lewis's
// Fourier integral of the difference between the Heston and that Black
// characteristic functions along Im(u) = -1/2,
//
//	C = DF·[Black(F, K, sqrt(vAvg·T)) + sqrt(F·K)/π ∫₀^∞ Re(e^{iu·ln(F/K)} (φ_BS(u-i/2) - φ(u-i/2))) / (u²+1/4) du],
//
// and the put the same with the Black put. φ is evaluated in the form of
// Andersen and Lake (QuantLib's lnChF), which stays on the principal branch
// of the complex logarithm (no "little Heston trap") and avoids
// cancellation for small vol of variance. The integral runs over [0, ∞)
// mapped onto [0, 1) and is computed by adaptive Gauss-Kronrod quadrature
// to an absolute accuracy, so that the wings, very short and very long
// expiries and high vol of variance are priced as accurately as the money:
// no fixed grid. Spot, dividend yield and curve are the underlying's, as
// for AnalyticEuropean; its Black vol is not used. The zero value is ready
// to use and safe for concurrent use.
type AnalyticHeston struct {
	// Accuracy is the absolute accuracy of the integral per unit of
	// sqrt(F·K)·DF, or for a call of F·DF where that is smaller; 0 means
	// DefaultHestonAccuracy.
	Accuracy float64
	// MaxPieces bounds the integration's subintervals; 0 means
	// DefaultHestonMaxPieces.
	MaxPieces int
}

// Price returns the npv of one unit of o under the Heston model of its
// underlying. An underlying without a Heston model, or with parameters
// outside their domain, is a *pricing.MarketError; an integral that does
// not reach twice the accuracy is an error too, never a silent price.
func (e AnalyticHeston) Price(o *instrument.European, m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	if err := o.Validate(m.ValuationDate); err != nil {
		return pricing.Result{}, err
	}
	u, c, err := m.Underlying(o.Underlying)
	if err != nil {
		return pricing.Result{}, err
	}
	if u.Heston == nil {
		return pricing.Result{}, pricing.UnderlyingInvalid(o.Underlying, "heston", "none", "is required for the heston model")
	}
	h := *u.Heston
	if err := checkHeston(o.Underlying, h); err != nil {
		return pricing.Result{}, err
	}
	if err := pricing.CheckAmount("spot", u.Spot); err != nil {
		return pricing.Result{}, pricing.UnderlyingInvalid(o.Underlying, "spot", u.Spot, err.(*pricing.InputError).Reason)
	}
	if err := pricing.CheckRate("dividendYield", u.DividendYield); err != nil {
		return pricing.Result{}, pricing.UnderlyingInvalid(o.Underlying, "dividendYield", u.DividendYield, err.(*pricing.InputError).Reason)
	}
	t := m.YearFraction(o.Expiry)
	df := c.Discount(t)
	if !(df > 0) || math.IsInf(df, 0) {
		return pricing.Result{}, pricing.CurveInvalid(u.Curve, df, fmt.Sprintf("must give a finite discount factor > 0 to expiry %s", o.Expiry))
	}
	fwd := u.Spot * math.Exp(-u.DividendYield*t) / df
	acc, maxPieces := e.Accuracy, e.MaxPieces
	if acc <= 0 {
		acc = DefaultHestonAccuracy
	}
	if maxPieces <= 0 {
		maxPieces = DefaultHestonMaxPieces
	}
	v, err := hestonUndiscounted(o.Right == instrument.Call, fwd, o.Strike, t, h, acc, maxPieces)
	if err != nil {
		return pricing.Result{}, pricing.Invalid("strike", o.Strike, fmt.Sprintf(
			"cannot be priced on the forward %.6g to expiry %s under the Heston model of %s (%v)", fwd, o.Expiry, pricing.Shown(o.Underlying), err))
	}
	return pricing.Result{Set: setNPV, NPV: df * v}, nil
}

// checkHeston checks the Heston parameters of the underlying name.
func checkHeston(name string, h pricing.Heston) error {
	check := func(field string, v, hi float64) error {
		if !(v > 0) || v > hi {
			return pricing.UnderlyingInvalid(name, "heston."+field, v, fmt.Sprintf("must be > 0 and at most %g", hi))
		}
		return nil
	}
	for _, p := range []struct {
		field string
		v, hi float64
	}{{"v0", h.V0, maxHestonVariance}, {"kappa", h.Kappa, maxHestonKappa}, {"theta", h.Theta, maxHestonVariance}, {"sigma", h.Sigma, maxHestonSigma}} {
		if err := check(p.field, p.v, p.hi); err != nil {
			return err
		}
	}
	if !(h.Rho > -1 && h.Rho < 1) {
		return pricing.UnderlyingInvalid(name, "heston.rho", h.Rho, "must be strictly between -1 and 1")
	}
	return nil
}

// hestonUndiscounted returns the undiscounted Heston price of a call (put
// if !call) on forward fwd struck at k, t years to expiry, the integral
// computed to acc per unit of sqrt(fwd·k), or for a call of fwd where that
// is smaller, with at most maxPieces pieces.
//
// The integral's error is in units of sqrt(F·K), which far out of the
// money is many times the option's bound: with ln(K/F) = 70 (200 years at
// a rate of -34%), 1e-11 of sqrt(F·K) is 1.6e4 times F, and a call came out
// at 37 times its bound F. A call's accuracy is asked in units of F there;
// where double precision cannot reach it, the option is an error rather
// than a price. A put's bound, K, is below sqrt(F·K) out of the money too,
// but 1e-11 of sqrt(F·K) exceeds it only where K < 1e-22·F, by at most
// 1e-22·F: such a put, worth nothing, is priced to sqrt(F·K) and cut to K
// (asked 1e-11 of K, 1e-41 for a strike of 1e-30, it was an error).
func hestonUndiscounted(call bool, fwd, k, t float64, h pricing.Heston, acc float64, maxPieces int) (float64, error) {
	h.Sigma = max(h.Sigma, minHestonSigma)
	// Not sqrt(F·K): F·K underflows below a scale of 1e-154.
	rootFK := math.Sqrt(fwd) * math.Sqrt(k)
	unit, bound := rootFK, k // what acc is per, and the option's most
	if call {
		unit, bound = min(rootFK, fwd), fwd
	}
	wanted := acc
	acc *= unit / rootFK
	kt := h.Kappa * t
	vAvg := h.Theta - (h.V0-h.Theta)*math.Expm1(-kt)/kt
	sd := math.Sqrt(vAvg * t)
	cv, _, _ := blackForward(call, fwd, k, sd)
	freq := math.Log(fwd / k)
	cf := hestonCF{h: h, t: t}
	halfVarT := 0.5 * vAvg * t
	// The contour: z(u) = u + i(u·tanφ + 1/2), QuantLib's angled contour.
	// Tilted towards the side where e^{iz·ln(F/K)} decays, by π/12 where
	// the characteristic function allows (r·ln(F/K) < 0), it makes the
	// integrand decay exponentially far from the money, where it would
	// otherwise oscillate slowly down over thousands of periods.
	tanPhi := 0.0
	if r := h.Rho - h.Sigma*freq/(h.V0+h.Kappa*h.Theta*t); r*freq < 0 {
		tanPhi = math.Copysign(math.Tan(math.Pi/12), freq)
	}
	integral, errEst := hestonIntegral(cf, freq, halfVarT, sd, tanPhi, acc, maxPieces)
	if tanPhi != 0 && !(errEst <= 2*acc*math.Pi && !math.IsNaN(integral)) {
		// The tilt took the contour past where φ's moments explode
		// (vol of variance far above the variance, ρ near ±1): φ is
		// infinite there, the integrand NaN. On Im(z) = -1/2 itself φ
		// is a moment of order 1/2, always finite.
		integral, errEst = hestonIntegral(cf, freq, halfVarT, sd, 0, acc, maxPieces)
	}
	if !(errEst <= 2*acc*math.Pi) || math.IsNaN(integral) {
		per := "sqrt(F·K)"
		if unit < rootFK {
			per = "F"
		}
		return 0, fmt.Errorf("engine: heston: the Fourier integral did not converge (estimated error %.3g per unit of %s, wanted %.3g)", errEst/math.Pi*rootFK/unit, per, wanted)
	}
	// Where the price is nothing to double precision, rounding may leave
	// it a few 1e-16 below zero, or a put struck near 0 above K.
	return min(max(cv+rootFK/math.Pi*integral, 0), bound), nil
}

// hestonIntegral returns Lewis's integral of the difference between the
// Heston and the control's characteristic functions, and its estimated
// error, on the contour z(u) = u + i(u·tanPhi + 1/2); freq is ln(F/K),
// halfVarT and sd the control's half variance and standard deviation.
func hestonIntegral(cf hestonCF, freq, halfVarT, sd, tanPhi, acc float64, maxPieces int) (float64, float64) {
	// The integrand in u, with e^{-1/2·ln(F/K)} taken out, in real
	// arithmetic: Go's complex division (Smith's algorithm, then checks
	// for infinities and NaN) took a sixth of the time, and the
	// exponentials share work.
	// With z' = z - i = x + iy, e = z'(z'+i) is both the control's
	// exponent, over -vAvg·T/2, and the denominator z·z'.
	// The difference of the control's and the Heston characteristic
	// functions, e^a - e^b, is taken as ±e^p·(e^{q-p} - 1), p the one of
	// a and b with the larger real part and q the other, with
	// e^{iu·ln(F/K)}·e^{-u·tanPhi·ln(F/K)} in e^p: the rounding of that
	// large phase and tilt is then a rounding of the difference, not of
	// each term. Put into each exponential, it rounded each term on its
	// own, which far from the money (a phase of 33 a unit of u) left
	// 1e-16 of the terms in an integral that must be 1e-19, and a call
	// struck at 1.4e14 times the forward, worth nothing, came out at
	// 3e-10 of the forward under an estimate claiming 1e-11. And where φ
	// and the control agree to many digits (small vol of variance),
	// expm1 keeps the digits they differ in.
	g := func(u float64) float64 {
		x, y := u, u*tanPhi-0.5
		er, ei := x*x-y*(y+1), x*(2*y+1)
		tilt, turn := -u*tanPhi*freq, u*freq
		ar, ai := -halfVarT*er, -halfVarT*ei
		br, bi := cf.lnPhi(x, y)
		if math.Abs(br-ar) < 0x1p-50*max(math.Abs(ar), math.Abs(br)) && math.Abs(bi-ai) <= 0x1p-50*max(math.Abs(ai), math.Abs(bi)) {
			// The exponents agree to their rounding (vol of variance
			// near 0): the characteristic functions are the same to
			// double precision, and expm1 would keep only the noise.
			return 0
		}
		sign := -1.0
		if br > ar {
			ar, ai, br, bi = br, bi, ar, ai
			sign = 1
		}
		// e^{q-p} - 1 = expm1(X)·cos Y - 2 sin²(Y/2) + i·e^X·sin Y at
		// X + iY = q - p (X <= 0), cos Y and sin Y from the half angle.
		em1 := math.Expm1(br - ar)
		sh, ch := math.Sincos(0.5 * (bi - ai))
		sin, cos := 2*sh*ch, 1-2*sh*sh
		cr, ci := em1*cos-2*sh*sh, (1+em1)*sin
		ep := sign * math.Exp(ar+tilt)
		pSin, pCos := math.Sincos(ai + turn)
		pr, pi := ep*pCos, ep*pSin
		dr, di := pr*cr-pi*ci, pr*ci+pi*cr
		// Re((dr + i·di)·dz/e), dz = 1 + i·tanPhi, as
		// (dr + i·di)·dz·conj(e)/|e|².
		mr, mi := er+tanPhi*ei, tanPhi*er-ei
		return (dr*mr - di*mi) / (er*er + ei*ei)
	}
	// [0, ∞) onto [0, 1): u = L·x/(1-x), L hestonWidths of the control's
	// width in u.
	l := hestonWidths / math.Max(sd, 1e-3)
	f := func(x float64) float64 {
		w := 1 - x
		return g(l*x/w) * l / (w * w)
	}
	// A bound of one piece is kept to: the integral is then one 41-point
	// rule, which falls short of the accuracy on the trades the tests
	// price with it.
	rule, start, checked := &gk41, hestonStartPieces, true
	if h := cf.h; h.Sigma > hestonWildSigma*math.Sqrt(max(h.V0, h.Theta)) {
		rule, start = &gk15, hestonWildStartPieces
	} else if 1-math.Abs(h.Rho) < hestonEdgeRho {
		start = hestonEdgeStartPieces
	} else {
		checked = false
	}
	integrate := func(pieces int) (float64, float64) {
		v, e, _ := adaptiveKronrod(rule, f, 0, 1, min(pieces, maxPieces), acc*math.Pi, maxPieces)
		return v, e
	}
	integral, errEst := integrate(start)
	if !checked {
		return integral, errEst
	}
	// In those regimes the estimates were seen to miss a feature from
	// some starting pieces and not from others (a 30-year put at ρ =
	// -0.99999 from 3 and 6, not from 2, 4, 5 or 7): the integral from
	// the next count of pieces must agree, or the one after it decide.
	// Two that disagree with the third are no price ("did not converge").
	agree := func(a, b float64) bool { return math.Abs(a-b) <= 2*acc*math.Pi }
	other, _ := integrate(start + 1)
	if agree(integral, other) {
		return integral, errEst
	}
	third, _ := integrate(start + 2)
	switch {
	case agree(integral, third):
		return integral, errEst
	case agree(other, third):
		return other, errEst
	}
	return integral, max(math.Abs(integral-other), math.Abs(integral-third), math.Abs(other-third))
}

// hestonCF is the Heston characteristic function of ln(S_T/F) over t
// years.
type hestonCF struct {
	h pricing.Heston
	t float64
}

// lnPhi returns ln φ(z) at z = x + iy, the form of Andersen and Lake that
// QuantLib's AnalyticHestonEngine::lnChF uses, with D on the principal
// branch, e^{-Dt} through expm1 and the logarithm through log1p, so that it
// stays continuous along the contour (no "little Heston trap") and accurate
// for small vol of variance. It is in real arithmetic, each division as a
// multiplication by the conjugate over the squared modulus, which for
// parameters within their limits stays far from overflow (the moduli are
// at most about κ + σ·|z|, |z| under 1e20) and from underflow: |g + D|² is
// at least σ²/8 (1e-201), as D² - g² is σ²·z(z+i) and |z(z+i)| at least
// 1/4 on the contours; |D|² at least σ²/4 on the straight contour, 0 only
// at isolated points off it; 1 + w is 0 only where φ is infinite.
func (c *hestonCF) lnPhi(x, y float64) (float64, float64) {
	h := c.h
	s2 := h.Sigma * h.Sigma
	rs := h.Rho * h.Sigma
	// g = κ - iρσz, zz = z(z+i), D² = g² + σ²·zz.
	gr, gi := h.Kappa+rs*y, -rs*x
	zr, zi := x*x-y*(y+1), x*(2*y+1)
	dr, di := csqrt(gr*gr-gi*gi+s2*zr, 2*gr*gi+s2*zi)
	// r = g - D, as -σ²·zz/(g + D) where g and D point the same way.
	var rr, ri float64
	if gr*dr+gi*di > 0 {
		sr, si := gr+dr, gi+di
		q := -s2 / (sr*sr + si*si)
		rr, ri = q*(zr*sr+zi*si), q*(zi*sr-zr*si)
	} else {
		rr, ri = gr-dr, gi-di
	}
	// y = (e^{-Dt} - 1)/(2D), with e^{-Dt} - 1 = e^X·(cos Y + i sin Y) - 1
	// at X + iY = -Dt (X <= 0), its real part expm1(X)·cos Y - 2 sin²(Y/2)
	// and cos Y and sin Y from the half angle.
	t := c.t
	var yr, yi float64
	if dr != 0 || di != 0 {
		em1 := math.Expm1(-dr * t)
		sh, ch := math.Sincos(-0.5 * di * t)
		sin, cos := 2*sh*ch, 1-2*sh*sh
		er, ei := em1*cos-2*sh*sh, (1+em1)*sin
		q := 0.5 / (dr*dr + di*di)
		yr, yi = q*(er*dr+ei*di), q*(ei*dr-er*di)
	} else {
		yr = -0.5 * t
	}
	// w = -r·y; A = κθ/σ²·(r·t - 2 ln(1 + w)), B = zz·y/(1 + w), ln(1 + w)
	// on the principal branch with |1+w|² - 1 = 2wr + wr² + wi².
	wr, wi := -(rr*yr - ri*yi), -(rr*yi + ri*yr)
	lr, li := 0.5*math.Log1p(wr*(2+wr)+wi*wi), math.Atan2(wi, 1+wr)
	k := h.Kappa * h.Theta / s2
	ar, ai := k*(rr*t-2*lr), k*(ri*t-2*li)
	nr, ni := zr*yr-zi*yi, zr*yi+zi*yr
	q := h.V0 / ((1+wr)*(1+wr) + wi*wi)
	return ar + q*(nr*(1+wr)+ni*wi), ai + q*(ni*(1+wr)-nr*wi)
}

// csqrt returns the principal square root of x + iy, as math/cmplx.Sqrt
// without its rescaling: the arguments here, D², are at most about 1e44
// (σ·|z| with |z| under 1e20), and the modulus is taken without
// math.Hypot's division unless x² + y² might underflow (κ and σ both
// tiny).
func csqrt(x, y float64) (float64, float64) {
	if x == 0 && y == 0 {
		return 0, 0
	}
	r := math.Sqrt(x*x + y*y)
	if r < 1e-140 {
		r = math.Hypot(x, y)
	}
	if x > 0 {
		t := math.Sqrt(0.5*r + 0.5*x)
		return t, 0.5 * y / t
	}
	t := math.Sqrt(0.5*r - 0.5*x)
	return math.Abs(0.5*y) / t, math.Copysign(t, y)
}
