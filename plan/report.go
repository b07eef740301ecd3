package plan

import (
	"maps"
	"time"

	"knative.dev/serving/pkg/apis/autoscaling"
)

// Report is the result of a replay.
type Report struct {
	// Settings are the revision's settings as Knative resolved them.
	Settings Resolved `json:"settings"`
	// Runs is how many replays (clock phases) the figures summarise.
	Runs int `json:"runs"`
	// Seed is the replays' seed (Options.Seed).
	Seed uint64 `json:"seed"`
	// Summary holds the figures: mean, min and max over the runs.
	Summary Summary `json:"summary"`
	// Timeline is the mean state over the runs, every step from t = 0 to
	// the end of the longest run.
	Timeline []Sample `json:"timeline,omitempty"`
}

// Resolved are a revision's settings as Knative's code resolves them (the
// decider and metric made from the PodAutoscaler), with the model's own.
// Durations are in seconds.
type Resolved struct {
	// Annotations, ContainerConcurrency and Config are the settings given
	// (Config: the config-autoscaler keys set, the rest are defaults).
	Annotations          map[string]string `json:"annotations"`
	ContainerConcurrency int64             `json:"containerConcurrency"`
	Config               map[string]string `json:"config,omitempty"`
	// Metric is "concurrency" or "rps".
	Metric string `json:"metric"`
	// Target is the decider's target per pod (concurrency or rps):
	// min(target, containerConcurrency) x target utilisation.
	Target float64 `json:"target"`
	// Total is a pod's capacity as the decider counts it (for the excess
	// burst capacity).
	Total float64 `json:"total"`
	// The windows, the panic threshold, the scale-down delay, the rates,
	// the burst capacity, the bounds and scale to zero, as Knative resolved
	// them from the annotations and config-autoscaler.
	StableWindow        float64 `json:"stableWindow"`
	PanicWindow         float64 `json:"panicWindow"`
	PanicThreshold      float64 `json:"panicThreshold"` // a ratio: desired/ready pods
	ScaleDownDelay      float64 `json:"scaleDownDelay"`
	MaxScaleUpRate      float64 `json:"maxScaleUpRate"`
	MaxScaleDownRate    float64 `json:"maxScaleDownRate"`
	TargetBurstCapacity float64 `json:"targetBurstCapacity"`
	MinScale            int32   `json:"minScale"`
	MaxScale            int32   `json:"maxScale"` // 0: no limit
	ScaleToZeroGrace    float64 `json:"scaleToZeroGracePeriod"`
	EnableScaleToZero   bool    `json:"enableScaleToZero"`
	// PodStart, PodStartJitter, Cores and Drain describe the modelled pods.
	PodStart       float64 `json:"podStart"`
	PodStartJitter float64 `json:"podStartJitter"`
	Cores          float64 `json:"cores"`
	Drain          float64 `json:"drain"`
}

// Summary holds a replay's figures. Times are in seconds.
type Summary struct {
	Requests   int     `json:"requests"`
	CPUSeconds float64 `json:"cpuSeconds"`
	// PodsCreated counts the pods created from t = 0.
	PodsCreated Figure `json:"podsCreated"`
	// PeakReady is the most pods ready at once.
	PeakReady Figure `json:"peakReadyPods"`
	// PanicSeconds is the time the decider spent in panic mode.
	PanicSeconds Figure `json:"panicSeconds"`
	// Panics counts the times it entered panic mode.
	Panics Figure `json:"panics"`
	// Activations counts scale-ups from zero (the PodAutoscaler going from
	// Inactive to Activating).
	Activations Figure `json:"activations"`
	// ColdStartRequests counts requests that arrived with no pod ready.
	ColdStartRequests Figure `json:"coldStartRequests"`
	// QueueP50 and QueueP99 are quantiles of a request's wait for a pod's
	// CPU (in the activator or a queue-proxy).
	QueueP50 Figure `json:"queueP50"`
	QueueP99 Figure `json:"queueP99"`
	// LatencyP50 and LatencyP99 are quantiles of a request's time from
	// arrival to answer.
	LatencyP50 Figure `json:"latencyP50"`
	LatencyP99 Figure `json:"latencyP99"`
	// Makespan runs from the first arrival to the last answer.
	Makespan Figure `json:"makespan"`
	// PodSeconds is the pods' lifetime from t = 0 to the end of the replay
	// (starting, ready and draining pods all cost).
	PodSeconds Figure `json:"podSeconds"`
	// Utilisation is CPUSeconds over PodSeconds x cores.
	Utilisation Figure `json:"utilisation"`
	// Length is the replay's length: until the revision settled back to its
	// idle scale.
	Length Figure `json:"length"`
	// Unsettled counts the runs stopped by the horizon (or runaway scale)
	// before the revision settled; Unserved the requests they left.
	Unsettled int    `json:"unsettled"`
	Unserved  Figure `json:"unserved"`
}

// newReport summarises the outcomes of the runs.
func newReport(s Settings, rev *revision, w Workload, opt Options, outs []outcome) *Report {
	r := &Report{Settings: resolve(s, rev), Runs: len(outs), Seed: opt.Seed, Summary: summarise(w, outs)}
	r.Timeline = meanTimeline(outs)
	return r
}

