package batch

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// TestAppendFloatIsEncodingJSON: appendFloat writes every number as
// encoding/json does, byte for byte: random bit patterns across the whole
// range, random decimals, integers and the edges of the 'f' range.
func TestAppendFloatIsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		want, _ := json.Marshal(v)
		if got := appendFloat(nil, v); string(got) != string(want) {
			t.Fatalf("%v (%x): %s, want %s", v, math.Float64bits(v), got, want)
		}
	}
	for range 200_000 {
		check(math.Float64frombits(r.Uint64()))
		check(r.NormFloat64() * math.Pow(10, float64(r.IntN(30)-10)))
		check(float64(r.Int64N(1e17)) / math.Pow(10, float64(r.IntN(25))))
	}
	for e := -8; e <= 22; e++ {
		p := math.Pow(10, float64(e))
		for _, v := range []float64{p, -p, math.Nextafter(p, 0), math.Nextafter(p, math.Inf(1)), 1.5 * p, 123456789 * p} {
			check(v)
		}
	}
	for _, v := range []float64{1e-6, 1e21, 9.999999999999999e20, 1e-7, 0.1, 0.2, 0.3, 5e-324, math.MaxFloat64, -0.0, 1, 100, 123.456} {
		check(v)
	}
}
