package engine

import (
	"fmt"
	"math"
	"sync"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/instrument"
)

// Defaults of QdFpAmerican, used where a field is zero.
const (
	// DefaultQdFpIterations is the most fixed-point steps (m), the first a
	// partial Jacobi-Newton step, the others Anderson-accelerated; the
	// iteration stops earlier once it has converged (see QdFpAmerican).
	DefaultQdFpIterations = 24
)

// qdfpPricePoints is the Gauss-Legendre order of the premium, delta and
// gamma integrals (p) from the third tier on (32 below).
const qdfpPricePoints = 48

// qdfpHighRate is the put's rate (a call's yield), or rate less yield,
// above which the difficulty of a scheme grows in proportion.
const qdfpHighRate = 0.1

// qdfpPriceTol is the fixed-point iteration's stopping tolerance on the
// premium, relative to max(10, European price): 1e-7, a hundredth of the
// reference tolerance (1e-5 absolute or 1e-6 relative).
const qdfpPriceTol = 1e-7

// qdfpFarOut is how many standard deviations σ√T, net of the drift, a put's
// spot may lie above its strike (ln(S/K) - |r-q-σ²/2|·T) before the put is
// priced as worthless: the chance that spot reaches the strike by expiry
// is then below e^{-800}, and so is the value over K, with its greeks. Such
// a put (a strike of 5e-324 against a spot of 100) would otherwise take
// the boundary's iteration to a strike that underflows.
const qdfpFarOut = 40

// qdfpTiers are the default schemes, by the difficulty of the boundary:
// T·max(1, 0.15/vol)·max(1, max(r, r-q)/0.1) for expiry T in years and
// the put's rate and yield (a call's yield and rate): a long expiry, a low
// vol or a high rate stretches the boundary over more of its shape. Each
// tier holds difficulties up to maxT and gives the rule (n Chebyshev
// intervals, l fixed-point points, p pricing points) and the largest
// change of -ln(B/B(0+)) at a node that the last fixed-point step may
// leave. The schemes are the cheapest found to keep every case of the test
// tables (testdata/american_*.csv, 3,800 QuantLib prices: expiries of a
// day to 30 years, vols of 2% to 150%, rates and yields of -3% to 15%)
// within the reference tolerance where QuantLib's own schemes agree, and
// 15,000 further cases (vols of 0.5% to 60%, rates to 20% and yields to
// 35%, expiries to 50 years) within it of a scheme four to sixteen times
// finer (TestQdFpAmericanLowVol, TestQdFpAmericanHighRates). Past a
// difficulty of 5 the integrands turn steep (a transition density of a
// small vol over a long time) and the rules grow with it, to 768 pricing
// points. A tier's rule is made the first time it is used, not at every
// start of a program that links the engines.
var qdfpTiers = sync.OnceValue(func() []qdfpTier {
	tiers := []qdfpTier{
		{maxT: 0.5, n: 8, l: 8, p: 32, resTol: 3e-6},
		{maxT: 2, n: 10, l: 8, p: 32, resTol: 3e-6},
		{maxT: 5, n: 16, l: 12, p: qdfpPricePoints, resTol: 3e-6},
		{maxT: 60, n: 32, l: 24, p: 2 * qdfpPricePoints, resTol: 3e-7},
		{maxT: 200, n: 48, l: 32, p: 2 * qdfpPricePoints, resTol: 3e-7},
		{maxT: 450, n: 48, l: 48, p: 4 * qdfpPricePoints, resTol: 3e-7},
		{maxT: 900, n: 48, l: 64, p: 8 * qdfpPricePoints, resTol: 3e-7},
		{maxT: 1800, n: 48, l: 96, p: 16 * qdfpPricePoints, resTol: 3e-7},
		{maxT: math.Inf(1), n: 64, l: 128, p: 32 * qdfpPricePoints, resTol: 3e-7},
	}
	for i := range tiers {
		t := &tiers[i]
		t.rule = sync.OnceValue(func() *qdfpRule { return newQdfpRule(t.n, t.l, t.p) })
	}
	return tiers
})

// qdfpNearTier is the tier whose rule prices an option whose spot is
// near the boundary (within qdfpNearRule, qdfpNear) at least:
// 16 Chebyshev intervals and 12 fixed-point points. With the coarser rules
// of the first tiers, such options missed by up to 3.7 times the reference
// tolerance.
const qdfpNearTier = 2

