package market

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/instrument"
	"github.com/pricefn/pricefn/pricing/solver"
)

var _ pricing.YieldCurve = (*PiecewiseCurve)(nil)

// PiecewiseCurve is a discount curve bootstrapped from quoted instruments.
// Its nodes are the valuation date (discount factor 1) and one pillar per
// instrument; between nodes the log of the discount factor is linear in
// Actual/365 Fixed time, so instantaneous forward rates are flat between
// pillars (QuantLib's PiecewiseYieldCurve<Discount, LogLinear>). Beyond the
// last pillar the last forward rate continues.
type PiecewiseCurve struct {
	pillars []dates.Date
	times   []float64 // times[0] = 0, then the pillars' times
	logDF   []float64 // logDF[0] = 0
	// reads is how many discount factors repricing all its instruments
	// once reads (BuildReads).
	reads int
}

// Discount returns the discount factor to t, Actual/365 Fixed years from
// the valuation date.
func (c *PiecewiseCurve) Discount(t float64) float64 {
	n := len(c.times) - 1
	var i int
	switch {
	case n < 1:
		return 1
	case t <= 0:
		i = 1
	case t >= c.times[n]:
		i = n
	default:
		i = sort.SearchFloat64s(c.times, t) // times[i-1] < t <= times[i]
	}
	t0, t1 := c.times[i-1], c.times[i]
	l0, l1 := c.logDF[i-1], c.logDF[i]
	return math.Exp(l0 + (l1-l0)*(t-t0)/(t1-t0))
}

// ZeroRate returns the continuously compounded Actual/365 Fixed zero rate
// to t; at t = 0, the first instantaneous forward rate.
func (c *PiecewiseCurve) ZeroRate(t float64) float64 {
	if t <= 0 {
		if len(c.times) < 2 {
			return 0
		}
		return -c.logDF[1] / c.times[1]
	}
	return -math.Log(c.Discount(t)) / t
}

// Pillars returns the pillar dates, ascending.
func (c *PiecewiseCurve) Pillars() []dates.Date { return append([]dates.Date(nil), c.pillars...) }

// PillarRates returns the zero rate to each pillar, in Pillars' order.
func (c *PiecewiseCurve) PillarRates() []float64 {
	out := make([]float64, 0, len(c.times)-1)
	for i := 1; i < len(c.times); i++ {
		out = append(out, -c.logDF[i]/c.times[i])
	}
	return out
}

// BuildReads returns how many discount factors repricing every
// instrument the curve was bootstrapped from once reads: each pillar's
// solve reprices its instrument some tens of times, so the curve's build
// time is about proportional to it (batch's cost estimate).
func (c *PiecewiseCurve) BuildReads() int { return c.reads }

// Quote is one quoted instrument a curve is bootstrapped to: a Deposit or a
// ParSwap.
type Quote interface {
	helper(asOf dates.Date) (rateHelper, error)
}

// rateHelper is a Quote prepared for one valuation date.
type rateHelper interface {
	// pillar is the latest date whose discount factor implied reads.
	pillar() dates.Date
	quote() float64
	// implied is the instrument's rate on curve c.
	implied(c pricing.YieldCurve) float64
	// reads is how many discount factors implied reads.
	reads() int
}

// BootstrapError reports the quote, by its index in the list given to
// Bootstrap, that a curve could not be built from.
type BootstrapError struct {
	Index int
	Err   error
	// SetUpReads, Solved and Reads are the work the build did before it
	// failed: the discount factors the instruments it set up (their
	// schedules built) read, all of them once it began solving; the
	// instruments it solved for, the failing one's solve included (all
	// of them when the curve failed its final reprice check, none when
	// an instrument was refused before solving), and the discount factors
	// repricing those once reads (as BuildReads counts them).
	SetUpReads, Solved, Reads int
}

func (e *BootstrapError) Error() string {
	return fmt.Sprintf("market: bootstrap instrument %d: %v", e.Index, e.Err)
}

func (e *BootstrapError) Unwrap() error { return e.Err }

// repriceTol is how far from its quote, in rate, a bootstrapped curve may
// price an input; the solver typically lands within 1e-15.
const repriceTol = 1e-12

