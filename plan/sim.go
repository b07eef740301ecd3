package plan

import (
	"container/heap"
	"context"
	"math"
	"math/rand/v2"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/types"
	"knative.dev/serving/pkg/apis/autoscaling/v1alpha1"
	"knative.dev/serving/pkg/autoscaler/metrics"
	"knative.dev/serving/pkg/autoscaler/scaling"
	"knative.dev/serving/pkg/resources"
)

// Knative's fixed periods, from its code (unexported there).
const (
	// tickInterval is the decider's tick (scaling/multiscaler.go).
	tickInterval = 2 * time.Second
	// reportInterval is how often the activator reports its stats
	// (activator/handler/concurrency_reporter.go) and the queue-proxy
	// computes its own (queue-proxy's reportingPeriod).
	reportInterval = time.Second
	// scrapeInterval is the collector's scrape tick (metrics/collector.go).
	scrapeInterval = time.Second
)

// phases are where the periodic clocks stand relative to the workload's
// t = 0: each in [0, period).
type phases struct {
	bucket    time.Duration // t = 0 within its Unix second (the collector's buckets)
	decider   time.Duration // within tickInterval
	activator time.Duration // within reportInterval
	scraper   time.Duration // within scrapeInterval
}

// runOptions configure one replay.
type runOptions struct {
	seed    uint64
	stream  uint64
	phases  phases
	step    time.Duration // timeline sampling; 0: no timeline
	horizon time.Duration // give up this long after the last arrival
	maxPods int           // give up beyond this many pods at once (runaway)
	warmup  time.Duration // the replay starts this long before t = 0
}

// epochUnix is the Unix second of the replay's t = 0 (before the bucket
// phase): any fixed second will do.
const epochUnix = 1_700_000_000

// sim is one replay of a workload through one revision.
type sim struct {
	rev   *revision
	w     Workload
	opt   runOptions
	rng   *rand.Rand
	epoch time.Time
	now   time.Duration
	q     eventQueue
	seq   uint64

	// Knative's autoscaler, unchanged, and the MultiScaler's state (modelled).
	collector *metrics.MetricCollector
	decider   scaling.UniScaler
	key       types.NamespacedName
	desired   int32 // the decider's DesiredScale; -1 before its first valid tick
	ebc       int32 // the decider's ExcessBurstCapacity
	watch     *panicWatch
	logger    *zap.SugaredLogger

	pa    paState
	act   activator
	pods  []*pod
	ready []*pod // ready and not deleted, in order of readiness
	start []*pod // starting (not ready, not deleted)
	// draining counts deleted pods still running.
	draining int

	calls    []call
	next     int // next arrival
	left     int // calls not finished
	queued   int // calls waiting in the activator or a queue-proxy
	running  int // calls on a pod's CPU
	dispatch bool
	scratch  []int

	out outcome
	end time.Duration
}

// clock returns the wall time of simulated time t.
func (s *sim) clock(t time.Duration) time.Time { return s.epoch.Add(t) }

// at schedules an event.
func (s *sim) at(t time.Duration, k eventKind, arg int, ver uint64) {
	s.seq++
	heap.Push(&s.q, event{at: t, seq: s.seq, kind: k, arg: arg, ver: ver})
}

// firstTick returns the first time >= from of a clock ticking every period
// at phase.
func firstTick(from, phase, period time.Duration) time.Duration {
	n := math.Ceil(float64(from-phase) / float64(period))
	return phase + time.Duration(n)*period
}

// podCounter is the decider's view of the endpoints: ready pods, not ready
// ones (starting or draining).
type podCounter struct{ s *sim }

var _ resources.EndpointsCounter = podCounter{}

func (c podCounter) ReadyCount() (int, error)    { return len(c.s.ready), nil }
func (c podCounter) NotReadyCount() (int, error) { return len(c.s.start) + c.s.draining, nil }

// panicWatch follows the decider's panic mode through its log lines, its
// only outward sign.
type panicWatch struct{ panicking bool }

// watchCore is a zap core that feeds a panicWatch and writes nothing.
type watchCore struct{ w *panicWatch }

var _ zapcore.Core = watchCore{}

func (c watchCore) Enabled(l zapcore.Level) bool      { return l >= zapcore.InfoLevel }
func (c watchCore) With([]zapcore.Field) zapcore.Core { return c }
func (c watchCore) Sync() error                       { return nil }
func (c watchCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}
func (c watchCore) Write(e zapcore.Entry, _ []zapcore.Field) error {
	switch e.Message {
	case "PANICKING.":
		c.w.panicking = true
	case "Un-panicking.":
		c.w.panicking = false
	}
	return nil
}

// newSim sets up a replay: the revision idle and settled (scaled to zero, or
// at its minimum scale with the collector's windows full of idle stats).
func newSim(rev *revision, w Workload, opt runOptions) (*sim, error) {
	s := &sim{
		rev:   rev,
		w:     w,
		opt:   opt,
		rng:   rand.New(rand.NewPCG(opt.seed, opt.stream)),
		epoch: time.Unix(epochUnix, 0).Add(opt.phases.bucket),
		watch: &panicWatch{},
		key:   types.NamespacedName{Namespace: rev.pa.Namespace, Name: rev.pa.Name},
		calls: make([]call, len(w)),
		now:   -opt.warmup,
	}
	s.logger = zap.New(watchCore{s.watch}).Sugar()
	s.collector = metrics.NewMetricCollector(func(*v1alpha1.Metric, *zap.SugaredLogger) (metrics.StatsScraper, error) {
		return nil, nil // scraping is modelled (scrape): the collector's own ticker idles
	}, zap.NewNop().Sugar())
	if err := s.collector.CreateOrUpdate(rev.metric); err != nil {
		return nil, err
	}
	// Created before any pod exists: a decider created with ready pods
	// starts in panic mode at the wall clock's time.Now().
	spec := rev.decider.Spec
	s.decider = scaling.New(context.Background(), s.key.Namespace, s.key.Name, s.collector, podCounter{s}, &spec)
	for i := range s.calls {
		s.calls[i] = call{left: w[i].CPU.Seconds(), arrival: w[i].Arrival}
	}
	s.pa.init(s)
	return s, nil
}

