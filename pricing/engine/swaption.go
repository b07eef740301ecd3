package engine

import (
	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/instrument"
)

// BlackSwaption prices physically settled European swaptions as QuantLib's
// BlackSwaptionEngine (lognormal, shifted by the displacement) and
// BachelierSwaptionEngine (normal) do with a flat vol: the underlying swap
// is built exactly as a swap trade (DiscountingSwap's legs, par floating
// coupons), its annuity A is the fixed leg's Σ τ_i·DF(pay_i)·notional and
// its fair rate F the floating leg's value over A/notional; the swaption is
// worth A·Black(F, K, σ, T) (Bachelier for normal vols), a payer being a
// call on the rate, with T the Act/365F time to expiry. The zero value
// has no vol: set Vol.
type BlackSwaption struct {
	Vol RateVol
}

// Price returns npv, annuity, fairRate, vega (by the vol in its own units,
// in currency) and delta (dV/dF, in currency per unit of rate) of one unit
// of s.
func (e BlackSwaption) Price(s *instrument.Swaption, m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	var r pricing.Result
	if err := s.Validate(m.ValuationDate); err != nil {
		return r, err
	}
	if err := e.Vol.validate(); err != nil {
		return r, err
	}
	disc, fwd, err := curvePair(m, s.Swap.Curve, s.Swap.ForecastCurve)
	if err != nil {
		return r, err
	}
	l, err := newSwapLegs(&s.Swap, m.ValuationDate)
	if err != nil {
		return r, instrument.SwaptionField(err)
	}
	same := s.Swap.ForecastCurve == "" || s.Swap.ForecastCurve == s.Swap.Curve
	v := l.value(disc, fwd, same)
	if !(v.annuity > 0) {
		return r, pricing.CurveInvalid(s.Swap.Curve, v.annuity, "must give the swap a positive annuity")
	}
	fair := v.floating / v.annuity
	annuity := s.Swap.Notional * v.annuity
	value, delta, vega, err := e.Vol.option(s.Swap.Side == instrument.PayFixed, fair, s.Swap.FixedRate, m.YearFraction(s.Expiry), s.Expiry)
	if err != nil {
		return r, err
	}
	r.SetValue(pricing.NPV, annuity*value)
	r.SetValue(pricing.Annuity, annuity)
	r.SetValue(pricing.FairRate, fair)
	r.SetValue(pricing.Vega, annuity*vega)
	r.SetValue(pricing.Delta, annuity*delta)
	return r, nil
}
