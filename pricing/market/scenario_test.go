package market

import (
	"math"
	"testing"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
)

func TestShiftCurve(t *testing.T) {
	zc, err := NewZeroCurve([]float64{0.5, 2, 10}, []float64{0.02, 0.03, 0.035})
	if err != nil {
		t.Fatal(err)
	}
	asOf := dates.New(2026, 11, 25)
	pw, err := Bootstrap(asOf, []Quote{
		Deposit{Start: asOf, End: asOf.AddMonths(6), Rate: 0.03, DayCount: dates.Act360},
		Deposit{Start: asOf, End: asOf.AddMonths(12), Rate: 0.032, DayCount: dates.Act360},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		base  ZeroRateCurve
		shift float64
	}{
		{"flat +1bp", NewFlatCurve(0.05), BasisPoint},
		{"zeros +1bp", zc, BasisPoint},
		{"zeros -42bp", zc, -0.0042},
		{"bootstrapped +25bp", pw, 0.0025},
	}
	for _, tt := range tests {
		s := ShiftCurve(tt.base, tt.shift)
		zr, ok := s.(ZeroRateCurve)
		if !ok {
			t.Fatalf("%s: shifted curve %T does not know its zero rates", tt.name, s)
		}
		for _, tm := range []float64{0.01, 0.1, 1, 3.7, 30} {
			want := tt.base.ZeroRate(tm) + tt.shift
			if got := zr.ZeroRate(tm); math.Abs(got-want) > 1e-15 {
				t.Errorf("%s: ZeroRate(%v) = %.17g, want %.17g", tt.name, tm, got, want)
			}
			wantDF := tt.base.Discount(tm) * math.Exp(-tt.shift*tm)
			if got := s.Discount(tm); math.Abs(got-wantDF) > 1e-15 {
				t.Errorf("%s: Discount(%v) = %.17g, want %.17g", tt.name, tm, got, wantDF)
			}
		}
		if ShiftCurve(tt.base, 0) != pricing.YieldCurve(tt.base) {
			t.Errorf("%s: a zero shift must return the curve itself", tt.name)
		}
	}
	// A zero curve shifted is the zero curve a batch quoting the shifted
	// rates builds, to the bit.
	shift := 0.0007 // a variable: float64 sums, not exact constant ones
	quoted, _ := NewZeroCurve([]float64{0.5, 2, 10}, []float64{0.02 + shift, 0.03 + shift, 0.035 + shift})
	shifted := ShiftCurve(zc, shift)
	for _, tm := range []float64{0.2, 1, 5, 12, 40} {
		if a, b := shifted.Discount(tm), quoted.Discount(tm); a != b {
			t.Errorf("shifted zero curve at %v: %v, the quoted curve %v", tm, a, b)
		}
	}
	// Shifting twice adds the shifts.
	twice := ShiftCurve(ShiftCurve(pw, 0.001), 0.002).(ZeroRateCurve)
	if got, want := twice.ZeroRate(3), pw.ZeroRate(3)+0.003; math.Abs(got-want) > 1e-15 {
		t.Errorf("twice shifted: %v, want %v", got, want)
	}
	// A curve that knows no zero rates is shifted by its discount factors.
	plain := ShiftCurve(NewShiftedCurve(zc, 0.001), 0.001)
	if got, want := plain.Discount(2), zc.Discount(2)*math.Exp(-0.002*2); math.Abs(got-want) > 1e-15 {
		t.Errorf("plain curve shifted: %v, want %v", got, want)
	}
}
