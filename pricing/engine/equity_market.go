package engine

import (
	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/market"
)

// EquityMarket is one underlying of a pricing.Market with its curve,
// looked up by name and checked once for the many trades on it, as
// QuantLib's engines hold their process: the market an engine reads for a
// trade on it costs no map look-up. It is read-only and safe for
// concurrent use.
type EquityMarket struct {
	asOf  dates.Date
	name  string
	u     pricing.Underlying
	curve pricing.YieldCurve
	zr    zeroRater // curve as a zeroRater, or nil
	// flat is set where curve is a market.FlatCurve, whose zero rate is
	// rate at every time: an engine reads it without an interface call.
	flat bool
	rate float64
}

// BindEquity looks up the underlying called name in m and its curve, and
// checks its market data against the limits of package pricing. Its errors
// are those of the engines' Price.
func BindEquity(m *pricing.Market, name string) (*EquityMarket, error) {
	em, err := bindEquity(m, name)
	if err != nil {
		return nil, err
	}
	return &em, nil
}

func bindEquity(m *pricing.Market, name string) (EquityMarket, error) {
	u, c, err := m.Underlying(name)
	if err != nil {
		return EquityMarket{}, err
	}
	if err := checkUnderlying(name, u); err != nil {
		return EquityMarket{}, err
	}
	em := EquityMarket{asOf: m.ValuationDate, name: name, u: u, curve: c}
	em.zr, _ = c.(zeroRater)
	if fc, ok := c.(*market.FlatCurve); ok {
		em.flat, em.rate = true, fc.Rate
	}
	return em, nil
}

// zeroRate is zeroRate(em.curve, t), without the type check; a flat
// curve's rate inline, without a call.
func (em *EquityMarket) zeroRate(t float64) float64 {
	if em.flat {
		return em.rate
	}
	return em.curveZeroRate(t)
}

func (em *EquityMarket) curveZeroRate(t float64) float64 {
	if em.zr != nil {
		return em.zr.ZeroRate(t)
	}
	return zeroRate(em.curve, t)
}
