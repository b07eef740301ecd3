package batch

import (
	"reflect"
	"testing"
)

// TestReleaseReusesTrades: a released batch's trades array serves the next
// decode of about its size, cleared: the batch decoded into it is the one
// a fresh array holds. A batch made from another (Subset) releases
// nothing of it.
func TestReleaseReusesTrades(t *testing.T) {
	// 8,000 trades: one read; 30,000: DecodePlan reads the second half
	// on another core, into an array of its own, released once copied.
	for _, tt := range []struct {
		plan bool
		n    int
	}{{false, 8000}, {true, 8000}, {false, 30000}, {true, 30000}} {
		plan := tt.plan
		decode := DecodeBytes
		if plan {
			decode = DecodePlan
		}
		a, err := Sample(SampleSpec{Type: "european", N: tt.n, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Sample(SampleSpec{Type: "european-put", N: tt.n - 100, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		want, err := decode(b)
		if err != nil {
			t.Fatal(err)
		}
		first, err := decode(a)
		if err != nil {
			t.Fatal(err)
		}
		before, _ := tradeArrays.Kept()
		sub := first.Subset(0, 10)
		sub.Release() // not the owner of the array: nothing kept
		if n, _ := tradeArrays.Kept(); n != before {
			t.Fatalf("plan %v, %d trades: a subset released %d arrays", plan, tt.n, n-before)
		}
		array := first.array
		if array == nil {
			t.Fatalf("plan %v: the batch's trades are not in an array newTrades made", plan)
		}
		first.Release()
		for i, tr := range array[:cap(array)] {
			if !reflect.ValueOf(tr).IsZero() {
				t.Fatalf("plan %v: trade %d of the released array not cleared", plan, i)
			}
		}
		got, err := decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if tt.n < 10000 && &got.Trades[0] != &array[:1][0] {
			t.Errorf("plan %v: the next decode did not take the released array", plan)
		}
		for i := range want.Trades {
			if !reflect.DeepEqual(got.Trades[i], want.Trades[i]) {
				t.Fatalf("plan %v: trade %d in the reused array\n%+v\nwant\n%+v", plan, i, got.Trades[i], want.Trades[i])
			}
		}
		got.Release()
		want.Release()
		for n, _ := tradeArrays.Kept(); n > 0; n, _ = tradeArrays.Kept() {
			tradeArrays.Take(0, true) // empty for the next round
		}
	}
}
