package plan

import (
	"math"
	"slices"
	"time"
)

// outcome is what one replay measured.
type outcome struct {
	podsCreated  int
	peakReady    int
	panics       int
	panicFrom    time.Duration
	panicSeconds float64
	activations  int
	settled      bool
	runaway      bool

	latP50, latP99, queueP50, queueP99, makespan  float64
	podSeconds, utilisation, coldRequests, length float64
	cpuSeconds                                    float64
	unserved                                      int

	timeline []Sample
}

// Sample is the state of the revision at one time of the timeline (means
// over the runs when averaged).
type Sample struct {
	// T is the time from the start of the workload, in seconds.
	T float64 `json:"t"`
	// Desired is the scale the PodAutoscaler asks of the Deployment.
	Desired float64 `json:"desired"`
	// Ready is the number of ready pods (in the endpoints).
	Ready float64 `json:"ready"`
	// Pods counts every pod that costs: starting, ready and draining.
	Pods float64 `json:"pods"`
	// Queued counts requests waiting in the activator or a queue-proxy.
	Queued float64 `json:"queued"`
	// Running counts requests on a pod's CPU.
	Running float64 `json:"running"`
	// Panic is 1 while the decider is in panic mode (the fraction of runs
	// when averaged).
	Panic float64 `json:"panic"`
	// Stable and PanicConcurrency are what the decider would observe now:
	// the average concurrency over the stable and the panic window.
	Stable           float64 `json:"stableConcurrency"`
	PanicConcurrency float64 `json:"panicConcurrency"`
}

// sample adds the state now to the timeline.
func (s *sim) sample() {
	st, pn, _ := s.collector.StableAndPanicConcurrency(s.key, s.clock(s.now))
	inPanic := 0.0
	if s.watch.panicking {
		inPanic = 1
	}
	s.out.timeline = append(s.out.timeline, Sample{
		T:                s.now.Seconds(),
		Desired:          float64(s.pa.replicas),
		Ready:            float64(len(s.ready)),
		Pods:             float64(len(s.start) + len(s.ready) + s.draining),
		Queued:           float64(s.queued),
		Running:          float64(s.running),
		Panic:            inPanic,
		Stable:           st,
		PanicConcurrency: pn,
	})
}

// finish computes the outcome's figures at the end of the replay.
func (s *sim) finish() {
	o := &s.out
	if s.watch.panicking {
		s.endPanic()
	}
	o.length = s.end.Seconds()
	var lat, wait []float64
	var last time.Duration
	first := time.Duration(math.MaxInt64)
	for i := range s.calls {
		c := &s.calls[i]
		o.cpuSeconds += s.w[i].CPU.Seconds()
		if c.cold {
			o.coldRequests++
		}
		if !c.done {
			o.unserved++
			continue
		}
		lat = append(lat, (c.end - c.arrival).Seconds())
		wait = append(wait, (c.start - c.arrival).Seconds())
		last = max(last, c.end)
		first = min(first, c.arrival)
	}
	if len(lat) > 0 {
		o.makespan = (last - first).Seconds()
	}
	o.latP50, o.latP99 = percentile(lat, 0.50), percentile(lat, 0.99)
	o.queueP50, o.queueP99 = percentile(wait, 0.50), percentile(wait, 0.99)
	for _, p := range s.pods {
		from := max(p.created, 0)
		to := s.end
		if p.state == podGone {
			to = min(p.goneAt, s.end)
		}
		if to > from {
			o.podSeconds += (to - from).Seconds()
		}
	}
	if o.podSeconds > 0 {
		o.utilisation = o.cpuSeconds / (o.podSeconds * s.rev.cores)
	}
}

// percentile returns the q-quantile of xs (nearest rank), 0 for none. It
// sorts xs.
func percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	i := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}