// summarise computes the figures over the runs.
func summarise(w Workload, outs []outcome) Summary {
	fig := func(f func(*outcome) float64) Figure { return figure(outs, f) }
	sum := Summary{
		Requests:          len(w),
		CPUSeconds:        w.CPU().Seconds(),
		PodsCreated:       fig(func(o *outcome) float64 { return float64(o.podsCreated) }),
		PeakReady:         fig(func(o *outcome) float64 { return float64(o.peakReady) }),
		PanicSeconds:      fig(func(o *outcome) float64 { return o.panicSeconds }),
		Panics:            fig(func(o *outcome) float64 { return float64(o.panics) }),
		Activations:       fig(func(o *outcome) float64 { return float64(o.activations) }),
		ColdStartRequests: fig(func(o *outcome) float64 { return o.coldRequests }),
		QueueP50:          fig(func(o *outcome) float64 { return o.queueP50 }),
		QueueP99:          fig(func(o *outcome) float64 { return o.queueP99 }),
		LatencyP50:        fig(func(o *outcome) float64 { return o.latP50 }),
		LatencyP99:        fig(func(o *outcome) float64 { return o.latP99 }),
		Makespan:          fig(func(o *outcome) float64 { return o.makespan }),
		PodSeconds:        fig(func(o *outcome) float64 { return o.podSeconds }),
		Utilisation:       fig(func(o *outcome) float64 { return o.utilisation }),
		Length:            fig(func(o *outcome) float64 { return o.length }),
		Unserved:          fig(func(o *outcome) float64 { return float64(o.unserved) }),
	}
	for _, o := range outs {
		if !o.settled {
			sum.Unsettled++
		}
	}
	return sum
}

// meanTimeline averages the runs' timelines sample by sample; a run that
// ended earlier holds its last state (settled: nothing changes after).
func meanTimeline(outs []outcome) []Sample {
	n := 0
	for _, o := range outs {
		n = max(n, len(o.timeline))
	}
	if n == 0 {
		return nil
	}
	mean := make([]Sample, n)
	for _, o := range outs {
		for i := range n {
			var x Sample
			if len(o.timeline) > 0 {
				x = o.timeline[min(i, len(o.timeline)-1)]
			}
			m := &mean[i]
			m.Desired += x.Desired
			m.Ready += x.Ready
			m.Pods += x.Pods
			m.Queued += x.Queued
			m.Running += x.Running
			m.Panic += x.Panic
			m.Stable += x.Stable
			m.PanicConcurrency += x.PanicConcurrency
		}
	}
	k := float64(len(outs))
	for i := range mean {
		m := &mean[i]
		m.T = float64(i) * stepOf(outs)
		m.Desired /= k
		m.Ready /= k
		m.Pods /= k
		m.Queued /= k
		m.Running /= k
		m.Panic /= k
		m.Stable /= k
		m.PanicConcurrency /= k
	}
	return mean
}

// stepOf returns the timelines' step in seconds.
func stepOf(outs []outcome) float64 {
	for _, o := range outs {
		if len(o.timeline) > 1 {
			return o.timeline[1].T - o.timeline[0].T
		}
	}
	return 0
}

// resolve describes the settings as Knative resolved them.
func resolve(s Settings, rev *revision) Resolved {
	spec := rev.decider.Spec
	lo, hi := rev.pa.ScaleBounds(rev.cfg)
	return Resolved{
		Annotations:          maps.Clone(rev.pa.Annotations),
		ContainerConcurrency: rev.pa.Spec.ContainerConcurrency,
		Config:               maps.Clone(s.Config),
		Metric:               metricName(spec.ScalingMetric),
		Target:               spec.TargetValue,
		Total:                spec.TotalValue,
		StableWindow:         rev.metric.Spec.StableWindow.Seconds(),
		PanicWindow:          rev.metric.Spec.PanicWindow.Seconds(),
		PanicThreshold:       spec.PanicThreshold,
		ScaleDownDelay:       spec.ScaleDownDelay.Seconds(),
		MaxScaleUpRate:       spec.MaxScaleUpRate,
		MaxScaleDownRate:     spec.MaxScaleDownRate,
		TargetBurstCapacity:  spec.TargetBurstCapacity,
		MinScale:             lo,
		MaxScale:             hi,
		ScaleToZeroGrace:     rev.cfg.ScaleToZeroGracePeriod.Seconds(),
		EnableScaleToZero:    rev.cfg.EnableScaleToZero,
		PodStart:             rev.podStart.Seconds(),
		PodStartJitter:       rev.jitter.Seconds(),
		Cores:                rev.cores,
		Drain:                rev.drain.Seconds(),
	}
}

// metricName names the decider's metric (Knative's default: concurrency).
func metricName(m string) string {
	if m == autoscaling.RPS {
		return autoscaling.RPS
	}
	return autoscaling.Concurrency
}

// seconds converts seconds to a Duration.
func seconds(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }
