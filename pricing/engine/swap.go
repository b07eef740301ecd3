package engine

import (
	"fmt"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/instrument"
)

// DiscountingSwap prices vanilla fixed-for-floating swaps by projecting
// the floating coupons on the forecast curve and discounting every coupon
// paid after the valuation date on the swap's curve, as QuantLib's
// DiscountingSwapEngine does with par Ibor coupons and no fixing lag.
// A coupon whose floating rate fixed before the valuation date would need
// a past fixing, which the engine does not have: it is an error.
type DiscountingSwap struct{}

// Price returns npv, fairRate (the fixed rate, simple under the fixed day
// count, at which npv is zero, spread kept) and, when asked, pv01 (the npv
// change when the continuously compounded Act/365F zero rates of every
// curve the swap uses rise by 1bp, by full revaluation) and the cash flows.
func (DiscountingSwap) Price(s *instrument.Swap, m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	var r pricing.Result
	disc, fwd, err := curvePair(m, s.Curve, s.ForecastCurve)
	if err != nil {
		return r, err
	}
	l, err := newSwapLegs(s, m.ValuationDate)
	if err != nil {
		return r, err
	}
	same := s.ForecastCurve == "" || s.ForecastCurve == s.Curve
	v := l.value(disc, fwd, same)
	r.SetValue(pricing.NPV, v.npv)
	if v.annuity != 0 {
		r.SetValue(pricing.FairRate, v.floating/v.annuity)
	}
	if want.Has(pricing.PV01) {
		sd, sf := shiftedPair(disc, fwd, same)
		r.SetValue(pricing.PV01, l.value(sd, sf, same).npv-v.npv)
	}
	if want.Has(pricing.Cashflows) {
		r.Cashflows = l.cashflows(disc, fwd)
		r.Set = r.Set.With(pricing.Cashflows)
	}
	return r, nil
}

// swapLegs is a swap's coupons still to be paid, with the curve times they
// read: everything about the swap that does not depend on the market.
type swapLegs struct {
	sign     float64 // +1 pays fixed, -1 receives fixed
	notional float64
	rate     float64
	spread   float64
	fixed    []fixedCoupon
	float    []floatCoupon
}

type fixedCoupon struct {
	pay     dates.Date
	t       float64 // payment time
	accrual float64 // fixed day count fraction of the period
}

type floatCoupon struct {
	pay          dates.Date
	t            float64 // payment time
	tStart, tEnd float64 // forward period, rolled preceding / following
	span         float64 // float day count fraction of the forward period
	accrual      float64 // float day count fraction of the accrual period
}

func newSwapLegs(s *instrument.Swap, asOf dates.Date) (*swapLegs, error) {
	fixed, float, err := s.Legs(asOf)
	if err != nil {
		return nil, fmt.Errorf("engine: swap: %w", err)
	}
	l := &swapLegs{sign: 1, notional: s.Notional, rate: s.FixedRate, spread: s.Spread,
		fixed: make([]fixedCoupon, 0, len(fixed)), float: make([]floatCoupon, 0, len(float))}
	if s.Side == instrument.ReceiveFixed {
		l.sign = -1
	}
	for _, c := range fixed {
		if c.Pay <= asOf {
			continue
		}
		l.fixed = append(l.fixed, fixedCoupon{pay: c.Pay, t: yearFrom(asOf, c.Pay), accrual: c.Accrual})
	}
	for _, c := range float {
		if c.Pay <= asOf {
			continue
		}
		if c.FixingStart < asOf {
			return nil, pricing.Invalid("start", s.Start, fmt.Sprintf(
				"must not leave a floating coupon fixed before the valuation date %s (the coupon from %s to %s fixed on %s; past fixings are not supported)",
				asOf, c.Start, c.End, c.FixingStart))
		}
		l.float = append(l.float, newFloatCoupon(&c, asOf))
	}
	return l, nil
}

// newFloatCoupon returns c with its curve times from asOf.
func newFloatCoupon(c *instrument.FloatCoupon, asOf dates.Date) floatCoupon {
	return floatCoupon{pay: c.Pay, t: yearFrom(asOf, c.Pay),
		tStart: yearFrom(asOf, c.FixingStart), tEnd: yearFrom(asOf, c.FixingEnd),
		span: c.Span, accrual: c.Accrual}
}

func yearFrom(asOf, d dates.Date) float64 { return dates.YearFraction365(asOf, d) }

// swapValue is a swap's value on one pair of curves. annuity and floating
// are per unit notional: the fixed leg's sum of accrual times discount
// factor, and the floating leg's value with spread.
type swapValue struct {
	npv, annuity, floating float64
}

// value discounts the legs; same says fwd is disc, so that a discount
// factor read for a forward may serve for a payment on the same date.
func (l *swapLegs) value(disc, fwd pricing.YieldCurve, same bool) swapValue {
	var v swapValue
	for _, c := range l.fixed {
		v.annuity += c.accrual * disc.Discount(c.t)
	}
	lastT, lastDF := -1.0, 0.0 // the forecast curve's last read, reused by the next coupon
	for _, c := range l.float {
		var dStart float64
		if c.tStart == lastT {
			dStart = lastDF
		} else {
			dStart = fwd.Discount(c.tStart)
		}
		dEnd := fwd.Discount(c.tEnd)
		lastT, lastDF = c.tEnd, dEnd
		rate := (dStart/dEnd-1)/c.span + l.spread
		df := dEnd
		if !same || c.t != c.tEnd {
			df = disc.Discount(c.t)
		}
		v.floating += rate * c.accrual * df
	}
	v.npv = l.sign * l.notional * (v.floating - l.rate*v.annuity)
	return v
}

// cashflows lists the coupons in payment order, fixed before floating on
// the same date, with amounts signed for the holder.
func (l *swapLegs) cashflows(disc, fwd pricing.YieldCurve) []pricing.Cashflow {
	out := make([]pricing.Cashflow, 0, len(l.fixed)+len(l.float))
	i, j := 0, 0
	for i < len(l.fixed) || j < len(l.float) {
		if j == len(l.float) || (i < len(l.fixed) && l.fixed[i].pay <= l.float[j].pay) {
			c := l.fixed[i]
			out = append(out, pricing.Cashflow{Date: c.pay, Leg: "fixed",
				Amount: -l.sign * l.notional * l.rate * c.accrual, Discount: disc.Discount(c.t)})
			i++
			continue
		}
		c := l.float[j]
		rate := (fwd.Discount(c.tStart)/fwd.Discount(c.tEnd)-1)/c.span + l.spread
		out = append(out, pricing.Cashflow{Date: c.pay, Leg: "float",
			Amount: l.sign * l.notional * rate * c.accrual, Discount: disc.Discount(c.t)})
		j++
	}
	return out
}
