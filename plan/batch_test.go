package plan

import (
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
	w, info, err := FromBatch(data, opt, 2*time.Second)
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
	if _, _, err := FromBatch([]byte(`{"valuationDate": "x", "trades": []}`), opt, 0); err == nil || !strings.HasPrefix(err.Error(), "plan: batch: ") {
		t.Errorf("bad batch: %v", err)
	}
}
