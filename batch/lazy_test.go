package batch_test

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"testing"

	"github.com/pricefn/pricefn/batch"
)

// TestCompileLazily: a lazy job is the job CompileWith makes, whichever way
// it is priced: PriceBlocks compiles each block as it prices it (the
// results and their encoding to the last bit, failures included, with 1,
// 2 and 7 workers), and Len, Cost, PriceTradeInto and Price compile every
// trade first.
func TestCompileLazily(t *testing.T) {
	b := mixedBatch(t)
	eager, err := batch.CompileWith(b, batch.Engines{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := eager.Price(context.Background(), batch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, r := range want {
		if r.Error != "" {
			failed++
		}
	}
	if failed == 0 || failed == len(want) {
		t.Fatalf("the mixed batch has %d failures of %d: want some", failed, len(want))
	}
	wantDoc, err := batch.AppendResults(nil, want)
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 2, 7} {
		lazy, err := batch.CompileLazily(b, batch.Engines{})
		if err != nil {
			t.Fatal(err)
		}
		if lazy.Len() != eager.Len() {
			t.Fatalf("Len %d, eager %d", lazy.Len(), eager.Len())
		}
		var got []byte
		err = lazy.PriceBlocks(context.Background(), batch.Options{Workers: workers}, nil, func(pb *batch.PricedBlock) error {
			got = append(got, pb.Encoded...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, wantDoc) {
			t.Errorf("%d workers: the lazy job's blocks differ from the eager job's results", workers)
		}
		for i := range lazy.Len() {
			if lazy.Cost(i) != eager.Cost(i) {
				t.Errorf("Cost(%d) %g, eager %g", i, lazy.Cost(i), eager.Cost(i))
			}
			var one batch.TradeResult
			lazy.PriceTradeInto(i, &one)
			gotOne, err1 := batch.AppendResults(nil, []batch.TradeResult{one})
			wantOne, err2 := batch.AppendResults(nil, want[i:i+1])
			if err1 != nil || err2 != nil || !bytes.Equal(gotOne, wantOne) {
				t.Errorf("PriceTradeInto(%d) = %s, want %s", i, gotOne, wantOne)
			}
		}
	}
}

// TestLazyPriceToHoldsABlock: PriceTo compiles a block at a time into
// memory each worker reuses, so what it allocates does not grow with the
// batch's trades as the compiled trades did (some 220 bytes a trade).
func TestLazyPriceToHoldsABlock(t *testing.T) {
	allocated := func(n int) uint64 {
		doc, err := batch.Sample(batch.SampleSpec{Type: "european", N: n, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		b, err := batch.DecodeBytes(doc)
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := batch.PriceTo(context.Background(), b, batch.Options{Workers: 1}, io.Discard); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	allocated(1000) // the pools filled
	small, large := allocated(2000), allocated(20000)
	t.Logf("PriceTo allocated %d bytes for 2,000 trades, %d for 20,000", small, large)
	if grew := int64(large) - int64(small); grew > 18000*40 {
		t.Errorf("PriceTo allocated %d bytes more for 18,000 more trades: %.0f a trade", grew, float64(grew)/18000)
	}
}
