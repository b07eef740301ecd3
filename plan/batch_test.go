package plan

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pricefn/pricefn/batch"
)

// TestBatchChunksMatchPlan: the workload of a batch is the ingress's own
// chunks (batch.Plan) with their estimated cost; the per-trade overhead
// this package adds is the one Plan packs chunks with (a chunk ends where
// one more trade would pass the target).
func TestBatchChunksMatchPlan(t *testing.T) {
	tests := []struct {
		file   string
		id     string
		trades int
		target float64 // ns a chunk
	}{
		{"testdata/mix.batch.json", "plan-mix", 72, 20e6},             // Monte Carlo Asians and Europeans
		{"testdata/europeans.batch.json", "plan-europeans", 40, 20e3}, // cheap trades: the overhead dominates
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) { testBatchChunks(t, tt.file, tt.id, tt.trades, tt.target) })
	}
}

func testBatchChunks(t *testing.T, file, id string, trades int, target float64) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	opt := batch.ChunkOptions{TargetCost: target}
	w, info, err := FromBatch(data, opt, 0, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	b, err := batch.DecodeBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	job, err := batch.Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	offsets := batch.Plan(b, job, opt)
	if len(offsets) < 3 || len(w) != len(offsets) || info.Chunks != len(offsets) || info.Trades != trades || info.ID != id {
		t.Fatalf("%d chunks (info %+v), batch.Plan makes %d", len(w), info, len(offsets))
	}
	cost := func(i int) float64 { return job.Cost(i) + batch.TradeOverhead }
	var total float64
	for k, lo := range offsets {
		hi := job.Len()
		if k+1 < len(offsets) {
			hi = offsets[k+1]
		}
		var sum float64
		for i := lo; i < hi; i++ {
			sum += cost(i)
		}
		total += sum
		if got := float64(w[k].CPU.Nanoseconds()); math.Abs(got-sum) > 1 {
			t.Errorf("chunk %d: CPU %v ns, want %v", k, got, sum)
		}
		if w[k].Arrival != 2*time.Second {
			t.Errorf("chunk %d arrives at %v", k, w[k].Arrival)
		}
		if hi-lo > 1 && sum > target {
			t.Errorf("chunk %d costs %v ns > target: the overhead is too small", k, sum)
		}
		if hi < job.Len() && sum+cost(hi) <= target {
			t.Errorf("chunk %d ends at %d though trade %d fits: the overhead is too large", k, hi, hi)
		}
	}
	if math.Abs(float64(info.CPU.Nanoseconds())-total) > float64(len(offsets)) {
		t.Errorf("total CPU %v, want %v ns", info.CPU, total)
	}
	if _, _, err := FromBatch([]byte(`{"valuationDate": "x", "trades": []}`), opt, 0, 0); err == nil || !strings.HasPrefix(err.Error(), "plan: batch: ") {
		t.Errorf("bad batch: %v", err)
	}
}

