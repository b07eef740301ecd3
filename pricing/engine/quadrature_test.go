package engine

import (
	"math"
	"testing"
)

// TestKronrod15 checks the rule's constants: the 15-point Kronrod rule
// integrates x^n exactly up to degree 22 and the embedded 7-point Gauss
// rule up to degree 13, so the error estimate of a degree-13 polynomial is
// rounding; and the adaptive integration reaches its tolerance on a hard
// smooth integrand.
func TestKronrod15(t *testing.T) {
	for n := 0; n <= 22; n++ {
		p := kronrod15(func(x float64) float64 { return math.Pow(x, float64(n)) }, 0, 1)
		if want := 1 / float64(n+1); math.Abs(p.value-want) > 1e-15 {
			t.Errorf("∫x^%d: %.17g, want %.17g", n, p.value, want)
		}
		if n <= 13 && p.err > 1e-13 {
			t.Errorf("∫x^%d: error estimate %g, want rounding", n, p.err)
		}
	}
	v, err, _ := adaptiveKronrod(func(x float64) float64 { return math.Cos(40*x) / (1 + 25*x*x) }, -1, 1, 1, 1e-14, 1000)
	// ∫_{-1}^{1} cos(40x)/(1+25x²) dx, by the same rule on 2,000 pieces.
	var ref float64
	for i := range 2000 {
		a := -1 + float64(i)/1000
		ref += kronrod15(func(x float64) float64 { return math.Cos(40*x) / (1 + 25*x*x) }, a, a+0.001).value
	}
	if math.Abs(v-ref) > 1e-14 || err > 1e-14 {
		t.Errorf("oscillatory integral %.17g (error estimate %g), want %.17g", v, err, ref)
	}
}
