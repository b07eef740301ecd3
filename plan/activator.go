package plan

import (
	"math"

	netstats "knative.dev/networking/pkg/http/stats"
	"knative.dev/serving/pkg/autoscaler/metrics"
)

// activator models Knative's activator for one revision: one instance
// (real clusters run several, each with a share of the pods), its
// concurrency reporter (Knative's RequestStats, reported every second,
// plus the immediate stat of concurrency 1 on the first request it sees)
// and its throttler (a FIFO queue; a pod takes up to containerConcurrency
// of its requests; first-available for containerConcurrency <= 3,
// round-robin above, random choice of two for no limit).
type activator struct {
	stats *netstats.RequestStats // nil: the reporter has no entry for the revision
	first float64                // the first request's adjustment, taken off the next report
	refs  int                    // requests through the activator not yet answered
	queue []*call                // buffered requests, in order of arrival
	head  int                    // queue[head:] are waiting
	rr    int                    // round-robin position in sim.ready
}

// route sends an arriving request to the activator or, when the activator
// is out of the path (the SKS in serve mode with ready pods), straight to a
// pod through the Kubernetes service (a random ready pod).
func (s *sim) arrive(i int) {
	c := &s.calls[i]
	s.left++
	if len(s.ready) == 0 {
		c.cold = true
	}
	if s.pa.mode == modeServe && len(s.ready) > 0 {
		s.podAccept(s.ready[s.rng.IntN(len(s.ready))], c, false)
		return
	}
	a := &s.act
	if a.stats == nil {
		a.stats = netstats.NewRequestStats(s.clock(s.now))
		a.first = 1
		s.record(metrics.Stat{PodName: "activator", AverageConcurrentRequests: 1, RequestCount: 1}, true)
	}
	a.refs++
	a.stats.HandleEvent(netstats.ReqEvent{Time: s.clock(s.now), Type: netstats.ReqIn, Key: s.key})
	a.queue = append(a.queue, c)
	s.queued++
	s.dispatch = true
}

// activatorReport is the reporter's tick: the average concurrency and count
// since the last, less the first request's immediate stat; an entry whose
// average is 0 and has no request in flight is dropped.
func (s *sim) activatorReport() {
	a := &s.act
	if a.stats == nil {
		return
	}
	rep := a.stats.Report(s.clock(s.now))
	adj := a.first
	a.first = 0
	if rep.AverageConcurrency == 0 && a.refs == 0 {
		a.stats = nil
	}
	s.record(metrics.Stat{
		PodName:                   "activator",
		AverageConcurrentRequests: math.Max(rep.AverageConcurrency-adj, 0),
		RequestCount:              rep.RequestCount - adj,
	}, true)
}

// activatorDispatch sends buffered requests to pods with room, in order.
func (s *sim) activatorDispatch() {
	a := &s.act
	for a.head < len(a.queue) {
		p := s.activatorPick()
		if p == nil {
			break
		}
		c := a.queue[a.head]
		a.queue[a.head] = nil
		a.head++
		s.queued--
		p.fromActivator++
		s.podAccept(p, c, true)
	}
	if a.head == len(a.queue) {
		a.queue, a.head = a.queue[:0], 0
	}
}

// activatorPick chooses a ready pod with room for one more request from the
// activator, or nil.
func (s *sim) activatorPick() *pod {
	n := len(s.ready)
	if n == 0 {
		return nil
	}
	cc := int(s.rev.pa.Spec.ContainerConcurrency)
	switch {
	case cc == 0: // random choice of 2, the less loaded
		p := s.ready[s.rng.IntN(n)]
		if n > 1 {
			if q := s.ready[s.rng.IntN(n)]; q.fromActivator < p.fromActivator {
				p = q
			}
		}
		return p
	case cc <= 3: // first available
		for _, p := range s.ready {
			if p.fromActivator < cc {
				return p
			}
		}
		return nil
	default: // round robin
		for i := range n {
			j := (s.act.rr + i) % n
			if p := s.ready[j]; p.fromActivator < cc {
				s.act.rr = j + 1
				return p
			}
		}
		return nil
	}
}

// activatorDone is the activator seeing the answer of a request it proxied.
func (s *sim) activatorDone(c *call) {
	a := &s.act
	c.pod.fromActivator--
	a.refs--
	a.stats.HandleEvent(netstats.ReqEvent{Time: s.clock(s.now), Type: netstats.ReqOut, Key: s.key})
	s.dispatch = true
}
