package batch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/pricefn/pricefn/batch"
)

// The stages of "pricefn price" on a batch of Europeans with all greeks,
// as "pricefn gen --type european --measures npv,delta,gamma,vega,theta,rho"
// writes them, one benchmark each, reported per trade (bench/README.md).

const benchTrades = 20_000

func benchDoc(b *testing.B) []byte {
	b.Helper()
	doc, err := batch.Sample(batch.SampleSpec{Type: "european", N: benchTrades, Seed: 1,
		Measures: []string{"npv", "delta", "gamma", "vega", "theta", "rho"}})
	if err != nil {
		b.Fatal(err)
	}
	return doc
}

func perTrade(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchTrades), "ns/trade")
}

// BenchmarkDecode reads the document: one pass, each trade into its terms.
func BenchmarkDecode(b *testing.B) {
	doc := benchDoc(b)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := batch.DecodeBytes(doc); err != nil {
			b.Fatal(err)
		}
	}
	perTrade(b)
}

// BenchmarkDecodePlan is ingress's reading: every check that rejects a
// batch, the terms of a European not read (DecodePlan).
func BenchmarkDecodePlan(b *testing.B) {
	doc := benchDoc(b)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := batch.DecodePlan(doc); err != nil {
			b.Fatal(err)
		}
	}
	perTrade(b)
}

// BenchmarkCompile checks the terms and binds the trades to their engines.
func BenchmarkCompile(b *testing.B) {
	bt, err := batch.DecodeBytes(benchDoc(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := batch.Compile(bt); err != nil {
			b.Fatal(err)
		}
	}
	perTrade(b)
}

// BenchmarkPriceCompiled is the engines' own time: pricing a compiled job
// on one core.
func BenchmarkPriceCompiled(b *testing.B) {
	j := compiledBench(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := j.Price(context.Background(), batch.Options{Workers: 1}); err != nil {
			b.Fatal(err)
		}
	}
	perTrade(b)
}

// BenchmarkEncodeResults writes the results document.
func BenchmarkEncodeResults(b *testing.B) {
	j := compiledBench(b)
	rs, err := j.Price(context.Background(), batch.Options{Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (batch.Results{BatchID: "B", Results: rs}).MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
	perTrade(b)
}

// BenchmarkChunkTotals is a pricer's sums of its chunk's results (exact,
// by underlying), as it adds each block of them.
func BenchmarkChunkTotals(b *testing.B) {
	bt, j := benchJob(b)
	rs, err := j.Price(context.Background(), batch.Options{Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	for _, under := range []int{3, 100, 1000, benchTrades} {
		// The sample's three underlyings, or as many as asked, in turn.
		unds := bt.Underlyings()
		if under != 3 {
			for i := range unds {
				unds[i] = fmt.Sprint("U", i%under)
			}
		}
		b.Run(fmt.Sprint(under, " underlyings"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var t batch.ChunkTotaler
				for lo := 0; lo < len(rs); lo += 2048 {
					hi := min(lo+2048, len(rs))
					t.Add(rs[lo:hi], unds[lo:hi])
				}
				t.Partials()
			}
			perTrade(b)
		})
	}
}

func compiledBench(b *testing.B) *batch.Job {
	b.Helper()
	_, j := benchJob(b)
	return j
}

// benchJob returns the benchmarks' batch, decoded, and its compiled job.
func benchJob(b *testing.B) (*batch.Batch, *batch.Job) {
	b.Helper()
	bt, err := batch.DecodeBytes(benchDoc(b))
	if err != nil {
		b.Fatal(err)
	}
	j, err := batch.Compile(bt)
	if err != nil {
		b.Fatal(err)
	}
	return bt, j
}

// BenchmarkScanResults is the aggregator's check of a chunk's encoded
// results (ids, count, failures) by ScanResults; BenchmarkDecodeResults is
// the same by decoding every result, for comparison.
func BenchmarkScanResults(b *testing.B) {
	arr := encodedResults(b)
	b.SetBytes(int64(len(arr)))
	for b.Loop() {
		if _, err := batch.ScanResults(arr); err != nil {
			b.Fatal(err)
		}
	}
	perTrade(b)
}

// BenchmarkTradeIDs is the client's read of the ids it sends
// (TradeIDs), which checks the document's JSON.
func BenchmarkTradeIDs(b *testing.B) {
	doc := benchDoc(b)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := batch.TradeIDs(doc); err != nil {
			b.Fatal(err)
		}
	}
	perTrade(b)
}

// BenchmarkResultsCheck is the client's check of a results document fed
// in pieces of 64 KiB as they arrive (ResultsCheck), against the ids.
func BenchmarkResultsCheck(b *testing.B) {
	arr := encodedResults(b)
	doc := append(append([]byte(`{"batchId":"bench","results":`), arr...), '}')
	sc, err := batch.ScanResultsDocument(doc)
	if err != nil {
		b.Fatal(err)
	}
	ids := sc.IDs
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		c := batch.NewResultsCheck(ids)
		for n := 0; n < len(doc); {
			n = min(len(doc), n+64<<10)
			c.Feed(doc[:n])
		}
		if _, err := c.Finish(doc); err != nil {
			b.Fatal(err)
		}
	}
	perTrade(b)
}

func BenchmarkDecodeResults(b *testing.B) {
	arr := encodedResults(b)
	b.SetBytes(int64(len(arr)))
	for b.Loop() {
		var rs []batch.TradeResult
		if err := json.Unmarshal(arr, &rs); err != nil {
			b.Fatal(err)
		}
	}
	perTrade(b)
}

func encodedResults(b *testing.B) []byte {
	b.Helper()
	j := compiledBench(b)
	rs, err := j.Price(context.Background(), batch.Options{Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	arr, err := batch.AppendResultsArray(nil, rs)
	if err != nil {
		b.Fatal(err)
	}
	return arr
}
