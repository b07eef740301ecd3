package pricer

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
)

// A chunk of several trade types: ACME's market data is unusable (a
// negative vol), one European has a negative strike, one trade has a type
// this build does not know.
const mixedChunk = `{"id":"b1","valuationDate":"2026-11-25","measures":["npv"],
"market":{"curves":{"USD":{"rate":0.05}},"underlyings":{
 "GOOD":{"spot":100,"vol":0.25,"curve":"USD"},
 "ACME":{"spot":100,"vol":-0.25,"curve":"USD"}}},
"trades":[
 {"id":"E1","type":"european","underlying":"GOOD","right":"call","strike":100,"expiry":"2027-11-25"},
 {"id":"E2","type":"european","underlying":"GOOD","right":"put","strike":90,"expiry":"2027-11-25"},
 {"id":"E3","type":"european","underlying":"GOOD","right":"put","strike":-5,"expiry":"2027-11-25"},
 {"id":"E4","type":"european","underlying":"ACME","right":"put","strike":90,"expiry":"2027-11-25"},
 {"id":"A1","type":"american","underlying":"GOOD","right":"put","strike":100,"expiry":"2027-11-25"},
 {"id":"A2","type":"american","underlying":"GOOD","right":"put","strike":110,"expiry":"2027-11-25"},
 {"id":"E5","type":"european","underlying":"GOOD","right":"call","strike":120,"expiry":"2027-11-25"},
 {"id":"X1","type":"nosuch"}]}`

// onlyChunk is the chunk.requested event of batch b1's only chunk,
// batchJSON.
func onlyChunk(t *testing.T, batchJSON string) event.Event {
	t.Helper()
	e := cloudevents.NewEvent()
	e.SetType(events.TypeChunkRequested)
	e.SetSource("/test")
	e.SetID("b1/chunk/0")
	if err := e.SetData(cloudevents.ApplicationJSON, []byte(`{"batchId":"b1","index":0,"chunks":1,"offset":0,"batch":`+batchJSON+`}`)); err != nil {
		t.Fatal(err)
	}
	return e
}

// counter returns the value of the series of name with exactly labels.
func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (float64, uint64) {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			match := len(have) == len(labels)
			for k, v := range labels {
				match = match && have[k] == v
			}
			if match {
				return m.GetCounter().GetValue(), m.GetHistogram().GetSampleCount()
			}
		}
	}
	t.Fatalf("no %s%v", name, labels)
	return 0, 0
}

// TestMetricsByTradeType prices a mixed chunk on 3 workers: the results
// equal batch.Price's to the bit, and every trade is counted under its
// type, outcome and failure class, with time spent per type.
func TestMetricsByTradeType(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := New(Options{Workers: 3, Registerer: reg})
	reply, err := f.Handle(context.Background(), onlyChunk(t, mixedChunk))
	if err != nil {
		t.Fatal(err)
	}
	c, err := events.Decode[events.ChunkPriced](*reply, events.TypeChunkPriced)
	if err != nil {
		t.Fatal(err)
	}
	b, err := batch.DecodeBytes([]byte(mixedChunk))
	if err != nil {
		t.Fatal(err)
	}
	want, err := batch.Price(context.Background(), b, batch.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(c.Results)
	exp, _ := json.Marshal(want.Results)
	if string(got) != string(exp) {
		t.Fatalf("results\n got %s\nwant %s", got, exp)
	}

	for _, w := range []struct {
		name   string
		labels map[string]string
		v      float64
	}{
		{"pricefn_pricer_trades_total", map[string]string{"type": "european", "outcome": "priced"}, 3},
		{"pricefn_pricer_trades_total", map[string]string{"type": "european", "outcome": "failed"}, 2},
		{"pricefn_pricer_trades_total", map[string]string{"type": "american", "outcome": "priced"}, 2},
		{"pricefn_pricer_trades_total", map[string]string{"type": "other", "outcome": "failed"}, 1},
		{"pricefn_pricer_trades_total", map[string]string{"type": "swap", "outcome": "priced"}, 0},
		{"pricefn_pricer_trade_failures_total", map[string]string{"type": "european", "reason": failTerms}, 1},
		{"pricefn_pricer_trade_failures_total", map[string]string{"type": "european", "reason": failMarketData}, 1},
		{"pricefn_pricer_trade_failures_total", map[string]string{"type": "other", "reason": failTerms}, 1},
		{"pricefn_events_rejected_total", map[string]string{"function": "pricer", "reason": rejectMalformed}, 0},
	} {
		if v, _ := counter(t, reg, w.name, w.labels); v != w.v {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, v, w.v)
		}
	}
	for _, typ := range []string{"european", "american"} {
		if v, _ := counter(t, reg, "pricefn_pricer_trade_seconds_total", map[string]string{"type": typ}); v <= 0 {
			t.Errorf("no time spent on %s", typ)
		}
	}
	// Runs: E1-E4 (european), A1-A2, E5, X1: one observation each.
	for typ, n := range map[string]uint64{"european": 2, "american": 1, "other": 1, "swap": 0} {
		if _, got := counter(t, reg, "pricefn_pricer_trade_duration_seconds", map[string]string{"type": typ}); got != n {
			t.Errorf("%s: %d runs timed, want %d", typ, got, n)
		}
	}
}

// TestFailureClass classifies the error results as package batch words
// them.
func TestFailureClass(t *testing.T) {
	for _, c := range []struct{ msg, want string }{
		{"trade E3: strike must be > 0, got -5", failTerms},
		{`trade X1: unknown type "nosuch" (valid: american, asian)`, failTerms},
		{"trade E4: underlying ACME unusable: market.underlyings.ACME.vol: must be > 0, got -0.25", failMarketData},
		{"trade E4: market.underlyings.ACME.vol must be > 0, got -0.25", failMarketData},
		{"trade E1: delta is not finite (NaN): the inputs are outside what the engine can price", failNotFinite},
		{"trade E1: internal error in the pricing engine: runtime error: index out of range", failInternal},
	} {
		if got := failureClass(c.msg); got != c.want {
			t.Errorf("failureClass(%q) = %s, want %s", c.msg, got, c.want)
		}
	}
}

// TestCutChunkNotCounted: a chunk whose request ends while it is priced
// (the broker sends it again) counts none of its trades' failures: they
// are counted when the chunk is priced, once.
func TestCutChunkNotCounted(t *testing.T) {
	data, err := batch.Sample(batch.SampleSpec{Type: "american", N: 40000})
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, tr := range doc["trades"].([]any)[:1024] {
		tr.(map[string]any)["strike"] = -5 // fails at once
	}
	data, _ = json.Marshal(doc)
	reg := prometheus.NewRegistry()
	f := New(Options{Workers: 2, Registerer: reg})
	e := onlyChunk(t, string(data))
	// 40,000 Americans take seconds: the first blocks, the failed trades,
	// are done when the request ends.
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if _, err := f.Handle(ctx, e); host.Status(err) != http.StatusServiceUnavailable {
		t.Fatalf("cut chunk: %v, want a 503 the broker retries", err)
	}
	if n, _ := counter(t, reg, "pricefn_pricer_trade_failures_total", map[string]string{"type": "american", "reason": failTerms}); n != 0 {
		t.Errorf("%v failures counted for a chunk cut short", n)
	}
}
