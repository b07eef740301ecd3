package plan

import (
	"math"
	"slices"
	"time"

	netstats "knative.dev/networking/pkg/http/stats"
	"knative.dev/serving/pkg/autoscaler/metrics"
)

// podState is where a pod is in its life.
type podState uint8

const (
	podStarting podState = iota // created, not yet ready
	podReady                    // ready, in the endpoints
	podDraining                 // deleted: out of the endpoints, finishing its requests
	podGone                     // no longer running (or costing)
)

// pod models one pod of the revision: its start-up delay, its CPU (cores
// shared equally by the requests it runs), its queue-proxy (a queue beyond
// containerConcurrency and Knative's RequestStats, reported every second at
// the pod's own phase) and its drain when deleted.
type pod struct {
	id            int
	state         podState
	created       time.Duration
	readyAt       time.Duration
	deletedAt     time.Duration
	goneAt        time.Duration
	running       []*call // on the CPU
	waiting       []*call // queued in the queue-proxy
	fromActivator int     // requests the activator has in flight here
	cpuAt         time.Duration
	ver           uint64 // bumps when running changes; stale evPodDone are ignored
	stats         *netstats.RequestStats
	qpNext        time.Duration // the queue-proxy's next report
	report        netstats.RequestStatsReport
}

// call is one request on its way through the revision.
type call struct {
	arrival time.Duration
	start   time.Duration // when it got a pod's CPU
	end     time.Duration
	left    float64 // CPU seconds still to do
	proxied bool    // came through the activator
	cold    bool    // arrived with no pod ready
	done    bool
	pod     *pod
}

// eps is the CPU time (seconds) under which a request counts as finished.
const eps = 1e-9

// createPod starts a pod: ready after the revision's start-up time.
func (s *sim) createPod() {
	p := &pod{
		id:      len(s.pods),
		created: s.now,
		stats:   netstats.NewRequestStats(s.clock(s.now)),
		cpuAt:   s.now,
	}
	p.qpNext = s.now + time.Duration(s.rng.Float64()*float64(reportInterval))
	startUp := s.rev.podStart
	if j := s.rev.jitter; j > 0 {
		startUp += time.Duration((2*s.rng.Float64() - 1) * float64(j))
	}
	s.pods = append(s.pods, p)
	s.start = append(s.start, p)
	s.at(s.now+startUp, evPodReady, p.id, 0)
	if s.now >= 0 {
		s.out.podsCreated++
	}
	if len(s.start)+len(s.ready) > s.opt.maxPods {
		s.out.runaway = true
	}
}

// podReady puts a started pod in the endpoints.
func (s *sim) podReady(p *pod) {
	if p.state != podStarting {
		return // deleted while starting
	}
	p.state, p.readyAt = podReady, s.now
	s.start = slices.DeleteFunc(s.start, func(q *pod) bool { return q == p })
	s.ready = append(s.ready, p)
	s.dispatch = true
	if s.now >= 0 {
		s.out.peakReady = max(s.out.peakReady, len(s.ready))
	}
	s.reconcile()
}

// scaleTo is the ReplicaSet: it creates pods, or deletes them, not-ready
// ones first (newest first), then the most recently ready.
func (s *sim) scaleTo(n int) {
	for len(s.start)+len(s.ready) < n {
		s.createPod()
	}
	for len(s.start)+len(s.ready) > n {
		if k := len(s.start); k > 0 {
			p := s.start[k-1]
			s.start = s.start[:k-1]
			p.state, p.deletedAt, p.goneAt = podGone, s.now, s.now
			continue
		}
		k := len(s.ready)
		p := s.ready[k-1]
		s.ready = s.ready[:k-1]
		p.state, p.deletedAt = podDraining, s.now
		s.draining++
		s.at(s.now+s.rev.drain, evPodGone, p.id, 0)
	}
}

// podDrained ends a deleted pod's drain period; it goes once its last
// request is answered.
func (s *sim) podDrained(p *pod) {
	if p.state == podDraining && len(p.running) == 0 && len(p.waiting) == 0 {
		p.state, p.goneAt = podGone, s.now
		s.draining--
	}
}

// qpCatchUp brings the queue-proxy's report up to now: the report of its
// last tick at or before now. Between events a pod's concurrency is
// constant, so skipping the ticks in between loses nothing.
func (s *sim) qpCatchUp(p *pod) {
	if s.now < p.qpNext {
		return
	}
	k := time.Duration((s.now - p.qpNext) / reportInterval)
	last := p.qpNext + k*reportInterval
	if k > 0 {
		p.stats.Report(s.clock(last - reportInterval))
	}
	p.report = p.stats.Report(s.clock(last))
	p.qpNext = last + reportInterval
}

