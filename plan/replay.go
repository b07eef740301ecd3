// Package plan chooses Knative autoscaling settings before deploying: it
// replays a workload (a trace, synthetic load or a batch's chunks) through
// Knative's own autoscaler, unchanged (knative.dev/serving v0.42.2: the
// KPA decider, the MetricCollector, config-autoscaler parsing, annotation
// validation and the decider and metric built from a PodAutoscaler), with
// what runs around it in a cluster modelled on a simulated clock: the
// activator, the queue-proxy's stats, the scraper, the PodAutoscaler's
// scale-to-zero logic and the pods. A replay is deterministic for a seed
// and averaged over the phases of Knative's periodic clocks, which move the
// results noticeably. docs/plan.md describes the model and its limits.
package plan

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"time"

	"golang.org/x/sync/errgroup"
)

// Defaults of Options.
const (
	DefaultRuns    = 8
	DefaultStep    = time.Second
	DefaultHorizon = time.Hour
	DefaultMaxPods = 5000
	// MaxSamples is the most samples a run's timeline may take, over the
	// workload's span and the horizon.
	MaxSamples = 1_000_000
	// MaxRuns bounds Options.Runs: each run's outcome (and timeline) is
	// held until the report, and the runs of a search are made for each
	// of its settings.
	MaxRuns = 1000
)

// Options tune a replay. The zero value is valid.
type Options struct {
	// Seed seeds everything random: the clocks' phases, the scraper's
	// samples, load balancing and pod start-up jitter.
	Seed uint64
	// Runs is how many replays, each at other phases of the clocks, are
	// averaged; 0 means DefaultRuns.
	Runs int
	// Step is the timeline's sampling step; 0 means DefaultStep, < 0 no
	// timeline.
	Step time.Duration
	// Horizon bounds a replay: it stops this long after the last arrival
	// even if the revision has not settled; 0 means DefaultHorizon.
	Horizon time.Duration
	// MaxPods stops a replay that runs beyond this many pods at once;
	// 0 means DefaultMaxPods.
	MaxPods int
	// Workers is how many replays run at once; 0 means GOMAXPROCS.
	Workers int
}

// checkRuns refuses more runs than MaxRuns.
func (o Options) checkRuns() error {
	if o.Runs > MaxRuns {
		return fmt.Errorf("plan: runs %d: more than %d", o.Runs, MaxRuns)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.Runs <= 0 {
		o.Runs = DefaultRuns
	}
	if o.Step == 0 {
		o.Step = DefaultStep
	}
	if o.Horizon <= 0 {
		o.Horizon = DefaultHorizon
	}
	if o.MaxPods <= 0 {
		o.MaxPods = DefaultMaxPods
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o
}

// Replay replays w through a revision with settings s, opt.Runs times at
// other clock phases, and reports the figures (mean, min and max over the
// runs) and the mean timeline. Settings Knative refuses are an error with
// Knative's message.
func Replay(ctx context.Context, w Workload, s Settings, opt Options) (*Report, error) {
	rev, err := s.compile()
	if err != nil {
		return nil, &SettingsError{err}
	}
	if err := w.check(); err != nil {
		return nil, err
	}
	opt = opt.withDefaults()
	if err := opt.checkRuns(); err != nil {
		return nil, err
	}
	if opt.Step > MaxSpan { // its samples' times overflowed
		return nil, fmt.Errorf("plan: step %v: must be at most %v", opt.Step, MaxSpan)
	}
	if n := (w.Span().Seconds() + opt.Horizon.Seconds()) / opt.Step.Seconds(); opt.Step > 0 && n > MaxSamples {
		return nil, fmt.Errorf("plan: step %v: up to %.0f timeline samples over the workload and the horizon (%v), more than %d: raise the step or lower the horizon", opt.Step, n, opt.Horizon, MaxSamples)
	} else if opt.Step > 0 && n*float64(opt.Runs) > MaxSamples*DefaultRuns {
		// Every run's timeline is held until their mean is taken.
		return nil, fmt.Errorf("plan: runs %d: %d timelines of up to %.0f samples (step %v over the workload and the horizon), more than %d samples in all: lower the runs, raise the step or lower the horizon", opt.Runs, opt.Runs, n, opt.Step, MaxSamples*DefaultRuns)
	}
	outs, err := replayRuns(ctx, rev, w, opt)
	if err != nil {
		return nil, err
	}
	return newReport(s, rev, w, opt, outs), nil
}

// replayRuns runs the replays of one revision.
func replayRuns(ctx context.Context, rev *revision, w Workload, opt Options) ([]outcome, error) {
	ph := runPhases(opt.Seed, opt.Runs)
	outs := make([]outcome, opt.Runs)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(opt.Workers)
	for i := range opt.Runs {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			o, err := replayOnce(ctx, rev, w, runOptions{
				seed: opt.Seed, stream: uint64(i) + 1, phases: ph[i], step: max(opt.Step, 0),
				horizon: opt.Horizon, maxPods: opt.MaxPods, warmup: warmup(rev),
			})
			outs[i] = o
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return outs, nil
}

// replayOnce runs one replay; it stops with ctx's error when ctx is done.
func replayOnce(ctx context.Context, rev *revision, w Workload, opt runOptions) (outcome, error) {
	s, err := newSim(rev, w, opt)
	if err != nil {
		return outcome{}, fmt.Errorf("plan: %w", err)
	}
	defer s.close()
	return s.run(ctx)
}

// warmup is how long before t = 0 a replay starts: long enough for the
// stable window to fill with the idle revision's stats.
func warmup(rev *revision) time.Duration {
	return rev.metric.Spec.StableWindow + 2*tickInterval
}

// runPhases returns the clocks' phases of n runs: stratified (each clock's
// phases spread over its period, in an order shuffled per clock) with a
// random offset within each stratum, so that few runs cover the phases
// evenly.
func runPhases(seed uint64, n int) []phases {
	rng := rand.New(rand.NewPCG(seed, 0))
	spread := func(period time.Duration) []time.Duration {
		out := make([]time.Duration, n)
		for i, k := range rng.Perm(n) {
			out[i] = time.Duration((float64(k) + rng.Float64()) / float64(n) * float64(period))
		}
		return out
	}
	b, d, a, sc := spread(time.Second), spread(tickInterval), spread(reportInterval), spread(scrapeInterval)
	out := make([]phases, n)
	for i := range out {
		out[i] = phases{bucket: b[i], decider: d[i], activator: a[i], scraper: sc[i]}
	}
	return out
}

// Figure is one measure over the runs of a replay.
type Figure struct {
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// figure summarises f over the outcomes.
func figure(outs []outcome, f func(*outcome) float64) Figure {
	fig := Figure{Min: math.Inf(1), Max: math.Inf(-1)}
	for i := range outs {
		v := f(&outs[i])
		fig.Mean += v
		fig.Min = min(fig.Min, v)
		fig.Max = max(fig.Max, v)
	}
	fig.Mean /= float64(len(outs))
	return fig
}
