package fsum

import (
	"math"
	"testing"
)

// TestWideCarries checks the carries of a Wide whose limbs are about to
// be normalised, by Add and by Merge, against the same sum by Sum.
func TestWideCarries(t *testing.T) {
	xs := []float64{0x1.fffffffffffffp40, -0x1p-100, 0x1.fffffffffffffp40, 3.75, -0x1.8p41, 1e-30}
	var w, o Wide
	var want Sum
	w.adds = wideNormEvery - 3
	o.adds = wideNormEvery - 2
	for i, x := range xs {
		want.Add(x)
		if i%2 == 0 {
			w.Add(x)
		} else {
			o.Add(x)
		}
	}
	w.Merge(&o)
	if got := w.Value(); math.Float64bits(got) != math.Float64bits(want.Value()) {
		t.Errorf("%v, want %v", got, want.Value())
	}
	if w.adds >= wideNormEvery {
		t.Errorf("%d additions since the last carry", w.adds)
	}
}
