package engine

import "math"

// The standard normal distribution as QuantLib 1.29 computes it
// (ql/math/distributions/normaldistribution.cpp). The analytic engines must
// agree with QuantLib to 1e-8 absolute, and where a closed form cancels large
// terms (a barrier option's reflected terms near spot with a low vol, say)
// QuantLib's rounding is what sets its last digits: N(x) is 0.5·(1+erf(x/√2)),
// which carries an absolute error of about 1e-16 in the lower tail, times
// terms of 1e8 that is 1e-8. Computing N as QuantLib does, rather than
// through math.Erfc, keeps those digits equal. (The Black-Scholes formula,
// which cancels nothing of that size, takes its tails from the Mills ratio
// instead: mills.go.)

// The constants of QuantLib's NormalDistribution with mean 0 and sigma 1, as
// the doubles it computes: M_SQRT_2 (1/√2) and M_SQRT_2·M_1_SQRTPI (1/√(2π)),
// the product rounded as at run time.
const (
	sqrtHalf   = 0.7071067811865476
	invSqrt2Pi = 0.3989422804014327
	// tailCutCDF is where QuantLib's N switches to its asymptotic expansion.
	tailCutCDF = 1e-8
	// minExponent is the exponent at and below which QuantLib's density is 0.
	minExponent = -690.0
)

// normPDF returns the standard normal density φ(x), 0 where QuantLib's
// exponent falls to -690 or below.
func normPDF(x float64) float64 {
	e := -(x * x) / 2
	if e <= minExponent {
		return 0
	}
	return invSqrt2Pi * math.Exp(e)
}

// normCDF returns the standard normal cumulative distribution N(x) as
// QuantLib's CumulativeNormalDistribution: 0.5·(1+erf(x/√2)), and where that
// is 1e-8 or less the asymptotic expansion of Abramowitz and Stegun 26.2.12
// for the lower tail.
func normCDF(x float64) float64 {
	r := 0.5 * (1 + erf(x*sqrtHalf))
	if r > tailCutCDF {
		return r
	}
	return -normPDF(x) / x * tailSum(x)
}

// logNormCDF returns ln N(x), also where N(x) is 0: below x = -37, where
// QuantLib's density is (minExponent), it is ln φ(x) - ln(-x) plus the ln
// of normCDF's asymptotic sum, φ(x) taken by its logarithm -x²/2 - ln √(2π).
func logNormCDF(x float64) float64 {
	if n := normCDF(x); n > 0 {
		return math.Log(n)
	}
	return -x*x/2 + math.Log(invSqrt2Pi) - math.Log(-x) + math.Log(tailSum(x))
}

// tailSum is the sum of the asymptotic expansion of N(x) for a large
// negative x (Abramowitz and Stegun 26.2.12), as QuantLib sums it:
// N(x) = -φ(x)/x · tailSum(x).
func tailSum(x float64) float64 {
	sum, zsqr, i, g := 1.0, x*x, 1.0, 1.0
	a := math.MaxFloat64
	for {
		last := a
		u := (4*i - 3) / zsqr
		v := u * ((4*i - 1) / zsqr)
		a = g * (u - v)
		sum -= a
		g *= v
		i++
		a = math.Abs(a)
		if !(last > a && a >= math.Abs(sum*qlEpsilon)) {
			break
		}
	}
	return sum
}
