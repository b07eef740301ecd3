package engine

import (
	"math"
	"testing"
)

// TestNormalQuantLib compares normCDF and normPDF with QuantLib 1.29's
// CumulativeNormalDistribution and NormalDistribution: in the body, where
// N = 0.5·(1+erf(x/√2)) carries QuantLib's rounding (which matters: a
// barrier's reflected terms multiply it by 1e8); at |x/√2| >= 6, where
// QuantLib's erf returns ±(1 - 2⁻⁵²); and in the lower tail below 1e-8,
// where it switches to an asymptotic series.
func TestNormalQuantLib(t *testing.T) {
	tests := []struct{ x, cdf, pdf float64 }{
		{-40.0, 0.0, 0.0},
		{-12.5, 3.732564298877713e-36, 4.6951953579751464e-35},
		{-8.6, 3.985804962848183e-18, 3.472962748566208e-17},
		{-8.4, 2.2323931972880486e-17, 1.9010815379079637e-16},
		{-6.0, 9.865876577836621e-10, 6.075882849823286e-09},
		{-5.7, 5.990371842173368e-09, 3.513955094820434e-08},
		{-3.9, 4.8096344017589665e-05, 0.00019865547139277272},
		{-2.0, 0.02275013194817921, 0.05399096651318806},
		{-1.5, 0.06680720126885803, 0.12951759566589174},
		{-1.0, 0.15865525393145702, 0.24197072451914337},
		{-0.5, 0.3085375387259869, 0.3520653267642995},
		{0.0, 0.5, 0.3989422804014327},
		{0.3, 0.6179114221889527, 0.38138781546052414},
		{1.1, 0.8643339390536173, 0.21785217703255053},
		{1.9, 0.9712834401839983, 0.0656158147746766},
		{4.5, 0.9999966023268753, 1.5983741106905475e-05},
		{8.0, 0.9999999999999993, 5.052271083536893e-15},
		{9.0, 0.9999999999999999, 1.0279773571668917e-18},
	}
	for _, tt := range tests {
		// Bit for bit in the body; the tail's series and QuantLib's exp
		// may differ in the last bits.
		if got := normCDF(tt.x); math.Abs(got-tt.cdf) > 4e-16*tt.cdf {
			t.Errorf("normCDF(%v) = %.17g, QuantLib %.17g", tt.x, got, tt.cdf)
		}
		if got := normPDF(tt.x); math.Abs(got-tt.pdf) > 4e-16*tt.pdf {
			t.Errorf("normPDF(%v) = %.17g, QuantLib %.17g", tt.x, got, tt.pdf)
		}
	}
	// In the body N agrees with math.Erfc's more accurate value to about
	// 1e-16 absolute, which is all QuantLib's form can give.
	for x := -5.5; x <= 8; x += 0.01 {
		if got, exact := normCDF(x), 0.5*math.Erfc(-x/math.Sqrt2); math.Abs(got-exact) > 2.3e-16 {
			t.Errorf("normCDF(%v) = %.17g, erfc gives %.17g", x, got, exact)
		}
	}
}

// TestErf checks erf's branches against math.Erf (fdlibm, < 1 ulp) and its
// symmetry.
func TestErf(t *testing.T) {
	for _, x := range []float64{0, 1e-300, 1e-10, 0.1, 0.5, 0.84, 0.85, 1, 1.24, 1.26, 2, 2.8, 2.9, 4, 5.9, 6, 30} {
		for _, v := range []float64{x, -x} {
			got, want := erf(v), math.Erf(v)
			if math.Abs(got-want) > 4e-16*math.Max(math.Abs(want), 1e-300) && !(math.Abs(v) >= 6 && math.Abs(got-want) <= qlEpsilon) {
				t.Errorf("erf(%v) = %.17g, math.Erf %.17g", v, got, want)
			}
			if erf(-v) != -got {
				t.Errorf("erf(-%v) = %v, want %v", v, erf(-v), -got)
			}
		}
	}
}

func BenchmarkNormCDF(b *testing.B) {
	var s float64
	x := -3.0
	for b.Loop() {
		s += normCDF(x)
		x += 1e-9
	}
	_ = s
}
