package engine

import "math"

// americanEuropean returns the Black-Scholes-Merton value of a European
// option and its delta dV/dS, gamma d2V/dS2 and theta dV/dt (per year of
// calendar time, so usually negative): the price of an American option whose
// early exercise is never optimal. s is the spot, k the strike, t the
// Act/365F time to expiry in years (> 0), r and q the continuously
// compounded risk-free rate and dividend yield, vol the Black volatility.
func americanEuropean(call bool, s, k, t, r, q, vol float64) (npv, delta, gamma, theta float64) {
	sqrtT := math.Sqrt(t)
	sd := vol * sqrtT
	dq, dr := math.Exp(-q*t), math.Exp(-r*t)
	fwd := s * dq // discounted forward
	d1 := (math.Log(s/k)+(r-q)*t)/sd + 0.5*sd
	d2 := d1 - sd
	pdf := americanNormPDF(d1)
	gamma = dq * pdf / (s * sd)
	decay := -fwd * pdf * vol / (2 * sqrtT)
	if call {
		n1, n2 := americanNormCDF(d1), americanNormCDF(d2)
		npv = fwd*n1 - k*dr*n2
		delta = dq * n1
		theta = decay - r*k*dr*n2 + q*fwd*n1
	} else {
		n1, n2 := americanNormCDF(-d1), americanNormCDF(-d2)
		npv = k*dr*n2 - fwd*n1
		delta = -dq * n1
		theta = decay + r*k*dr*n2 - q*fwd*n1
	}
	return math.Max(npv, 0), delta, gamma, theta
}

// americanNormCDF returns the standard normal distribution function, through
// math.Erfc so that the lower tail keeps full relative precision.
func americanNormCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// americanNormPDF returns the standard normal density.
func americanNormPDF(x float64) float64 {
	return math.Exp(-0.5*x*x) / math.Sqrt(2*math.Pi)
}
