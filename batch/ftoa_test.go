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
