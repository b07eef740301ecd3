package engine

import (
	"fmt"
	"math"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/instrument"
)

// Defaults of FDAmerican, used where a field is zero.
const (
	// DefaultAmericanTimeSteps is the tGrid of QuantLib's
	// FdBlackScholesVanillaEngine on a 2000 x 2000 grid, the engine
	// FDAmerican follows (the reference prices are now QuantLib's QdFp
	// engine at high precision, which QdFpAmerican matches).
	DefaultAmericanTimeSteps = 2000
	// DefaultAmericanGridPoints is the base number of log-spot nodes. With
	// the default time steps it keeps the price within a third of the
	// reference tolerance (2e-3 absolute or 2e-4 relative) of the reference
	// on 2,400 QuantLib cases, expiries of a day to 30 years.
	DefaultAmericanGridPoints = 300
)

// minAmericanGridPoints is the smallest grid FDAmerican accepts; fewer nodes
// are raised to it.
const minAmericanGridPoints = 16

// americanMinStdDev is the smallest vol·sqrt(T) FDAmerican prices: below it
// the log-spot grid would collapse to a point.
const americanMinStdDev = 1e-10

// From vol·sqrt(T) = americanReplicaStdDev on, the reference engine's own
// grid is too coarse for its price to be within the reference tolerance of
// the converged one (its mesh spans ±8.4 standard deviations of log-spot
// with 2000 nodes, and a call's payoff grows exponentially on it), so no
// accurate engine can match it: FDAmerican then replicates that engine on
// its own mesh, with americanReplicaNodes nodes for the default
// GridPoints (in proportion for others), about five times the work of its
// own grid. Beyond americanReplicaMaxStdDev that mesh would overflow exp,
// and FDAmerican keeps its own.
const (
	americanReplicaStdDev    = 4.0
	americanReplicaMaxStdDev = 50.0
	americanReplicaNodes     = 2000
)

// FDAmerican prices American options on a flat Black-Scholes-Merton market
// by finite differences in log-spot: Crank-Nicolson steps with the
// early-exercise constraint applied by projection after each step, on the
// time grid of QuantLib's FdBlackScholesVanillaEngine (Douglas scheme,
// theta 1/2, no damping steps) on a 2000 x 2000 grid, the engine it is
// checked against: not the reference prices, which are QuantLib's QdFp
// engine at high precision (QdFpAmerican, the default engine; this one is
// a trade's "engine": "fd"). With the default 2000 time steps it
// reproduces that FD engine's time-discretisation error, which for
// expiries of years exceeds the reference tolerance, while its own
// log-spot grid puts a node on the spot, concentrates nodes at the strike
// and needs a sixth of that engine's nodes.
//
// Calls are priced as puts through the McDonald-Schroder symmetry
// C(S, K, r, q) = P(K, S, q, r), which keeps the payoff bounded on the grid.
// When early exercise is never optimal (a call with q <= 0 <= r, a put with
// r <= 0 <= q) the price is the Black-Scholes-Merton European price. From
// vol·sqrt(T) = 4 on, where the 2000 x 2000 FD engine's own grid is too
// coarse to be near the converged price, FDAmerican replicates that engine
// on its mesh instead, for these options too; and it does so wherever its
// own grid would need half the replica's nodes or more (long expiries,
// strong drifts, large strikes with small prices), where the replica costs
// at most twice as much and matches that engine exactly.
//
// T is Act/365F years from the valuation date to expiry, r the zero rate
// -ln(DF(T))/T of the underlying's curve (a flat curve's rate exactly), q
// the continuous dividend yield and vol the flat Black volatility;
// vol·sqrt(T) must be at least 1e-10.
//
// The zero value is a valid configuration. TimeSteps is the number of time
// steps from expiry to the valuation date (default DefaultAmericanTimeSteps).
// GridPoints is the base number of log-spot nodes (default
// DefaultAmericanGridPoints, at least 16): the grid grows with the drift
// (r-q)T beyond its driftless width, as sqrt(T/2.25) for expiries T beyond
// 2.25 years and as sqrt(K/(5e4 tol)) where the put's strike K (the spot,
// for a call) is large against the reference tolerance tol at the European
// price, up to eight times in all; the replica uses 2000 nodes at the
// default GridPoints, in proportion otherwise. Non-positive values mean the
// default. The work grows as TimeSteps times the nodes: about 1 ms a trade
// for ordinary expiries with the defaults, 6.5 ms with the replica.
type FDAmerican struct{ TimeSteps, GridPoints int }

