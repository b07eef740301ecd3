package batch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pricefn/pricefn/batch"
)

// TestChunkedPricingIsIdentical splits every reference batch (the shared
// ones and the hard ones) into small chunks, sends each through JSON as a
// chunk event would, prices it alone and checks that the results equal the
// whole batch's, to the last bit.
func TestChunkedPricingIsIdentical(t *testing.T) {
	for _, f := range referenceBatches(t) {
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			b, err := batch.DecodeBytes(data)
			if err != nil {
				t.Fatal(err)
			}
			whole, err := batch.Price(context.Background(), b, batch.Options{Engines: fewPaths})
			if err != nil {
				t.Fatal(err)
			}
			j, err := batch.Compile(b)
			if err != nil {
				t.Fatal(err)
			}
			offsets := batch.Plan(b, j, batch.ChunkOptions{MaxTrades: 7})
			var parts []batch.TradeResult
			for i, lo := range offsets {
				hi := len(b.Trades)
				if i+1 < len(offsets) {
					hi = offsets[i+1]
				}
				wire, err := json.Marshal(b.Subset(lo, hi))
				if err != nil {
					t.Fatal(err)
				}
				cb, err := batch.DecodeBytes(wire)
				if err != nil {
					t.Fatalf("chunk %d does not decode: %v", i, err)
				}
				rs, err := batch.Price(context.Background(), cb, batch.Options{Workers: 1, Engines: fewPaths})
				if err != nil {
					t.Fatalf("chunk %d: %v", i, err)
				}
				parts = append(parts, rs.Results...)
			}
			got, _ := batch.Results{BatchID: b.ID, Results: parts}.MarshalJSON()
			want, _ := whole.MarshalJSON()
			if !bytes.Equal(got, want) {
				t.Fatalf("chunked results differ:\n got %.500s\nwant %.500s", got, want)
			}
		})
	}
}

// costBatch has n Europeans, then m arithmetic Asians of 10,000 paths and
// 4 fixings (about 0.5 ms each by the cost model), then k FRAs.
func costBatch(t *testing.T, n, m, k int) (*batch.Batch, *batch.Job) {
	t.Helper()
	var trades []string
	for i := range n {
		trades = append(trades, fmt.Sprintf(`{"id":"E%d","type":"european","underlying":"A","right":"call","strike":100,"expiry":"2027-11-25"}`, i))
	}
	for i := range m {
		trades = append(trades, fmt.Sprintf(`{"id":"S%d","type":"asian","underlying":"B","right":"call","strike":100,"expiry":"2027-11-25","averaging":"arithmetic","paths":10000,"fixings":["2027-02-25","2027-05-25","2027-08-25","2027-11-25"]}`, i))
	}
	for i := range k {
		trades = append(trades, fmt.Sprintf(`{"id":"F%d","type":"fra","curve":"EUR","notional":1e6,"rate":0.03,"start":"2027-05-25","end":"2027-11-25","position":"long"}`, i))
	}
	doc := `{"valuationDate":"2026-11-25","market":{"curves":{"USD":{"rate":0.05},"EUR":{"rate":0.03},"JPY":{"rate":0.001}},
	"underlyings":{"A":{"spot":100,"vol":0.2,"curve":"USD"},"B":{"spot":100,"vol":0.2,"curve":"USD"},"C":{"spot":1,"vol":0.1,"curve":"JPY"}}},
	"trades":[` + strings.Join(trades, ",") + `]}`
	b, err := batch.DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	j, err := batch.Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	return b, j
}

func TestPlanIsCostAware(t *testing.T) {
	b, j := costBatch(t, 1000, 100, 0)
	const target = 10e6 // 10 ms
	offsets := batch.Plan(b, j, batch.ChunkOptions{TargetCost: target})
	sizes := chunkSizes(offsets, len(b.Trades))
	// An Asian costs what the cost model says; a chunk holds no more of
	// them than fit in the target, and the cheap Europeans go together.
	perChunk := int(target / j.Cost(1000))
	if perChunk < 2 || perChunk > 50 {
		t.Fatalf("an Asian costs %.0f ns: the test wants 2 to 50 per 10 ms chunk", j.Cost(1000))
	}
	if sizes[0] < 1000 || len(sizes) < 1+100/perChunk {
		t.Errorf("sizes %v: want the 1000 Europeans in the first chunk and the Asians over at least %d chunks", sizes, 100/perChunk)
	}
	for i, lo := range offsets {
		var cost float64
		for k := lo; k < lo+sizes[i]; k++ {
			cost += j.Cost(k)
		}
		if cost > target {
			t.Errorf("chunk %d costs %.0f ns, over the target", i, cost)
		}
		if lo >= 1000 && sizes[i] > perChunk {
			t.Errorf("chunk %d holds %d Asians, more than the %d that fit in 10 ms", i, sizes[i], perChunk)
		}
	}
}

func TestPlanCaps(t *testing.T) {
	b, j := costBatch(t, 95, 0, 0)
	if got := chunkSizes(batch.Plan(b, j, batch.ChunkOptions{MaxTrades: 10}), 95); len(got) != 10 || got[9] != 5 {
		t.Errorf("MaxTrades 10: sizes %v", got)
	}
	size := len(b.Trades[0].Raw)
	if got := chunkSizes(batch.Plan(b, j, batch.ChunkOptions{MaxBytes: 3 * size}), 95); got[0] != 3 {
		t.Errorf("MaxBytes of 3 trades: sizes %v", got)
	}
	// A trade costlier than the target is a chunk of its own.
	b, j = costBatch(t, 0, 3, 0)
	if got := chunkSizes(batch.Plan(b, j, batch.ChunkOptions{TargetCost: 1}), 3); len(got) != 3 {
		t.Errorf("tiny target: sizes %v", got)
	}
	b, j = costBatch(t, 0, 0, 0)
	if got := batch.Plan(b, j, batch.ChunkOptions{}); len(got) != 0 {
		t.Errorf("no trades: offsets %v", got)
	}
}

func TestSubsetCarriesOnlyWhatTradesUse(t *testing.T) {
	b, _ := costBatch(t, 2, 0, 2)
	eq := b.Subset(0, 2)
	if len(eq.Market.Underlyings) != 1 || eq.Market.Underlyings["A"].Curve != "USD" || len(eq.Market.Curves) != 1 || eq.Market.Curves["USD"].Rate == nil {
		t.Errorf("equity chunk market %+v", eq.Market)
	}
	rates := b.Subset(2, 4)
	if rates.Market.Underlyings != nil || len(rates.Market.Curves) != 1 || rates.Market.Curves["EUR"].Rate == nil {
		t.Errorf("rates chunk market %+v", rates.Market)
	}
	if rates.ValuationDate != b.ValuationDate || len(rates.Trades) != 2 || rates.Trades[0].ID != "F0" {
		t.Errorf("rates chunk %+v", rates)
	}
}

func chunkSizes(offsets []int, n int) []int {
	var out []int
	for i, lo := range offsets {
		hi := n
		if i+1 < len(offsets) {
			hi = offsets[i+1]
		}
		out = append(out, hi-lo)
	}
	return out
}
