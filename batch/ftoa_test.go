package batch

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestShortestIsStrconv: appendFloat writes what encoding/json (strconv's
// shortest formatting under it) writes, byte for byte: random
// bit patterns over the whole range (subnormals included), random
// decimals, integers, powers of two and ten and their neighbours.
func TestShortestIsStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n := 0
	check := func(v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		n++
		want, _ := json.Marshal(v)
		if got := appendFloat(nil, v); string(got) != string(want) {
			t.Fatalf("%v (bits %#x): %s, want %s", v, math.Float64bits(v), got, want)
		}
	}
	pow10 := func(n int) uint64 {
		p := uint64(1)
		for range n {
			p *= 10
		}
		return p
	}
	for range 200_000 {
		// The hard cases of the algorithm: mantissas ending in many zero
		// bits, multiples of powers of five (exactly representable
		// decimals' edges), short decimals and their neighbours.
		e := uint64(r.IntN(2047))
		check(math.Float64frombits(e<<52 | r.Uint64()&(1<<52-1)&^(1<<uint(r.IntN(52))-1)))
		p5 := uint64(1)
		for range r.IntN(22) + 1 {
			p5 *= 5
		}
		if m := (r.Uint64() % (1 << 53 / p5)) * p5; m != 0 {
			check(math.Ldexp(float64(m)+float64(r.IntN(3)-1), r.IntN(200)-100))
		}
		d := float64(r.Int64N(int64(pow10(r.IntN(17)+1)))) / float64(pow10(r.IntN(18)))
		for _, x := range []float64{d, math.Nextafter(d, 0), math.Nextafter(d, math.Inf(1))} {
			check(x)
		}
	}
	for range 1_000_000 {
		check(math.Float64frombits(r.Uint64()))
		check(math.Float64frombits(r.Uint64() & (1<<52 - 1))) // subnormal
		check(r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20)))
		check(float64(r.Int64N(1<<53)) / math.Pow(10, float64(r.IntN(30))))
		check(float64(r.Int64N(1 << 53)))
	}
	for e := -1074; e <= 1023; e++ {
		p := math.Ldexp(1, e)
		check(p)
		check(math.Nextafter(p, 0))
		check(math.Nextafter(p, math.Inf(1)))
	}
	for e := -323; e <= 308; e++ {
		p := math.Pow(10, float64(e))
		for _, v := range []float64{p, math.Nextafter(p, 0), math.Nextafter(p, math.Inf(1)), 5 * p, 2.5 * p, 123456789012345678 * p} {
			check(v)
			check(-v)
		}
	}
	for _, v := range []float64{5e-324, math.MaxFloat64, math.SmallestNonzeroFloat64, 1e-6, 1e21, 1e23, 9007199254740993, 0.1, 0.3, 2.2250738585072014e-308} {
		check(v)
		check(-v)
	}
	t.Logf("%d numbers", n)
	for v, want := range map[float64]string{math.Copysign(0, -1): "0", math.NaN(): "null", math.Inf(1): "null", math.Inf(-1): "null"} {
		if got := appendFloat(nil, v); string(got) != want {
			t.Errorf("%v: %s, want %s", v, got, want)
		}
	}
}

func BenchmarkFormatFloat(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := make([]float64, 1024)
	for i := range vals {
		vals[i] = r.NormFloat64() * 50
	}
	buf := make([]byte, 0, 64)
	b.Run("ryu", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			buf = appendFloat(buf[:0], vals[i&1023])
		}
	})
	b.Run("strconv", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			buf = strconv.AppendFloat(buf[:0], vals[i&1023], 'f', -1, 64)
		}
	})
}

// TestPut8 checks put8 on every eight digits against the digits strconv
// writes, padded with zeros.
func TestPut8(t *testing.T) {
	step := uint32(1)
	if testing.Short() {
		step = 97
	}
	var got [8]byte
	var want [9]byte
	for r := uint32(0); r < 1e8; r += step {
		put8(got[:], r)
		strconv.AppendUint(want[:0], uint64(r)+1e8, 10) // 1 and the eight digits
		if got != [8]byte(want[1:]) {
			t.Fatalf("put8(%d) = %q, want %q", r, got[:], want[1:])
		}
	}
}
