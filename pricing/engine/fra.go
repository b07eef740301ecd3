package engine

import (
	"fmt"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/instrument"
	"github.com/pricefn/pricefn/pricing/market"
)

// DiscountingFRA prices forward rate agreements: the forward rate F is the
// simple rate (the FRA's day count) implied by the forecast curve over
// [Start, End], and the settlement Notional * (F - Rate) * tau is paid at
// End and discounted on the FRA's curve (negated for Short).
type DiscountingFRA struct{}

// Price returns npv, fairRate (F) and, when asked, pv01 (the npv change
// for a +1bp parallel shift of the continuously compounded zero rates of
// every curve the FRA uses) and the settlement cash flow.
func (DiscountingFRA) Price(f *instrument.FRA, m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	var r pricing.Result
	disc, fwd, err := curvePair(m, f.Curve, f.ForecastCurve)
	if err != nil {
		return r, err
	}
	tStart, tEnd := m.YearFraction(f.Start), m.YearFraction(f.End)
	tau := f.DayCount.YearFraction(f.Start, f.End)
	if !(tau > 0) {
		return r, pricing.Invalid("end", f.End, fmt.Sprintf("must give a period of positive length under %s from start %s", f.DayCount, f.Start))
	}
	sign := 1.0
	if f.Position == instrument.Short {
		sign = -1
	}
	value := func(disc, fwd pricing.YieldCurve) (npv, rate, amount, df float64) {
		rate = (fwd.Discount(tStart)/fwd.Discount(tEnd) - 1) / tau
		amount = sign * f.Notional * (rate - f.Rate) * tau
		df = disc.Discount(tEnd)
		return amount * df, rate, amount, df
	}
	npv, rate, amount, df := value(disc, fwd)
	r.SetValue(pricing.NPV, npv)
	r.SetValue(pricing.FairRate, rate)
	if want.Has(pricing.PV01) {
		sd, sf := shiftedPair(disc, fwd, f.ForecastCurve == "" || f.ForecastCurve == f.Curve)
		up, _, _, _ := value(sd, sf)
		r.SetValue(pricing.PV01, up-npv)
	}
	if want.Has(pricing.Cashflows) {
		r.Cashflows = []pricing.Cashflow{{Date: f.End, Leg: "settlement", Amount: amount, Discount: df}}
		r.Set = r.Set.With(pricing.Cashflows)
	}
	return r, nil
}

// curvePair returns the discounting curve and the forecasting curve: the
// one named forecast, or the discounting curve when forecast is empty.
func curvePair(m *pricing.Market, discount, forecast string) (disc, fwd pricing.YieldCurve, err error) {
	if disc, err = m.Curve(discount); err != nil {
		return nil, nil, err
	}
	if forecast == "" || forecast == discount {
		return disc, disc, nil
	}
	if fwd, err = m.Curve(forecast); err != nil {
		return nil, nil, err
	}
	return disc, fwd, nil
}

// shiftedPair returns disc and fwd with their zero rates up 1bp; when same,
// both are one shifted curve.
func shiftedPair(disc, fwd pricing.YieldCurve, same bool) (pricing.YieldCurve, pricing.YieldCurve) {
	sd := market.NewShiftedCurve(disc, market.BasisPoint)
	if same {
		return sd, sd
	}
	return sd, market.NewShiftedCurve(fwd, market.BasisPoint)
}
