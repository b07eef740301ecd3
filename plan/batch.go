package plan

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/pricefn/pricefn/batch"
)

// BatchInfo describes the chunks of a batch as the ingress splits it.
type BatchInfo struct {
	ID     string        `json:"id,omitempty"` // the batch's id, if it has one
	Trades int           `json:"trades"`
	Chunks int           `json:"chunks"`
	CPU    time.Duration `json:"cpuNanos"` // estimated pricing time of every chunk, on one core
}

// FromBatch reads and costs a batch file as the ingress does and splits it
// into chunks with the ingress's own cost-aware chunking (batch.PlanChunks with opt, the zero
// value being the ingress's default: a risk run's scenario chunks too),
// each chunk's CPU time estimated with the engine's cost model
// (batch.Job.SpecCost: each trade's cost plus the per-trade overhead Plan
// counts, in every scenario the chunk values), with the build of each
// bootstrapped curve (batch.Job.CurveCost) in the first chunk that carries
// it (batch.Batch.Subset: the curves its trades use): a pricer builds each
// once and keeps it for the chunks after, and this counts it once, not
// again for each other pod that gets a chunk on it; a curve no trade uses
// no pricer builds. A batch whose trades use curves of more than
// maxBootstrap bootstrap instruments in all (the ingress's
// --max-bootstrap-instruments; 0: no bound) is refused, as the ingress
// refuses it (batch.ErrBootstrapBound). The ingress sends every chunk at
// once, so all arrive at at.
func FromBatch(data []byte, opt batch.ChunkOptions, maxBootstrap int, at time.Duration) (Workload, BatchInfo, error) {
	// Read and costed as ingress reads and costs it (DecodePlan,
	// CompilePlan): the same checks, and of each trade only its cost.
	b, err := batch.DecodePlan(data)
	if err != nil {
		return nil, BatchInfo{}, fmt.Errorf("plan: %w", err)
	}
	job, err := batch.CompilePlan(b, batch.Engines{MaxBootstrapInstruments: maxBootstrap})
	if err != nil {
		return nil, BatchInfo{}, fmt.Errorf("plan: %w", err)
	}
	specs := batch.PlanChunks(b, job, opt)
	if n := opt.ChunksLimit(); len(specs) > n {
		return nil, BatchInfo{}, fmt.Errorf("plan: batch needs more than %d chunks, which ingress refuses", n)
	}
	info := BatchInfo{ID: b.ID, Trades: len(b.Trades), Chunks: len(specs)}
	w := make(Workload, len(specs))
	built := map[string]bool{}
	for i, c := range specs {
		ns := job.SpecCost(c)
		for _, name := range slices.Sorted(maps.Keys(b.Subset(c.Lo, c.Hi).Market.Curves)) {
			if !built[name] {
				built[name] = true
				ns += job.CurveCost(name)
			}
		}
		w[i] = Request{Arrival: at, CPU: max(time.Duration(ns), time.Microsecond)}
		info.CPU += w[i].CPU
	}
	return w, info, nil
}
