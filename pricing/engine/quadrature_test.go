package engine

import (
	"math"
	"testing"
)

// TestKronrod15 checks the rules' constants: the 15-point Kronrod rule
// integrates x^n exactly up to degree 22 and the embedded 7-point Gauss
// rule up to degree 13, the 41-point rule up to degree 61 and its 20-point
// Gauss rule up to degree 39, so the error estimate of a polynomial the
// Gauss rule integrates is rounding; and the adaptive integration reaches
// its tolerance on a hard smooth integrand with either.
func TestKronrod15(t *testing.T) {
	for _, c := range []struct {
		name           string
		r              *kronrodRule
		kronrod, gauss int
	}{{"gk15", &gk15, 22, 13}, {"gk41", &gk41, 61, 39}} {
		for n := 0; n <= c.kronrod; n++ {
			p := c.r.piece(func(x float64) float64 { return math.Pow(x, float64(n)) }, 0, 1)
			if want := 1 / float64(n+1); math.Abs(p.value-want) > 1e-15 {
				t.Errorf("%s: ∫x^%d: %.17g, want %.17g", c.name, n, p.value, want)
			}
			if n <= c.gauss && p.err > 1e-13 {
				t.Errorf("%s: ∫x^%d: error estimate %g, want rounding", c.name, n, p.err)
			}
		}
		f := func(x float64) float64 { return math.Cos(40*x) / (1 + 25*x*x) }
		v, err, _ := adaptiveKronrod(c.r, f, -1, 1, 1, 1e-14, 1000)
		// ∫_{-1}^{1} cos(40x)/(1+25x²) dx, by the 15-point rule on 2,000
		// pieces.
		var ref float64
		for i := range 2000 {
			a := -1 + float64(i)/1000
			ref += gk15.piece(f, a, a+0.001).value
		}
		if math.Abs(v-ref) > 1e-14 || err > 1e-14 {
			t.Errorf("%s: oscillatory integral %.17g (error estimate %g), want %.17g", c.name, v, err, ref)
		}
	}
}
