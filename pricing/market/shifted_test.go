package market

import (
	"math"
	"testing"
)

func TestShiftedCurve(t *testing.T) {
	zc, err := NewZeroCurve([]float64{0.5, 2, 10}, []float64{0.02, 0.03, 0.035})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		base  interface{ ZeroRate(float64) float64 }
		shift float64
	}{
		{"flat +1bp", NewFlatCurve(0.05), BasisPoint},
		{"zeros +1bp", zc, BasisPoint},
		{"zeros -25bp", zc, -0.0025},
	}
	for _, tt := range tests {
		base := tt.base.(interface{ Discount(float64) float64 })
		s := NewShiftedCurve(base, tt.shift)
		for _, tm := range []float64{0, 0.1, 1, 3.7, 30} {
			want := math.Exp(-(tt.base.ZeroRate(tm) + tt.shift) * tm)
			if got := s.Discount(tm); math.Abs(got-want) > 1e-15 {
				t.Errorf("%s: Discount(%v) = %.17g, want %.17g", tt.name, tm, got, want)
			}
		}
	}
}
