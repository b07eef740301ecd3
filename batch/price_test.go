package batch_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/pricing/engine"
)

// fewPaths prices the arithmetic Asians of the tests that compare results
// with themselves (worker counts, chunking) on 20,000 paths, not the
// default 500,000: a result depends on the trade alone whatever the paths,
// and the reference values are checked at the default (TestReference).
var fewPaths = batch.Engines{Asian: engine.MCArithmeticAsian{Paths: 20_000}}

// TestPriceDeterministic prices every reference batch with one worker and
// with many, and requires the same bytes: results depend on the trade alone.
func TestPriceDeterministic(t *testing.T) {
	t.Parallel()
	for _, f := range referenceBatches(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var outs [][]byte
		for _, workers := range []int{1, 3, 16} {
			b, err := batch.DecodeBytes(data)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := batch.Price(context.Background(), b, batch.Options{Workers: workers, Engines: fewPaths})
			if err != nil {
				t.Fatal(err)
			}
			out, err := rs.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			outs = append(outs, out)
		}
		for i := 1; i < len(outs); i++ {
			if !bytes.Equal(outs[0], outs[i]) {
				t.Errorf("%s: results differ between worker counts", filepath.Base(f))
			}
		}
	}
}

// TestPriceCancelled checks that pricing stops when its context ends.
func TestPriceCancelled(t *testing.T) {
	b, err := batch.DecodeBytes([]byte(europeans(10_000)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := batch.Price(ctx, b, batch.Options{}); err == nil {
		t.Fatal("cancelled pricing returned no error")
	}
}

// europeans returns a batch of n European options with all greeks.
func europeans(n int) string {
	var sb strings.Builder
	sb.WriteString(`{"valuationDate": "2026-11-25", "measures": ["npv","delta","gamma","vega","theta","rho"], ` + market + `, "trades": [`)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		right := "call"
		if i%2 == 1 {
			right = "put"
		}
		fmt.Fprintf(&sb, `{"id":"E%d","type":"european","underlying":"ACME","right":%q,"strike":%g,"expiry":"2027-%02d-15"}`, i, right, 60+float64(i%80), 1+i%12)
	}
	sb.WriteString(`]}`)
	return sb.String()
}

// BenchmarkPriceEuropeanBatch measures decode, compile and price of a
// 10,000-trade European batch, reported per trade.
func BenchmarkPriceEuropeanBatch(b *testing.B) {
	doc := []byte(europeans(10_000))
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		bt, err := batch.DecodeBytes(doc)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := batch.Price(context.Background(), bt, batch.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10_000), "ns/trade")
}

// TestDefaultMeasures checks that a batch without measures reports npv, and
// with it npvStdErr for Monte Carlo prices, as wire-format section 2 has it.
func TestDefaultMeasures(t *testing.T) {
	doc := `{"valuationDate": "2026-11-25", "market": {"curves": {"USD": {"rate": 0.05}},
		"underlyings": {"ACME": {"spot": 100, "vol": 0.25, "curve": "USD"}}},
		"trades": [
		{"id": "E", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25"},
		{"id": "A", "type": "asian", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25",
		 "averaging": "arithmetic", "fixings": ["2027-05-25", "2027-11-25"], "paths": 1000}]}`
	for _, measures := range []string{``, `"measures": ["npv"], `} {
		rs, err := price(strings.Replace(doc, `"market"`, measures+`"market"`, 1))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{`{"id":"E","npv":`, `{"id":"A","npv":`}
		for i, r := range rs.Results {
			out, err := r.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(out), want[i]) || strings.Contains(string(out), "delta") {
				t.Errorf("measures %q: result %s, want npv only", measures, out)
			}
			if se := strings.Contains(string(out), `"npvStdErr":`); se != (r.ID == "A") {
				t.Errorf("measures %q: result %s: npvStdErr reported = %v, want it for the Monte Carlo price only", measures, out, se)
			}
		}
	}
}
