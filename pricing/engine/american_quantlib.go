package engine

import "math"

// QuantLib's FdBlackScholesVanillaEngine lays its grid out with these
// settings (FdmBlackScholesMesher with eps 1e-4, scale factor 1.5 and the
// strike as concentration point of density 0.1).
const (
	// americanQLInvEps is QuantLib 1.29's InverseCumulativeNormal()(1 - 1e-4)
	// (Acklam's approximation, without refinement).
	americanQLInvEps       = 3.719016482125131
	americanQLScaleFactor  = 1.5
	americanQLDensity      = 0.1
	americanQLSimpsonIters = 8
)

// americanSolveQuantLib prices o, a call or a put, exactly as QuantLib 1.29's
// FdBlackScholesVanillaEngine(process, steps, n, 0) does with the Douglas
// scheme: the same log-spot mesh (spot not on a node), the same operator,
// cell averages of the payoff by the same Simpson rule, the same time grid
// and exercise floor, and the answers read off the same monotonic natural
// cubic spline. It is the engine of the reference batches, replicated for
// the options where that engine's own spatial error exceeds the reference
// tolerance (huge vol·sqrt(T)): only the same grid then gives the same
// answer.
func americanSolveQuantLib(o americanOption, steps, n int) americanGreeks {
	w := americanPool.Get().(*americanWork)
	defer americanPool.Put(w)
	w.resize(n)
	w.qlMesh(o)
	w.operator(o)
	w.qlPayoff(o)

	run := americanRun{w: w, snapAll: true}
	run.roll(o.t, steps)

	lnS := math.Log(o.spot)
	v, dv, d2v := w.qlSpline(w.v, lnS)
	later, _, _ := w.qlSpline(w.snap, lnS)
	s := o.spot
	return americanGreeks{
		npv:   v,
		delta: dv / s,
		gamma: (d2v - dv) / (s * s),
		theta: (later - v) / americanThetaTime(o.t),
	}
}

// qlMesh lays out QuantLib's FdmBlackScholesMesher for o in w.x: the forward
// path widened by 1.5 times the 1e-4 normal quantile of vol·sqrt(T) each
// side, concentrated around the strike by Concentrating1dMesher (a sinh map
// of density 0.1 of the width), or uniform if the strike is outside.
func (w *americanWork) qlMesh(o americanOption) {
	x := w.x
	n := len(x)
	fwd := o.spot * math.Exp((o.r-o.q)*o.t)
	sd := o.vol * math.Sqrt(o.t)
	lo := math.Log(math.Min(o.spot, fwd)) - sd*americanQLInvEps*americanQLScaleFactor
	hi := math.Log(math.Max(o.spot, fwd)) + sd*americanQLInvEps*americanQLScaleFactor
	c := math.Log(o.k)
	step := 1 / float64(n-1)
	if c >= lo && c <= hi {
		density := americanQLDensity * (hi - lo)
		c1 := math.Asinh((lo - c) / density)
		c2 := math.Asinh((hi - c) / density)
		for i := 1; i < n-1; i++ {
			u := float64(i) * step
			x[i] = c + density*math.Sinh(c1*(1-u)+c2*u)
		}
	} else {
		for i := 1; i < n-1; i++ {
			x[i] = lo + float64(i)*step*(hi-lo)
		}
	}
	x[0], x[n-1] = lo, hi
}

// qlPayoff fills g with the exercise value at the nodes and v with
// QuantLib's FdmCellAveragingInnerValue: the payoff averaged over each
// inner node's cell by SimpsonIntegral(accuracy, 8), or the node's value
// where that does not converge. Cells on one side of the strike, where the
// payoff is smooth and Simpson's rule is exact to 1e-13, get the exact
// average; the cell holding the strike gets QuantLib's Simpson estimate.
func (w *americanWork) qlPayoff(o americanOption) {
	x, g, v := w.x, w.g, w.v
	n := len(x)
	lnK := math.Log(o.k)
	f := func(y float64) float64 {
		if o.call {
			return math.Max(math.Exp(y)-o.k, 0)
		}
		return math.Max(o.k-math.Exp(y), 0)
	}
	for i, xi := range x {
		g[i] = f(xi)
		v[i] = g[i]
		if i == 0 || i == n-1 {
			continue
		}
		a, b := xi-(xi-x[i-1])/2, xi+(x[i+1]-xi)/2
		switch {
		case b <= lnK:
			if !o.call {
				v[i] = o.k - math.Exp(a)*math.Expm1(b-a)/(b-a)
			} else {
				v[i] = 0
			}
		case a >= lnK:
			if o.call {
				v[i] = math.Exp(a)*math.Expm1(b-a)/(b-a) - o.k
			} else {
				v[i] = 0
			}
		default:
			acc := 1e-4
			if fa, fb := f(a), f(b); fa != 0 || fb != 0 {
				acc = (fa + fb) * 5e-5
			}
			if s, ok := americanQLSimpson(f, a, b, acc); ok {
				v[i] = s / (b - a)
			}
		}
	}
}

