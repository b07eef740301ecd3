package batch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pricefn/pricefn/batch"
)

// randomScenarios returns n scenarios over scenMarket's names.
func randomScenarios(n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 99))
	out := []string{`{"id": "zero"}`}
	for i := 1; i < n; i++ {
		out = append(out, fmt.Sprintf(`{"id": "h%d", "curves": {"USD": {"parallel": %g}, "*": {"parallel": %g}},
			"underlyings": {"ACME": {"spotRel": %g, "volAbs": %g}, "*": {"spotAbs": %g, "volRel": %g}}}`,
			i, rng.NormFloat64()*1e-3, rng.NormFloat64()*1e-3, rng.NormFloat64()*0.03, rng.NormFloat64()*0.01, rng.NormFloat64(), rng.NormFloat64()*0.05))
	}
	return out
}

// priceChunked prices b as the pipeline does, with nothing but this
// package: each chunk of PlanChunks(opt) written as its chunk.requested
// document and read back, base chunks' results in chunk order, scenario
// chunks' sums through their JSON, combined in a shuffled order.
func priceChunked(t *testing.T, doc string, opt batch.ChunkOptions, seed uint64) ([]byte, int) {
	t.Helper()
	b, err := batch.DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	j, err := batch.Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	plan := batch.PlanChunks(b, j, opt)
	ns := len(b.Scenarios.List)
	offsets := batch.ChunkOffsets(plan)
	ranges := batch.ScenarioRanges(offsets, len(b.Trades), ns)
	covered := map[int][]bool{} // by trade block
	res := &batch.Results{BatchID: b.ID}
	var partials []*batch.ScenarioPartials
	for k, spec := range plan {
		if k > 0 && offsets[k] < offsets[k-1] {
			t.Fatalf("offsets %v decrease", offsets)
		}
		last := k+1 == len(plan) || offsets[k+1] != offsets[k]
		if len(b.Trades) == 0 && !spec.Scenario {
			t.Fatalf("chunk %d %+v: a batch of no trades has scenario chunks only", k, spec)
		}
		if len(b.Trades) > 0 && last == spec.Scenario {
			t.Fatalf("chunk %d %+v: a block's base chunk must be its last", k, spec)
		}
		if spec.Scenario && (ranges[k] != [2]int{spec.ScenarioLo, spec.ScenarioHi}) {
			t.Fatalf("chunk %d: ScenarioRanges %v, plan %+v", k, ranges[k], spec)
		}
		data, err := b.ChunkOf(spec).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		cb, err := batch.DecodeBytes(data)
		if err != nil {
			t.Fatalf("chunk %d: %v\n%s", k, err, data)
		}
		cj, err := batch.Compile(cb)
		if err != nil {
			t.Fatalf("chunk %d: %v", k, err)
		}
		if !spec.Scenario {
			rs, err := cj.Price(context.Background(), batch.Options{Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			if cj.ScenarioDetail() {
				if _, err := cj.PriceScenarios(context.Background(), batch.Options{Workers: 2}, rs); err != nil {
					t.Fatal(err)
				}
			}
			res.Results = append(res.Results, rs...)
			continue
		}
		if cov := covered[spec.Lo]; cov == nil {
			covered[spec.Lo] = make([]bool, ns)
		}
		for s := spec.ScenarioLo; s < spec.ScenarioHi; s++ {
			if covered[spec.Lo][s] {
				t.Fatalf("scenario %d twice in block %d", s, spec.Lo)
			}
			covered[spec.Lo][s] = true
		}
		p, err := cj.PriceScenarios(context.Background(), batch.Options{Workers: 1 + k%3}, nil)
		if err != nil {
			t.Fatal(err)
		}
		blk := b.ScenarioBlockOf(spec)
		p.Offset, p.Of, p.Risk = blk.Offset, blk.Of, blk.Risk
		enc, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var back batch.ScenarioPartials
		if err := json.Unmarshal(enc, &back); err != nil {
			t.Fatal(err)
		}
		partials = append(partials, &back)
	}
	for lo, cov := range covered {
		for s, ok := range cov {
			if !ok {
				t.Fatalf("block %d: scenario %d in no chunk", lo, s)
			}
		}
	}
	if ns > 0 {
		rand.New(rand.NewPCG(seed, 1)).Shuffle(len(partials), func(a, b int) { partials[a], partials[b] = partials[b], partials[a] })
		tot := batch.NewScenarioTotals(ns, partials[0].Risk)
		for _, p := range partials {
			if err := tot.Add(p); err != nil {
				t.Fatal(err)
			}
		}
		res.Scenarios, res.Risk = tot.Results()
	}
	out, err := res.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return out, len(plan)
}

// TestScenariosChunkingChangesNoBit: however the trades and scenarios are
// split into chunks, whatever the order the chunks' sums are combined in
// and however many workers price them, the results document is the same
// to the last bit as one in-process pricing's.
func TestScenariosChunkingChangesNoBit(t *testing.T) {
	for _, detail := range []bool{false, true} {
		extra := `, "risk": {"var": [0.99, 0.9], "es": [0.975]}`
		if detail {
			extra += `, "scenarioDetail": "trades"`
		}
		doc := scenDoc(randomScenarios(150, 3), extra)
		want, err := priceDoc(t, doc, batch.Options{Workers: 1}).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []int{2, 5} {
			if got, _ := priceDoc(t, doc, batch.Options{Workers: w}).MarshalJSON(); !bytes.Equal(got, want) {
				t.Fatalf("detail %v: %d workers change the results", detail, w)
			}
		}
		chunks := map[int]bool{}
		for k, opt := range []batch.ChunkOptions{
			{},
			{TargetCost: 2e6},
			{TargetCost: 5e5, MaxTrades: 3},
			{TargetCost: 1e7, MaxTrades: 4},
			{MaxTrades: 1},
		} {
			got, n := priceChunked(t, doc, opt, uint64(k))
			if !bytes.Equal(got, want) {
				t.Fatalf("detail %v, chunks %+v (%d): results differ:\n got %s\nwant %s", detail, opt, n, tail(got), tail(want))
			}
			chunks[n] = true
		}
		if len(chunks) < 4 {
			t.Errorf("detail %v: the options made only %d different chunkings: %v", detail, len(chunks), chunks)
		}
	}
}

// TestScenariosWithoutTrades: a batch of no trades under scenarios is
// planned as scenario chunks alone (no more than MaxChunkScenarios each),
// and gives, chunked, the document Price gives: every scenario with zero
// sums, and the risk.
func TestScenariosWithoutTrades(t *testing.T) {
	scen := randomScenarios(2*batch.MaxChunkScenarios+5, 4)
	doc := strings.Replace(scenDoc(scen, `, "risk": {"var": [0.99], "es": [0.975]}`), `"trades": [`+strings.Join(scenTrades, ",\n")+`]`, `"trades": []`, 1)
	want := priceDoc(t, doc, batch.Options{})
	if len(want.Results) != 0 || len(want.Scenarios) != len(scen) || want.Risk == nil {
		t.Fatalf("in process: %d results, %d scenarios, risk %v", len(want.Results), len(want.Scenarios), want.Risk)
	}
	wantDoc, err := want.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	got, n := priceChunked(t, doc, batch.ChunkOptions{}, 1)
	if n != 3 {
		t.Errorf("%d chunks, want 3", n)
	}
	if !bytes.Equal(got, wantDoc) {
		t.Errorf("chunked:\n%s\nwant\n%s", tail(got), tail(wantDoc))
	}
}

func tail(b []byte) []byte {
	i := bytes.Index(b, []byte(`"scenarios"`))
	if i < 0 {
		return b
	}
	return b[i:min(len(b), i+600)]
}

// TestPlanChunksSpreads: the work is split by trades x scenarios: 100
// trades under 10,000 scenarios make about as many chunks as their cost
// asks, each of some target's worth; 1,000 trades under one scenario are
// chunked by trades as without scenarios.
func TestPlanChunksSpreads(t *testing.T) {
	trades := make([]string, 100)
	for i := range trades {
		trades[i] = fmt.Sprintf(`{"id": "T%d", "type": "european", "underlying": "ACME", "right": "call", "strike": %d, "expiry": "2027-11-25"}`, i, 80+i%40)
	}
	scen := make([]string, batch.MaxScenarios)
	for i := range scen {
		scen[i] = fmt.Sprintf(`{"id": "s%d", "underlyings": {"*": {"spotRel": %g}}}`, i, float64(i%200-100)/1000)
	}
	doc := `{"valuationDate": "2026-11-25", "market": ` + scenMarket + `, "trades": [` + strings.Join(trades, ",") + `], "scenarios": [` + strings.Join(scen, ",") + `]}`
	b, err := batch.DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	j, err := batch.Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	target := 5e6
	plan := batch.PlanChunks(b, j, batch.ChunkOptions{TargetCost: target})
	var total float64
	scenChunks := 0
	for _, c := range plan {
		if !c.Scenario {
			continue
		}
		scenChunks++
		var per float64
		for i := c.Lo; i < c.Hi; i++ {
			per += j.Cost(i) + batch.ScenarioValuationOverhead
		}
		cost := float64(c.ScenarioHi-c.ScenarioLo) * (per + batch.ScenarioOverhead)
		if cost > target {
			t.Errorf("chunk %+v: %.3g ns, over the target %g", c, cost, target)
		}
		total += cost
	}
	if want := total / target; float64(scenChunks) > 2*want+2 {
		t.Errorf("%d scenario chunks for %.3g ns of work at %g a chunk", scenChunks, total, target)
	}
	if scenChunks < 10 {
		t.Errorf("100 trades x 10,000 scenarios in %d scenario chunks: not spread", scenChunks)
	}
	// One scenario: the trades' own chunking, and one scenario chunk each.
	one := strings.Replace(doc, `"scenarios": [`+strings.Join(scen, ","), `"scenarios": [`+scen[0], 1)
	b, _ = batch.DecodeBytes([]byte(one))
	j, _ = batch.Compile(b)
	plan = batch.PlanChunks(b, j, batch.ChunkOptions{MaxTrades: 10})
	if len(plan) != 20 || plan[0] != (batch.ChunkSpec{Lo: 0, Hi: 10, Scenario: true, ScenarioLo: 0, ScenarioHi: 1}) || plan[1] != (batch.ChunkSpec{Lo: 0, Hi: 10}) {
		t.Errorf("100 trades x 1 scenario in chunks of 10: %+v", plan)
	}
}

// TestPriceConcurrentScenarios runs the scenario loop on many workers
// (under the race detector in make test) and checks it against one
// worker; a cancelled context stops it with the context's error.
func TestPriceConcurrentScenarios(t *testing.T) {
	doc := scenDoc(randomScenarios(70, 5), `, "risk": {"var": [0.99]}, "scenarioDetail": "trades"`)
	one, _ := priceDoc(t, doc, batch.Options{Workers: 1}).MarshalJSON()
	many, _ := priceDoc(t, doc, batch.Options{Workers: 8}).MarshalJSON()
	if !bytes.Equal(one, many) {
		t.Fatal("8 workers price the scenarios differently from 1")
	}
	b, _ := batch.DecodeBytes([]byte(doc))
	j, err := batch.Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := j.PriceScenarios(ctx, batch.Options{Workers: 4}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestPlanChunksCutShortPastMaxChunks: a plan of more chunks than
// ChunkOptions.MaxChunks stops once past it, for its caller to refuse,
// rather than list them all: a 1.6 MB risk run of 1,000 costly Asians
// under 10,000 scenarios planned 10 million, some 12 GB of ingress's
// memory to record. Within the bound the plan is whole.
func TestPlanChunksCutShortPastMaxChunks(t *testing.T) {
	data, err := batch.Sample(batch.SampleSpec{Type: "asian-arithmetic", N: 20, Scenarios: 10})
	if err != nil {
		t.Fatal(err)
	}
	b, err := batch.DecodeBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	j, err := batch.Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	// Each trade costs more than 1 ms alone: a block of its own, one
	// scenario a chunk, 20 x (10 + 1) chunks.
	opt := batch.ChunkOptions{TargetCost: 1e6}
	if n := len(batch.PlanChunks(b, j, opt)); n != 220 {
		t.Fatalf("%d chunks, want 220", n)
	}
	opt.MaxChunks = 100
	if n := len(batch.PlanChunks(b, j, opt)); n <= 100 || n > 100+11 {
		t.Errorf("%d chunks planned past a bound of 100, want it cut within a block (11 chunks) past it", n)
	}
	opt.MaxChunks = 220
	if n := len(batch.PlanChunks(b, j, opt)); n != 220 {
		t.Errorf("%d chunks within a bound of 220, want the whole plan, 220", n)
	}
}
