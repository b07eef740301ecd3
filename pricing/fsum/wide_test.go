package fsum_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pricefn/pricefn/pricing/fsum"
)

func wide(xs []float64) float64 {
	var w fsum.Wide
	for _, x := range xs {
		w.Add(x)
	}
	return w.Value()
}

// TestWide checks Wide against big.Float on the adversarial sums of
// TestSumAdversarial and on numbers at and past the ends of its window.
func TestWide(t *testing.T) {
	tiny := math.SmallestNonzeroFloat64
	tests := []struct {
		name string
		xs   []float64
	}{
		{"empty", nil},
		{"one", []float64{1.5}},
		{"negative", []float64{-1.5, -2.25}},
		{"cancel", []float64{1e100, 1, -1e100}},
		{"tenths", []float64{.1, .1, .1, .1, .1, .1, .1, .1, .1, .1}},
		{"tie broken by the rest", []float64{1, 0x1p-53, 0x1p-105}},
		{"tie to even", []float64{1, 0x1p-53}},
		{"tie broken down", []float64{1, 0x1p-53, -0x1p-105}},
		{"subnormals", []float64{tiny, tiny, -tiny, 3 * tiny}},
		{"huge and tiny", []float64{math.MaxFloat64, tiny, -math.MaxFloat64}},
		{"negative zero", []float64{math.Copysign(0, -1)}},
		{"window's low end", []float64{0x1p-256, 0x1.fffffffffffffp-256, -0x1p-255, 0x1p-308}},
		{"huge", []float64{0x1.fffffffffffffp288, 0x1p289, -0x1p288, 0x1p-200, 0x1p1000}},
		{"in and out of the window", []float64{0x1p-300, 1, 0x1p-1000, -1, 0x1p900, -0x1p900}},
		// Float64 sums of these overflow on the way; the exact one does
		// not, in any order.
		{"past float64 on the way", []float64{1e308, 1e308, -1e308}},
		{"past float64 on the way down", []float64{-math.MaxFloat64, -math.MaxFloat64, math.MaxFloat64, 1}},
		{"negative with tiny", []float64{-3, 0x1p-60, 0x1p-300}},
		{"borrow across limbs", []float64{0x1p100, -0x1p-200, -0x1p100}},
		{"python doc", []float64{1e-16, 1, 1e16}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, want := wide(tc.xs), exact(tc.xs)
			if math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("Wide %v = %v (%x), want %v (%x)", tc.xs, got, math.Float64bits(got), want, math.Float64bits(want))
			}
		})
	}
}

// TestWideRandom checks random ill-conditioned sums against big.Float and
// Sum, and that parts summed apart, merged in any order or as the partials
// they travel as, give the same bits.
func TestWideRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := range 400 {
		n := 1 + rng.IntN(300)
		xs := make([]float64, n)
		span := 20 + rng.IntN(2000) // some trials spill out of the window, or past float64
		for i := range xs {
			xs[i] = (rng.Float64() - 0.5) * math.Ldexp(1, rng.IntN(span)-span/2)
			if i > 0 && rng.IntN(4) == 0 {
				xs[i] = -xs[rng.IntN(i)]
			}
		}
		want := exact(xs)
		if got := wide(xs); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("trial %d: Wide = %v, big.Float %v", trial, got, want)
		}
		parts := make([]fsum.Wide, 1+rng.IntN(6))
		for _, i := range rng.Perm(n) {
			parts[rng.IntN(len(parts))].Add(xs[i])
		}
		var merged fsum.Wide
		var travelled fsum.Sum
		for _, k := range rng.Perm(len(parts)) {
			merged.Merge(&parts[k])
			s := parts[k].Sum()
			p := fsum.FromPartials(s.Partials())
			travelled.Merge(&p)
		}
		if got := merged.Value(); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("trial %d: merged = %v, want %v", trial, got, want)
		}
		if got := travelled.Value(); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("trial %d: partials merged = %v, want %v", trial, got, want)
		}
	}
}

func TestWideSpecial(t *testing.T) {
	var w fsum.Wide
	w.Add(1)
	w.Add(math.Inf(1))
	if v := w.Value(); !math.IsInf(v, 1) {
		t.Errorf("1 + Inf = %v", v)
	}
	var o fsum.Wide
	o.Add(math.NaN())
	w.Merge(&o)
	if v := w.Value(); !math.IsNaN(v) {
		t.Errorf("Inf + NaN = %v", v)
	}
	if v := o.Value(); !math.IsNaN(v) {
		t.Errorf("the merged one changed: %v", v)
	}
	// An exact sum that leaves float64 is that infinity, as for Sum.
	for _, sign := range []float64{1, -1} {
		var big fsum.Wide
		big.Add(sign * math.MaxFloat64)
		big.Add(sign * math.MaxFloat64)
		if v := big.Value(); !math.IsInf(v, int(sign)) {
			t.Errorf("%v MaxFloat64 twice = %v", sign, v)
		}
	}
}

// TestWidePartialsFew: a sum's partials are few, negative sums included
// (as sign and magnitude, not the limbs of a two's complement).
func TestWidePartialsFew(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, sign := range []float64{1, -1} {
		var w fsum.Wide
		for range 10_000 {
			w.Add(sign * rng.Float64() * 1e6)
		}
		s := w.Sum()
		if p := s.Partials(); len(p) > 3 || len(p) == 0 {
			t.Errorf("sign %v: partials %v", sign, p)
		}
	}
}

func BenchmarkWideAdd(b *testing.B) {
	xs := make([]float64, 1024)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range xs {
		xs[i] = rng.NormFloat64() * 1e4
	}
	var w fsum.Wide
	for i := 0; b.Loop(); i++ {
		w.Add(xs[i&1023])
	}
}
