package batch

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/pricefn/pricefn/pricing"
)

// TestFinite checks finite against a test of each float of a result on
// its own, for every float field holding each value that is not finite,
// and values that are, among random finite ones.
func TestFinite(t *testing.T) {
	var floats []int // the float64 fields of pricing.Result
	rt := reflect.TypeFor[pricing.Result]()
	for i := range rt.NumField() {
		if rt.Field(i).Type.Kind() == reflect.Float64 {
			floats = append(floats, i)
		}
	}
	if len(floats) != 17 {
		t.Fatalf("%d float fields, want the 17 finite sums", len(floats))
	}
	each := func(r *pricing.Result) bool {
		v := reflect.ValueOf(r).Elem()
		for _, i := range floats {
			if f := v.Field(i).Float(); math.IsNaN(f) || math.IsInf(f, 0) {
				return false
			}
		}
		return true
	}
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, math.Copysign(0, -1), 0, 1e308, -1e-308}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 20000 {
		var r pricing.Result
		v := reflect.ValueOf(&r).Elem()
		for _, i := range floats {
			v.Field(i).SetFloat((rng.Float64() - 0.5) * math.Pow(10, float64(rng.IntN(600)-300)))
		}
		// One field or two of a special value.
		for range 1 + n%2 {
			v.Field(floats[rng.IntN(len(floats))]).SetFloat(special[rng.IntN(len(special))])
		}
		if got, want := finite(&r), each(&r); got != want {
			t.Fatalf("finite(%+v) = %v, want %v", r, got, want)
		}
	}
}