// qdfpNearestTier holds the rule that prices an option whose spot is within
// qdfpNearBoundary of the boundary at least: 24 Chebyshev intervals and 16
// fixed-point points. With the near tier's rule, such options at low vols
// (1% to 3%, a few months) missed by up to 2.4 times the reference
// tolerance. Its maxT is unused.
var qdfpNearestTier = sync.OnceValue(func() *qdfpTier {
	t := &qdfpTier{n: 24, l: 16, p: qdfpPricePoints, resTol: 3e-6}
	t.rule = sync.OnceValue(func() *qdfpRule { return newQdfpRule(t.n, t.l, t.p) })
	return t
})

// qdfpNear returns the tier whose rule prices at least an option whose spot
// is a (ln S/B(T) in units of σ√T) from the boundary, or nil if it is not
// near it.
func qdfpNear(a float64) *qdfpTier {
	switch {
	case a <= 0 || a >= qdfpNearRule:
		return nil
	case a < qdfpNearBoundary:
		return qdfpNearestTier()
	}
	return &qdfpTiers()[qdfpNearTier]
}

// qdfpTier is one of qdfpTiers.
type qdfpTier struct {
	maxT    float64
	n, l, p int
	resTol  float64
	rule    func() *qdfpRule
}

// QdFpAmerican prices American options on a flat Black-Scholes-Merton market
// by the method of Andersen, Lake and Offengenden (2016, "High-performance
// American option pricing", J. Comp. Finance 20(1)), as QuantLib's
// QdFpAmericanEngine: the put's exercise boundary B is the fixed point of
// an integral equation (FP-B; FP-A where |r-q| < 0.001, as QuantLib),
// started from the QD+ approximation, improved by a partial Jacobi-Newton
// step and then fixed-point steps with Anderson acceleration, and held as a
// Chebyshev interpolant of ln(B/B(0+))² in sqrt(time to expiry); the price
// is the European price plus the early-exercise premium, an integral over
// the boundary. The time integrals use Gauss-Legendre rules in an angle θ
// with t = τ·sin²θ, which makes both ends of each integral smooth. Delta
// and gamma are the derivatives of the integral representation in the spot
// (the boundary does not depend on it); theta comes from the pricing
// equation, r·V - (r-q)·S·delta - ½σ²S²·gamma, except within a quarter of
// σ√T of the boundary (qdfpNearBoundary), where those terms nearly cancel
// and theta is the central difference of the value in the expiry (two more
// pricings: within the whole σ√T, they took a typical option's npv, delta,
// gamma and theta from 41 to 94 µs); it is 0 in the exercise region, where
// the value is the payoff.
//
// The iteration stops when the premium (on a coarse 8-point rule) has
// settled to 1e-7 of max(10, European price), allowing for the estimated
// contraction of the iteration, and the boundary's last change is below
// the tier's threshold; the scheme (n, l, p) is chosen by tiers of a
// difficulty that grows with the expiry, as the vol falls and as the
// put's rate rises (see qdfpTiers): n = 8 to 64 Chebyshev intervals. A
// spot within σ√T of the boundary (in ln S) takes at least the rule of the
// third tier; within a quarter of it at least 24 intervals and 16
// fixed-point points, and the premium's integrals are split where their
// integrands turn (qdfpNearBoundary): such options missed by up to three
// times the reference tolerance, and their gamma by a quarter.
//
// Calls are priced as puts through the McDonald-Schroder symmetry
// C(S, K, r, q) = P(K, S, q, r). Where early exercise is never optimal (a
// put with r <= 0 and r <= q; a call with q <= 0 and q <= r) the price is
// the Black-Scholes-Merton European price with its analytic greeks, as
// QuantLib. Where the put would have two exercise boundaries (q < r < 0;
// for a call r < q < 0), which QuantLib 1.29's engine rejects, QdFpAmerican
// prices with FDAmerican (default grid), whose theta is its
// finite-difference theta.
//
// On the reference batch the price is within 0.13 of the reference
// tolerance (1e-5 absolute or 1e-6 relative) of QuantLib's QdFp engine with
// its high-precision scheme, and within 0.9 of it on 3,800 harder cases;
// npv, delta, gamma and theta of a typical option take some 40 µs, a
// 30-year option about a millisecond, up to 5 at a vol of 1%.
//
// T is Act/365F years from the valuation date to expiry, r the zero rate
// -ln(DF(T))/T of the underlying's curve (a flat curve's rate exactly), q
// the continuous dividend yield and vol the flat Black volatility;
// vol·sqrt(T) must be at least 1e-10.
//
// The zero value is a valid configuration. Nodes (n), Iterations (most
// steps, m), BoundaryPoints (l) and PricePoints (p) override the scheme of
// the paper's (l, m, n)-p notation; a non-positive field keeps the default.
type QdFpAmerican struct {
	Nodes, Iterations, BoundaryPoints, PricePoints int
}