// Bootstrap builds the curve, as of asOf, on which every quote reprices to
// its rate (within 1e-12). Quotes may come in any order; each sets the
// discount factor at its pillar, the last date it depends on (a deposit's
// end; a swap's last payment or last forward-fixing end), so no two quotes
// may share a pillar. Each pillar is solved, in date order, by Brent's
// method on its zero rate. Faults are *BootstrapError naming the quote.
func Bootstrap(asOf dates.Date, quotes []Quote) (*PiecewiseCurve, error) {
	if len(quotes) == 0 {
		return nil, fmt.Errorf("market: bootstrap needs at least one instrument")
	}
	hs := make([]rateHelper, len(quotes))
	order := make([]int, len(quotes))
	reads := 0 // of the instruments set up
	for i, q := range quotes {
		if q == nil {
			return nil, &BootstrapError{Index: i, Err: fmt.Errorf("no instrument"), SetUpReads: reads}
		}
		h, err := q.helper(asOf)
		if err != nil {
			return nil, &BootstrapError{Index: i, Err: err, SetUpReads: reads}
		}
		if math.IsNaN(h.quote()) || math.IsInf(h.quote(), 0) {
			return nil, &BootstrapError{Index: i, Err: fmt.Errorf("rate must be a finite number, got %v", h.quote()), SetUpReads: reads}
		}
		if h.pillar() <= asOf {
			return nil, &BootstrapError{Index: i, Err: fmt.Errorf("ends on %s, not after the valuation date %s", h.pillar(), asOf), SetUpReads: reads}
		}
		hs[i], order[i] = h, i
		reads += h.reads()
	}
	sort.SliceStable(order, func(a, b int) bool { return hs[order[a]].pillar() < hs[order[b]].pillar() })
	c := &PiecewiseCurve{
		pillars: make([]dates.Date, 0, len(hs)),
		times:   make([]float64, 1, len(hs)+1),
		logDF:   make([]float64, 1, len(hs)+1),
		reads:   reads,
	}
	solvedReads := 0
	for k, i := range order {
		h := hs[i]
		if k > 0 && h.pillar() == c.pillars[k-1] {
			return nil, &BootstrapError{Index: i, Err: fmt.Errorf("has the same pillar date %s as instrument %d: each instrument must end on its own date", h.pillar(), order[k-1]), SetUpReads: reads, Solved: k, Reads: solvedReads}
		}
		solvedReads += h.reads()
		t := dates.YearFraction365(asOf, h.pillar())
		c.pillars = append(c.pillars, h.pillar())
		c.times = append(c.times, t)
		c.logDF = append(c.logDF, 0)
		f := func(z float64) float64 {
			c.logDF[k+1] = -z * t
			return h.implied(c) - h.quote()
		}
		guess := h.quote()
		if k > 0 {
			guess = -c.logDF[k] / c.times[k]
		}
		z, err := findRoot(f, guess)
		if err != nil {
			return nil, &BootstrapError{Index: i, Err: fmt.Errorf("no discount factor on %s reprices the rate %v: %w", h.pillar(), h.quote(), err), SetUpReads: reads, Solved: k + 1, Reads: solvedReads}
		}
		c.logDF[k+1] = -z * t
	}
	for i, h := range hs {
		if d := h.implied(c) - h.quote(); !(math.Abs(d) <= repriceTol) {
			return nil, &BootstrapError{Index: i, Err: fmt.Errorf("reprices to %v, %.3g from its rate %v", h.implied(c), d, h.quote()), SetUpReads: reads, Solved: len(hs), Reads: reads}
		}
	}
	return c, nil
}

// Deposit is a deposit quote: Rate, simple under DayCount, accrues from
// Start to End, paid at End. Start is on or after the valuation date.
type Deposit struct {
	Start, End dates.Date
	Rate       float64
	DayCount   dates.DayCount
}

type depositHelper struct {
	end          dates.Date
	rate         float64
	tStart, tEnd float64
	accrual      float64
}

func (d Deposit) helper(asOf dates.Date) (rateHelper, error) {
	switch {
	case !d.DayCount.Valid():
		return nil, fmt.Errorf("deposit: invalid day count %d", uint8(d.DayCount))
	case d.Start < asOf:
		return nil, fmt.Errorf("deposit: start %s must not be before the valuation date %s", d.Start, asOf)
	case d.End <= d.Start:
		return nil, fmt.Errorf("deposit: end %s must be after start %s", d.End, d.Start)
	}
	if acc := d.DayCount.YearFraction(d.Start, d.End); !(acc > 0) {
		return nil, fmt.Errorf("deposit: %s gives no time from %s to %s", d.DayCount, d.Start, d.End)
	}
	return &depositHelper{
		end: d.End, rate: d.Rate,
		tStart: dates.YearFraction365(asOf, d.Start), tEnd: dates.YearFraction365(asOf, d.End),
		accrual: d.DayCount.YearFraction(d.Start, d.End),
	}, nil
}

