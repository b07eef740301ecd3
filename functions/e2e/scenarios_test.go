package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/pricefn/pricefn/api"
	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/store/redisstore/redistest"
)

// scenarioBatch is testBatch (every trade type, a trade that fails) with
// n scenarios over its market (USD, EUR; ACME, GLOBEX, INITECH): a zero
// shift, the spec's three, random ones, and one whose spot shift makes
// ACME's spot negative (its trades fail there); VaR and ES at two
// confidences; detail "trades" when detail is set.
func scenarioBatch(t *testing.T, id string, n int, detail bool) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(testBatch(t, id), &doc); err != nil {
		t.Fatal(err)
	}
	sc := []map[string]any{
		{"id": "zero"},
		{"id": "rates+1bp", "curves": map[string]any{"*": map[string]any{"parallel": 0.0001}}},
		{"id": "eq-10%", "underlyings": map[string]any{"*": map[string]any{"spotRel": -0.10}}},
		{"id": "2008-10-15", "curves": map[string]any{"USD": map[string]any{"parallel": -0.0042}},
			"underlyings": map[string]any{"ACME": map[string]any{"spotRel": -0.083, "volAbs": 0.12}, "*": map[string]any{"spotRel": -0.05}}},
		{"id": "acme-gone", "underlyings": map[string]any{"ACME": map[string]any{"spotAbs": -150}}},
	}
	rng := rand.New(rand.NewPCG(13, uint64(n)))
	for i := len(sc); i < n; i++ {
		sc = append(sc, map[string]any{
			"id":     fmt.Sprintf("hist-%04d", i),
			"curves": map[string]any{"USD": map[string]any{"parallel": rng.NormFloat64() * 0.0008}, "EUR": map[string]any{"parallel": rng.NormFloat64() * 0.0006}},
			"underlyings": map[string]any{
				"ACME":   map[string]any{"spotRel": rng.NormFloat64() * 0.02, "volAbs": rng.NormFloat64() * 0.01},
				"GLOBEX": map[string]any{"spotRel": rng.NormFloat64() * 0.025, "volRel": rng.NormFloat64() * 0.04},
				"*":      map[string]any{"spotAbs": rng.NormFloat64(), "dividendYieldAbs": 0.001},
			},
		})
	}
	doc["scenarios"] = sc[:n]
	doc["risk"] = map[string]any{"var": []json.Number{"0.99", "0.95"}, "es": []json.Number{"0.975"}}
	if detail {
		doc["scenarioDetail"] = "trades"
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestPipelineScenarios: a risk run through the pipeline, split into
// trade blocks x scenario blocks, gives the same document as pricefn price
// to the last bit (scenario sums, P&Ls, VaR and ES included), on the
// memory store and on Redis, with and without each trade's scenario npvs.
func TestPipelineScenarios(t *testing.T) {
	tests := []struct {
		name   string
		n      int
		detail bool
		redis  bool
	}{
		{"sums", 120, false, false},
		{"detail", 40, true, false},
		{"redis", 60, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opt := pipelineOptions{chunk: batch.ChunkOptions{TargetCost: 2e7, MaxTrades: 60}}
			if tc.redis {
				opt.redisURL = redistest.Start(t).URL
			}
			p := startPipeline(t, opt)
			id := "e2e-scen-" + tc.name
			data := scenarioBatch(t, id, tc.n, tc.detail)
			code, body := submitPlain(t, p.ingress.URL, data)
			rc := receipt(t, code, body)
			got := results(t, p, id)
			w := want(t, data, id)
			if !bytes.Equal(got, w) {
				t.Fatalf("results differ from pricefn price:\n got %.300s ... %.400s\nwant %.300s ... %.400s", got, got[max(len(got)-400, 0):], w, w[max(len(w)-400, 0):])
			}
			var doc batch.Results
			if err := json.Unmarshal(got, &doc); err != nil {
				t.Fatal(err)
			}
			if len(doc.Scenarios) != tc.n || doc.Risk == nil || len(doc.Risk.VaR) != 2 || len(doc.Risk.ES) != 1 {
				t.Fatalf("scenarios %d, risk %+v", len(doc.Scenarios), doc.Risk)
			}
			if s := doc.Scenarios[0]; s.ID != "zero" || s.PnL != 0 || s.Failed != 1 {
				t.Errorf("zero shift: %+v, want a P&L of exactly 0 and the one bad trade failed", s)
			}
			if s := doc.Scenarios[4]; s.ID != "acme-gone" || s.Failed <= 1 {
				t.Errorf("negative spot: %+v, want ACME's trades failed", s)
			}
			if tc.detail != (doc.Results[0].ScenarioNPV != nil) {
				t.Errorf("scenarioNpv of %s: %v", doc.Results[0].ID, doc.Results[0].ScenarioNPV)
			}
			st := status(t, p, id)
			if st.State != api.StateCompleted || st.Chunks != rc.Chunks || st.Trades != rc.Trades || st.Priced+st.Failed != st.Trades {
				t.Fatalf("status %+v", st)
			}
			// Scenario chunks as well as the trades' own.
			if rc.Chunks <= 3 {
				t.Errorf("%d chunks: want the scenarios split", rc.Chunks)
			}
			completedOnce(t, p, id)
		})
	}
}

