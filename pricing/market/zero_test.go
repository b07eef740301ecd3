package market

import (
	"math"
	"testing"
)

// TestZeroCurveQuantLib compares discount factors and zero rates with
// QuantLib 1.29's ZeroCurve (Linear, Continuous, Actual365Fixed, through the
// valuation date 2026-11-25 at the first pillar's rate, extrapolation on),
// pillars 2027-02-24 -0.4%, 2028-11-25 1.2%, 2036-11-25 3.1%: flat before
// the first pillar, linear between, and beyond the last the instantaneous
// forward of the last segment, 3.1% + t·slope, not a flat zero rate.
func TestZeroCurveQuantLib(t *testing.T) {
	zc, err := NewZeroCurve([]float64{91.0 / 365, 731.0 / 365, 3653.0 / 365}, []float64{-0.004, 0.012, 0.031})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		days     int
		df, zero float64
	}{
		{1, 1.0000109589641586, -0.003999999999990644},
		{30, 1.0003288211731214, -0.0039999999999987676},
		{91, 1.0009977577033413, -0.003999999999999504},
		{500, 0.9915088578646023, 0.006224999999999937},
		{3653, 0.7332601017644879, 0.030999999999999996},
		{3654, 0.733150114467532, 0.031006500616091358},
		{5000, 0.5991059653377047, 0.03739912587268993},
		{9000, 0.32878461036932516, 0.04511207046163207},
		{18262, 0.08194271096943335, 0.050001820542591294},
	}
	for _, tt := range tests {
		tm := float64(tt.days) / 365
		if got := zc.Discount(tm); math.Abs(got-tt.df) > 1e-15*tt.df {
			t.Errorf("Discount(%d days) = %.17g, QuantLib %.17g", tt.days, got, tt.df)
		}
		if got := zc.ZeroRate(tm); math.Abs(got-tt.zero) > 1e-14 {
			t.Errorf("ZeroRate(%d days) = %.17g, QuantLib %.17g", tt.days, got, tt.zero)
		}
	}

	// One pillar: the curve is flat at its rate, before and beyond it.
	one, err := NewZeroCurve([]float64{181.0 / 365}, []float64{0.02})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := one.Discount(20), 0.6703200460356393; math.Abs(got-want) > 1e-15 {
		t.Errorf("one pillar: Discount(20y) = %.17g, QuantLib %.17g", got, want)
	}
}

// TestZeroCurveNodeAtZero: a first pillar at time 0 is the rate at the
// valuation date, the first node QuantLib's ZeroCurve requires: QuantLib
// 1.29's ZeroCurve through 2026-11-25 1%, 2027-11-25 2.5%, 2030-11-25 3%
// (Linear, Continuous, Actual365Fixed, extrapolation on). It was refused.
func TestZeroCurveNodeAtZero(t *testing.T) {
	zc, err := NewZeroCurve([]float64{0, 1, 1461.0 / 365}, []float64{0.01, 0.025, 0.03})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		days     int
		df, zero float64
	}{
		{1, 0.99997249052663795, 0.010041095890378859},
		{100, 0.99614182113815164, 0.014109589041095707},
		{365, 0.97530991202833262, 0.025000000000000015},
		{800, 0.94257094847984668, 0.026984489051094903},
		{1461, 0.88684754214272488, 0.029999999999999999},
		{3000, 0.75981634999343584, 0.033419219890510943},
	} {
		tm := float64(tt.days) / 365
		if got := zc.Discount(tm); math.Abs(got-tt.df) > 1e-15*tt.df {
			t.Errorf("Discount(%d days) = %.17g, QuantLib %.17g", tt.days, got, tt.df)
		}
		// QuantLib's zero rate is -ln(df)/t, some 1e-16/t off the
		// interpolated rate.
		if got := zc.ZeroRate(tm); math.Abs(got-tt.zero) > 1e-14+1e-16/tm {
			t.Errorf("ZeroRate(%d days) = %.17g, QuantLib %.17g", tt.days, got, tt.zero)
		}
	}
}

func TestNewZeroCurveErrors(t *testing.T) {
	tests := []struct {
		name         string
		times, rates []float64
	}{
		{"no pillars", nil, nil},
		{"length mismatch", []float64{1, 2}, []float64{0.01}},
		{"time zero twice", []float64{0, 0}, []float64{0.01, 0.02}},
		{"negative time", []float64{-0.1, 1}, []float64{0.01, 0.02}},
		{"decreasing", []float64{2, 1}, []float64{0.01, 0.02}},
		{"NaN rate", []float64{1}, []float64{math.NaN()}},
		{"infinite time", []float64{math.Inf(1)}, []float64{0.01}},
	}
	for _, tt := range tests {
		if _, err := NewZeroCurve(tt.times, tt.rates); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}
