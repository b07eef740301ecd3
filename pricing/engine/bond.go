package engine

import (
	"errors"
	"fmt"
	"math"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/instrument"
	"github.com/pricefn/pricefn/pricing/market"
	"github.com/pricefn/pricefn/pricing/solver"
)

// DiscountingBond prices fixed-rate bullet bonds on a discount curve, as
// QuantLib's DiscountingBondEngine and BondFunctions do:
//   - npv, in currency for the face, discounts to the valuation date the
//     cash flows paid after it;
//   - dirtyPrice, per 100 of face, discounts to the settlement date the
//     cash flows paid after that;
//   - accrued, per 100 of face, is the coupon accrued from the start of the
//     current period to the settlement date; cleanPrice is dirty - accrued;
//     all three are 0 for a bond settling on or after its last payment;
//   - yield is the rate, compounded at the bond's frequency with its day
//     count, that discounts the cash flows after settlement to the dirty
//     price, with QuantLib's stepwise coupon-period times; duration is the
//     modified duration and convexity the convexity at that yield; a
//     bond settling on or after its last payment is not tradable, and has
//     none of the three (an error).
//
// The zero value is QuantLib's configuration.
type DiscountingBond struct {
	// YieldAccuracy is the solver's accuracy in yield; zero means
	// DefaultYieldAccuracy, QuantLib's Bond::yield default, whose result it
	// then reproduces to rounding (the exact root may differ by up to
	// about the accuracy).
	YieldAccuracy float64
}

// Price returns npv and, when asked, the prices, yield, duration,
// convexity, pv01 (npv change for a +1bp parallel shift of the curve's
// continuously compounded zero rates) and the cash flows.
func (e DiscountingBond) Price(b *instrument.FixedRateBond, m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	var r pricing.Result
	curve, err := m.Curve(b.Curve)
	if err != nil {
		return r, err
	}
	flows, err := bondFlows(b)
	if err != nil {
		return r, err
	}
	asOf := m.ValuationDate
	npv := func(c pricing.YieldCurve) float64 {
		var v float64
		for _, f := range flows {
			if f.pay > asOf {
				v += f.amount * c.Discount(m.YearFraction(f.pay))
			}
		}
		return v
	}
	r.SetValue(pricing.NPV, npv(curve))
	if want.Has(pricing.PV01) {
		r.SetValue(pricing.PV01, npv(market.NewShiftedCurve(curve, market.BasisPoint))-r.NPV)
	}
	if want.Has(pricing.Cashflows) {
		for _, f := range flows {
			if f.pay > asOf {
				leg := "coupon"
				if !f.coupon {
					leg = "redemption"
				}
				r.Cashflows = append(r.Cashflows, pricing.Cashflow{Date: f.pay, Leg: leg, Amount: f.amount, Discount: curve.Discount(m.YearFraction(f.pay))})
			}
		}
		r.Set = r.Set.With(pricing.Cashflows)
	}
	quotes := pricing.Of(pricing.CleanPrice, pricing.DirtyPrice, pricing.Accrued, pricing.Yield, pricing.Duration, pricing.Convexity)
	if want&quotes == 0 {
		return r, nil
	}
	return r, e.quote(&r, b, flows, curve, m, want)
}

