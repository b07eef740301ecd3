package engine

import "math"

// americanMaxStretch caps the growth of the grid for strong drifts, long
// expiries and large strikes against the tolerance.
const americanMaxStretch = 8

// americanLongExpiry is the expiry, in years, beyond which the grid grows as
// sqrt(T/americanLongExpiry): with the time steps fixed, long expiries take
// large steps, and the grid must resolve the early-exercise boundary as it
// moves further per step. (With the default 300 base nodes this keeps the
// worst error, relative to the reference tolerance, level across expiries.)
const americanLongExpiry = 2.25

// americanTolScale is the strike-to-tolerance ratio up to which the base
// grid suffices. The grid's error scales with the strike (the put's value
// is homogeneous in spot and strike) and as the square of the node spacing,
// while the reference tolerance is 2e-3 in currency or 2e-4 of the price:
// for a large strike and a small price the grid must be finer, by
// sqrt(K/(tolerance·americanTolScale)).
const americanTolScale = 5e4

// americanPutGrid returns the domain and the node count of the grid for
// the put o, from a base of n nodes: more where the drift (r-q)T widens the
// domain beyond its driftless width, where the expiry is long, and where
// the strike is large against the reference tolerance (2e-3 absolute or
// 2e-4 relative) at the European price; up to americanMaxStretch times n.
func americanPutGrid(o americanOption, n int) (americanDomain, int) {
	d := americanDomainOf(o)
	eu, _, _, _ := americanEuropean(false, o.spot, o.k, o.t, o.r, o.q, o.vol)
	kOverTol := o.k / math.Max(2e-3, 2e-4*eu)
	f := d.stretch * math.Sqrt(math.Max(1, o.t/americanLongExpiry)) * math.Sqrt(math.Max(1, kOverTol/americanTolScale))
	if !(f >= 1) { // NaN
		f = 1
	}
	return d, int(float64(n) * math.Min(f, americanMaxStretch))
}

// americanSolvePut prices the American put o with the given number of time
// steps on n log-spot nodes laid out on d (see americanPutGrid), the spot
// on a node.
func americanSolvePut(o americanOption, steps int, d americanDomain, n int) americanGreeks {
	w := americanPool.Get().(*americanWork)
	defer americanPool.Put(w)
	w.resize(n)
	j := w.grid(o, d)
	w.operator(o)
	w.payoff(o.k, o.spot, j)

	run := americanRun{w: w, j: j}
	run.roll(o.t, steps)

	x, v := w.x, w.v
	hm, hp := x[j]-x[j-1], x[j+1]-x[j]
	vx := (hm*hm*(v[j+1]-v[j]) + hp*hp*(v[j]-v[j-1])) / (hm * hp * (hm + hp))
	vxx := 2 * (hm*(v[j+1]-v[j]) - hp*(v[j]-v[j-1])) / (hm * hp * (hm + hp))
	s := o.spot
	return americanGreeks{
		npv:   v[j],
		delta: vx / s,
		gamma: (vxx - vx) / (s * s),
		theta: (run.snap - v[j]) / americanThetaTime(o.t),
	}
}

// americanSqrtEpsilon is the square root of the float64 machine epsilon, within
// which QuantLib's FiniteDifferenceModel snaps a step's end to the final time.
const americanSqrtEpsilon = 1.4901161193847656e-08

// americanThetaTime is the time, in years, at which the engine takes the
// snapshot its theta comes from: 0.99·min(1/365, T), as QuantLib's
// Fdm1DimSolver.
func americanThetaTime(t float64) float64 { return 0.99 * math.Min(1.0/365, t) }

// americanRun sequences the fused passes of the time steps.
type americanRun struct {
	w        *americanWork
	j        int             // spot node
	snapAll  bool            // keep all values at the snapshot time in w.snap
	k        int             // steps started
	prev     *americanFactor // factor of the step in progress
	snapNext bool            // record the snapshot once the step in progress is done
	snap     float64         // value at the spot node at the snapshot time
}

// roll steps w.v back from expiry t to the valuation date in the given
// number of steps, on QuantLib's time grid for FdBlackScholesVanillaEngine:
// steps of t/steps, with the one step that contains the theta snapshot time
// 0.99·min(1/365, t) split there. After every step the values are floored
// at the exercise value w.g.
func (r *americanRun) roll(t float64, steps int) {
	w := r.w
	dt := t / float64(steps)
	snapAt := americanThetaTime(t)
	main := &w.f[0]
	main.factorize(w.lo, w.di, w.up, dt)
	for i := 0; i < steps; i++ {
		now, next := t, t-dt
		if i == steps-1 || math.Abs(next) < americanSqrtEpsilon {
			next = 0
		}
		if next <= snapAt && snapAt < now {
			w.f[1].factorize(w.lo, w.di, w.up, now-snapAt)
			r.step(&w.f[1], true)
			if snapAt > next {
				w.f[2].factorize(w.lo, w.di, w.up, snapAt-next)
				r.step(&w.f[2], false)
			}
		} else {
			r.step(main, false)
		}
		t -= dt
	}
	r.finish()
}

// step starts a step with factor f, completing the one in progress; snap
// asks for the spot value once this step is done.
func (r *americanRun) step(f *americanFactor, snap bool) {
	w := r.w
	switch {
	case r.k == 0:
		americanElimUp(w.buf, w.v, f.luEl)
	case r.k%2 == 1:
		americanPassDown(w.buf, w.v, w.g, r.prev.luSub, f.ulEl)
	default:
		americanPassUp(w.buf, w.v, w.g, r.prev.ulSub, f.luEl)
	}
	r.done()
	r.prev, r.snapNext = f, snap
	r.k++
}

// finish completes the last step.
func (r *americanRun) finish() {
	w := r.w
	if r.k%2 == 1 {
		americanPassDown(w.buf, w.v, w.g, r.prev.luSub, nil)
	} else {
		americanPassUp(w.buf, w.v, w.g, r.prev.ulSub, nil)
	}
	r.done()
}

// done records the snapshot if the step just completed asked for it.
func (r *americanRun) done() {
	if r.snapNext {
		r.snap = r.w.v[r.j]
		if r.snapAll {
			copy(r.w.snap, r.w.v)
		}
		r.snapNext = false
	}
}
