package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFastExp checks fastExp against math.Exp: within 2 ulp (4.5e-16
// relative; each is within 1 ulp of e^x), and equal outside |x| < 700.
func TestFastExp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	worst := 0.0
	for i := range 1_000_000 {
		x := (rng.Float64() - 0.5) * 1398
		if i%2 == 0 {
			x = (rng.Float64() - 0.5) * 2
		}
		got, want := fastExp(x), math.Exp(x)
		rel := math.Abs(got-want) / want
		worst = math.Max(worst, rel)
		if rel > 4.5e-16 {
			t.Fatalf("fastExp(%v) = %v, math.Exp %v: relative error %.3g", x, got, want, rel)
		}
	}
	for _, x := range []float64{0, 1, -1, 700, -700, 710, -746, math.Inf(1), math.Inf(-1)} {
		if got, want := fastExp(x), math.Exp(x); got != want && math.Abs(got-want) > 4.5e-16*want {
			t.Errorf("fastExp(%v) = %v, want %v", x, got, want)
		}
	}
	if !math.IsNaN(fastExp(math.NaN())) {
		t.Error("fastExp(NaN) is not NaN")
	}
	t.Logf("worst relative error %.3g", worst)
}

func BenchmarkFastExp(b *testing.B) {
	x, s := -0.3, 0.0
	for b.Loop() {
		s += fastExp(x)
		x += 1e-9
	}
	_ = s
}

// TestFastLog checks fastLog against math.Log: within 1e-16 absolute
// everywhere and 2 ulp relative where |ln x| >= 1e-3.
func TestFastLog(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 1_000_000 {
		x := math.Exp((rng.Float64() - 0.5) * 1400)
		if i%2 == 0 {
			x = 0.5 + rng.Float64()
		}
		got, want := fastLog(x), math.Log(x)
		d := math.Abs(got - want)
		if d > 1e-16 && d > 4.5e-16*math.Abs(want) {
			t.Fatalf("fastLog(%v) = %v, math.Log %v: error %.3g", x, got, want, d)
		}
	}
	for _, x := range []float64{1, 2, 0.5, math.Sqrt2, 1 / math.Sqrt2, 0, -1, math.Inf(1), 5e-324, math.MaxFloat64} {
		got, want := fastLog(x), math.Log(x)
		if !(got == want || math.Abs(got-want) <= 4.5e-16*math.Abs(want) || math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("fastLog(%v) = %v, want %v", x, got, want)
		}
	}
	if !math.IsNaN(fastLog(math.NaN())) {
		t.Error("fastLog(NaN) is not NaN")
	}
}

// TestLogIndex checks logReduce against the arithmetic it replaced: m
// and k to the bit, and the table index as (m-1)·128 + 46.5 truncated, on
// random doubles, both sides of √2, and the doubles either side of every
// point where the index steps.
func TestLogIndex(t *testing.T) {
	check := func(x float64) {
		t.Helper()
		bits := math.Float64bits(x)
		ki := int64(bits>>52) - 1023
		mb := bits&(1<<52-1) | 1023<<52
		if mb > 0x3ff6a09e667f3bcd {
			mb -= 1 << 52
			ki++
		}
		wantM, wantK := math.Float64frombits(mb), float64(ki)
		wantI := int((wantM-1)*128 + 46.5)
		m, k, i := logReduce(x)
		if math.Float64bits(m) != mb || k != wantK || i != wantI {
			t.Fatalf("logReduce(%v) = %v, %v, %d, want %v, %v, %d", x, m, k, i, wantM, wantK, wantI)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 1_000_000 {
		check(math.Float64frombits(rng.Uint64N(0x7ff0000000000000-0x0010000000000000) + 0x0010000000000000))
	}
	for _, x := range []float64{1, 2, 0.5, math.Sqrt2, 1 / math.Sqrt2, math.SmallestNonzeroFloat64 * (1 << 52), math.MaxFloat64} {
		for _, y := range []float64{x, math.Nextafter(x, 0), math.Nextafter(x, math.Inf(1))} {
			if logInRange(y) {
				check(y)
			}
		}
	}
	for j := -46; j <= 54; j++ {
		for _, e := range []float64{1, 0.5, 4, 1e-300, 1e300} {
			m := 1 + (float64(j)-0.5)/128 // where the index steps
			for _, y := range []float64{m * e, math.Nextafter(m*e, 0), math.Nextafter(m*e, math.Inf(1))} {
				check(y)
			}
		}
	}
}

func BenchmarkFastLog(b *testing.B) {
	x, s := 1.1, 0.0
	for b.Loop() {
		s += fastLog(x)
		x += 1e-9
	}
	_ = s
}
