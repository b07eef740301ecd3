package plan

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// pricer is the pricer: target 2, containerConcurrency 4.
func pricer(kv ...string) Settings {
	s := Settings{Annotations: map[string]string{Annotation("target"): "2"}, ContainerConcurrency: 4}
	for i := 0; i < len(kv); i += 2 {
		s.Annotations[Annotation(kv[i])] = kv[i+1]
	}
	return s
}

// burst60 is the burst: 60 half-second chunks at once.
var burst60 = Burst(60, 0, 500*time.Millisecond)

func replay(t *testing.T, w Workload, s Settings, runs int) *Report {
	t.Helper()
	r, err := Replay(context.Background(), w, s, Options{Seed: 1, Runs: runs})
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Unsettled != 0 {
		t.Fatalf("%d runs did not settle", r.Summary.Unsettled)
	}
	return r
}

// single replays one run with a fine timeline.
func single(t *testing.T, w Workload, s Settings, run int) outcome {
	t.Helper()
	rev, err := s.compile()
	if err != nil {
		t.Fatal(err)
	}
	ph := runPhases(1, 8)[run]
	o, err := replayOnce(context.Background(), rev, w, runOptions{seed: 1, stream: uint64(run) + 1, phases: ph, step: 100 * time.Millisecond,
		horizon: time.Hour, maxPods: DefaultMaxPods, warmup: warmup(rev)})
	if err != nil || !o.settled {
		t.Fatalf("run %d: settled %v, %v", run, o.settled, err)
	}
	return o
}

func within(t *testing.T, name string, got, lo, hi float64) {
	t.Helper()
	if got < lo || got > hi {
		t.Errorf("%s = %.3f, want in [%g, %g]", name, got, lo, hi)
	}
}

// TestHeadlineBurst reproduces the figure: 60 half-second chunks at
// a pricer scaled to zero (target 2, containerConcurrency 4) make Knative
// start about 43 pods (ceil(60 / 1.4)) and hold them in panic mode for
// about 64 s: about 4,000 pod-seconds for 30 CPU-seconds.
func TestHeadlineBurst(t *testing.T) {
	r := replay(t, burst60, pricer(), 8)
	s := r.Summary
	within(t, "pods created (mean)", s.PodsCreated.Mean, 38, 43)
	within(t, "pods created (max)", s.PodsCreated.Max, 43, 43) // ceil(60/1.4): the decider's answer to concurrency 60
	within(t, "panic seconds (mean)", s.PanicSeconds.Mean, 62, 66)
	within(t, "pod-seconds (mean)", s.PodSeconds.Mean, 3600, 4300)
	within(t, "makespan (mean)", s.Makespan.Mean, 4.5, 7.5)
	within(t, "utilisation (max)", s.Utilisation.Max, 0, 0.01)
	within(t, "scale-ups from zero", s.Activations.Mean, 1, 1)
	within(t, "cold-start requests", s.ColdStartRequests.Min, 60, 60)
	if s.Requests != 60 || s.CPUSeconds != 30 {
		t.Errorf("workload %d requests %g CPU-s", s.Requests, s.CPUSeconds)
	}
}

// TestSteadyPanics: 10 chunks/s crosses the panic threshold from zero at
// once (2 pods wanted over max(1, 0 ready)) and over-provisions.
func TestSteadyPanics(t *testing.T) {
	r := replay(t, Steady(10, 0, time.Minute, 500*time.Millisecond, nil), pricer(), 8)
	s := r.Summary
	within(t, "panics", s.Panics.Min, 1, 10)
	within(t, "panic seconds", s.PanicSeconds.Mean, 60, 80)
	within(t, "peak pods", s.PeakReady.Mean, 20, 43)
	within(t, "pod-seconds", s.PodSeconds.Mean, 2500, 4500)
	// About 5 pods would do (concurrency 5 at 1.4 a pod): min-scale 6 never
	// queues, starts no pod and costs 6 pods for the minute.
	m := replay(t, Steady(10, 0, time.Minute, 500*time.Millisecond, nil), pricer("min-scale", "6"), 4).Summary
	within(t, "min-scale 6: pods created", m.PodsCreated.Max, 0, 0)
	within(t, "min-scale 6: queueing p99", m.QueueP99.Max, 0, 0)
	within(t, "min-scale 6: cold starts", m.ColdStartRequests.Max, 0, 0)
	within(t, "min-scale 6: pod-seconds", m.PodSeconds.Mean, 6*60.4, 6*62.5)
	within(t, "min-scale 6: peak pods", m.PeakReady.Mean, 6, 6)
}

