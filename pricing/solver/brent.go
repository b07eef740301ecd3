package solver

import (
	"fmt"
	"math"
)

// Brent narrows br, a bracket of a root of f (from Expand or given with
// FMin*FMax <= 0), by Brent's method, QuantLib's Brent::solveImpl: inverse
// quadratic interpolation or the secant where it makes progress, bisection
// where it does not. It stops when the bracket around the best point x is
// at most 4 eps |x| + accuracy wide, or f(x) is close to zero, and returns
// x. It spends at most maxEvals evaluations in all, br.Evals included (0
// means DefaultMaxEvals).
func Brent(f func(float64) float64, br Bracket, accuracy float64, maxEvals int) (float64, error) {
	if maxEvals <= 0 {
		maxEvals = DefaultMaxEvals
	}
	if br.XMin == br.XMax {
		return br.XMin, nil
	}
	if br.FMin*br.FMax > 0 {
		return 0, fmt.Errorf("%w: f(%v) = %v and f(%v) = %v have the same sign", ErrNoBracket, br.XMin, br.FMin, br.XMax, br.FMax)
	}
	xMin, xMax, fxMin, fxMax := br.XMin, br.XMax, br.FMin, br.FMax
	root, froot := xMax, fxMax
	var d, e float64
	for ev := br.Evals; ev <= maxEvals; ev++ {
		if (froot > 0 && fxMax > 0) || (froot < 0 && fxMax < 0) {
			xMax, fxMax = xMin, fxMin
			d = root - xMin
			e = d
		}
		if math.Abs(fxMax) < math.Abs(froot) {
			xMin, root, xMax = root, xMax, root
			fxMin, froot, fxMax = froot, fxMax, froot
		}
		acc := 2*eps*math.Abs(root) + 0.5*accuracy
		mid := (xMax - root) / 2
		if math.Abs(mid) <= acc || CloseToZero(froot) {
			return root, nil
		}
		if math.Abs(e) >= acc && math.Abs(fxMin) > math.Abs(froot) {
			s := froot / fxMin
			var p, q float64
			if xMin == xMax {
				p = 2 * mid * s
				q = 1 - s
			} else {
				q = fxMin / fxMax
				r := froot / fxMax
				p = s * (2*mid*q*(q-r) - (root-xMin)*(r-1))
				q = (q - 1) * (r - 1) * (s - 1)
			}
			if p > 0 {
				q = -q
			}
			p = math.Abs(p)
			if 2*p < math.Min(3*mid*q-math.Abs(acc*q), math.Abs(e*q)) {
				e = d
				d = p / q
			} else {
				d = mid
				e = d
			}
		} else {
			d = mid
			e = d
		}
		xMin, fxMin = root, froot
		if math.Abs(d) > acc {
			root += d
		} else {
			root += math.Copysign(acc, mid)
		}
		froot = f(root)
		if math.IsNaN(froot) {
			return 0, fmt.Errorf("%w at %v", ErrNotFinite, root)
		}
	}
	return 0, fmt.Errorf("%w in %d evaluations: last %v", ErrNoConvergence, maxEvals, root)
}