// TestPipelineScenariosWithoutTrades: a risk run on an empty portfolio
// gives pricefn price's document: every scenario, with zero sums, and the
// risk, on the memory store and on Redis (it used to give neither: with
// no trades there were no chunks, and the aggregator learns the scenarios
// from the chunks).
func TestPipelineScenariosWithoutTrades(t *testing.T) {
	for _, redis := range []bool{false, true} {
		t.Run(fmt.Sprint("redis ", redis), func(t *testing.T) {
			var opt pipelineOptions
			if redis {
				opt.redisURL = redistest.Start(t).URL
			}
			p := startPipeline(t, opt)
			id := fmt.Sprint("e2e-scen-empty-", redis)
			var doc map[string]any
			// Two scenario chunks (at most batch.MaxChunkScenarios each).
			if err := json.Unmarshal(scenarioBatch(t, id, batch.MaxChunkScenarios+5, false), &doc); err != nil {
				t.Fatal(err)
			}
			doc["trades"] = []any{}
			data, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			code, body := submitPlain(t, p.ingress.URL, data)
			rc := receipt(t, code, body)
			got := results(t, p, id)
			if w := want(t, data, id); !bytes.Equal(got, w) {
				t.Fatalf("results differ from pricefn price:\n got %s\nwant %s", got, w)
			}
			st := status(t, p, id)
			if st.State != api.StateCompleted || st.Trades != 0 || rc.Chunks != 2 || st.ScenarioChunksDone != 2 {
				t.Fatalf("receipt %+v, status %+v", rc, st)
			}
			completedOnce(t, p, id)
		})
	}
}

// TestPipelineScenarioChunkDead: a scenario chunk that dies leaves the
// batch partial; every trade still has its result, the scenarios of the
// dead chunk count its trades as failed (nothing else is known of them:
// null id, zero sums) and the other scenarios are pricefn price's.
func TestPipelineScenarioChunkDead(t *testing.T) {
	const id = "e2e-scen-dead"
	opt := batch.ChunkOptions{TargetCost: 2e8}
	p := startPipeline(t, pipelineOptions{
		chunk: opt,
		pricerMiddleware: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("ce-id") == id+"/chunk/0" {
					http.Error(w, "pricer: out of memory", http.StatusInternalServerError)
					return
				}
				next.ServeHTTP(w, r)
			})
		},
	})
	data := scenarioBatch(t, id, 60, false)
	b, err := batch.DecodeBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	j, err := batch.Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	plan := batch.PlanChunks(b, j, opt)
	if len(plan) < 3 || !plan[0].Scenario || plan[len(plan)-1].Lo != 0 {
		t.Fatalf("plan %+v: want one trade block in several scenario chunks", plan)
	}
	dead := plan[0]
	code, body := submitPlain(t, p.ingress.URL, data)
	receipt(t, code, body)
	var got, full batch.Results
	if err := json.Unmarshal(results(t, p, id), &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want(t, data, id), &full); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(got.Results)
	w, _ := json.Marshal(full.Results)
	if !bytes.Equal(a, w) {
		t.Errorf("trade results differ from pricefn price's")
	}
	for s, sc := range got.Scenarios {
		if s >= dead.ScenarioLo && s < dead.ScenarioHi {
			if sc.ID != "" || sc.NPV != 0 || sc.PnL != 0 || sc.Failed != len(b.Trades) {
				t.Errorf("scenario %d of the dead chunk: %+v, want every trade failed", s, sc)
			}
			continue
		}
		a, _ := json.Marshal(sc)
		w, _ := json.Marshal(full.Scenarios[s])
		if !bytes.Equal(a, w) {
			t.Errorf("scenario %d: %s, want %s", s, a, w)
		}
	}
	if got.Risk == nil || len(got.Risk.VaR) != 2 {
		t.Errorf("risk %+v", got.Risk)
	}
	if st := status(t, p, id); st.State != api.StatePartial || st.ChunksFailed != 1 || st.Missing != 0 {
		t.Errorf("status %+v: want partial, one chunk dead, no trade missing", st)
	}
}