// TestDeterministic: a seed fixes the result; another seed moves the
// phases and with them the figures.
func TestDeterministic(t *testing.T) {
	w := Merge(burst60, Steady(3, 10*time.Second, 30*time.Second, 300*time.Millisecond, nil))
	a := replay(t, w, pricer(), 6)
	b := replay(t, w, pricer(), 6)
	if !reflect.DeepEqual(a, b) {
		t.Error("two replays with the same seed differ")
	}
	c, err := Replay(context.Background(), w, pricer(), Options{Seed: 2, Runs: 6, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a.Summary, c.Summary) {
		t.Error("seeds 1 and 2 give the same figures")
	}
}

// TestMoreTargetFewerPods: a higher target per pod means fewer pods.
func TestMoreTargetFewerPods(t *testing.T) {
	prev := math.Inf(1)
	for _, target := range []string{"1", "2", "4", "8"} {
		s := Settings{Annotations: map[string]string{Annotation("target"): target}} // no containerConcurrency cap
		got := replay(t, burst60, s, 4).Summary.PodsCreated.Mean
		if got >= prev {
			t.Errorf("target %s: %.1f pods, not fewer than %.1f", target, got, prev)
		}
		prev = got
	}
}

// TestMaxScaleBounds: max-scale caps the pods in every run and cuts the
// pod-seconds, at a longer makespan.
func TestMaxScaleBounds(t *testing.T) {
	base := replay(t, burst60, pricer(), 4).Summary
	capped := replay(t, burst60, pricer("max-scale", "8"), 4).Summary
	within(t, "max-scale 8: peak pods", capped.PeakReady.Max, 1, 8)
	if capped.PodSeconds.Mean > base.PodSeconds.Mean/3 || capped.Makespan.Mean <= base.Makespan.Mean {
		t.Errorf("max-scale 8: %.0f pod-s, makespan %.1f s; unbounded %.0f pod-s, %.1f s",
			capped.PodSeconds.Mean, capped.Makespan.Mean, base.PodSeconds.Mean, base.Makespan.Mean)
	}
}

// TestScaleDownStaircase pins the decider's tick (2 s), the stable window
// (60 s of panic after the last over-threshold tick) and the default
// max-scale-down-rate (2): after panic mode the pods halve at every tick.
func TestScaleDownStaircase(t *testing.T) {
	for _, tt := range []struct {
		config map[string]string
		rate   float64
	}{{nil, 2}, {map[string]string{"max-scale-down-rate": "4"}, 4}} {
		s := pricer()
		s.Config = tt.config
		o := single(t, burst60, s, 0)
		var times, values []float64
		for _, x := range o.timeline {
			if n := len(values); x.T > 10 && (n == 0 || x.Desired != values[n-1]) {
				times, values = append(times, x.T), append(values, x.Desired)
			}
		}
		// values[0] is the panic plateau, sampled at t = 10 s.
		if len(values) < 3 || values[len(values)-1] != 0 {
			t.Fatalf("rate %g: desired %v at %v", tt.rate, values, times)
		}
		within(t, "panic seconds", o.panicSeconds, 62, 66)
		within(t, "first scale-down", times[1], 62, 68)
		for i := 2; i < len(values); i++ {
			if d := times[i] - times[i-1]; math.Abs(d-2) > 0.11 { // Knative's documented 2 s tick
				t.Errorf("rate %g: scale-down steps %v s apart at %v, want the 2 s tick", tt.rate, d, times)
			}
		}
		for i := 1; i < len(values); i++ {
			if want := math.Floor(values[i-1] / tt.rate); values[i] != want {
				t.Errorf("rate %g: desired %v -> %v, want %v (max-scale-down-rate)", tt.rate, values[i-1], values[i], want)
			}
		}
	}
}

// TestWindowAnnotation: a 20 s stable window ends panic mode 20 s after
// the last over-threshold tick.
func TestWindowAnnotation(t *testing.T) {
	s := replay(t, burst60, pricer("window", "20s"), 4).Summary
	within(t, "panic seconds", s.PanicSeconds.Mean, 22, 26)
}

// zeroAt returns when the revision's last ready pod went.
func zeroAt(t *testing.T, o outcome) float64 {
	t.Helper()
	at := -1.0
	for _, x := range o.timeline {
		if x.Ready > 0 {
			at = -1
		} else if at < 0 {
			at = x.T
		}
	}
	if at < 0 {
		t.Fatal("never back to zero")
	}
	return at
}

// TestScaleToZero pins the cold start (the activator's immediate stat pokes
// the decider: a pod is created at once), scale to zero a stable window
// after the last request, the scale-to-zero grace period when the
// activator was out of the path (target-burst-capacity 0), the last-pod
// retention, the drain, and enable-scale-to-zero=false.
func TestScaleToZero(t *testing.T) {
	one := Burst(1, 0, time.Second)
	base := single(t, one, Settings{}, 0)
	// Created at t = 0 by the poke, ready at 3 s, busy 1 s.
	within(t, "latency of a cold request", base.latP50, 4, 4)
	z := zeroAt(t, base)
	within(t, "zero after the last request", z-4, 58, 64)
	within(t, "pod-seconds: life + 30 s drain", base.podSeconds, z+30-0.11, z+30+0.01)
	within(t, "replay length: the drain", base.length, z+30-0.11, z+32)

	serve := single(t, one, Settings{Annotations: map[string]string{Annotation("target-burst-capacity"): "0"}}, 0)
	within(t, "grace period in serve mode", zeroAt(t, serve)-z, 29.9, 30.1)

	keep := single(t, one, Settings{Annotations: map[string]string{Annotation("scale-to-zero-pod-retention-period"): "90s"}}, 0)
	within(t, "last-pod retention", zeroAt(t, keep)-z, 89.9, 90.1)

	never := replay(t, one, Settings{Config: map[string]string{"enable-scale-to-zero": "false"}}, 2).Summary
	within(t, "no scale to zero: cold starts", never.ColdStartRequests.Max, 0, 0)
	within(t, "no scale to zero: latency", never.LatencyP99.Max, 1, 1)
}

// TestRPSMetric: with metric rps the decider scales on requests per second:
// 10 requests/s at target 5 x 70% wants ceil(10/3.5) = 3 pods.
func TestRPSMetric(t *testing.T) {
	s := Settings{Annotations: map[string]string{Annotation("metric"): "rps", Annotation("target"): "5"}}
	r := replay(t, Steady(10, 0, 2*time.Minute, 50*time.Millisecond, nil), s, 4)
	if r.Settings.Metric != "rps" || math.Abs(r.Settings.Target-3.5) > 1e-12 {
		t.Errorf("resolved %s target %g", r.Settings.Metric, r.Settings.Target)
	}
	// Mid-load, after the panic of the start has passed, 3 pods are ready.
	x := r.Timeline[100]
	within(t, "ready pods at t=100s", x.Ready, 3, 3)
}

// TestServeMode: with target-burst-capacity 0 the activator leaves the path
// once pods are up: requests go straight to pods, queueing in their
// queue-proxy beyond containerConcurrency; all are still served.
func TestServeMode(t *testing.T) {
	s := pricer("target-burst-capacity", "0")
	r := replay(t, Merge(burst60, Steady(20, 0, 30*time.Second, 200*time.Millisecond, nil)), s, 4)
	if r.Summary.Unserved.Max != 0 || r.Summary.Requests != 660 {
		t.Errorf("unserved %v of %d", r.Summary.Unserved, r.Summary.Requests)
	}
}

// TestReplayEnds: a replay that cannot finish its requests ends at the
// horizon (the time of a request's end, its CPU over a share of 1m, used to
// overflow into the past, and the replay ran for ever), and a replay stops
// when its context is done (it checked only between runs: SIGINT did not
// stop pricefn plan).
func TestReplayEnds(t *testing.T) {
	r, err := Replay(context.Background(), Burst(16, 0, MaxSpan), Settings{Cores: MinCores}, Options{Seed: 1, Runs: 1, Horizon: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Unsettled != 1 || r.Summary.Unserved.Mean != 16 || r.Summary.Length.Mean != 3600 {
		t.Errorf("unsettled %d, unserved %v, length %v; want 1, 16 and the horizon, 3600 s",
			r.Summary.Unsettled, r.Summary.Unserved.Mean, r.Summary.Length.Mean)
	}

	// A week's horizon with a request that never ends: a second or more of
	// events, cut short.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Replay(ctx, Burst(1, 0, MaxSpan), Settings{Cores: MinCores}, Options{Seed: 1, Runs: 1, Workers: 1, Horizon: MaxSpan, Step: -1})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("replay past its context's deadline: %v, want %v", err, context.DeadlineExceeded)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("replay took %v after its context's deadline of 50ms", d)
	}
}

// TestTimelineBound: a step that would take more than MaxSamples samples
// over the workload and the horizon is refused (--step 1ns ran the machine
// out of memory); the horizon bounds them.
func TestTimelineBound(t *testing.T) {
	_, err := Replay(context.Background(), Burst(5, 0, time.Second), Settings{}, Options{Runs: 1, Step: time.Nanosecond})
	want := "plan: step 1ns: up to 3600000000000 timeline samples over the workload and the horizon (1h0m0s), more than 1000000: raise the step or lower the horizon"
	if err == nil || err.Error() != want {
		t.Errorf("step 1ns: %v, want %q", err, want)
	}
	// A step near Duration's range overflowed the time of the sample after
	// the replay settled: a timeline row at t = 9223369200 s.
	_, err = Replay(context.Background(), Burst(5, 0, time.Second), Settings{}, Options{Runs: 1, Step: 2562047 * time.Hour})
	if want := "plan: step 2562047h0m0s: must be at most 168h0m0s"; err == nil || err.Error() != want {
		t.Errorf("step 2562047h: %v, want %q", err, want)
	}
	r, err := Replay(context.Background(), Burst(5, 0, time.Second), Settings{}, Options{Runs: 1, Step: time.Millisecond, Horizon: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(r.Timeline); n < 90_000 || n > MaxSamples {
		t.Errorf("step 1ms: %d samples, want the replay's ~95 s of them", n)
	}
}

// TestLongRetentionHoldsThePod: a config-autoscaler retention period near
// Duration's range keeps the last pod to the horizon, as one of 2h does.
// Its reconcile time overflowed into the past: the revision went to zero
// after 69 s and the replay reported it settled.
func TestLongRetentionHoldsThePod(t *testing.T) {
	for _, period := range []string{"2h", "2562047h47m"} {
		s := Settings{Config: map[string]string{"scale-to-zero-pod-retention-period": period}}
		r, err := Replay(context.Background(), Burst(5, 0, time.Second/2), s, Options{Seed: 1, Runs: 1})
		if err != nil {
			t.Fatal(err)
		}
		if r.Summary.Unsettled != 1 || r.Summary.Length.Mean != 3600 || r.Summary.PodSeconds.Mean != 3600 {
			t.Errorf("retention %s: unsettled %d, length %v s, %v pod-seconds; want the pod held to the horizon: 1, 3600, 3600",
				period, r.Summary.Unsettled, r.Summary.Length.Mean, r.Summary.PodSeconds.Mean)
		}
	}
}

// TestRunsBound: runs past MaxRuns, and runs whose timelines together
// would hold more than MaxSamples*DefaultRuns samples, are refused, by a
// replay and by a search: every run's outcome is held until the report, and
// --runs 1000000 grew the memory until the machine had none.
func TestRunsBound(t *testing.T) {
	w := Burst(5, 0, time.Second)
	_, err := Replay(context.Background(), w, Settings{}, Options{Runs: MaxRuns + 1})
	if want := "plan: runs 1001: more than 1000"; err == nil || err.Error() != want {
		t.Errorf("replay of 1001 runs: %v, want %q", err, want)
	}
	_, err = Search(context.Background(), w, Settings{}, nil, Goal{Metric: "p99", Max: time.Second.Seconds()}, Options{Runs: MaxRuns + 1}, 1)
	if want := "plan: runs 1001: more than 1000"; err == nil || err.Error() != want {
		t.Errorf("search of 1001 runs: %v, want %q", err, want)
	}
	// 100 runs of 360,001 samples (a step of 10 ms over the 1 h horizon).
	_, err = Replay(context.Background(), w, Settings{}, Options{Runs: 100, Step: 10 * time.Millisecond})
	if err == nil || !strings.HasPrefix(err.Error(), "plan: runs 100: 100 timelines of up to 360") {
		t.Errorf("100 runs of 360,000 samples: %v", err)
	}
}
