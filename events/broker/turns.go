package broker

import (
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
	parked  map[string][]*job // by tenant
	order   []string          // the tenants with parked jobs, next first
}

// parkedJobs is how many deliveries wait their turn.
func (t *turns) parkedJobs() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, q := range t.parked {
		n += len(q)
	}
	return n
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
		t.parked = make(map[string][]*job)
	}
	if len(t.parked[tenant]) == 0 {
		t.order = append(t.order, tenant)
	}
	q := append(t.parked[tenant], j)
	if i, ok := events.ChunkIndex(*j.event); ok && j.batch != "" {
		// Before the chunks of its batch parked just before it with a
		// later index; never past another batch's, so that no batch waits
		// longer for another's.
		k := len(q) - 1
		for ; k > 0 && q[k-1].batch == j.batch; k-- {
			if p, ok := events.ChunkIndex(*q[k-1].event); !ok || p <= i || q[k-1].event.Type() != j.event.Type() {
				break
			}
		}
		copy(q[k+1:], q[k:len(q)-1])
		q[k] = j
	}
	t.parked[tenant] = q
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
	q := t.parked[tenant]
	next := q[0]
	q[0] = nil
	if q = q[1:]; len(q) > 0 {
		t.parked[tenant] = q
		t.order = append(t.order, tenant) // its next waits for the others'
	} else {
		delete(t.parked, tenant)
	}
	next.hasTurn = true
	return next
}

// drain removes and returns the parked jobs.
func (t *turns) drain() []*job {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*job
	for _, tenant := range t.order {
		out = append(out, t.parked[tenant]...)
	}
	t.parked, t.order = nil, nil
	return out
}