// quote sets the bond's market quotes in r: the prices and accrued at
// settlement and, when asked, yield, duration and convexity.
func (e DiscountingBond) quote(r *pricing.Result, b *instrument.FixedRateBond, flows []bondFlow, curve pricing.YieldCurve, m *pricing.Market, want pricing.Measures) error {
	settle := max(b.Calendar.Advance(m.ValuationDate, b.SettlementDays), b.Issue)
	first := 0 // the first flow paid after settlement
	for first < len(flows) && flows[first].pay <= settle {
		first++
	}
	if first == len(flows) {
		// Nothing is paid after settlement: as QuantLib, whose Bond has
		// no notional left then, the prices and accrued are 0 and the
		// yield and its risks (BondFunctions: "non tradable") fail.
		r.SetValue(pricing.DirtyPrice, 0)
		r.SetValue(pricing.Accrued, 0)
		r.SetValue(pricing.CleanPrice, 0)
		if want.Has(pricing.Yield) || want.Has(pricing.Duration) || want.Has(pricing.Convexity) {
			why := "nothing is paid after it"
			if len(flows) > 0 {
				why = fmt.Sprintf("its last payment is on %s", flows[len(flows)-1].pay)
			}
			return pricing.Invalid("maturity", b.Maturity, fmt.Sprintf(
				"must be paid after the settlement date %s for a yield, duration or convexity (the bond is not tradable at settlement: %s)", settle, why))
		}
		return nil
	}
	var value float64
	for _, f := range flows[first:] {
		value += f.amount * curve.Discount(m.YearFraction(f.pay))
	}
	value /= curve.Discount(m.YearFraction(settle))
	dirty := value * 100 / b.Face
	var accrued float64
	for _, f := range flows[first:] {
		if f.pay != flows[first].pay {
			break
		}
		if f.coupon && f.start < settle && settle <= f.pay {
			accrued += 100 * b.Coupon * b.DayCount.YearFraction(f.start, min(settle, f.end))
		}
	}
	r.SetValue(pricing.DirtyPrice, dirty)
	r.SetValue(pricing.Accrued, accrued)
	r.SetValue(pricing.CleanPrice, dirty-accrued)
	if !want.Has(pricing.Yield) && !want.Has(pricing.Duration) && !want.Has(pricing.Convexity) {
		return nil
	}
	yc := newYieldCashflows(flows[first:], settle, b.DayCount, float64(b.Frequency))
	accuracy := e.YieldAccuracy
	if accuracy == 0 {
		accuracy = DefaultYieldAccuracy
	}
	// QuantLib's target: the clean price plus accrued, per unit of face.
	y, err := yc.solve((r.CleanPrice+accrued)/(100/b.Face), accuracy)
	if err != nil {
		return err
	}
	duration, convexity := yc.risk(y)
	r.SetValue(pricing.Yield, y)
	r.SetValue(pricing.Duration, duration)
	r.SetValue(pricing.Convexity, convexity)
	return nil
}

// bondFlow is one payment of a bond: a coupon with its accrual period, or
// the redemption.
type bondFlow struct {
	pay        dates.Date
	amount     float64 // in currency for the bond's face
	start, end dates.Date
	coupon     bool
}

// bondFlows returns the bond's coupons in order, then its redemption.
func bondFlows(b *instrument.FixedRateBond) ([]bondFlow, error) {
	sched, err := dates.BackwardSchedule(b.Issue, b.Maturity, b.Frequency, b.Calendar, b.Convention)
	if err != nil {
		return nil, fmt.Errorf("engine: bond schedule: %w", err)
	}
	// The schedule is adjusted by the bond's calendar and convention, so a
	// payment date (the accrual end adjusted again) is the accrual end.
	flows := make([]bondFlow, 0, len(sched))
	for i := 1; i < len(sched); i++ {
		flows = append(flows, bondFlow{
			pay:    sched[i],
			amount: b.Face * b.Coupon * b.DayCount.YearFraction(sched[i-1], sched[i]),
			start:  sched[i-1], end: sched[i], coupon: true,
		})
	}
	return append(flows, bondFlow{pay: sched[len(sched)-1], amount: b.Face}), nil
}

// yieldCashflows holds the cash flows after settlement and their times
// under the bond's day count, measured stepwise as QuantLib's CashFlows
// does: a coupon adds its period's fraction from the previous payment (the
// first, its fraction from its accrual start less the part accrued before
// settlement).
type yieldCashflows struct {
	amounts, times []float64
	freq           float64
}

