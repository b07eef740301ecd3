package batch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/pricefn/pricefn/batch"
)

// fuzzMaxCost bounds the estimated pricing time of a fuzzed batch that is
// priced (ns of one core): a Monte Carlo trade of a million paths is valid
// input, and pricing it on every fuzz iteration would stall the fuzzer.
const fuzzMaxCost = 5e7

// fuzzSlow is how long one fuzzed batch may take.
const fuzzSlow = 5 * time.Second

// FuzzBatch: whatever the bytes, decoding, compiling, planning, pricing
// and encoding never panic, and the results document reads back through
// encoding/json with one result per trade, in order. Nor does a client's
// read of the ids (TradeIDs), which gives Decode's ids of a batch it takes.
func FuzzBatch(f *testing.F) {
	// Small seeds: the fuzzer minimises every input it finds interesting,
	// and a reference file of hundreds of trades takes it minutes.
	for _, typ := range batch.SampleTypes {
		data, err := batch.Sample(batch.SampleSpec{Type: typ, N: 2, Seed: 1})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"valuationDate":"2026-11-25","market":{"underlyings":{"S":{"spot":1e308,"vol":1e-300,"curve":"C"}},"curves":{"C":{"rate":-0.9}}},"trades":[{"id":"T\u0001","type":"european","underlying":"S","right":"call","strike":1e-300,"expiry":"2126-11-25"}]}`))
	f.Add([]byte(`{"valuationDate":"2026-11-25","trades":[{"id":"a","type":"fra"},{"id":"a","type":"fra"}]}`))
	f.Add([]byte(`{"valuationDate":"2026-11-25","market":{"curves":{"C":{"rate":0.05}},"underlyings":{"S":{"spot":100,"vol":0.2,"curve":"C"}}},"trades":[{"id":"T","type":"european","underlying":"S","right":"call","strike":100,"expiry":"2027-11-25"}],"scenarios":[{"id":"a","curves":{"*":{"parallel":1e-4}},"underlyings":{"S":{"spotRel":-0.1,"volAbs":0.05}}},{"id":"b"}],"risk":{"var":[0.5],"es":[0.5]},"scenarioDetail":"trades"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// An input that takes seconds is a fault (a loop the input
		// drives): crash the worker with it rather than stall the fuzzer.
		watchdog := time.AfterFunc(fuzzSlow, func() { panic(fmt.Sprintf("batch: input took over %s: %q", fuzzSlow, data)) })
		defer watchdog.Stop()
		l, idsErr := batch.TradeIDs(data) // whatever the bytes, no panic
		ids := l.Strings()
		b, err := batch.DecodeBytes(data)
		if err != nil {
			return
		}
		if idsErr != nil || len(ids) != len(b.Trades) {
			t.Fatalf("TradeIDs of a batch Decode takes: %d ids, %v; want %d", len(ids), idsErr, len(b.Trades))
		}
		for i, tr := range b.Trades {
			if ids[i] != tr.ID {
				t.Fatalf("TradeIDs: trade %d's id %q, Decode's %q", i, ids[i], tr.ID)
			}
		}
		job, err := batch.Compile(b)
		if err != nil {
			return
		}
		offsets := batch.Plan(b, job, batch.ChunkOptions{TargetCost: 1e6, MaxTrades: 7})
		for i, o := range offsets {
			if o < 0 || o >= len(b.Trades) || (i > 0 && o <= offsets[i-1]) {
				t.Fatalf("plan %v for %d trades", offsets, len(b.Trades))
			}
		}
		if cost := job.TotalCost(); cost > fuzzMaxCost { // scenarios included
			return
		}
		rs, err := batch.Price(context.Background(), b, batch.Options{Workers: 1})
		if err != nil {
			return
		}
		out, err := rs.MarshalJSON()
		if err != nil {
			t.Fatalf("results of a priced batch do not encode: %v", err)
		}
		var back struct {
			Results []map[string]any `json:"results"`
		}
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("results are not JSON: %v\n%s", err, out)
		}
		if len(back.Results) != len(b.Trades) {
			t.Fatalf("%d results for %d trades", len(back.Results), len(b.Trades))
		}
	})
}
