package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/plan"
)

// listFlag collects a repeatable flag's values.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// planUsage heads "pricefn plan -h".
const planUsage = `usage: pricefn plan [flags]

Replays a workload through Knative's own autoscaler (knative.dev/serving
v0.42.2: the KPA decider, metric collector, config and annotation code,
unchanged) with the activator, queue-proxy, scraper, scale-to-zero logic and
pods modelled on a simulated clock, averaged over the phases of Knative's
clocks. Prints pods over time, pod-seconds, latency, panic mode, cold starts.
With --search, tries a grid of settings and reports those that meet --goal at
the fewest pod-seconds. Not compared with a live cluster: see docs/plan.md.

  pricefn plan --burst 60 --cpu 0.5s --annotation target=2 --container-concurrency 4
  pricefn plan --steady 10 --for 60s --service knative/services.yaml --service-name pricefn-pricer
  pricefn plan --batch examples/portfolio.json --search --goal p99=10s
  pricefn plan --trace trace.csv --json

flags:`

// runPlan implements "pricefn plan".
func runPlan(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var bursts, annotations, configs, grids listFlag
	trace := fs.String("trace", "", "workload: a CSV trace of arrival_s,cpu_s lines")
	fs.Var(&bursts, "burst", "workload: N requests at once, `N[@T]` (at T, default 0s); repeatable")
	steady := fs.Float64("steady", 0, "workload: requests per second, for --for from --from")
	steadyFor := fs.Duration("for", 60*time.Second, "how long --steady lasts")
	steadyFrom := fs.Duration("from", 0, "when --steady starts")
	poisson := fs.Bool("poisson", false, "Poisson arrivals for --steady (seeded) instead of evenly spaced")
	cpu := fs.Duration("cpu", 500*time.Millisecond, "CPU time of each --burst and --steady request, on one core")
	batchFile := fs.String("batch", "", "workload: a batch file's chunks, split and costed as the ingress does, all at t=0")
	chunkCost := fs.Duration("chunk-cost", time.Second, "the ingress's estimated pricing time of one chunk (its --chunk-cost)")
	chunkTrades := fs.Int("chunk-trades", batch.DefaultChunkTrades, "the ingress's most trades in one chunk (its --chunk-trades)")
	maxBootstrap := fs.Int("max-bootstrap-instruments", batch.DefaultMaxBootstrapInstruments, "the ingress's most bootstrap instruments of the curves one batch's trades use, in all, 0 no bound (its --max-bootstrap-instruments)")
	service := fs.String("service", "", "take the annotations, containerConcurrency and CPU of a Knative Service in this YAML file")
	serviceName := fs.String("service-name", "", "the Service to take from --service when the file has several")
	fs.Var(&annotations, "annotation", "a revision annotation, `KEY=VALUE`, KEY short (target) or full; repeatable, overrides --service")
	cc := fs.Int64("container-concurrency", 0, "containerConcurrency (0: no limit; default --service's, else 0)")
	fs.Var(&configs, "config", "a config-autoscaler key, `KEY=VALUE` (e.g. max-scale-down-rate=2); repeatable")
	podStart := fs.Duration("pod-start", plan.DefaultPodStart, "a pod's time from creation to ready")
	jitter := fs.Duration("pod-start-jitter", 0, "spread of --pod-start, uniform +-")
	cores := fs.Float64("cores", plan.DefaultCores, "a pod's CPU in cores (--service's limit or request when given)")
	drain := fs.Duration("drain", plan.DefaultDrain, "how long a deleted pod drains (and costs)")
	seed := fs.Uint64("seed", 1, "seed of the clocks' phases, the scraper's samples, load balancing and jitter")
	runs := fs.Int("runs", plan.DefaultRuns, fmt.Sprintf("replays averaged, each at other phases of Knative's clocks (at most %d)", plan.MaxRuns))
	step := fs.Duration("step", time.Second, "timeline sampling step")
	horizon := fs.Duration("horizon", plan.DefaultHorizon, "stop a replay this long after the last arrival")
	asJSON := fs.Bool("json", false, "write the report (or search result) as JSON")
	plot := fs.String("plot", "", "write an SVG plot of the timeline to this file")
	timeline := fs.Bool("timeline", true, "print the timeline")
	rows := fs.Int("rows", 40, "about how many timeline rows to print (0: every step)")
	search := fs.Bool("search", false, "search a grid of settings for the fewest pod-seconds that meet --goal")
	goal := fs.String("goal", "p99=10s", "the search's goal, `METRIC=DURATION`: p50, p99 (latency), queue-p50, queue-p99, makespan")
	fs.Var(&grids, "grid", "a search axis, `KEY=V1,V2,...` (an annotation or container-concurrency); replaces the default grid's axis of that key; repeatable")
	top := fs.Int("top", 5, "how many of the best settings to report")
	fs.Usage = func() {
		fmt.Fprintln(stderr, planUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return parseError(err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	// As the ingress takes them (its flags refuse the same).
	if *chunkTrades < 1 {
		return flagErrorf("--chunk-trades %d: want 1 or more", *chunkTrades)
	}
	if *chunkCost <= 0 {
		return flagErrorf("--chunk-cost %v: must be > 0", *chunkCost)
	}
	if *maxBootstrap < 0 {
		return flagErrorf("--max-bootstrap-instruments %d: want 0 (no bound) or more", *maxBootstrap)
	}

	w, err := planWorkload(*trace, bursts, *steady, *steadyFor, *steadyFrom, *poisson, *cpu, *seed, *batchFile,
		batch.ChunkOptions{TargetCost: float64(chunkCost.Nanoseconds()), MaxTrades: *chunkTrades}, *maxBootstrap, stderr)
	if err != nil {
		return err
	}
	if len(w) == 0 {
		fmt.Fprintln(stderr, "pricefn plan: no workload: give --trace, --burst, --steady or --batch")
		return errUsage
	}

	var s plan.Settings
	if *service != "" {
		data, err := os.ReadFile(*service)
		if err != nil {
			return err
		}
		if s, err = plan.ServiceSettings(data, *serviceName); err != nil {
			return fmt.Errorf("%s: %w", *service, err)
		}
	}
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	for _, a := range annotations {
		k, v, ok := strings.Cut(a, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return flagErrorf("--annotation %q: want KEY=VALUE", a)
		}
		s.Annotations[plan.Annotation(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	for _, c := range configs {
		k, v, ok := strings.Cut(c, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return flagErrorf("--config %q: want KEY=VALUE", c)
		}
		if s.Config == nil {
			s.Config = map[string]string{}
		}
		s.Config[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if set["container-concurrency"] || *service == "" {
		s.ContainerConcurrency = *cc
	}
	if set["cores"] || s.Cores == 0 {
		s.Cores = *cores
	}
	s.PodStart, s.PodStartJitter, s.Drain = *podStart, *jitter, *drain
	opt := plan.Options{Seed: *seed, Runs: *runs, Step: *step, Horizon: *horizon}
	for _, f := range []struct {
		name     string
		positive bool
		value    any
	}{
		{"pod-start", *podStart > 0, *podStart}, {"drain", *drain > 0, *drain}, {"cores", *cores > 0 && !math.IsInf(*cores, 0), *cores},
		{"runs", *runs > 0, *runs}, {"step", *step > 0, *step}, {"horizon", *horizon > 0, *horizon},
	} {
		if !f.positive {
			return flagErrorf("--%s %v: must be > 0 (and finite)", f.name, f.value)
		}
	}

	if *runs > plan.MaxRuns {
		return flagErrorf("--runs %d: must be at most %d", *runs, plan.MaxRuns)
	}
	if *rows < 0 {
		return flagErrorf("--rows %d: must be >= 0 (0: every step)", *rows)
	}
	if *top < 1 {
		return flagErrorf("--top %d: must be > 0", *top)
	}
	if *search && *plot != "" {
		// It was ignored: no file, exit status 0.
		return flagErrorf("--plot %s: a search has no timeline to plot; replay the setting it finds without --search", *plot)
	}
	if *search {
		return planSearch(ctx, w, s, opt, *goal, grids, *top, *asJSON, stdout)
	}
	r, err := plan.Replay(ctx, w, s, opt)
	if err != nil {
		return err
	}
	if *plot != "" {
		f, err := os.Create(*plot)
		if err != nil {
			return err
		}
		err = r.WriteSVG(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return r.WriteText(stdout, *timeline, *rows)
}

// planSearch runs "pricefn plan --search".
func planSearch(ctx context.Context, w plan.Workload, s plan.Settings, opt plan.Options, goal string, grids []string, top int, asJSON bool, stdout io.Writer) error {
	g, err := plan.ParseGoal(goal)
	if err != nil {
		return &flagError{err.Error()}
	}
	grid := plan.DefaultGrid()
	for _, spec := range grids {
		a, err := plan.ParseAxis(spec)
		if err != nil {
			return &flagError{err.Error()}
		}
		replaced := false
		for i := range grid {
			if plan.Annotation(grid[i].Key) == plan.Annotation(a.Key) {
				grid[i], replaced = a, true
			}
		}
		if !replaced {
			grid = append(grid, a)
		}
	}
	res, err := plan.Search(ctx, w, s, grid, g, opt, top)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(res)
	} else {
		err = res.WriteText(stdout)
	}
	if err == nil && res.Meeting == 0 {
		// The report says so; the status tells a script that picks its
		// settings from it.
		return errNoneMeets
	}
	return err
}

// errNoneMeets is a search none of whose settings met the goal: exit 1.
var errNoneMeets = errors.New("no setting meets the goal")

// planWorkload builds the workload from the flags: every source given,
// merged.
func planWorkload(trace string, bursts []string, steady float64, dur, from time.Duration, poisson bool, cpu time.Duration,
	seed uint64, batchFile string, chunk batch.ChunkOptions, maxBootstrap int, stderr io.Writer) (plan.Workload, error) {
	var ws []plan.Workload
	if trace != "" {
		f, err := os.Open(trace)
		if err != nil {
			return nil, err
		}
		w, err := plan.ReadTrace(f, trace)
		f.Close()
		if err != nil {
			return nil, err
		}
		ws = append(ws, w)
	}
	if (len(bursts) > 0 || steady > 0) && cpu <= 0 {
		return nil, flagErrorf("--cpu %v: must be > 0", cpu)
	}
	// The replay holds every request: count them before making them (a
	// --steady 1e12 or a --burst 100000000 ran the machine out of memory).
	requests := 0
	for _, w := range ws {
		requests += len(w)
	}
	for _, b := range bursts {
		ns, at, _ := strings.Cut(b, "@")
		n, err := strconv.Atoi(strings.TrimSpace(ns))
		if err != nil || n <= 0 {
			return nil, flagErrorf("--burst %q: want N[@T], N a positive integer", b)
		}
		if n > plan.MaxRequests-requests {
			return nil, flagErrorf("--burst %q: more than %d requests in the workload", b, plan.MaxRequests)
		}
		requests += n
		var t time.Duration
		if at != "" {
			if t, err = time.ParseDuration(strings.TrimSpace(at)); err != nil || t < 0 || t > plan.MaxSpan {
				return nil, flagErrorf("--burst %q: T must be a duration from 0 to %v", b, plan.MaxSpan)
			}
		}
		ws = append(ws, plan.Burst(n, t, cpu))
	}
	if !(steady >= 0) || math.IsInf(steady, 0) || dur <= 0 || from < 0 { // NaN and Inf too
		return nil, flagErrorf("--steady %g --for %v --from %v: a finite rate and a start >= 0, a duration > 0", steady, dur, from)
	}
	if steady > 0 {
		if from > plan.MaxSpan || dur > plan.MaxSpan-from {
			return nil, flagErrorf("--steady %g --for %v --from %v: must end by %v", steady, dur, from, plan.MaxSpan)
		}
		if n := steady * dur.Seconds(); n > float64(plan.MaxRequests-requests) {
			return nil, flagErrorf("--steady %g --for %v: %.0f requests, more than %d in the workload", steady, dur, n, plan.MaxRequests)
		} else if n+1e-9 < 1 && !poisson {
			// Steady's evenly spaced arrivals hold none: the replay was
			// refused as if no --steady had been given.
			return nil, flagErrorf("--steady %g --for %v: fewer than one request (the rate times the duration): raise either", steady, dur)
		}
		var rng *rand.Rand
		if poisson {
			rng = rand.New(rand.NewPCG(seed, 0x5eed))
		}
		ws = append(ws, plan.Steady(steady, from, dur, cpu, rng))
	}
	if batchFile != "" {
		data, err := os.ReadFile(batchFile)
		if err != nil {
			return nil, err
		}
		w, info, err := plan.FromBatch(data, chunk, maxBootstrap, 0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", batchFile, err)
		}
		// One of either is one, not "1 chunks".
		trades, chunks := "trades", "chunks"
		if info.Trades == 1 {
			trades = "trade"
		}
		if info.Chunks == 1 {
			chunks = "chunk"
		}
		fmt.Fprintf(stderr, "batch %s: %d %s in %d %s, %.3f CPU-seconds estimated\n", batchFile, info.Trades, trades, info.Chunks, chunks, info.CPU.Seconds())
		ws = append(ws, w)
	}
	return plan.Merge(ws...), nil
}