// americanQLSimpson is QuantLib's SimpsonIntegral(acc, 8) of f over [a, b]: Simpson
// extrapolation of trapezoid refinements, accepted from the sixth on once
// two successive estimates are within acc; ok is false where QuantLib
// fails.
func americanQLSimpson(f func(float64) float64, a, b, acc float64) (float64, bool) {
	n := 1.0
	i0 := (f(a) + f(b)) * (b - a) / 2
	adj := i0
	for i := 1; i < americanQLSimpsonIters; i++ {
		sum, dx := 0.0, (b-a)/n
		x := a + dx/2
		for j := 0; j < int(n); j++ {
			sum += f(x)
			x += dx
		}
		i1 := (i0 + dx*sum) / 2
		n *= 2
		adj1 := (4*i1 - i0) / 3
		if math.Abs(adj-adj1) <= acc && i > 5 {
			return adj1, true
		}
		i0, adj = i1, adj1
	}
	return 0, false
}

// qlSpline returns the value and the first two derivatives at x of
// QuantLib's MonotonicCubicNaturalSpline through (w.x, y): a natural cubic
// spline whose node derivatives pass Hyman's monotonicity filter.
func (w *americanWork) qlSpline(y []float64, at float64) (v, dv, d2v float64) {
	xs := w.x
	n := len(xs)
	// The node derivatives solve a tridiagonal system; lo, di, up and buf
	// serve as scratch (slopes s, steps h, derivatives t, Thomas factors).
	h, s, t, tmp := w.lo, w.di, w.up, w.buf
	for i := 0; i < n-1; i++ {
		h[i] = xs[i+1] - xs[i]
		s[i] = (y[i+1] - y[i]) / h[i]
	}
	// Rows: 2 t0 + t1 = 3 s0; h_i t_{i-1} + 2(h_i + h_{i-1}) t_i +
	// h_{i-1} t_{i+1} = 3(h_i s_{i-1} + h_{i-1} s_i); t_{n-2} + 2 t_{n-1} =
	// 3 s_{n-2}. Solved as QuantLib's TridiagonalOperator::solveFor.
	sub := func(i int) float64 { // lower diagonal of row i
		if i == n-1 {
			return 1
		}
		return h[i]
	}
	diag := func(i int) float64 {
		switch i {
		case 0, n - 1:
			return 2
		}
		return 2 * (h[i] + h[i-1])
	}
	sup := func(i int) float64 { // upper diagonal of row i
		if i == 0 {
			return 1
		}
		return h[i-1]
	}
	rhs := func(i int) float64 {
		switch i {
		case 0:
			return 3 * s[0]
		case n - 1:
			return 3 * s[n-2]
		}
		return 3 * (h[i]*s[i-1] + h[i-1]*s[i])
	}
	bet := diag(0)
	t[0] = rhs(0) / bet
	for i := 1; i < n; i++ {
		tmp[i] = sup(i-1) / bet
		bet = diag(i) - sub(i)*tmp[i]
		t[i] = (rhs(i) - sub(i)*t[i-1]) / bet
	}
	for i := n - 2; i >= 0; i-- {
		t[i] -= tmp[i+1] * t[i+1]
	}
	// Locate as QuantLib's Interpolation::locate, then filter the two node
	// derivatives of that interval.
	j := 0
	switch {
	case at < xs[0]:
	case at > xs[n-1]:
		j = n - 2
	default:
		for j < n-2 && xs[j+1] <= at {
			j++
		}
	}
	t0, t1 := americanQLHyman(t[j], j, h, s, n), americanQLHyman(t[j+1], j+1, h, s, n)
	a, b, c := t0, (3*s[j]-t1-2*t0)/h[j], (t1+t0-2*s[j])/(h[j]*h[j])
	d := at - xs[j]
	return y[j] + d*(a+d*(b+d*c)), a + (2*b+3*c*d)*d, 2*b + 6*c*d
}

// americanQLHyman applies QuantLib's monotonicity filter (Hyman 1983) to the
// spline derivative t at node i, given steps h and slopes s.
func americanQLHyman(t float64, i int, h, s []float64, n int) float64 {
	clip := func(t, ref, m float64) float64 {
		if t*ref > 0 {
			return math.Copysign(math.Min(math.Abs(t), m), t)
		}
		return 0
	}
	switch i {
	case 0:
		return clip(t, s[0], math.Abs(3*s[0]))
	case n - 1:
		return clip(t, s[n-2], math.Abs(3*s[n-2]))
	}
	pm := (s[i-1]*h[i] + s[i]*h[i-1]) / (h[i-1] + h[i])
	m := 3 * math.Min(math.Min(math.Abs(s[i-1]), math.Abs(s[i])), math.Abs(pm))
	if i > 1 && (s[i-1]-s[i-2])*(s[i]-s[i-1]) > 0 {
		pd := (s[i-1]*(2*h[i-1]+h[i-2]) - s[i-2]*h[i-1]) / (h[i-2] + h[i-1])
		if pm*pd > 0 && pm*(s[i-1]-s[i-2]) > 0 {
			m = math.Max(m, 1.5*math.Min(math.Abs(pm), math.Abs(pd)))
		}
	}
	if i < n-2 && (s[i]-s[i-1])*(s[i+1]-s[i]) > 0 {
		pu := (s[i]*(2*h[i]+h[i+1]) - s[i+1]*h[i]) / (h[i] + h[i+1])
		if pm*pu > 0 && -pm*(s[i]-s[i-1]) > 0 {
			m = math.Max(m, 1.5*math.Min(math.Abs(pm), math.Abs(pu)))
		}
	}
	return clip(t, pm, m)
}