// qdfpPool recycles the scratch space of pricings.
var qdfpPool = sync.Pool{New: func() any { return new(qdfpWork) }}

// Price returns the value of one unit of o. It computes npv and, when want
// holds delta, gamma or theta, those three (delta dV/dS, gamma d²V/dS²,
// theta dV/dt per year), and sets exactly what it computed in Result.Set;
// vega and rho are left out, as FDAmerican does. Inputs that cannot be
// priced give a *pricing.InputError or *pricing.UnknownError.
func (e QdFpAmerican) Price(o *instrument.American, m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	if err := o.Validate(m.ValuationDate); err != nil {
		return pricing.Result{}, err
	}
	in, err := americanMarket(&o.Option, m)
	if err != nil {
		return pricing.Result{}, err
	}
	greeks := want&pricing.Of(pricing.Delta, pricing.Gamma, pricing.Theta) != 0
	g, ok := e.price(in, greeks)
	if !ok {
		g = americanPrice(in, DefaultAmericanTimeSteps, DefaultAmericanGridPoints)
		greeks = true
		// An American option is worth at least the European. Where the
		// grid's error takes it below (a 50-year call at a vol of 144%,
		// r < q < 0: 12.46 against 12.91, as QuantLib's own 2000 x 2000
		// grid gives), the European, with its greeks, is the nearer price.
		if npv, delta, gamma, theta := americanEuropean(in.call, in.spot, in.k, in.t, in.r, in.q, in.vol); g.npv < npv {
			g = americanGreeks{npv: npv, delta: delta, gamma: gamma, theta: theta}
		}
	}
	if !americanFinite(g.npv) || greeks && (!americanFinite(g.delta) || !americanFinite(g.gamma) || !americanFinite(g.theta)) {
		return pricing.Result{}, pricing.Invalid("market.underlyings."+pricing.Shown(o.Underlying),
			fmt.Sprintf("spot %g, vol %g, dividendYield %g, rate %g, %g years", in.spot, in.vol, in.q, in.r, in.t),
			"gives no finite American price")
	}
	var r pricing.Result
	r.SetValue(pricing.NPV, g.npv)
	if greeks {
		r.SetValue(pricing.Delta, g.delta)
		r.SetValue(pricing.Gamma, g.gamma)
		r.SetValue(pricing.Theta, g.theta)
	}
	return r, nil
}

// rule returns the rule of e for an expiry of t years, volatility vol and
// the put's rate r and yield q, its most fixed-point steps and its
// threshold of the last step's change: the tier's where a field is zero.
func (e QdFpAmerican) rule(t, vol, r, q float64) (*qdfpRule, int, float64) {
	iters := e.Iterations
	if iters <= 0 {
		iters = DefaultQdFpIterations
	}
	// A high rate of the put (a call's yield), or a high rate less yield,
	// moves the boundary as a low vol does.
	d := t * math.Max(1, 0.15/vol) * math.Max(1, math.Max(r, r-q)/qdfpHighRate)
	tiers := qdfpTiers()
	tier := &tiers[len(tiers)-1]
	for i := range tiers {
		if d <= tiers[i].maxT {
			tier = &tiers[i]
			break
		}
	}
	n, l, p := e.Nodes, e.BoundaryPoints, e.PricePoints
	if n <= 0 {
		n = tier.n
	}
	if l <= 0 {
		l = tier.l
	}
	if p <= 0 {
		p = tier.p
	}
	if n != tier.n || l != tier.l || p != tier.p {
		return newQdfpRule(n, l, p), iters, tier.resTol
	}
	return tier.rule(), iters, tier.resTol
}

