package batch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/pricefn/pricefn/batch"
)

// lazyDoc is a batch of n trades of each of several types, interleaved,
// with trades that fail in every way a trade can (an unknown type, a bad
// quantity, a bad term, a broken curve or underlying) and measures that
// give cashflows.
func lazyDoc(t *testing.T, n int) []byte {
	t.Helper()
	var market map[string]map[string]json.RawMessage
	var lists [][]json.RawMessage
	for _, typ := range []string{"european", "american", "barrier", "fra", "swap", "bond"} {
		doc, err := batch.Sample(batch.SampleSpec{Type: typ, N: n, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Market map[string]map[string]json.RawMessage
			Trades []json.RawMessage
		}
		if err := json.Unmarshal(doc, &v); err != nil {
			t.Fatal(err)
		}
		market, lists = v.Market, append(lists, v.Trades)
	}
	market["curves"]["BROKEN"] = json.RawMessage(`{"zeros": []}`)
	market["underlyings"]["SHAKY"] = json.RawMessage(`{"spot": -1, "vol": 0.2, "curve": "USD"}`)
	failing := []string{
		`{"id": "unknown-%d", "type": "forward", "underlying": "ACME"}`,
		`{"id": "qty-%d", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "quantity": "ten"}`,
		`{"id": "strike-%d", "type": "european", "underlying": "ACME", "right": "call", "strike": -1, "expiry": "2027-11-25"}`,
		`{"id": "curve-%d", "type": "fra", "curve": "BROKEN", "notional": 1e6, "rate": 0.03, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}`,
		`{"id": "und-%d", "type": "european", "underlying": "SHAKY", "right": "put", "strike": 100, "expiry": "2027-11-25", "quantity": -2}`,
	}
	var trades []string
	for i := range n {
		for _, l := range lists {
			trades = append(trades, string(l[i]))
		}
		if i%8 == 0 {
			for _, f := range failing {
				trades = append(trades, fmt.Sprintf(f, i))
			}
		}
	}
	m, err := json.Marshal(market)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Appendf(nil, `{"id": "L", "valuationDate": "2026-11-25", "measures": ["npv", "delta", "gamma", "vega", "theta", "pv01", "fairRate", "cashflows", "cleanPrice", "yield"], "market": %s, "trades": [%s]}`,
		m, strings.Join(trades, ",\n"))
}

// TestCompileLazily: a lazy job is the job CompileWith makes, whichever way
// it is priced. PriceBlocks compiles each block just before pricing it,
// into memory its worker reuses for its next block: the results and their
// encoding are the eager job's to the last bit, failures and cashflows
// included, with 1, 2 and 7 workers (several blocks each), and a block's
// results stay right after its worker has gone on (they hold nothing of
// the reused memory). Len, Cost, PriceTradeInto and Price give the eager
// job's too.
func TestCompileLazily(t *testing.T) {
	b, err := batch.DecodeBytes(lazyDoc(t, 48))
	if err != nil {
		t.Fatal(err)
	}
	eager, err := batch.CompileWith(b, batch.Engines{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := eager.Price(context.Background(), batch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	failed, flows := 0, 0
	for _, r := range want {
		if r.Error != "" {
			failed++
		}
		if len(r.Result.Cashflows) > 0 {
			flows++
		}
	}
	if failed < 5*6 || flows == 0 {
		t.Fatalf("%d trades, %d failed, %d with cashflows: want failures of every kind and cashflows", len(want), failed, flows)
	}
	encode := func(rs []batch.TradeResult) []byte {
		t.Helper()
		out, err := batch.AppendResults(nil, rs)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	wantDoc := encode(want)
	for _, workers := range []int{1, 2, 7} {
		lazy, err := batch.CompileLazily(b, batch.Engines{})
		if err != nil {
			t.Fatal(err)
		}
		if lazy.Len() != eager.Len() {
			t.Fatalf("Len %d, eager %d", lazy.Len(), eager.Len())
		}
		var kept []batch.TradeResult // the blocks' results, as they were handed over
		blocks, differ := 0, 0
		err = lazy.PriceBlocks(context.Background(), batch.Options{Workers: workers}, nil, func(pb *batch.PricedBlock) error {
			if !bytes.Equal(pb.Encoded, encode(want[pb.Lo:pb.Lo+len(pb.Results)])) {
				differ++
			}
			kept = append(kept, pb.Results...)
			blocks++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if blocks < 2*workers {
			t.Fatalf("%d workers priced %d blocks: want several each", workers, blocks)
		}
		if differ > 0 {
			t.Errorf("%d workers: %d blocks of %d differ from the eager job's results", workers, differ, blocks)
		}
		if !bytes.Equal(encode(kept), wantDoc) {
			t.Errorf("%d workers: the blocks' results changed after their workers went on", workers)
		}
		for i := range lazy.Len() {
			if lazy.Cost(i) != eager.Cost(i) {
				t.Errorf("Cost(%d) %g, eager %g", i, lazy.Cost(i), eager.Cost(i))
			}
			var one batch.TradeResult
			lazy.PriceTradeInto(i, &one)
			if got, want := encode([]batch.TradeResult{one}), encode(want[i:i+1]); !bytes.Equal(got, want) {
				t.Errorf("PriceTradeInto(%d) = %s, want %s", i, got, want)
			}
		}
		all, err := lazy.Price(context.Background(), batch.Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(encode(all), wantDoc) {
			t.Errorf("%d workers: the lazy job's Price differs from the eager job's", workers)
		}
	}
}

// TestLazyPriceToHoldsABlock: PriceTo compiles a block at a time into
// memory each worker reuses, so what it allocates does not grow with the
// batch's trades as the compiled trades did (some 175 bytes a trade).
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
