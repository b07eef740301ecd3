package broker

import "sync"

// turns bounds the deliveries in progress to one Service (Config.Concurrency),
// as its containerConcurrency bounds a Knative Service's requests: a
// delivery beyond the bound is parked, holding its queue slot but neither a
// worker nor a running attempt timeout, and queued again, first come first
// served, when a delivery to the Service ends.
type turns struct {
	mu     sync.Mutex
	max, n int
	parked []*job
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
	t.parked = append(t.parked, j)
	return false
}

// give ends j's turn and returns the parked job it passes to, if any,
// which holds the turn from then on.
func (t *turns) give(j *job) *job {
	t.mu.Lock()
	defer t.mu.Unlock()
	j.hasTurn = false
	if len(t.parked) == 0 {
		t.n--
		return nil
	}
	next := t.parked[0]
	t.parked[0] = nil
	t.parked = t.parked[1:]
	next.hasTurn = true
	return next
}

// drain removes and returns the parked jobs.
func (t *turns) drain() []*job {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := t.parked
	t.parked = nil
	return out
}
