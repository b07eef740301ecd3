package fsum_test

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/pricefn/pricefn/pricing/fsum"
)

// exact is the reference: the sum of xs in 4096-bit arithmetic, exact for
// any float64s that do not overflow, rounded to nearest-even once.
func exact(xs []float64) float64 {
	acc := new(big.Float).SetPrec(4096)
	for _, x := range xs {
		acc.Add(acc, new(big.Float).SetPrec(4096).SetFloat64(x))
	}
	f, _ := acc.Float64()
	return f + 0
}

func sum(xs []float64) float64 {
	var s fsum.Sum
	for _, x := range xs {
		s.Add(x)
	}
	return s.Value()
}

func TestSumAdversarial(t *testing.T) {
	tiny := math.SmallestNonzeroFloat64
	tests := []struct {
		name string
		xs   []float64
		want float64
	}{
		{"empty", nil, 0},
		{"one", []float64{1.5}, 1.5},
		{"cancel", []float64{1e100, 1, -1e100}, 1},
		{"cancel many", []float64{1e16, 1, 1, 1, 1, -1e16}, 4},
		{"tenths", []float64{.1, .1, .1, .1, .1, .1, .1, .1, .1, .1}, 1},
		// 1 + 2^-53 + 2^-105: the naive sum ties to 1; the exact sum is
		// past the tie and rounds up.
		{"tie broken by the rest", []float64{1, 0x1p-53, 0x1p-105}, 1 + 0x1p-52},
		{"tie to even", []float64{1, 0x1p-53}, 1},
		{"tie to even up", []float64{1 + 0x1p-52, 0x1p-53}, 1 + 0x1p-51},
		{"tie broken down", []float64{1, 0x1p-53, -0x1p-105}, 1},
		{"subnormals", []float64{tiny, tiny, -tiny, 3 * tiny}, 4 * tiny},
		{"huge and tiny", []float64{math.MaxFloat64, tiny, -math.MaxFloat64}, tiny},
		{"negative zero", []float64{math.Copysign(0, -1)}, 0},
		{"zero from cancellation", []float64{0.3, -0.1, -0.2}, exact([]float64{0.3, -0.1, -0.2})},
		{"python doc", []float64{1e-16, 1, 1e16}, 10000000000000002},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := sum(tc.xs)
			if math.Float64bits(got) != math.Float64bits(tc.want) {
				t.Errorf("sum %v = %v (%x), want %v (%x)", tc.xs, got, math.Float64bits(got), tc.want, math.Float64bits(tc.want))
			}
			if ref := exact(tc.xs); math.Float64bits(got) != math.Float64bits(ref) {
				t.Errorf("sum %v = %v, big.Float says %v", tc.xs, got, ref)
			}
		})
	}
}

// TestSumRandom checks random ill-conditioned sums against big.Float, and
// that every order and every grouping into merged parts gives the same
// bits.
func TestSumRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		n := 1 + rng.IntN(200)
		xs := make([]float64, n)
		for i := range xs {
			// Wide exponents and signs, with exact cancellations.
			xs[i] = (rng.Float64() - 0.5) * math.Ldexp(1, rng.IntN(200)-100)
			if i > 0 && rng.IntN(4) == 0 {
				xs[i] = -xs[rng.IntN(i)]
			}
		}
		want := exact(xs)
		if got := sum(xs); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("trial %d: sum = %v, big.Float %v", trial, got, want)
		}
		// Another order, split into parts merged in yet another order,
		// and parts that travelled as their partials.
		perm := rng.Perm(n)
		parts := make([]fsum.Sum, 1+rng.IntN(8))
		for _, i := range perm {
			parts[rng.IntN(len(parts))].Add(xs[i])
		}
		var total fsum.Sum
		for _, k := range rng.Perm(len(parts)) {
			p := fsum.FromPartials(parts[k].Partials())
			total.Merge(&p)
		}
		if got := total.Value(); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("trial %d: merged parts = %v, want %v", trial, got, want)
		}
	}
}

func TestSumSpecial(t *testing.T) {
	var s fsum.Sum
	s.Add(1)
	s.Add(math.Inf(1))
	if v := s.Value(); !math.IsInf(v, 1) {
		t.Errorf("1 + Inf = %v", v)
	}
	s.Add(math.Inf(-1))
	if v := s.Value(); !math.IsNaN(v) {
		t.Errorf("Inf - Inf = %v", v)
	}
	var o fsum.Sum
	o.Merge(&s)
	if v := o.Value(); !math.IsNaN(v) {
		t.Errorf("merged NaN = %v", v)
	}
	c := s.Clone()
	c.Reset()
	if v := c.Value(); v != 0 {
		t.Errorf("reset: %v", v)
	}
	if v := s.Value(); !math.IsNaN(v) {
		t.Errorf("the original after Clone and Reset: %v", v)
	}
}

// The partials stay few, as they do not overlap: at most one per 53 bits
// of the float64 exponent range (some 2,100 bits), however many numbers.
func TestSumPartialsBounded(t *testing.T) {
	var s fsum.Sum
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100_000 {
		s.Add((rng.Float64() - 0.5) * math.Ldexp(1, rng.IntN(60)))
	}
	if n := len(s.Partials()); n > 2100/53 {
		t.Errorf("%d partials after 100,000 additions of 60 bits of range", n)
	}
}

func ExampleSum() {
	xs := []float64{1e100, 0.1, -1e100, 0.2}
	var s fsum.Sum
	naive := 0.0
	for _, x := range xs {
		s.Add(x)
		naive += x
	}
	fmt.Println(s.Value(), naive)
	// Output: 0.30000000000000004 0.2
}

func BenchmarkSumAdd(b *testing.B) {
	xs := make([]float64, 1024)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range xs {
		xs[i] = rng.NormFloat64() * 1e4
	}
	var s fsum.Sum
	for i := 0; b.Loop(); i++ {
		s.Add(xs[i&1023])
	}
}
