package batch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/pricefn/pricefn/batch"
)

// scenarioBenchDoc is a risk run of n trades, mixed as a desk's book is
// (each type's share in mix, Sample's terms), under m random scenarios
// over Sample's market, with VaR and ES.
func scenarioBenchDoc(tb testing.TB, n, m int, mix map[string]int) []byte {
	tb.Helper()
	var trades []json.RawMessage
	var market json.RawMessage
	total := 0
	for _, w := range mix {
		total += w
	}
	for _, typ := range batch.SampleTypes {
		w := mix[typ]
		if w == 0 {
			continue
		}
		data, err := batch.Sample(batch.SampleSpec{Type: typ, N: n * w / total, Seed: 1})
		if err != nil {
			tb.Fatal(err)
		}
		var d struct {
			Market json.RawMessage   `json:"market"`
			Trades []json.RawMessage `json:"trades"`
		}
		if err := json.Unmarshal(data, &d); err != nil {
			tb.Fatal(err)
		}
		market = d.Market
		for _, t := range d.Trades {
			trades = append(trades, bytes.Replace(t, []byte(`{"id":"`), []byte(`{"id":"`+typ+"-"), 1))
		}
	}
	rng := rand.New(rand.NewPCG(7, uint64(m)))
	scen := make([]map[string]any, m)
	for i := range scen {
		scen[i] = map[string]any{
			"id":     fmt.Sprintf("d%05d", i),
			"curves": map[string]any{"*": map[string]any{"parallel": rng.NormFloat64() * 0.0008}},
			"underlyings": map[string]any{
				"ACME": map[string]any{"spotRel": rng.NormFloat64() * 0.02, "volAbs": rng.NormFloat64() * 0.01},
				"*":    map[string]any{"spotRel": rng.NormFloat64() * 0.02, "volRel": rng.NormFloat64() * 0.04},
			},
		}
	}
	doc, err := json.Marshal(map[string]any{"valuationDate": "2026-11-25", "market": market, "trades": trades,
		"scenarios": scen, "risk": map[string]any{"var": []float64{0.99}, "es": []float64{0.975}}})
	if err != nil {
		tb.Fatal(err)
	}
	return doc
}

// BenchmarkScenarios prices risk runs in process, as pricefn price does
// (decode, compile, base results, every scenario, sums, VaR and ES), and
// reports the time per valuation (a trade in a scenario).
//
//	go test ./batch/ -run X -bench Scenarios -benchtime 1x
func BenchmarkScenarios(b *testing.B) {
	desk := map[string]int{"european": 30, "barrier": 15, "asian": 10, "american": 2, "asian-arithmetic": 1, "fra": 12, "swap": 15, "bond": 15}
	for _, bc := range []struct {
		name string
		n, m int
		mix  map[string]int
	}{
		{"100x10000-european", 100, 10_000, map[string]int{"european": 1}},
		{"1000x1000-mixed", 1000, 1000, desk},
	} {
		doc := scenarioBenchDoc(b, bc.n, bc.m, bc.mix)
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				bt, err := batch.DecodeBytes(doc)
				if err != nil {
					b.Fatal(err)
				}
				rs, err := batch.Price(context.Background(), bt, batch.Options{})
				if err != nil || len(rs.Scenarios) != bc.m {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(bc.n*bc.m), "ns/valuation")
		})
	}
}

// BenchmarkDecodeScenarios is the decoding of a risk run's 10,000
// scenarios (and 100 trades): the scenarios' share of BenchmarkScenarios'
// first step.
func BenchmarkDecodeScenarios(b *testing.B) {
	doc := scenarioBenchDoc(b, 100, 10_000, map[string]int{"european": 1})
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := batch.DecodeBytes(doc); err != nil {
			b.Fatal(err)
		}
	}
}