func newYieldCashflows(flows []bondFlow, settle dates.Date, dc dates.DayCount, freq float64) *yieldCashflows {
	yc := &yieldCashflows{amounts: make([]float64, len(flows)), times: make([]float64, len(flows)), freq: freq}
	var t float64
	last := settle
	for i, f := range flows {
		if f.coupon && last != f.start {
			t += dc.YearFraction(f.start, f.pay) - dc.YearFraction(f.start, last)
		} else {
			t += dc.YearFraction(last, f.pay)
		}
		yc.amounts[i], yc.times[i] = f.amount, t
		last = f.pay
	}
	return yc
}

// price returns the value of the cash flows at yield y, compounded freq
// times a year, and its derivative in y.
func (yc *yieldCashflows) price(y float64) (p, dp float64) {
	base := 1 + y/yc.freq
	l := math.Log1p(y / yc.freq)
	for i, c := range yc.amounts {
		b := math.Exp(-yc.freq * yc.times[i] * l)
		p += c * b
		dp -= c * yc.times[i] * b / base
	}
	return p, dp
}

// errNoYield is the yield solver's failure: it could not bracket, or then
// converge on, a yield repricing the dirty price. A yield may still exist
// (a deeply negative one QuantLib's bracketing also misses, stepping below
// -100%), so the message says what the solver did, not that there is none.
var errNoYield = errors.New("engine: the bond yield solver could not find a yield repricing the dirty price")

// QuantLib's Bond::yield settings: the solver's start, its first bracketing
// step, its bracket growth and its evaluation budget.
const (
	yieldGuess   = 0.05
	yieldStep    = yieldGuess / 10
	yieldGrowth  = 1.6
	yieldMaxEval = 100
	// DefaultYieldAccuracy is the yield accuracy of QuantLib's Bond::yield.
	DefaultYieldAccuracy = 1e-8
	machineEps           = 2.220446049250313e-16
)

// irr is QuantLib's IrrFinder at yield y: target less the cash flows'
// value, and the "derivative" QuantLib's NewtonSafe is given, which is the
// modified duration -P'/P rather than -P'.
func (yc *yieldCashflows) irr(target, y float64) (f, df float64) {
	p, dp := yc.price(y)
	if p != 0 {
		df = -dp / p
	}
	return target - p, df
}

// solve returns the yield at which the cash flows are worth target by
// QuantLib's own path (Solver1D bracketing from 5% with step 0.5%, then
// NewtonSafe on IrrFinder to accuracy in yield), so that it agrees with
// QuantLib's Bond::yield to rounding, not just to the solver's accuracy:
// QuantLib stops within about accuracy of the root.
func (yc *yieldCashflows) solve(target, accuracy float64) (float64, error) {
	accuracy = math.Max(accuracy, machineEps)
	f := func(y float64) float64 { v, _ := yc.irr(target, y); return v }
	br, err := solver.Expand(f, yieldGuess, yieldStep, solver.Bounds{}, yieldMaxEval)
	if err != nil {
		return 0, fmt.Errorf("%w %v: %w", errNoYield, target, err)
	}
	y, err := solver.NewtonSafe(func(y float64) (float64, float64) { return yc.irr(target, y) }, br, accuracy, yieldMaxEval)
	if err != nil {
		return 0, fmt.Errorf("%w %v: %w", errNoYield, target, err)
	}
	return y, nil
}

// risk returns the modified duration and the convexity at yield y,
// QuantLib's BondFunctions formulas for compounded yields.
func (yc *yieldCashflows) risk(y float64) (duration, convexity float64) {
	n := yc.freq
	base := 1 + y/n
	l := math.Log1p(y / n)
	var p, dpdy, d2pdy2 float64
	for i, c := range yc.amounts {
		t := yc.times[i]
		b := math.Exp(-n * t * l)
		p += c * b
		dpdy -= c * t * b / base
		d2pdy2 += c * b * t * (n*t + 1) / (n * base * base)
	}
	if p == 0 {
		return 0, 0
	}
	return -dpdy / p, d2pdy2 / p
}
