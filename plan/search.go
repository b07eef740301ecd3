package plan

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"knative.dev/pkg/kmap"
)

// KeyContainerConcurrency names containerConcurrency in a grid (the other
// axes are annotations).
const KeyContainerConcurrency = "container-concurrency"

// MaxSettings is the most settings (combinations of a grid's values) a
// search tries.
const MaxSettings = 100_000

// Axis is one setting a search varies: an autoscaling annotation (short
// name or full key) or KeyContainerConcurrency, and the values to try.
type Axis struct {
	Key    string
	Values []string
}

// DefaultGrid is the grid a search tries unless told: the target and its
// utilisation, containerConcurrency, the stable window, the panic
// threshold (1000% all but turns panic mode off), the scale-down delay and
// max-scale (0 is no limit).
func DefaultGrid() []Axis {
	return []Axis{
		{"target", []string{"1", "2", "4", "8"}},
		{"target-utilization-percentage", []string{"70", "100"}},
		{KeyContainerConcurrency, []string{"1", "2", "4"}},
		{"window", []string{"6s", "20s", "60s"}},
		{"panic-threshold-percentage", []string{"200", "1000"}},
		{"scale-down-delay", []string{"0s", "30s"}},
		{"max-scale", []string{"0", "5", "10", "20"}},
	}
}

// ParseAxis parses "KEY=V1,V2,..." into an Axis.
func ParseAxis(s string) (Axis, error) {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" || strings.TrimSpace(v) == "" {
		return Axis{}, fmt.Errorf("plan: grid %q: want KEY=V1,V2,...", s)
	}
	var vals []string
	for _, x := range strings.Split(v, ",") {
		if x = strings.TrimSpace(x); x == "" {
			return Axis{}, fmt.Errorf("plan: grid %q: empty value", s)
		}
		vals = append(vals, x)
	}
	return Axis{Key: k, Values: vals}, nil
}

// Goal bounds one figure of a replay, in seconds: a latency ("p50", "p99"),
// a queueing delay ("queue-p50", "queue-p99") or the makespan
// ("makespan"). A setting meets it when its worst run does.
type Goal struct {
	Metric string  `json:"metric"`
	Max    float64 `json:"max"`
}

// goalMetrics map a goal's metric to its figure.
var goalMetrics = map[string]func(*Summary) Figure{
	"p50":       func(s *Summary) Figure { return s.LatencyP50 },
	"p99":       func(s *Summary) Figure { return s.LatencyP99 },
	"queue-p50": func(s *Summary) Figure { return s.QueueP50 },
	"queue-p99": func(s *Summary) Figure { return s.QueueP99 },
	"makespan":  func(s *Summary) Figure { return s.Makespan },
}

