package engine

import (
	"math"
	"sync"
)

// Grid settings of FDAmerican. The log-spot domain spans the forward path
// (spot to spot·exp((r-q)T)) widened by americanHalfWidth standard deviations
// vol·sqrt(T) on each side; nodes follow a sinh map that concentrates them
// around the strike, with americanDensity the concentration scale as a
// fraction of the domain width (QuantLib's Concentrating1dMesher uses the
// same map). The grid is then shifted so that the spot is a node.
const (
	americanHalfWidth = 4.5
	americanDensity   = 0.1
	// americanMaxHalfWidth caps the half-width in log-spot so that exp
	// stays finite for absurd volatilities.
	americanMaxHalfWidth = 40.0
)

// americanWork is the scratch space of one pricing: nodes, operator,
// payoff, values and the factorised step matrices. Reused through
// americanPool; nothing in it outlives a call.
type americanWork struct {
	x          []float64 // log-spot nodes
	lo, di, up []float64 // the operator L as a tridiagonal matrix
	g          []float64 // exercise value at the nodes
	v          []float64 // option values
	buf        []float64 // eliminated right-hand side
	snap       []float64 // values at the theta snapshot time
	f          [3]americanFactor
}

var americanPool = sync.Pool{New: func() any { return new(americanWork) }}

// resize makes every slice of w hold n elements.
func (w *americanWork) resize(n int) {
	grow := func(s []float64) []float64 {
		if cap(s) < n {
			return make([]float64, n)
		}
		return s[:n]
	}
	w.x, w.lo, w.di, w.up = grow(w.x), grow(w.lo), grow(w.di), grow(w.up)
	w.g, w.v, w.buf, w.snap = grow(w.g), grow(w.v), grow(w.buf), grow(w.snap)
	for i := range w.f {
		f := &w.f[i]
		if cap(f.luSub) < n {
			f.luSub, f.ulSub = make([]americanSub, n), make([]americanSub, n)
			f.luEl, f.ulEl = make([]americanElim, n), make([]americanElim, n)
		}
		f.luSub, f.ulSub = f.luSub[:n], f.ulSub[:n]
		f.luEl, f.ulEl = f.luEl[:n], f.ulEl[:n]
	}
}

// americanDomain is the log-spot interval of the grid and the point the
// nodes concentrate around.
type americanDomain struct {
	lo, hi, c float64
	// stretch is the width of [lo, hi] over that of a driftless domain,
	// >= 1: the factor by which the grid gains nodes to keep its resolution.
	stretch float64
}

// americanDomainOf returns the grid domain of the put o.
func americanDomainOf(o americanOption) americanDomain {
	lnS, lnK := math.Log(o.spot), math.Log(o.k)
	drift := (o.r - o.q) * o.t
	hw := math.Min(americanHalfWidth*o.vol*math.Sqrt(o.t), americanMaxHalfWidth)
	d := americanDomain{
		lo: lnS + math.Min(drift, 0) - hw,
		hi: lnS + math.Max(drift, 0) + hw,
		c:  lnK,
	}
	if d.c < d.lo || d.c > d.hi {
		d.c = lnS
	}
	d.stretch = (d.hi - d.lo) / (2 * hw)
	return d
}

// grid lays out len(w.x) log-spot nodes on d for the put o and returns the
// index of the spot node, which lies strictly inside the grid.
func (w *americanWork) grid(o americanOption, d americanDomain) int {
	x := w.x
	n := len(x)
	lnS := math.Log(o.spot)
	alpha := americanDensity * (d.hi - d.lo)
	c1 := math.Asinh((d.lo - d.c) / alpha)
	c2 := math.Asinh((d.hi - d.c) / alpha)
	step := 1 / float64(n-1)
	for i := range x {
		u := float64(i) * step
		x[i] = d.c + alpha*math.Sinh(c1*(1-u)+c2*u)
	}
	j := 1
	for i := 2; i < n-1; i++ {
		if math.Abs(x[i]-lnS) < math.Abs(x[j]-lnS) {
			j = i
		}
	}
	shift := lnS - x[j]
	for i := range x {
		x[i] += shift
	}
	x[j] = lnS
	return j
}

// operator fills lo, di, up with L = (r-q-vol²/2) d/dx + vol²/2 d²/dx² - r
// on the nodes: central differences inside; at the two end nodes a one-sided
// first derivative and no second derivative, as QuantLib's operators.
func (w *americanWork) operator(o americanOption) {
	x, lo, di, up := w.x, w.lo, w.di, w.up
	n := len(x)
	mu := o.r - o.q - 0.5*o.vol*o.vol
	hv := 0.5 * o.vol * o.vol
	for i := 1; i < n-1; i++ {
		hm, hp := x[i]-x[i-1], x[i+1]-x[i]
		lo[i] = (-mu*hp + 2*hv) / (hm * (hm + hp))
		di[i] = (mu*(hp-hm)-2*hv)/(hm*hp) - o.r
		up[i] = (mu*hm + 2*hv) / (hp * (hm + hp))
	}
	h0, hn := x[1]-x[0], x[n-1]-x[n-2]
	lo[0], di[0], up[0] = 0, -mu/h0-o.r, mu/h0
	lo[n-1], di[n-1], up[n-1] = -mu/hn, mu/hn-o.r, 0
}

// payoff fills g with the put's exercise value max(K - e^x, 0) and v with
// its average over each node's cell [x - h⁻/2, x + h⁺/2], which smooths the
// kink at the strike as QuantLib's FdmCellAveragingInnerValue does. The
// spot node j gets max(K - spot, 0) exactly, without the rounding of
// exp(log(spot)).
func (w *americanWork) payoff(k, spot float64, j int) {
	x, g, v := w.x, w.g, w.v
	n := len(x)
	lnK := math.Log(k)
	for i, xi := range x {
		g[i] = math.Max(k-math.Exp(xi), 0)
		v[i] = g[i]
		if i == 0 || i == n-1 {
			continue
		}
		a, b := 0.5*(x[i-1]+xi), 0.5*(xi+x[i+1])
		switch {
		case a >= lnK:
			v[i] = 0
		case b <= lnK:
			v[i] = k - math.Exp(a)*math.Expm1(b-a)/(b-a)
		default:
			v[i] = (k*(lnK-a) - (k - math.Exp(a))) / (b - a)
		}
	}
	g[j] = math.Max(k-spot, 0)
}