// TestBatchScenarioChunks: a risk run's workload is the ingress's scenario
// chunks too (batch.PlanChunks), each costed with the scenarios it values:
// its chunks cost more than the same trades without scenarios, by about
// the scenarios' share.
func TestBatchScenarioChunks(t *testing.T) {
	plain, err := batch.Sample(batch.SampleSpec{Type: "european", N: 200, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	risk, err := batch.Sample(batch.SampleSpec{Type: "european", N: 200, Seed: 2, Scenarios: 500})
	if err != nil {
		t.Fatal(err)
	}
	opt := batch.ChunkOptions{TargetCost: 5e6}
	w0, info0, err := FromBatch(plain, opt, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	w, info, err := FromBatch(risk, opt, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := batch.DecodeBytes(risk)
	if err != nil {
		t.Fatal(err)
	}
	job, err := batch.Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	specs := batch.PlanChunks(b, job, opt)
	scenarioChunks := 0
	for k, c := range specs {
		if c.Scenario {
			scenarioChunks++
		}
		if got, want := w[k].CPU, time.Duration(job.SpecCost(c)); got != max(want, time.Microsecond) {
			t.Errorf("chunk %d: CPU %v, want %v", k, got, want)
		}
	}
	if len(w) != len(specs) || info.Chunks != len(specs) || scenarioChunks < 2 || len(w0) != 1 {
		t.Fatalf("%d chunks (%d of scenarios) for the risk run, %d without scenarios", len(w), scenarioChunks, len(w0))
	}
	// 500 scenarios: about 500 valuations of each trade more.
	if ratio := float64(info.CPU) / float64(info0.CPU); ratio < 100 || ratio > 1000 {
		t.Errorf("the risk run costs %v, %.0fx the batch without scenarios (%v)", info.CPU, ratio, info0.CPU)
	}
}

// TestBatchCountsCurveBuild: a batch on a bootstrapped curve has the
// curve's build (batch.Job.CurveCost) in its first chunk, once: its
// workload was as if the curve were free, a few cheap trades on a
// 1,000-instrument curve (1.2 s to build) planned at microseconds.
func TestBatchCountsCurveBuild(t *testing.T) {
	quotes := make([]string, 40)
	for i := range quotes {
		quotes[i] = fmt.Sprintf(`{"type": "swap", "tenor": "%dY", "rate": 0.03}`, i+1)
	}
	trades := make([]string, 30)
	for i := range trades {
		trades[i] = fmt.Sprintf(`{"id": "F%d", "type": "fra", "curve": "B", "notional": 1, "rate": 0.03, "start": "2028-05-25", "end": "2028-11-25", "position": "long"}`, i)
	}
	doc := func(curve string) []byte {
		return []byte(`{"valuationDate": "2026-11-25", "market": {"curves": {"B": ` + curve + `}}, "trades": [` + strings.Join(trades, ", ") + `]}`)
	}
	opt := batch.ChunkOptions{MaxTrades: 10}
	flat, _, err := FromBatch(doc(`{"rate": 0.03}`), opt, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	boot, info, err := FromBatch(doc(`{"bootstrap": [`+strings.Join(quotes, ", ")+`]}`), opt, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := batch.DecodeBytes(doc(`{"bootstrap": [` + strings.Join(quotes, ", ") + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	job, err := batch.Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	build := time.Duration(job.CurveCost("B"))
	if len(boot) != 3 || len(flat) != 3 || build < time.Millisecond {
		t.Fatalf("%d and %d chunks, the curve's build %v; want 3 and 3, at least 1 ms", len(boot), len(flat), build)
	}
	for i := range boot {
		want := flat[i].CPU
		if i == 0 {
			want += build
		}
		if boot[i].CPU != want {
			t.Errorf("chunk %d: CPU %v, want %v (on a flat curve %v)", i, boot[i].CPU, want, flat[i].CPU)
		}
	}
	if want := flat[0].CPU + flat[1].CPU + flat[2].CPU + build; info.CPU != want {
		t.Errorf("batch CPU %v, want %v", info.CPU, want)
	}
}

// TestBatchCountsEachCurveWhereUsed: each bootstrapped curve's build is
// in the first chunk that carries it, the chunk whose pricer builds it: a
// batch whose first chunk is on a flat curve, its second on B, its third
// on C, with a curve U no trade uses, plans B's build in the second
// chunk, C's in the third and U's in none (U is not even built). The first chunk had all
// three, as if its pricer built curves it is not sent and no pricer
// builds.
func TestBatchCountsEachCurveWhereUsed(t *testing.T) {
	curve := func(n int) string {
		quotes := make([]string, n)
		for i := range quotes {
			quotes[i] = fmt.Sprintf(`{"type": "swap", "tenor": "%dY", "rate": 0.03}`, i+1)
		}
		return `{"bootstrap": [` + strings.Join(quotes, ", ") + `]}`
	}
	var trades []string
	for k, name := range []string{"F", "B", "C"} {
		for i := range 10 {
			trades = append(trades, fmt.Sprintf(`{"id": "%s%d", "type": "fra", "curve": "%s", "notional": %d, "rate": 0.03, "start": "2028-05-25", "end": "2028-11-25", "position": "long"}`, name, i, name, 10*k+i))
		}
	}
	doc := func(b, c, u string) []byte {
		return []byte(`{"valuationDate": "2026-11-25", "market": {"curves": {"F": {"rate": 0.03}, "B": ` + b + `, "C": ` + c + `, "U": ` + u + `}}, "trades": [` + strings.Join(trades, ", ") + `]}`)
	}
	opt := batch.ChunkOptions{MaxTrades: 10}
	flat, _, err := FromBatch(doc(`{"rate": 0.03}`, `{"rate": 0.03}`, `{"rate": 0.03}`), opt, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	data := doc(curve(20), curve(30), curve(40))
	boot, info, err := FromBatch(data, opt, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := batch.DecodeBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	job, err := batch.Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	builds := []time.Duration{0, time.Duration(job.CurveCost("B")), time.Duration(job.CurveCost("C"))}
	if len(boot) != 3 || len(flat) != 3 || builds[1] == 0 || builds[2] == 0 || job.CurveCost("U") != 0 {
		t.Fatalf("%d and %d chunks, builds %v, U's %v; want 3 and 3, builds, and none of U (not built)", len(boot), len(flat), builds, job.CurveCost("U"))
	}
	var want time.Duration
	for i := range boot {
		if boot[i].CPU != flat[i].CPU+builds[i] {
			t.Errorf("chunk %d: CPU %v, want %v (on flat curves %v)", i, boot[i].CPU, flat[i].CPU+builds[i], flat[i].CPU)
		}
		want += flat[i].CPU + builds[i]
	}
	if info.CPU != want {
		t.Errorf("batch CPU %v, want %v", info.CPU, want)
	}
}

// TestBatchBootstrapBound: a batch whose trades use curves of more
// bootstrap instruments than the ingress's bound is refused, as the
// ingress refuses it (batch.ErrBootstrapBound, a 413); at the bound, or
// with no bound (0), it is planned. It was planned whatever its curves,
// a workload the ingress never takes.
func TestBatchBootstrapBound(t *testing.T) {
	quotes := make([]string, 30)
	for i := range quotes {
		quotes[i] = fmt.Sprintf(`{"type": "deposit", "tenor": "%dD", "rate": 0.03}`, i+1)
	}
	curve := `{"bootstrap": [` + strings.Join(quotes, ", ") + `]}`
	data := []byte(`{"valuationDate": "2026-11-25", "market": {"curves": {"A": ` + curve + `, "B": ` + curve + `}}, "trades": [` +
		`{"id": "FA", "type": "fra", "curve": "A", "notional": 1, "rate": 0.03, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}, ` +
		`{"id": "FB", "type": "fra", "curve": "B", "notional": 1, "rate": 0.03, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}]}`)
	opt := batch.ChunkOptions{}
	_, _, err := FromBatch(data, opt, 59, 0)
	if !errors.Is(err, batch.ErrBootstrapBound) || !strings.Contains(err.Error(), "list 60 bootstrap instruments in all, more than the limit of 59") {
		t.Errorf("over the bound: %v; want batch.ErrBootstrapBound naming 60 and 59", err)
	}
	for _, most := range []int{60, 0} {
		if _, info, err := FromBatch(data, opt, most, 0); err != nil || info.Trades != 2 {
			t.Errorf("bound %d: %+v, %v; want 2 trades planned", most, info, err)
		}
	}
}
