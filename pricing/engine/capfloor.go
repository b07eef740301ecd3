package engine

import (
	"fmt"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/instrument"
)

// BlackCapFloor prices caps and floors as QuantLib's BlackCapFloorEngine
// (lognormal, shifted by the displacement) and BachelierCapFloorEngine
// (normal) do with a flat vol: each caplet (floorlet) on a coupon still to
// be paid is worth Notional·τ·DF(pay)·Black(F, K, σ, T), F the coupon's par
// forward on the forecast curve (the rule of the swap's floating leg), T
// the Act/365F time to its fixing date. The zero value has no vol: set
// Vol.
type BlackCapFloor struct {
	Vol RateVol
}

// Price returns npv and vega (the sum of the caplets', by the vol in its
// own units, in currency) of one unit of c.
func (e BlackCapFloor) Price(c *instrument.CapFloor, m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	var r pricing.Result
	asOf := m.ValuationDate
	if err := c.Validate(asOf); err != nil {
		return r, err
	}
	if err := e.Vol.validate(); err != nil {
		return r, err
	}
	disc, fwd, err := curvePair(m, c.Curve, c.ForecastCurve)
	if err != nil {
		return r, err
	}
	leg, err := c.Leg()
	if err != nil {
		return r, fmt.Errorf("engine: capfloor: %w", err)
	}
	cap := c.Type == instrument.Cap
	var npv, vega float64
	for i := range leg {
		cp := &leg[i]
		if cp.Pay <= asOf {
			continue
		}
		if cp.FixingStart < asOf {
			return r, pricing.Invalid("start", c.Start, fmt.Sprintf(
				"must not leave a caplet fixed before the valuation date %s (the one from %s to %s fixed on %s; past fixings are not supported)",
				asOf, cp.Start, cp.End, cp.FixingStart))
		}
		fc := newFloatCoupon(cp, asOf)
		f := (fwd.Discount(fc.tStart)/fwd.Discount(fc.tEnd) - 1) / fc.span
		v, _, vg, err := e.Vol.option(cap, f, c.Strike, fc.tStart, cp.FixingStart)
		if err != nil {
			return r, err
		}
		w := c.Notional * fc.accrual * disc.Discount(fc.t)
		npv += w * v
		vega += w * vg
	}
	r.SetValue(pricing.NPV, npv)
	r.SetValue(pricing.Vega, vega)
	return r, nil
}