// podAccept hands a request to a pod's queue-proxy: it runs at once if the
// pod has room under containerConcurrency, else it waits there.
func (s *sim) podAccept(p *pod, c *call, proxied bool) {
	s.qpCatchUp(p)
	typ := netstats.ReqIn
	if proxied {
		typ = netstats.ProxiedIn
	}
	p.stats.HandleEvent(netstats.ReqEvent{Time: s.clock(s.now), Type: typ, Key: s.key})
	c.pod, c.proxied = p, proxied
	if cc := int(s.rev.pa.Spec.ContainerConcurrency); cc > 0 && len(p.running) >= cc {
		p.waiting = append(p.waiting, c)
		s.queued++
		return
	}
	s.podRun(p, c)
}

// podRun puts a request on the pod's CPU.
func (s *sim) podRun(p *pod, c *call) {
	s.podAdvance(p)
	c.start = s.now
	p.running = append(p.running, c)
	s.running++
	s.podSchedule(p)
}

// podAdvance takes the CPU time used since the last change off the running
// requests.
func (s *sim) podAdvance(p *pod) {
	if n := len(p.running); n > 0 && s.now > p.cpuAt {
		done := (s.now - p.cpuAt).Seconds() * s.rev.cores / float64(n)
		for _, c := range p.running {
			c.left -= done
		}
	}
	p.cpuAt = s.now
}

// podSchedule plans the pod's next completion.
func (s *sim) podSchedule(p *pod) {
	p.ver++
	if len(p.running) == 0 {
		return
	}
	least := math.Inf(1)
	for _, c := range p.running {
		least = min(least, c.left)
	}
	rate := s.rev.cores / float64(len(p.running))
	at := min(float64(s.now)+math.Ceil(max(least, 0)/rate*1e9), float64(maxEventAt))
	s.at(time.Duration(at), evPodDone, p.id, p.ver)
}

// podDone finishes the pod's requests that are done and starts waiting ones.
func (s *sim) podDone(p *pod) {
	s.podAdvance(p)
	s.qpCatchUp(p)
	kept := p.running[:0]
	for _, c := range p.running {
		if c.left > eps {
			kept = append(kept, c)
			continue
		}
		typ := netstats.ReqOut
		if c.proxied {
			typ = netstats.ProxiedOut
			s.activatorDone(c)
		}
		p.stats.HandleEvent(netstats.ReqEvent{Time: s.clock(s.now), Type: typ, Key: s.key})
		c.end, c.done = s.now, true
		s.left--
		s.running--
	}
	clear(p.running[len(kept):])
	p.running = kept
	cc := int(s.rev.pa.Spec.ContainerConcurrency)
	for len(p.waiting) > 0 && (cc == 0 || len(p.running) < cc) {
		c := p.waiting[0]
		p.waiting = p.waiting[1:]
		s.queued--
		c.start = s.now
		p.running = append(p.running, c)
		s.running++
	}
	s.podSchedule(p)
	if p.state == podDraining && s.now >= p.deletedAt+s.rev.drain {
		s.podDrained(p)
	}
}

// scrape is the autoscaler's scraper: it samples the ready pods' queue-proxy
// reports (Knative's sample size for the population), scales the sum to the
// population and records it.
func (s *sim) scrape() {
	n := len(s.ready)
	if n == 0 {
		return
	}
	k := int(populationMeanSampleSize(float64(n)))
	var st metrics.Stat
	idx := s.scratch[:0]
	for i := range n {
		idx = append(idx, i)
	}
	s.scratch = idx
	for i := range k {
		j := i + s.rng.IntN(n-i) // a partial Fisher-Yates shuffle picks k distinct pods
		idx[i], idx[j] = idx[j], idx[i]
		p := s.ready[idx[i]]
		s.qpCatchUp(p)
		st.AverageConcurrentRequests += p.report.AverageConcurrency
		st.AverageProxiedConcurrentRequests += p.report.AverageProxiedConcurrency
		st.RequestCount += p.report.RequestCount
		st.ProxiedRequestCount += p.report.ProxiedRequestCount
	}
	scale := float64(n) / float64(k)
	st.AverageConcurrentRequests *= scale
	st.AverageProxiedConcurrentRequests *= scale
	st.RequestCount *= scale
	st.ProxiedRequestCount *= scale
	st.PodName = "service-scraper"
	s.record(st, false)
}

// populationMeanSampleSize is the scraper's sample size for a population of
// pods (Knative's metrics/sample_size.go, unexported there): 95% confidence,
// a margin of error of 5 and a variance of 100.
func populationMeanSampleSize(population float64) float64 {
	const sampleSize = 1.96 * 1.96 * 100 / (5.0 * 5.0)
	if population <= 3 {
		return math.Max(population, 0)
	}
	return math.Ceil(population * sampleSize / (population + sampleSize - 1))
}