// price prices o, with delta, gamma and theta if greeks is set; ok is false
// in the double-boundary regime, which it leaves to the caller.
func (e QdFpAmerican) price(o americanOption, greeks bool) (g americanGreeks, ok bool) {
	// The put of the symmetry: P(S', K', r', q') with S' = K, K' = S,
	// r' = q, q' = r for a call.
	p := qdfpMarket{s: o.spot, k: o.k, r: o.r, q: o.q, vol: o.vol, t: o.t}
	if o.call {
		p.s, p.k, p.r, p.q = o.k, o.spot, o.q, o.r
	}
	switch {
	case p.r <= 0 && p.r <= p.q:
		// Early exercise is never optimal.
		bs := blackScholes(o.call, o.spot, o.k, o.r, o.q, o.vol, o.t, greeks)
		return americanGreeks{npv: math.Max(bs.npv, 0), delta: bs.delta, gamma: bs.gamma, theta: bs.theta}, true
	case p.r < 0 && p.q < p.r:
		return americanGreeks{}, false
	case math.Log(p.s/p.k)-math.Abs(p.r-p.q-0.5*p.vol*p.vol)*p.t > qdfpFarOut*p.vol*math.Sqrt(p.t):
		return americanGreeks{}, true
	}
	ru, iters, resTol := e.rule(p.t, p.vol, p.r, p.q)
	eu := blackScholes(false, p.s, p.k, p.r, p.q, p.vol, p.t, false)
	eps := qdfpPriceTol * math.Max(10, eu.npv)
	w := qdfpPool.Get().(*qdfpWork)
	defer qdfpPool.Put(w)
	fpA := math.Abs(p.r-p.q) < 0.001
	own := e.Nodes > 0 || e.BoundaryPoints > 0 // a scheme of the caller's: kept
	if !own {
		// The spot near the boundary, whose error then moves the price
		// most, takes a finer rule (qdfpNear): chosen first by the QD+
		// boundary, within a few thousandths of σ√T of the one found
		// (the iteration's own start), so that the boundary is found
		// once, not on the tier's rule and then on the finer one.
		qd := qdPlus{k: p.k, r: p.r, q: p.q, vol: p.vol, xmax: qdfpXMax(p.k, p.r, p.q), s: p.s}
		if near := qdfpNear(math.Log(p.s/qd.boundary(p.t)) / (p.vol * math.Sqrt(p.t))); near != nil && ru.n < near.n {
			ru, resTol = near.rule(), near.resTol
		}
	}
	w.boundary(p, ru, iters, eps, resTol, fpA)
	_, _, a := w.distance(p)
	if near := qdfpNear(a); near != nil && ru.n < near.n && !own {
		// Nearer than QD+ told: the boundary again, on the finer rule.
		ru, resTol = near.rule(), near.resTol
		w.boundary(p, ru, iters, eps, resTol, fpA)
	}
	pv := w.premium(p, ru, greeks)
	g.npv = pv.npv
	if !greeks {
		return g, true
	}
	g.delta, g.gamma = pv.delta, pv.gamma
	if o.call {
		// The put's value is homogeneous of degree one in (S', K'), so
		// dC/dS = dP/dK' = (P - S'·dP/dS')/K' and d²C/dS² = (S'/K')²·d²P/dS'².
		ks := o.k / o.spot
		g.delta = (pv.npv - o.k*pv.delta) / o.spot
		g.gamma = ks * ks * pv.gamma
	}
	switch {
	case pv.exercise:
	case a < qdfpNearBoundary:
		// Near the boundary the pricing equation's terms nearly cancel
		// (theta is 0 on the boundary), and gamma's error, which jumps
		// there, took theta up to a quarter off: the central difference
		// of the value in the expiry instead, the same for the put of the
		// symmetry as for the call.
		g.theta = w.theta(p, ru, iters, eps, resTol, fpA)
	default:
		g.theta = o.r*g.npv - (o.r-o.q)*o.spot*g.delta - 0.5*o.vol*o.vol*o.spot*o.spot*g.gamma
	}
	return g, true
}

// qdfpThetaBump is the relative change of the expiry by which theta
// differentiates the value near the boundary.
const qdfpThetaBump = 1e-3

// qdfpThetaTol scales the fixed-point iteration's stopping tolerances for
// the two values theta differentiates: where each iteration stopped at the
// price's own tolerance, the difference of two values a few days out was
// off by half of it.
const qdfpThetaTol = 1e-3

// theta returns dV/dt per year of put m, -dV/dT, as the central difference
// of its value over expiries T(1 ± qdfpThetaBump), each priced with the
// boundary on rule ru as the option itself, to a tighter tolerance
// (qdfpThetaTol). A longer expiry is the same option with r, q and σ²
// scaled by the ratio of the expiries, so the difference keeps T and
// scales those. It leaves w holding the last boundary.
func (w *qdfpWork) theta(m qdfpMarket, ru *qdfpRule, iters int, eps, resTol float64, fpA bool) float64 {
	var v [2]float64
	for i, h := range [2]float64{qdfpThetaBump, -qdfpThetaBump} {
		b := m
		b.r, b.q, b.vol = m.r*(1+h), m.q*(1+h), m.vol*math.Sqrt(1+h)
		w.boundary(b, ru, iters, eps*qdfpThetaTol, resTol*qdfpThetaTol, fpA)
		v[i] = w.premium(b, ru, false).npv
	}
	return -(v[0] - v[1]) / (2 * qdfpThetaBump * m.t)
}
