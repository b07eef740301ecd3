package batch

import (
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

var shortestN = flag.Int("shortest.n", 0, "random float64s TestShortestRandom compares with strconv's (0: a few thousand)")

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

// strconvShortest is shortest by strconv: the digits and exponent of its
// shortest 'e' form.
func strconvShortest(t testing.TB, v float64) (d uint64, e int) {
	s := strconv.FormatFloat(v, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	digits := strings.Replace(mant, ".", "", 1)
	d, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	e, err = strconv.Atoi(exp)
	if err != nil {
		t.Fatal(err)
	}
	return d, e - (len(digits) - 1)
}

func checkShortest(t testing.TB, v float64) {
	t.Helper()
	d, e := shortest(v)
	if wd, we := strconvShortest(t, v); d != wd || e != we {
		t.Fatalf("shortest(%v) (bits %#x) = %de%d, want %de%d", v, math.Float64bits(v), d, e, wd, we)
	}
}

// TestShortestDragonbox checks shortest against strconv where Dragonbox
// takes its rarer paths: the powers of two, whose rounding interval is
// narrower below them (Algorithm 5.6), among them 2^54 and 2^55, whose
// interval's lower end is an integer, and 2^-25, whose digits are made
// even; the values at the ends of their binades; integers and decimals
// with trailing zeros (trimZeros, 8, 4, 2 and 1 at a time); values whose
// product by the power of ten is an integer or falls on the interval's
// end (the parity checks), as small integers, halves and short decimals
// do.
func TestShortestDragonbox(t *testing.T) {
	for exp := uint64(1); exp < 2047; exp++ {
		for _, m := range []uint64{0, 1, 2, 3, 1<<52 - 1, 1<<52 - 2, 1 << 51} {
			checkShortest(t, math.Float64frombits(exp<<52|m))
		}
	}
	for _, m := range []uint64{1, 2, 3, 1<<52 - 1, 1 << 51, 1 << 40} {
		checkShortest(t, math.Float64frombits(m)) // subnormals
	}
	for _, v := range []float64{1 << 54, 1 << 55, 0x1p-25, 9007199254740992, 18014398509481984, 36028797018963968} {
		checkShortest(t, v)
		checkShortest(t, math.Nextafter(v, 0))
		checkShortest(t, math.Nextafter(v, math.Inf(1)))
	}
	for d := 1.0; d < 1e4; d++ {
		checkShortest(t, d)
		checkShortest(t, d+0.5)
		checkShortest(t, d/8)
		checkShortest(t, d/100)
		checkShortest(t, d/1000)
		for p := 1e4; p < 1e23; p *= 10 {
			checkShortest(t, d*p)
		}
	}
}

// TestShortestRandom compares shortest with strconv on random bit
// patterns, finite and positive: a few thousand by default, as many as
// -shortest.n says otherwise (go test -run TestShortestRandom ./batch/
// -args -shortest.n 200000000 took 75 s of CPU).
func TestShortestRandom(t *testing.T) {
	n := *shortestN
	if n == 0 {
		n = 5000
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range n {
		v := math.Float64frombits(r.Uint64() &^ (1 << 63))
		if v != 0 && !math.IsInf(v, 0) && !math.IsNaN(v) {
			checkShortest(t, v)
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
	b.Run("dragonbox", func(b *testing.B) {
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
