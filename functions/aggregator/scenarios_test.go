package aggregator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/fsum"
	"github.com/pricefn/pricefn/store"
)

// TestScenarioChunks: a batch of two trades and four scenarios in chunks
// [scenarios 0-1] [scenarios 2-3] [trades], the layout batch.PlanChunks
// makes. The scenario chunks' sums are combined whatever their order, the
// results document ends with the scenarios and the risk, and a chunk that
// carries what its place does not hold is a 400.
func TestScenarioChunks(t *testing.T) {
	f := newFixture(t)
	const id = "scen"
	offsets := []int{0, 0, 0}
	if _, err := f.store.Claim(context.Background(), store.Batch{Ref: store.RefOf(id), TradeIDs: []string{"A", "B"}, ChunkOffsets: offsets, SubmittedAt: submitAt}); err != nil {
		t.Fatal(err)
	}
	risk := &batch.RiskSpec{}
	if err := json.Unmarshal([]byte(`{"var":[0.5]}`), risk); err != nil {
		t.Fatal(err)
	}
	sums := func(lo int, pnls ...float64) *batch.ScenarioPartials {
		p := &batch.ScenarioPartials{Offset: lo, Of: 4, Risk: risk}
		for k, x := range pnls {
			s := batch.ScenarioSums{ID: fmt.Sprint("s", lo+k), ByUnderlying: map[string]*fsum.Sum{"ACME": {}}}
			s.NPV.Add(10 + x)
			s.PnL.Add(x)
			s.ByUnderlying["ACME"].Add(x)
			p.Scenarios = append(p.Scenarios, s)
		}
		return p
	}
	priced := func(i int, rs []batch.TradeResult, p *batch.ScenarioPartials) events.ChunkPriced {
		return withResults(t, events.ChunkPriced{BatchID: id, Index: i, Chunks: 3, Offset: 0, Scenarios: p, StartedAt: submitAt, FinishedAt: submitAt.Add(time.Second)}, rs)
	}
	a := batch.TradeResult{ID: "A"}
	a.SetValue(pricing.NPV, 4)
	b := batch.TradeResult{ID: "B"}
	b.SetValue(pricing.NPV, 6)
	for name, c := range map[string]events.ChunkPriced{
		"scenario chunk without sums": priced(0, nil, nil),
		"trades in a scenario chunk":  priced(1, []batch.TradeResult{a, b}, sums(2, 1, 2)),
		"sums in the trades' chunk":   priced(2, []batch.TradeResult{a, b}, sums(0, 1, 2)),
	} {
		if code, body := f.post(t, "/", mustEvent(t, events.TypeChunkPriced, id+"/bad/"+name, id, c)); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, code, body)
		}
	}
	f.mustPost(t, "/", f.acceptedEventOf(t, id, offsets))
	// Streamed while the chunks come in (the scenario chunk 0 last).
	stream := f.stream(t, "/batches/"+id+"/results?stream=true")
	f.mustPost(t, "/", mustEvent(t, events.TypeChunkPriced, id+"/2", id, priced(2, []batch.TradeResult{a, b}, nil)))
	f.mustPost(t, "/", mustEvent(t, events.TypeChunkPriced, id+"/1", id, priced(1, []batch.TradeResult{}, sums(2, -3, 0.5))))
	// The trades are priced; one of the two scenario chunks is in.
	if st := f.status(t, id); st.State != "running" || st.Priced != 2 || st.Pending != 0 || st.ScenarioChunks != 2 || st.ScenarioChunksDone != 1 {
		t.Errorf("status with a scenario chunk to come %+v", st)
	}
	f.mustPost(t, "/", mustEvent(t, events.TypeChunkPriced, id+"/0", id, priced(0, nil, sums(0, 1, -2))))
	code, body := f.get(t, "/batches/"+id+"/results")
	want := `{"batchId":"scen","results":[
{"id":"A","npv":4},
{"id":"B","npv":6}
],"scenarios":[
{"id":"s0","npv":11,"pnl":1,"byUnderlying":{"ACME":1},"failed":0},
{"id":"s1","npv":8,"pnl":-2,"byUnderlying":{"ACME":-2},"failed":0},
{"id":"s2","npv":7,"pnl":-3,"byUnderlying":{"ACME":-3},"failed":0},
{"id":"s3","npv":10.5,"pnl":0.5,"byUnderlying":{"ACME":0.5},"failed":0}
],"risk":{"var":{"0.5":2}}}
`
	if code != http.StatusOK || body != want {
		t.Errorf("results %d:\n%s\nwant\n%s", code, body, want)
	}
	if streamed, err := stream.end(t); err != io.EOF || streamed != want {
		t.Errorf("streamed results (%v):\n%s\nwant\n%s", err, streamed, want)
	}
	if st := f.status(t, id); st.State != "completed" || st.Trades != 2 || st.Priced != 2 || st.Chunks != 3 || st.ScenarioChunksDone != 2 {
		t.Errorf("status %+v", st)
	}
}

// acceptedEventOf is batch id's batch.accepted with its chunk offsets.
func (f *fixture) acceptedEventOf(t *testing.T, id string, offsets []int) event.Event {
	return mustEvent(t, events.TypeBatchAccepted, id+"/accepted", id, events.BatchAccepted{BatchID: id, Attempt: 1, Trades: 2, ChunkOffsets: offsets, SubmittedAt: submitAt})
}