// ParseGoal parses "METRIC=DURATION", e.g. "p99=10s".
func ParseGoal(s string) (Goal, error) {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if _, known := goalMetrics[k]; !ok || !known {
		return Goal{}, fmt.Errorf("plan: goal %q: want METRIC=DURATION, METRIC one of %s", s, strings.Join(slices.Sorted(maps.Keys(goalMetrics)), ", "))
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 {
		return Goal{}, fmt.Errorf("plan: goal %q: %q is not a positive duration", s, v)
	}
	return Goal{Metric: k, Max: d.Seconds()}, nil
}

// String formats g as ParseGoal reads it.
func (g Goal) String() string { return g.Metric + "=" + seconds(g.Max).String() }

// worst returns the goal's figure at its worst run.
func (g Goal) worst(s *Summary) float64 { return goalMetrics[g.Metric](s).Max }

// Candidate is one setting a search tried.
type Candidate struct {
	// Annotations are the revision's annotations (full keys): the base's
	// with the candidate's changes.
	Annotations          map[string]string `json:"annotations"`
	ContainerConcurrency int64             `json:"containerConcurrency"`
	// Varied lists the grid's values of this candidate, "key=value";
	// Changes those that change the base's behaviour (others restate it).
	Varied  []string `json:"varied"`
	Changes []string `json:"changes"`
	Summary Summary  `json:"summary"`
	// Meets says whether every run met the goal and settled.
	Meets bool `json:"meetsGoal"`
	// same identifies the behaviour: candidates with the same are one.
	same string
}

// SearchResult is what a search found.
type SearchResult struct {
	Goal Goal `json:"goal"`
	// Baseline is the base settings' replay.
	Baseline Candidate `json:"baseline"`
	// Tried counts the candidates replayed, Invalid those Knative refused
	// (e.g. min-scale above max-scale), Meeting those that met the goal.
	Tried   int `json:"tried"`
	Invalid int `json:"invalid"`
	Meeting int `json:"meeting"`
	// Best are the candidates that meet the goal at the fewest pod-seconds
	// (mean over the runs), best first; of candidates that behave the same
	// (e.g. targets above containerConcurrency), the one with the fewest
	// changes.
	Best []Candidate `json:"best"`
}

// Search replays w under every combination of grid's values applied to
// base and returns the ones that meet goal at the fewest pod-seconds (at
// most top; 0 means 5). Candidates Knative refuses are counted and skipped.
// opt.Step is ignored: no timelines.
func Search(ctx context.Context, w Workload, base Settings, grid []Axis, goal Goal, opt Options, top int) (*SearchResult, error) {
	if _, ok := goalMetrics[goal.Metric]; !ok || goal.Max <= 0 {
		return nil, fmt.Errorf("plan: goal %q: unknown metric or bound not positive", goal.Metric)
	}
	if err := w.check(); err != nil {
		return nil, err
	}
	if top <= 0 {
		top = 5
	}
	opt = opt.withDefaults()
	if err := opt.checkRuns(); err != nil {
		return nil, err
	}
	opt.Step = -1
	workers := opt.Workers
	opt.Workers = 1
	if err := base.checkGrid(grid); err != nil {
		return nil, err
	}
	baseRev, err := base.compile()
	if err != nil {
		return nil, &SettingsError{err}
	}
	res := &SearchResult{Goal: goal}
	baseOuts, err := replayRuns(ctx, baseRev, w, opt)
	if err != nil {
		return nil, err
	}
	res.Baseline = newCandidate(baseRev, nil, nil, nil, w, baseOuts, goal)
	changes, err := base.effective(grid, baseRev)
	if err != nil {
		return nil, err
	}

	combos := product(grid)
	cands := make([]*Candidate, len(combos))
	var invalid atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i, combo := range combos {
		g.Go(func() error {
			s, err := base.with(combo)
			if err != nil {
				return err
			}
			rev, err := s.compile()
			if err != nil {
				invalid.Add(1)
				return nil
			}
			outs, err := replayRuns(gctx, rev, w, opt)
			if err != nil {
				return err
			}
			c := newCandidate(rev, combo, changes, base.Annotations, w, outs, goal)
			cands[i] = &c
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	res.Invalid = int(invalid.Load())
	var meeting []*Candidate
	for _, c := range cands {
		if c == nil {
			continue
		}
		res.Tried++
		if c.Meets {
			meeting = append(meeting, c)
		}
	}
	res.Meeting = len(meeting)
	slices.SortStableFunc(meeting, func(a, b *Candidate) int {
		return cmp.Or(cmp.Compare(a.Summary.PodSeconds.Mean, b.Summary.PodSeconds.Mean),
			cmp.Compare(goal.worst(&a.Summary), goal.worst(&b.Summary)),
			cmp.Compare(len(a.Changes), len(b.Changes)))
	})
	seen := map[string]bool{}
	for _, c := range meeting {
		if len(res.Best) == top {
			break
		}
		if !seen[c.same] {
			seen[c.same] = true
			res.Best = append(res.Best, *c)
		}
	}
	return res, nil
}

// checkGrid refuses a grid with an unknown key, no values, or a value
// Knative refuses on its own (the only annotation of a revision with s's
// config-autoscaler), with Knative's message.
func (s Settings) checkGrid(grid []Axis) error {
	seen := map[string]bool{}
	settings := 1
	for _, a := range grid {
		if settings *= max(len(a.Values), 1); settings > MaxSettings {
			return fmt.Errorf("plan: grid: more than %d settings (the product of its axes' values): fewer values", MaxSettings)
		}
		key := a.Key
		if key != KeyContainerConcurrency {
			key = Annotation(a.Key)
			if !slices.ContainsFunc(knownAnnotations, func(p kmap.KeyPriority) bool { return slices.Contains(p, key) }) {
				return fmt.Errorf("plan: grid %q: not %s or an autoscaling annotation (%s)", a.Key, KeyContainerConcurrency, strings.Join(AnnotationNames(), ", "))
			}
		}
		if seen[key] {
			return fmt.Errorf("plan: grid %q: given twice", a.Key)
		}
		seen[key] = true
		if len(a.Values) == 0 {
			return fmt.Errorf("plan: grid %q: no values", a.Key)
		}
		for _, v := range a.Values {
			one, err := Settings{Config: s.Config}.with([]setting{{a.Key, v}})
			if err == nil {
				_, err = one.compile()
			}
			if err != nil {
				return fmt.Errorf("plan: grid %s=%s: %w", a.Key, v, err)
			}
		}
	}
	return nil
}

// newCandidate summarises a candidate's runs and checks the goal. changes
// says which grid values change the base's behaviour; the others are left
// out of the candidate's annotations.
func newCandidate(rev *revision, combo []setting, changes map[setting]bool, base map[string]string, w Workload, outs []outcome, goal Goal) Candidate {
	c := Candidate{
		same:                 rev.fingerprint(),
		Annotations:          maps.Clone(rev.pa.Annotations),
		ContainerConcurrency: rev.pa.Spec.ContainerConcurrency,
		Summary:              summarise(w, outs),
	}
	for _, st := range combo {
		c.Varied = append(c.Varied, st.key+"="+st.value)
		if changes[st] {
			c.Changes = append(c.Changes, st.key+"="+st.value)
		} else if k := Annotation(st.key); st.key != KeyContainerConcurrency {
			if v, ok := base[k]; ok {
				c.Annotations[k] = v
			} else {
				delete(c.Annotations, k)
			}
		}
	}
	c.Meets = c.Summary.Unsettled == 0 && goal.worst(&c.Summary) <= goal.Max+1e-9
	return c
}

// effective returns which grid values, each applied alone to s, change
// what Knative makes of it (the decider, metric, bounds, retention).
func (s Settings) effective(grid []Axis, base *revision) (map[setting]bool, error) {
	out := map[setting]bool{}
	for _, a := range grid {
		for _, v := range a.Values {
			st := setting{a.Key, v}
			one, err := s.with([]setting{st})
			if err != nil {
				return nil, err
			}
			rev, err := one.compile()
			out[st] = err != nil || rev.fingerprint() != base.fingerprint()
		}
	}
	return out, nil
}

// setting is one grid value.
type setting struct{ key, value string }

// product returns every combination of the axes' values, the last axis
// varying fastest.
func product(grid []Axis) [][]setting {
	out := [][]setting{nil}
	for _, a := range grid {
		var next [][]setting
		for _, prefix := range out {
			for _, v := range a.Values {
				next = append(next, append(slices.Clone(prefix), setting{a.Key, v}))
			}
		}
		out = next
	}
	return out
}

// with returns s with the settings applied.
func (s Settings) with(combo []setting) (Settings, error) {
	out := s
	out.Annotations = maps.Clone(s.Annotations)
	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	for _, st := range combo {
		if st.key == KeyContainerConcurrency {
			cc, err := strconv.ParseInt(st.value, 10, 64)
			if err != nil {
				return s, fmt.Errorf("plan: grid %s: %q is not an integer", st.key, st.value)
			}
			out.ContainerConcurrency = cc
			continue
		}
		out.Annotations[Annotation(st.key)] = st.value
	}
	return out, nil
}

// Ratio returns how many times fewer pod-seconds c takes than the baseline
// (mean over runs); +Inf when c takes none.
func (r *SearchResult) Ratio(c Candidate) float64 {
	if c.Summary.PodSeconds.Mean == 0 {
		return math.Inf(1)
	}
	return r.Baseline.Summary.PodSeconds.Mean / c.Summary.PodSeconds.Mean
}