// close stops the collector's goroutine.
func (s *sim) close() { s.collector.Delete(s.key.Namespace, s.key.Name) }

// ctxEvents is how many events a replay handles between looks at its
// context.
const ctxEvents = 1 << 12

// maxEventAt bounds the time of an event, far beyond any horizon, so that
// the time of a request's end (its CPU over its share of the cores) cannot
// overflow into the past.
const maxEventAt = time.Duration(math.MaxInt64 / 2)

// run replays the workload and returns what happened; it stops with ctx's
// error when ctx is done.
func (s *sim) run(ctx context.Context) (outcome, error) {
	ph := s.opt.phases
	from := s.now
	s.at(firstTick(from, ph.decider, tickInterval), evDeciderTick, 0, 0)
	s.at(firstTick(from, ph.activator, reportInterval), evActivatorTick, 0, 0)
	s.at(firstTick(from, ph.scraper, scrapeInterval), evScrape, 0, 0)
	if len(s.w) > 0 {
		s.at(s.w[0].Arrival, evArrival, 0, 0)
	}
	if s.opt.step > 0 {
		s.at(0, evSample, 0, 0)
	}
	s.reconcile()
	limit := s.w.Span() + min(s.opt.horizon, maxEventAt-s.w.Span())
	for n := 0; s.q.Len() > 0; n++ {
		if n%ctxEvents == 0 {
			if err := ctx.Err(); err != nil {
				return outcome{}, err
			}
		}
		e := heap.Pop(&s.q).(event)
		if e.at > limit {
			s.now = limit
			break
		}
		s.now = e.at
		if s.handle(e) {
			s.out.settled = true
			break
		}
		if s.dispatch && (s.q.Len() == 0 || s.q[0].at > s.now) {
			s.dispatch = false
			s.activatorDispatch()
		}
		if s.out.runaway {
			break
		}
	}
	s.end = s.now
	if st := s.opt.step; st > 0 && s.out.settled && s.end >= 0 {
		// One more sample of the settled state, which holds from now on.
		s.now = (s.end/st + 1) * st
		s.sample()
	}
	s.finish()
	return s.out, nil
}

// handle runs one event; it reports whether the replay has settled.
func (s *sim) handle(e event) bool {
	switch e.kind {
	case evArrival:
		s.arrive(e.arg)
		if e.arg+1 < len(s.w) {
			s.at(s.w[e.arg+1].Arrival, evArrival, e.arg+1, 0)
		}
		s.next = e.arg + 1
	case evPodReady:
		s.podReady(s.pods[e.arg])
	case evPodDone:
		if p := s.pods[e.arg]; p.ver == e.ver {
			s.podDone(p)
		}
	case evPodGone:
		s.podDrained(s.pods[e.arg])
	case evActivatorTick:
		s.at(s.now+reportInterval, evActivatorTick, 0, 0)
		s.activatorReport()
	case evScrape:
		s.at(s.now+scrapeInterval, evScrape, 0, 0)
		if s.rev.metric.Spec.ScrapeTarget != "" {
			s.scrape()
		}
	case evDeciderTick:
		s.at(s.now+tickInterval, evDeciderTick, 0, 0)
		s.tick()
		return s.settled()
	case evReconcile:
		s.reconcile()
	case evSample:
		s.at(s.now+s.opt.step, evSample, 0, 0)
		s.sample()
	}
	return false
}

// settled reports whether the replay is over: every request served, the
// revision back at its idle scale, nothing draining, no panic.
func (s *sim) settled() bool {
	return s.now >= 0 && s.next >= len(s.w) && s.left == 0 && s.draining == 0 &&
		len(s.start) == 0 && len(s.ready) == s.rev.floor && !s.watch.panicking
}

// tick runs the decider, as the MultiScaler's ticker (and Poke) does, and
// tells the PodAutoscaler when its decision changes.
func (s *sim) tick() {
	was := s.watch.panicking
	sr := s.decider.Scale(s.logger, s.clock(s.now))
	if s.watch.panicking != was {
		if s.watch.panicking {
			s.out.panicFrom = s.now
			s.out.panics++
		} else {
			s.endPanic()
		}
	}
	if !sr.ScaleValid {
		return
	}
	changed := s.desired != sr.DesiredPodCount || (s.ebc < 0) != (sr.ExcessBurstCapacity < 0)
	s.desired, s.ebc = sr.DesiredPodCount, sr.ExcessBurstCapacity
	if changed {
		s.reconcile()
	}
}

// endPanic adds the panic that ends now to the outcome (from t = 0 on).
func (s *sim) endPanic() {
	if s.now > 0 {
		s.out.panicSeconds += (s.now - max(s.out.panicFrom, 0)).Seconds()
	}
}

// record hands a stat to the collector as the autoscaler's stat server does
// (stamped with the Unix second it arrives in) and pokes the decider, which
// ticks at once when the revision is at zero and the stat shows traffic.
func (s *sim) record(st metrics.Stat, push bool) {
	s.collector.Record(s.key, time.Unix(s.clock(s.now).Unix(), 0), st)
	if push && s.desired == 0 && st.AverageConcurrentRequests != 0 {
		s.tick()
	}
}