func (h *depositHelper) pillar() dates.Date { return h.end }
func (h *depositHelper) quote() float64     { return h.rate }
func (h *depositHelper) reads() int         { return 2 }
func (h *depositHelper) implied(c pricing.YieldCurve) float64 {
	return (c.Discount(h.tStart)/c.Discount(h.tEnd) - 1) / h.accrual
}

// ParSwap is a par swap rate quote: the fixed rate at which a vanilla
// fixed-for-floating swap from Start to Maturity is worth zero on the curve
// itself, with the schedules, day counts and par-coupon floating rule of
// the swap trade (docs/rates.md). Start is on or after the valuation date.
type ParSwap struct {
	Start, Maturity dates.Date
	Rate            float64
	FixedFrequency  dates.Frequency
	FixedDayCount   dates.DayCount
	FloatFrequency  dates.Frequency
	FloatDayCount   dates.DayCount
	Calendar        dates.Calendar
	Convention      dates.Convention
}

type swapHelper struct {
	last dates.Date
	rate float64
	// fixed leg: payment times and accrual fractions
	fixT, fixAcc []float64
	// floating leg: payment time, forward start and end times, the
	// forward's span and the coupon's accrual, by coupon
	fltT, fltStart, fltEnd, fltSpan, fltAcc []float64
}

func (s ParSwap) helper(asOf dates.Date) (rateHelper, error) {
	switch {
	case !s.FixedDayCount.Valid() || !s.FloatDayCount.Valid():
		return nil, fmt.Errorf("swap: invalid day count")
	case s.Start < asOf:
		return nil, fmt.Errorf("swap: start %s must not be before the valuation date %s", s.Start, asOf)
	case s.Maturity <= s.Start:
		return nil, fmt.Errorf("swap: maturity %s must be after start %s", s.Maturity, s.Start)
	}
	sw := instrument.Swap{Start: s.Start, Maturity: s.Maturity,
		FixedFrequency: s.FixedFrequency, FixedDayCount: s.FixedDayCount,
		FloatFrequency: s.FloatFrequency, FloatDayCount: s.FloatDayCount,
		Calendar: s.Calendar, Convention: s.Convention}
	fixed, float, err := sw.Legs(asOf)
	if err != nil {
		return nil, fmt.Errorf("swap: %w", err)
	}
	// The swap trade's legs (instrument.Swap), read on the curve itself.
	h := &swapHelper{rate: s.Rate}
	for _, c := range fixed {
		h.last = max(h.last, c.Pay)
		h.fixT = append(h.fixT, dates.YearFraction365(asOf, c.Pay))
		h.fixAcc = append(h.fixAcc, c.Accrual)
	}
	for _, c := range float {
		if c.FixingStart < asOf {
			return nil, fmt.Errorf("swap: first floating rate would fix on %s, before the valuation date %s", c.FixingStart, asOf)
		}
		h.last = max(h.last, c.Pay, c.FixingEnd)
		h.fltT = append(h.fltT, dates.YearFraction365(asOf, c.Pay))
		h.fltStart = append(h.fltStart, dates.YearFraction365(asOf, c.FixingStart))
		h.fltEnd = append(h.fltEnd, dates.YearFraction365(asOf, c.FixingEnd))
		h.fltSpan = append(h.fltSpan, c.Span)
		h.fltAcc = append(h.fltAcc, c.Accrual)
	}
	return h, nil
}

func (h *swapHelper) pillar() dates.Date { return h.last }
func (h *swapHelper) quote() float64     { return h.rate }
func (h *swapHelper) reads() int         { return len(h.fixT) + 3*len(h.fltT) }
func (h *swapHelper) implied(c pricing.YieldCurve) float64 {
	var annuity, floating float64
	for i, t := range h.fixT {
		annuity += h.fixAcc[i] * c.Discount(t)
	}
	for i, t := range h.fltT {
		fwd := (c.Discount(h.fltStart[i])/c.Discount(h.fltEnd[i]) - 1) / h.fltSpan[i]
		floating += fwd * h.fltAcc[i] * c.Discount(t)
	}
	return floating / annuity
}

// findRoot solves f(z) = 0 for a zero rate z near guess: it brackets a sign
// change, expanding from guess by steps of 1% within [-1, 3], then runs
// Brent's method to about 1e-16.
func findRoot(f func(float64) float64, guess float64) (float64, error) {
	br, err := solver.Expand(f, guess, 0.01, solver.Bounds{Lo: -1, Hi: 3}, 0)
	switch {
	case errors.Is(err, solver.ErrNotFinite):
		return 0, fmt.Errorf("the instrument's rate is not finite on the curve")
	case err != nil:
		return 0, fmt.Errorf("no zero rate in [-1, 3] does")
	}
	return solver.Brent(f, br, 1e-16, 200)
}
