package solver

import (
	"fmt"
	"math"
)

// NewtonSafe narrows br, a bracket of a root, by Newton-Raphson steps on
// fdf, which returns f(x) and the slope to step with, falling back to
// bisection wherever a step would leave the bracket or shrink it too
// slowly: QuantLib's NewtonSafe::solveImpl, whose first point is the
// bracket's midpoint. It stops when a step is smaller than accuracy and
// returns the point reached. It spends at most maxEvals evaluations in all,
// br.Evals included (0 means DefaultMaxEvals).
func NewtonSafe(fdf func(float64) (f, df float64), br Bracket, accuracy float64, maxEvals int) (float64, error) {
	if maxEvals <= 0 {
		maxEvals = DefaultMaxEvals
	}
	if br.XMin == br.XMax {
		return br.XMin, nil
	}
	if br.FMin*br.FMax > 0 {
		return 0, fmt.Errorf("%w: f(%v) = %v and f(%v) = %v have the same sign", ErrNoBracket, br.XMin, br.FMin, br.XMax, br.FMax)
	}
	// xl is where f < 0, xh where f > 0.
	xl, xh := br.XMax, br.XMin
	if br.FMin < 0 {
		xl, xh = br.XMin, br.XMax
	}
	dxold := br.XMax - br.XMin
	dx := dxold
	root := (br.XMin + br.XMax) / 2
	froot, dfroot := fdf(root)
	for ev := br.Evals + 1; ev <= maxEvals; ev++ {
		if ((root-xh)*dfroot-froot)*((root-xl)*dfroot-froot) > 0 || math.Abs(2*froot) > math.Abs(dxold*dfroot) {
			dxold, dx = dx, (xh-xl)/2
			root = xl + dx
		} else {
			dxold, dx = dx, froot/dfroot
			root -= dx
		}
		if math.Abs(dx) < accuracy {
			return root, nil
		}
		froot, dfroot = fdf(root)
		if math.IsNaN(froot) {
			return 0, fmt.Errorf("%w at %v", ErrNotFinite, root)
		}
		if froot < 0 {
			xl = root
		} else {
			xh = root
		}
	}
	return 0, fmt.Errorf("%w in %d evaluations: last %v", ErrNoConvergence, maxEvals, root)
}
