// Package solver finds a root of a real function of one variable as
// QuantLib's Solver1D does: Expand widens an interval from a guess until the
// function changes sign over it, then Brent (Brent's method) or NewtonSafe
// (Newton-Raphson kept inside the bracket by bisection) narrows it down to
// the requested accuracy in x. Following QuantLib step for step keeps the
// engines that replicate a QuantLib solve (a bond's yield) equal to it to
// rounding, not merely to the solver's accuracy.
package solver

import (
	"errors"
	"fmt"
	"math"
)

// Errors a solve reports, wrapped with detail; test with errors.Is.
var (
	// ErrNoBracket: no sign change was found within the evaluation budget
	// or the bounds.
	ErrNoBracket = errors.New("solver: no sign change found")
	// ErrNoConvergence: the bracket did not narrow to the accuracy within
	// the evaluation budget.
	ErrNoConvergence = errors.New("solver: no convergence")
	// ErrNotFinite: the function returned NaN.
	ErrNotFinite = errors.New("solver: function value is not a number")
)

// eps is the double machine epsilon, QuantLib's QL_EPSILON.
const eps = 2.220446049250313e-16

// DefaultMaxEvals is QuantLib's Solver1D default evaluation budget.
const DefaultMaxEvals = 100

// growth is the factor by which Expand widens its interval, QuantLib's.
const growth = 1.6

// Bracket is an interval over which a function changes sign: its ends, the
// function's values there (FMin*FMax <= 0), and the evaluations spent so
// far, which the narrowing solvers count on against their budget.
type Bracket struct {
	XMin, XMax float64
	FMin, FMax float64
	Evals      int
}

// Bounds limits Expand to [Lo, Hi]; the zero value leaves x unbounded.
type Bounds struct {
	Lo, Hi float64
}

func (b Bounds) enforce(x float64) float64 {
	if b == (Bounds{}) {
		return x
	}
	return math.Min(math.Max(x, b.Lo), b.Hi)
}

// CloseToZero reports whether |x| is at most (42 eps)², QuantLib's
// close(x, 0.0): the test after which Expand stops on the guess itself.
func CloseToZero(x float64) bool {
	const tol = 42 * eps
	return x == 0 || math.Abs(x) < tol*tol
}

// Expand brackets a root of f as QuantLib's Solver1D::solve(f, accuracy,
// guess, step): from guess and guess ± step (on the side f's sign points
// to), it moves the end where |f| is smaller outwards by 1.6 times the
// interval, within b, until f changes sign, using at most maxEvals
// evaluations (0 means DefaultMaxEvals). If f(guess) is close to zero
// (CloseToZero) the bracket is the single point guess. If a sign change is
// found where f is close to zero at an end, the bracket collapses to that
// end.
func Expand(f func(float64) float64, guess, step float64, b Bounds, maxEvals int) (Bracket, error) {
	if maxEvals <= 0 {
		maxEvals = DefaultMaxEvals
	}
	guess = b.enforce(guess)
	fg := f(guess)
	if CloseToZero(fg) {
		return Bracket{XMin: guess, XMax: guess, FMin: fg, FMax: fg, Evals: 1}, nil
	}
	var br Bracket
	if fg > 0 {
		br.XMin, br.XMax, br.FMax = b.enforce(guess-step), guess, fg
		br.FMin = f(br.XMin)
	} else {
		br.XMin, br.FMin, br.XMax = guess, fg, b.enforce(guess+step)
		br.FMax = f(br.XMax)
	}
	flipflop := -1
	for br.Evals = 2; br.Evals <= maxEvals; br.Evals++ {
		if math.IsNaN(br.FMin) || math.IsNaN(br.FMax) {
			return br, fmt.Errorf("%w at %v or %v", ErrNotFinite, br.XMin, br.XMax)
		}
		if br.FMin*br.FMax <= 0 {
			switch {
			case CloseToZero(br.FMin):
				br.XMax, br.FMax = br.XMin, br.FMin
			case CloseToZero(br.FMax):
				br.XMin, br.FMin = br.XMax, br.FMax
			}
			return br, nil
		}
		if b != (Bounds{}) && br.XMin <= b.Lo && br.XMax >= b.Hi {
			break
		}
		switch {
		case math.Abs(br.FMin) < math.Abs(br.FMax) && (b == Bounds{} || br.XMin > b.Lo),
			math.Abs(br.FMin) >= math.Abs(br.FMax) && b != (Bounds{}) && br.XMax >= b.Hi:
			br.XMin = b.enforce(br.XMin + growth*(br.XMin-br.XMax))
			br.FMin = f(br.XMin)
		case math.Abs(br.FMin) > math.Abs(br.FMax) || b != (Bounds{}) && br.XMin <= b.Lo:
			br.XMax = b.enforce(br.XMax + growth*(br.XMax-br.XMin))
			br.FMax = f(br.XMax)
		case flipflop == -1:
			br.XMin = b.enforce(br.XMin + growth*(br.XMin-br.XMax))
			br.FMin = f(br.XMin)
			br.Evals++
			flipflop = 1
		default:
			br.XMax = b.enforce(br.XMax + growth*(br.XMax-br.XMin))
			br.FMax = f(br.XMax)
			flipflop = -1
		}
	}
	return br, fmt.Errorf("%w from %v in [%v, %v] after %d evaluations", ErrNoBracket, guess, br.XMin, br.XMax, br.Evals)
}
