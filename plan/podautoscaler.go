package plan

import (
	"math"
	"time"

	kparesources "knative.dev/serving/pkg/reconciler/autoscaling/kpa/resources"
	aresources "knative.dev/serving/pkg/reconciler/autoscaling/resources"
)

// activeState is the PodAutoscaler's Active condition.
type activeState uint8

const (
	inactive   activeState = iota // False: scaled to zero, the activator buffers
	activating                    // Unknown: pods wanted, not yet ready
	active                        // True
)

// sksMode is the ServerlessService's mode: who receives the traffic.
type sksMode uint8

const (
	modeProxy sksMode = iota // through the activator
	modeServe                // straight to the pods (when some are ready)
)

// scaleUnknown is the PA reconciler's "no decision" scale.
const scaleUnknown = -1

// paState models the KPA reconciler's state for the revision (its scaler
// and computeActiveCondition in pkg/reconciler/autoscaling/kpa, which time
// conditions with the wall clock): the Active condition and when it last
// changed, whether the scale target was initialized, the SKS mode and
// since when, and the replicas asked of the Deployment.
type paState struct {
	active      activeState
	since       time.Duration
	initialized bool
	mode        sksMode
	modeSince   time.Duration
	replicas    int
}

// longAgo is when an idle revision's state last changed.
const longAgo = -24 * time.Hour

// init sets the idle, settled revision: at its minimum scale (pods ready,
// Active) or at zero (Inactive, the activator in the path).
func (pa *paState) init(s *sim) {
	*pa = paState{active: inactive, since: longAgo, initialized: true, mode: modeProxy, modeSince: longAgo}
	floor := s.rev.floor
	for range floor {
		s.createPod()
		p := s.pods[len(s.pods)-1]
		p.state, p.readyAt = podReady, s.now
	}
	s.start = s.start[:0]
	s.ready = append(s.ready[:0], s.pods...)
	pa.replicas = floor
	s.desired = 0
	spec := s.rev.decider.Spec
	switch tbc := spec.TargetBurstCapacity; tbc {
	case -1, 0:
		s.ebc = int32(tbc)
	default:
		s.ebc = int32(math.Floor(float64(floor)*spec.TotalValue - tbc))
	}
	if floor > 0 {
		pa.active = active
	}
	s.out.podsCreated, s.out.peakReady = 0, floor
}

// reconcile is the KPA reconciler's pass over the revision (ReconcileKind):
// bound the decider's scale, apply the scale-to-zero rules, scale the
// Deployment, set the SKS mode and the Active condition. A change of the
// condition triggers another pass, as the PA's own update would.
func (s *sim) reconcile() {
	for range 4 {
		before := s.pa.active
		s.reconcileOnce()
		if s.pa.active == before {
			return
		}
	}
}

func (s *sim) reconcileOnce() {
	pa, rev := &s.pa, s.rev
	want := s.desired
	if want >= 0 || pa.active == activating {
		lo, hi := rev.pa.ScaleBounds(rev.cfg)
		if initial := kparesources.GetInitialScale(rev.cfg, rev.pa); initial > 1 && !pa.initialized {
			lo = max(initial, lo)
		}
		want = applyBounds(lo, hi, want)
		var apply bool
		want, apply = s.handleScaleToZero(want)
		if apply {
			pa.replicas = int(want)
			s.scaleTo(pa.replicas)
		}
	}
	mode := modeProxy
	switch {
	case want == scaleUnknown && pa.active == inactive:
	case want > 0 && s.ebc >= 0:
		mode = modeServe
	}
	if mode != pa.mode {
		pa.mode, pa.modeSince = mode, s.now
		s.dispatch = true
	}
	s.computeActive(want)
}

// applyBounds keeps x in [lo, hi] (hi 0: no upper bound).
func applyBounds(lo, hi, x int32) int32 {
	if x < lo {
		return lo
	}
	if hi != 0 && x > hi {
		return hi
	}
	return x
}

// handleScaleToZero decides whether a scale of 0 may be applied yet: only
// after the revision was active for a stable window, then after the
// scale-to-zero grace period in proxy mode (or the last-pod retention).
// It returns the scale and whether to apply it.
func (s *sim) handleScaleToZero(want int32) (int32, bool) {
	if want != 0 {
		return want, true
	}
	pa, rev := &s.pa, s.rev
	if !rev.cfg.EnableScaleToZero {
		return 1, true
	}
	switch pa.active {
	case activating:
		if s.now-pa.since >= rev.activationTimeout {
			return want, true
		}
		s.enqueue(rev.activationTimeout)
		return scaleUnknown, false
	case active:
		sw := aresources.StableWindow(rev.pa, rev.cfg)
		if af := s.now - pa.since; af < sw {
			s.enqueue(sw - af)
			return 1, true
		}
		return want, false
	}
	// Inactive. The activator answers its probe once the SKS is in proxy
	// mode (always, with target-burst-capacity -1).
	if rev.decider.Spec.TargetBurstCapacity != -1 && pa.mode != modeProxy {
		s.enqueue(time.Second)
		return want, false
	}
	retention := rev.cfg.ScaleToZeroPodRetentionPeriod
	if d, ok := rev.pa.ScaleToZeroPodRetention(); ok {
		retention = d
	}
	inactiveFor := s.now - pa.since
	if inactiveFor >= max(rev.cfg.ScaleToZeroGracePeriod, retention) {
		return want, true
	}
	if retention > 0 && inactiveFor < retention {
		s.enqueue(retention - inactiveFor)
		return want, false
	}
	proxyFor := time.Duration(0)
	if pa.mode == modeProxy {
		proxyFor = s.now - pa.modeSince
	}
	if to := rev.cfg.ScaleToZeroGracePeriod - proxyFor; to > 0 {
		s.enqueue(to)
		return want, false
	}
	return want, true
}

// enqueue asks for another reconcile after d (Knative's durations, such as
// a config's scale-to-zero-pod-retention-period, may be near Duration's
// range: the time is capped at maxEventAt, past any horizon).
func (s *sim) enqueue(d time.Duration) { s.at(s.now+min(d, maxEventAt-s.now), evReconcile, 0, 0) }

// computeActive sets the Active condition from the ready pods and the
// scale wanted (the reconciler's computeActiveCondition).
func (s *sim) computeActive(want int32) {
	pa, rev := &s.pa, s.rev
	lo, _ := rev.pa.ScaleBounds(rev.cfg)
	minReady := max(int(lo), 1)
	if !pa.initialized {
		minReady = max(int(lo), int(kparesources.GetInitialScale(rev.cfg, rev.pa)))
	}
	ready := len(s.ready)
	if ready >= minReady {
		pa.initialized = true
	}
	switch {
	case want == 0 || minReady == 0:
		s.setActive(inactive)
	case ready < minReady:
		if want > 0 || pa.active != inactive {
			s.setActive(activating)
		} else {
			s.setActive(inactive)
		}
	default:
		if want > 0 || pa.active != inactive {
			s.setActive(active)
		}
	}
}

// setActive changes the Active condition (its transition time only moves
// when its status does).
func (s *sim) setActive(a activeState) {
	if s.pa.active == a {
		return
	}
	if a == activating && s.pa.active == inactive && s.now >= 0 {
		s.out.activations++
	}
	s.pa.active, s.pa.since = a, s.now
}
