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
// their batches failed at their deadlines.
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
	t.parked[tenant] = append(t.parked[tenant], j)
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