// Price returns the value of one unit of o. It computes npv, delta (dV/dS),
// gamma (d2V/dS2) and theta (dV/dt per year, as QuantLib's finite-difference
// engines report it: the change in value over the first 0.99·min(1, 365T)
// days, divided by that time) whatever want holds, and sets exactly those in
// Result.Set; vega and rho are left out. Inputs that cannot be priced give a
// *pricing.InputError or *pricing.UnknownError.
func (e FDAmerican) Price(o *instrument.American, m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	if err := o.Validate(m.ValuationDate); err != nil {
		return pricing.Result{}, err
	}
	in, err := americanMarket(&o.Option, m)
	if err != nil {
		return pricing.Result{}, err
	}
	steps, grid := e.TimeSteps, e.GridPoints
	if steps <= 0 {
		steps = DefaultAmericanTimeSteps
	}
	if grid <= 0 {
		grid = DefaultAmericanGridPoints
	}
	grid = max(grid, minAmericanGridPoints)
	g := americanPrice(in, steps, grid)
	if !americanFinite(g.npv) || !americanFinite(g.delta) || !americanFinite(g.gamma) || !americanFinite(g.theta) {
		return pricing.Result{}, pricing.Invalid("market.underlyings."+pricing.Shown(o.Underlying),
			fmt.Sprintf("spot %g, vol %g, dividendYield %g, rate %g, %g years", in.spot, in.vol, in.q, in.r, in.t),
			"gives no finite finite-difference price")
	}
	var r pricing.Result
	r.SetValue(pricing.NPV, g.npv)
	r.SetValue(pricing.Delta, g.delta)
	r.SetValue(pricing.Gamma, g.gamma)
	r.SetValue(pricing.Theta, g.theta)
	return r, nil
}

// americanOption is an American option on a flat Black-Scholes-Merton
// market: spot and strike in currency, t in Act/365F years (> 0), r and q
// continuously compounded per year, vol the Black volatility per 1.00.
type americanOption struct {
	call    bool
	spot, k float64
	t, r, q float64
	vol     float64
}

// americanGreeks is what the engine computes for one unit of an option.
type americanGreeks struct {
	npv, delta, gamma, theta float64
}

// americanMarket reads the flat market of option o from m and checks it.
func americanMarket(o *instrument.Option, m *pricing.Market) (americanOption, error) {
	u, c, err := m.Underlying(o.Underlying)
	if err != nil {
		return americanOption{}, err
	}
	// field is the path of the underlying's field f, built for an error
	// alone, the name cut as pricing.Shown cuts one.
	field := func(f string) string { return "market.underlyings." + pricing.Shown(o.Underlying) + "." + f }
	switch {
	case !(u.Spot > 0) || math.IsInf(u.Spot, 1):
		return americanOption{}, pricing.Invalid(field("spot"), u.Spot, "must be a finite number > 0")
	case !(u.Vol > 0) || math.IsInf(u.Vol, 1):
		return americanOption{}, pricing.Invalid(field("vol"), u.Vol, "must be a finite number > 0")
	case !americanFinite(u.DividendYield):
		return americanOption{}, pricing.Invalid(field("dividendYield"), u.DividendYield, "must be a finite number")
	}
	t := m.YearFraction(o.Expiry)
	if sd := u.Vol * math.Sqrt(t); !(sd >= americanMinStdDev) {
		return americanOption{}, pricing.Invalid(field("vol"), u.Vol, fmt.Sprintf("must give vol·sqrt(T) >= %g to expiry %s", americanMinStdDev, o.Expiry))
	}
	df := c.Discount(t)
	if !(df > 0) || math.IsInf(df, 1) {
		return americanOption{}, pricing.Invalid("market.curves."+pricing.Shown(u.Curve), df, fmt.Sprintf("must give a finite discount factor > 0 to expiry %s", o.Expiry))
	}
	return americanOption{
		call: o.Right == instrument.Call,
		spot: u.Spot, k: o.Strike,
		// The curve's own zero rate where it knows it (a flat curve's rate
		// exactly): -ln(DF)/T can miss it by an ulp, and a yield equal to a
		// negative rate then fell into the double-boundary regime (q < r < 0
		// for a put), off to the finite-difference engine.
		t: t, r: zeroRate(c, t), q: u.DividendYield,
		vol: u.Vol,
	}, nil
}