// TestScenarioSumsNeedTheirBase: a scenario chunk's sums cover its block's
// trades as priced in the base market, by the chunk itself. When the
// block's base chunk dies, those trades are not priced, and they are
// left out of every scenario's sums and counted failed there (wire format
// 1c), whichever came first; the other block's sums stand. Before, the
// dead block's scenario sums were kept, and the VaR was over trades the
// document said were not priced.
func TestScenarioSumsNeedTheirBase(t *testing.T) {
	f := newFixture(t)
	const id = "scen-dead-base"
	// Two blocks of one trade each: [scenarios of A] [A] [scenarios of B] [B].
	offsets := []int{0, 0, 1, 1}
	if _, err := f.store.Claim(context.Background(), store.Batch{Ref: store.RefOf(id), TradeIDs: []string{"A", "B"}, ChunkOffsets: offsets, SubmittedAt: submitAt}); err != nil {
		t.Fatal(err)
	}
	risk := &batch.RiskSpec{}
	if err := json.Unmarshal([]byte(`{"var":[0.5]}`), risk); err != nil {
		t.Fatal(err)
	}
	sums := func(u string, pnls ...float64) *batch.ScenarioPartials {
		p := &batch.ScenarioPartials{Offset: 0, Of: 2, Risk: risk}
		for k, x := range pnls {
			s := batch.ScenarioSums{ID: fmt.Sprint("s", k), ByUnderlying: map[string]*fsum.Sum{u: {}}}
			s.NPV.Add(10 + x)
			s.PnL.Add(x)
			s.ByUnderlying[u].Add(x)
			p.Scenarios = append(p.Scenarios, s)
		}
		return p
	}
	priced := func(i, offset int, rs []batch.TradeResult, p *batch.ScenarioPartials) event.Event {
		c := withResults(t, events.ChunkPriced{BatchID: id, Index: i, Chunks: 4, Offset: offset, Scenarios: p, StartedAt: submitAt, FinishedAt: submitAt.Add(time.Second)}, rs)
		return mustEvent(t, events.TypeChunkPriced, fmt.Sprintf("%s/%d", id, i), id, c)
	}
	b := batch.TradeResult{ID: "B"}
	b.SetValue(pricing.NPV, 6)
	f.mustPost(t, "/", f.acceptedEventOf(t, id, offsets))
	stream := f.stream(t, "/batches/"+id+"/results?stream=true")
	// A's scenario chunk first, while its base chunk is still to come.
	f.mustPost(t, "/", priced(0, 0, []batch.TradeResult{}, sums("ACME", -50, 7)))
	f.mustPost(t, "/", priced(2, 1, []batch.TradeResult{}, sums("GLOBEX", -3, 0.5)))
	f.mustPost(t, "/", priced(3, 1, []batch.TradeResult{b}, nil))
	f.mustPost(t, "/dead-letter", deadLetter(t, id, 1))

	want := `{"batchId":"scen-dead-base","results":[
{"id":"A","error":"trade A: not priced: chunk 1 failed: delivery failed with status 500: pricer: out of memory"},
{"id":"B","npv":6}
],"scenarios":[
{"id":"s0","npv":7,"pnl":-3,"byUnderlying":{"GLOBEX":-3},"failed":1},
{"id":"s1","npv":10.5,"pnl":0.5,"byUnderlying":{"GLOBEX":0.5},"failed":1}
],"risk":{"var":{"0.5":3}}}
`
	if code, body := f.get(t, "/batches/"+id+"/results"); code != http.StatusOK || body != want {
		t.Errorf("results %d:\n%s\nwant\n%s", code, body, want)
	}
	if streamed, err := stream.end(t); err != io.EOF || streamed != want {
		t.Errorf("streamed results (%v):\n%s\nwant\n%s", err, streamed, want)
	}
	if st := f.status(t, id); st.State != "partial" || st.Priced != 1 || st.Missing != 1 {
		t.Errorf("status %+v", st)
	}
}

// TestNoRiskOfNothing: when no trade priced in any scenario (the one
// block's base chunk died, its scenario chunks priced), the scenarios are
// listed with every trade failed and the document has no risk: it said
// VaR 0, a figure of nothing.
func TestNoRiskOfNothing(t *testing.T) {
	f := newFixture(t)
	const id = "scen-no-risk"
	offsets := []int{0, 0}
	if _, err := f.store.Claim(context.Background(), store.Batch{Ref: store.RefOf(id), TradeIDs: []string{"A", "B"}, ChunkOffsets: offsets, SubmittedAt: submitAt}); err != nil {
		t.Fatal(err)
	}
	risk := &batch.RiskSpec{}
	if err := json.Unmarshal([]byte(`{"var":[0.5]}`), risk); err != nil {
		t.Fatal(err)
	}
	p := &batch.ScenarioPartials{Offset: 0, Of: 2, Risk: risk}
	for k, x := range []float64{-4, 1} {
		s := batch.ScenarioSums{ID: fmt.Sprint("s", k)}
		s.NPV.Add(10 + x)
		s.PnL.Add(x)
		p.Scenarios = append(p.Scenarios, s)
	}
	c := withResults(t, events.ChunkPriced{BatchID: id, Index: 0, Chunks: 2, Offset: 0, Scenarios: p, StartedAt: submitAt, FinishedAt: submitAt.Add(time.Second)}, []batch.TradeResult{})
	f.mustPost(t, "/", f.acceptedEventOf(t, id, offsets))
	f.mustPost(t, "/", mustEvent(t, events.TypeChunkPriced, id+"/0", id, c))
	f.mustPost(t, "/dead-letter", deadLetter(t, id, 1))
	_, body := f.get(t, "/batches/"+id+"/results")
	if !strings.Contains(body, `{"id":"s0","npv":0,"pnl":0,"byUnderlying":{},"failed":2}`) || strings.Contains(body, `"risk"`) {
		t.Errorf("results:\n%s\nwant every scenario with both trades failed, and no risk", body)
	}
}
