package plan

import (
	"fmt"
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

// FromBatch decodes and compiles a batch file and splits it into chunks with
// the ingress's own cost-aware chunking (batch.Plan with opt, the zero value
// being the ingress's default), each chunk's CPU time estimated with the
// engine's cost model (batch.Job.ChunkCost: each trade's cost plus the
// per-trade overhead Plan counts). The ingress sends every chunk at once, so all arrive at at.
func FromBatch(data []byte, opt batch.ChunkOptions, at time.Duration) (Workload, BatchInfo, error) {
	b, err := batch.DecodeBytes(data)
	if err != nil {
		return nil, BatchInfo{}, fmt.Errorf("plan: %w", err)
	}
	job, err := batch.Compile(b)
	if err != nil {
		return nil, BatchInfo{}, fmt.Errorf("plan: %w", err)
	}
	offsets := batch.Plan(b, job, opt)
	info := BatchInfo{ID: b.ID, Trades: len(b.Trades), Chunks: len(offsets)}
	w := make(Workload, len(offsets))
	for i, lo := range offsets {
		hi := job.Len()
		if i+1 < len(offsets) {
			hi = offsets[i+1]
		}
		ns := job.ChunkCost(lo, hi)
		w[i] = Request{Arrival: at, CPU: max(time.Duration(ns), time.Microsecond)}
		info.CPU += w[i].CPU
	}
	return w, info, nil
}