// americanPrice prices o with the given time steps and base grid size,
// within the no-arbitrage bounds max(payoff now, 0) <= V <= K max(1, e^{-rT})
// for a put, S max(1, e^{-qT}) for a call. (QuantLib reads its price off a
// spline, so at far corners its replica can stray outside them by parts in
// a million; so can a capped grid at absurd volatilities.)
func americanPrice(o americanOption, steps, grid int) americanGreeks {
	g := americanPriceUnbounded(o, steps, grid)
	lo, hi := math.Max(o.k-o.spot, 0), o.k*math.Max(1, math.Exp(-o.r*o.t))
	if o.call {
		lo, hi = math.Max(o.spot-o.k, 0), o.spot*math.Max(1, math.Exp(-o.q*o.t))
	}
	g.npv = math.Min(math.Max(g.npv, lo), hi)
	return g
}

// americanPriceUnbounded prices o. Where vol·sqrt(T) is so large that the
// reference engine's own grid error exceeds the reference tolerance, it
// replicates that engine on its own mesh; otherwise options never worth
// exercising early get the European price, and the rest are priced as puts
// (calls through the put-call symmetry) on the engine's own grid, or on the
// replica where that grid would need half the replica's nodes or more.
func americanPriceUnbounded(o americanOption, steps, grid int) americanGreeks {
	sd := o.vol * math.Sqrt(o.t)
	replicable := sd <= americanReplicaMaxStdDev
	replicaNodes := (americanReplicaNodes*grid + DefaultAmericanGridPoints/2) / DefaultAmericanGridPoints
	if sd >= americanReplicaStdDev && replicable {
		return americanSolveQuantLib(o, steps, replicaNodes)
	}
	if o.call && o.q <= 0 && o.r >= 0 || !o.call && o.r <= 0 && o.q >= 0 {
		// Theta as the finite-difference engines define it: the change in
		// value over the snapshot time, exactly.
		var g americanGreeks
		g.npv, g.delta, g.gamma, _ = americanEuropean(o.call, o.spot, o.k, o.t, o.r, o.q, o.vol)
		dt := americanThetaTime(o.t)
		later, _, _, _ := americanEuropean(o.call, o.spot, o.k, o.t-dt, o.r, o.q, o.vol)
		g.theta = (later - g.npv) / dt
		return g
	}
	// C(S, K, r, q) = P(S' = K, K' = S, q, r). The put's price is
	// homogeneous of degree one in (S', K'), so dC/dS = dP/dK' =
	// (P - S' dP/dS')/K' and d2C/dS2 = d2P/dK'2 = (S'/K')^2 d2P/dS'2.
	p := o
	if o.call {
		p.call = false
		p.spot, p.k = o.k, o.spot
		p.r, p.q = o.q, o.r
	}
	d, n := americanPutGrid(p, grid)
	if 2*n >= replicaNodes && replicable {
		return americanSolveQuantLib(o, steps, replicaNodes)
	}
	g := americanSolvePut(p, steps, d, n)
	if !o.call {
		return g
	}
	ks := o.k / o.spot
	return americanGreeks{
		npv:   g.npv,
		delta: (g.npv - o.k*g.delta) / o.spot,
		gamma: ks * ks * g.gamma,
		theta: g.theta,
	}
}

// americanFinite reports whether x is neither NaN nor infinite.
func americanFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// americanEuropean returns the Black-Scholes-Merton value (floored at 0)
// of the European option with an American's terms, and its delta dV/dS,
// gamma d2V/dS2 and theta dV/dt per year: the price of an American option
// whose early exercise is never optimal, by the one copy of the formula
// (blackScholes). s is the spot, k the strike, t the Act/365F time to
// expiry in years (> 0), r and q the continuously compounded risk-free rate
// and dividend yield, vol the Black volatility.
func americanEuropean(call bool, s, k, t, r, q, vol float64) (npv, delta, gamma, theta float64) {
	bs := blackScholes(call, s, k, r, q, vol, t, true)
	return math.Max(bs.npv, 0), bs.delta, bs.gamma, bs.theta
}
