package engine

import "math"

// invSqrt2Pi is 1/sqrt(2π).
const invSqrt2Pi = 0.3989422804014327

// normCDF returns the standard normal cumulative distribution N(x), through
// math.Erfc so that both tails keep full relative precision.
func normCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// normPDF returns the standard normal density φ(x).
func normPDF(x float64) float64 { return invSqrt2Pi * math.Exp(-0.5*x*x) }
