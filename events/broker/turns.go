package broker

import (
	"cmp"
	"container/heap"
	"slices"
	"sync"

	"github.com/pricefn/pricefn/events"
)

// turns bounds the deliveries in progress to one Service (Config.Concurrency),
// as its containerConcurrency bounds a Knative Service's requests: a
// delivery beyond the bound is parked, holding its queue slot but neither a
// worker nor a running attempt timeout, and queued again when a delivery to
// the Service ends. The tenants whose deliveries are parked take turns,
// each tenant's first come first served: one tenant's thousand queued
// chunks, within its bounds, held every other tenant's behind them until
// their batches failed at their deadlines. A batch's chunks wait in their
// order in the batch (events.ChunkIndex), not in the order the workers
// met them: ingress sends them at once, and taken in the order they
// raced in (9, 4, 6, 5, 0, ...) the batch's results, which are streamed
// in input order, waited for its last chunks to flow (some 10 MB of a
// 100,000-trade batch's still to send once it completed).
type turns struct {
	service string // whose turns
	mu      sync.Mutex
	max, n  int
	parked  map[string][]*parkedRun // by tenant, next first
	order   []string                // the tenants with parked jobs, next first
	waiting int                     // the jobs parked
	seq     uint64                  // the jobs parked so far: their order of arrival
}

// parkedRun is a run of one tenant's parked jobs, taken in chunk order:
// the chunks of one batch, of one event type, parked with no other job
// of the tenant's between them; any other job is a run of its own. Its
// jobs are a heap, so that parking one costs O(log n) under the lock
// whatever the order the chunks come in: walked back from the last, the
// chunks of a 10,000-chunk batch met in reverse took 4 s to park.
type parkedRun struct {
	batch string // the chunks' batch (job.batch); "" for a run of one job of no chunk order
	typ   string // their event type
	jobs  []parkedJob
}

// parkedJob is a parked job, with what orders it in its run: its chunk's
// index, then its arrival.
type parkedJob struct {
	j     *job
	chunk int
	seq   uint64
}

// parkedJobs is how many deliveries wait their turn.
func (t *turns) parkedJobs() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.waiting
}

// take gives j a turn, or parks it and reports false.
func (t *turns) take(j *job) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if j.hasTurn || t.n < t.max {
		if !j.hasTurn {
			t.n++
			j.hasTurn = true
		}
		return true
	}
	tenant := events.Tenant(*j.event)
	if t.parked == nil {
		t.parked = make(map[string][]*parkedRun)
	}
	runs := t.parked[tenant]
	if len(runs) == 0 {
		t.order = append(t.order, tenant)
	}
	t.seq++
	t.waiting++
	p := parkedJob{j: j, seq: t.seq}
	i, ok := events.ChunkIndex(*j.event)
	if ok && j.batch != "" {
		// Before the chunks of its batch parked just before it with a
		// later index; never past another batch's, so that no batch waits
		// longer for another's.
		p.chunk = i
		if last := len(runs) - 1; last >= 0 && runs[last].batch == j.batch && runs[last].typ == j.event.Type() {
			heap.Push(runs[last], p)
			return false
		}
		t.parked[tenant] = append(runs, &parkedRun{batch: j.batch, typ: j.event.Type(), jobs: []parkedJob{p}})
		return false
	}
	t.parked[tenant] = append(runs, &parkedRun{jobs: []parkedJob{p}})
	return false
}

// give ends j's turn and returns the parked job it passes to, if any (the
// first of the next tenant's), which holds the turn from then on.
func (t *turns) give(j *job) *job {
	t.mu.Lock()
	defer t.mu.Unlock()
	j.hasTurn = false
	if len(t.order) == 0 {
		t.n--
		return nil
	}
	tenant := t.order[0]
	t.order = t.order[1:]
	runs := t.parked[tenant]
	next := heap.Pop(runs[0]).(parkedJob).j
	t.waiting--
	if len(runs[0].jobs) == 0 {
		runs[0] = nil
		runs = runs[1:]
	}
	if len(runs) > 0 {
		t.parked[tenant] = runs
		t.order = append(t.order, tenant) // its next waits for the others'
	} else {
		delete(t.parked, tenant)
	}
	next.hasTurn = true
	return next
}

// drain removes and returns the parked jobs, in the order they would
// have had their turns within each tenant's.
func (t *turns) drain() []*job {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*job
	for _, tenant := range t.order {
		for _, r := range t.parked[tenant] {
			slices.SortFunc(r.jobs, comparePark)
			for _, p := range r.jobs {
				out = append(out, p.j)
			}
		}
	}
	t.parked, t.order, t.waiting = nil, nil, 0
	return out
}

// comparePark orders a run's jobs: by chunk, then by arrival.
func comparePark(a, b parkedJob) int {
	if c := cmp.Compare(a.chunk, b.chunk); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// parkedRun is a heap.Interface: its jobs by comparePark.
func (r *parkedRun) Len() int           { return len(r.jobs) }
func (r *parkedRun) Less(a, b int) bool { return comparePark(r.jobs[a], r.jobs[b]) < 0 }
func (r *parkedRun) Swap(a, b int)      { r.jobs[a], r.jobs[b] = r.jobs[b], r.jobs[a] }
func (r *parkedRun) Push(x any)         { r.jobs = append(r.jobs, x.(parkedJob)) }
func (r *parkedRun) Pop() any {
	last := len(r.jobs) - 1
	p := r.jobs[last]
	r.jobs[last] = parkedJob{}
	r.jobs = r.jobs[:last]
	return p
}
