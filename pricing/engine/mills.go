package engine

import "math"

// The Mills ratio of the standard normal, R(a) = N(-a)/φ(a), tabulated for
// the Black-Scholes formula. With it a lower tail is N(-a) = φ(a)·R(a):
// the density, which the greeks need anyway, times a polynomial, where
// normCDF evaluates a rational function and an exponential of its own. The
// two densities of a Black-Scholes price share their exponential too:
// K·e^{-rT}·φ(d2) = S·e^{-qT}·φ(d1). That takes the formula from six
// exponentials to three (blackScholes).
//
// The table holds, for each interval [(i-½)·w, (i+½)·w) of a, w = 1/4 and
// i = 0..32 (covering [0, millsMax]), R's Chebyshev interpolant of degree 9
// on the interval, written as a polynomial in a - i·w. Its error is within
// 3e-15 of R relative (TestMills, against math.Erfc), and within about
// 1e-15 of N absolute: a price of S = 100 moves by 1e-13, against the
// 1e-8 of the reference tolerances. It is not QuantLib's rounding, which
// is why the engines whose closed forms cancel large terms (the
// barrier's) keep normCDF.
const (
	millsWidth     = 0.25
	millsInvWidth  = 1 / millsWidth
	millsDegree    = 9
	millsMax       = 8
	millsIntervals = millsMax*millsInvWidth + 1
	// roundShift is 1.5·2^52: a double below 2^51 plus it rounds to an
	// integer, which the sum's low mantissa bits hold.
	roundShift = 0x1.8p52
	// minNormal is the smallest normal double.
	minNormal = 0x1p-1022
)

// millsTable is the interpolants' coefficients, lowest power first.
var millsTable = func() (t [millsIntervals][millsDegree + 1]float64) {
	const n = millsDegree + 1 // nodes and coefficients
	// The monomial coefficients of T_0..T_{n-1}: cheb[k][p] is the
	// coefficient of u^p in T_k(u).
	var cheb [n][n]float64
	cheb[0][0] = 1
	cheb[1][1] = 1
	for k := 2; k < n; k++ {
		for p := range n - 1 {
			cheb[k][p+1] += 2 * cheb[k-1][p]
		}
		for p := range n {
			cheb[k][p] -= cheb[k-2][p]
		}
	}
	for i := range t {
		centre := float64(i) * millsWidth
		var at [n]float64 // R at the Chebyshev nodes u_j, a = centre + u_j·w/2
		for j := range at {
			at[j] = millsRatioExact(centre + math.Cos(math.Pi*(float64(j)+0.5)/n)*millsWidth/2)
		}
		for k := range n {
			c := 0.0
			for j := range n {
				c += at[j] * math.Cos(math.Pi*float64(k)*(float64(j)+0.5)/n)
			}
			c *= 2.0 / n
			if k == 0 {
				c /= 2
			}
			for p := range n {
				t[i][p] += c * cheb[k][p]
			}
		}
		// From powers of u = (a - centre)/(w/2) to powers of a - centre.
		scale := 1.0
		for p := range n {
			t[i][p] /= scale
			scale *= millsWidth / 2
		}
	}
	return t
}()

// millsRatioExact returns R(a) = N(-a)/φ(a) within a few ulp for
// 0 <= a <= millsMax: √(π/2)·erfc(x)·e^{x²} at x = a/√2, e^{x²} from x²
// split into its rounded value and the rounding error. (x is a/√2 rounded;
// R at x·√2 rather than at a differs by an ulp of R, since |R'·a/R| <= 1.)
func millsRatioExact(a float64) float64 {
	x := a * sqrtHalf
	hi := x * x
	lo := math.FMA(x, x, -hi)
	return math.Sqrt(math.Pi/2) * math.Erfc(x) * math.Exp(hi) * (1 + lo)
}

// R(a) for 0 <= a <= millsMax is millsPoly(millsAt(a)): two parts Go
// inlines (see fastExp).

// millsAt returns the coefficients of the interval of a (0 <= a <=
// millsMax), a's offset h from the interval's centre and h². The interval
// is a/w rounded to the nearest integer by the addition of roundShift:
// fewer cycles from a to h than a conversion to an integer and back.
func millsAt(a float64) (c *[millsDegree + 1]float64, h, h2 float64) {
	y := a*millsInvWidth + roundShift
	h = a - (y-roundShift)*millsWidth
	return &millsTable[uint32(math.Float64bits(y))], h, h * h
}

// millsPoly evaluates the polynomial c at h by Estrin's scheme: the terms
// in pairs and powers of h², a third of Horner's dependent operations.
func millsPoly(c *[millsDegree + 1]float64, h, h2 float64) float64 {
	h4 := h2 * h2
	return (c[0] + c[1]*h) + (c[2]+c[3]*h)*h2 + ((c[4]+c[5]*h)+(c[6]+c[7]*h)*h2+(c[8]+c[9]*h)*h4)*h4
}

// cdfFromTail returns N(x) given lower = N(-|x|): lower itself where x is
// negative, 1 - lower otherwise, chosen by the sign bit rather than a
// branch (which a book of calls and puts, in and out of the money, would
// mispredict).
func cdfFromTail(lower, x float64) float64 {
	neg := uint64(int64(math.Float64bits(x)) >> 63) // all ones where x < 0
	return math.Float64frombits(math.Float64bits(lower)&neg | math.Float64bits(1-lower)&^neg)
}
