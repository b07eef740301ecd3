package solver_test

import (
	"errors"
	"math"
	"testing"

	"github.com/pricefn/pricefn/pricing/solver"
)

func TestBrentAndNewtonSafe(t *testing.T) {
	cases := []struct {
		name        string
		f           func(float64) float64
		df          func(float64) float64
		guess, step float64
		root        float64
	}{
		{"cos x = x", func(x float64) float64 { return math.Cos(x) - x }, func(x float64) float64 { return -math.Sin(x) - 1 }, 0, 0.1, 0.7390851332151607},
		{"cube root of 2", func(x float64) float64 { return x*x*x - 2 }, func(x float64) float64 { return 3 * x * x }, 5, 0.5, math.Cbrt(2)},
		{"far root", func(x float64) float64 { return math.Exp(x) - 1e10 }, math.Exp, 0, 1, math.Log(1e10)},
		{"negative root", func(x float64) float64 { return x + 37.5 }, func(float64) float64 { return 1 }, 2, 0.01, -37.5},
	}
	for _, c := range cases {
		br, err := solver.Expand(c.f, c.guess, c.step, solver.Bounds{}, 0)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if br.FMin*br.FMax > 0 {
			t.Fatalf("%s: bracket %+v does not change sign", c.name, br)
		}
		x, err := solver.Brent(c.f, br, 1e-15, 0)
		if err != nil || math.Abs(x-c.root) > 1e-14*math.Max(1, math.Abs(c.root)) {
			t.Errorf("%s: Brent %v (%v), want %v", c.name, x, err, c.root)
		}
		x, err = solver.NewtonSafe(func(x float64) (float64, float64) { return c.f(x), c.df(x) }, br, 1e-15, 0)
		if err != nil || math.Abs(x-c.root) > 1e-14*math.Max(1, math.Abs(c.root)) {
			t.Errorf("%s: NewtonSafe %v (%v), want %v", c.name, x, err, c.root)
		}
	}
}

func TestExpandFailures(t *testing.T) {
	positive := func(x float64) float64 { return x*x + 1 }
	if _, err := solver.Expand(positive, 0, 0.1, solver.Bounds{Lo: -1, Hi: 3}, 0); !errors.Is(err, solver.ErrNoBracket) {
		t.Errorf("no root within bounds: %v, want ErrNoBracket", err)
	}
	if _, err := solver.Expand(positive, 0, 0.1, solver.Bounds{}, 20); !errors.Is(err, solver.ErrNoBracket) {
		t.Errorf("no root within the budget: %v, want ErrNoBracket", err)
	}
	nan := func(x float64) float64 { return math.Sqrt(x) + 1 }
	if _, err := solver.Expand(nan, 5, 1, solver.Bounds{}, 0); !errors.Is(err, solver.ErrNotFinite) {
		t.Errorf("NaN on the way: %v, want ErrNotFinite", err)
	}
	// A bounded expansion keeps to its bounds and still finds a root near one.
	br, err := solver.Expand(func(x float64) float64 { return x - 2.999 }, 0, 0.01, solver.Bounds{Lo: -1, Hi: 3}, 0)
	if err != nil || br.XMin < -1 || br.XMax > 3 {
		t.Errorf("bounded expansion: %+v, %v", br, err)
	}
	if _, err := solver.Brent(positive, solver.Bracket{XMin: 0, XMax: 1, FMin: 1, FMax: 2}, 1e-12, 0); !errors.Is(err, solver.ErrNoBracket) {
		t.Errorf("Brent on a non-bracket: %v", err)
	}
}
