package market

import (
	"math"

	"github.com/pricefn/pricefn/pricing"
)

var _ pricing.YieldCurve = (*ShiftedCurve)(nil)

// BasisPoint is one basis point, 0.0001, the shift pv01 applies.
const BasisPoint = 1e-4

// ShiftedCurve is Base with every continuously compounded Actual/365 Fixed
// zero rate moved in parallel by Shift (0.0001 is +1bp), as QuantLib's
// ZeroSpreadedTermStructure with a flat spread: Discount(t) is
// Base.Discount(t) * exp(-Shift t). It is how pv01 revalues a trade.
type ShiftedCurve struct {
	Base  pricing.YieldCurve
	Shift float64
}

// NewShiftedCurve returns base shifted by shift, a continuously compounded rate.
func NewShiftedCurve(base pricing.YieldCurve, shift float64) *ShiftedCurve {
	return &ShiftedCurve{Base: base, Shift: shift}
}

// Discount returns Base.Discount(t) * exp(-Shift t); t in Actual/365 Fixed years.
func (c *ShiftedCurve) Discount(t float64) float64 {
	return c.Base.Discount(t) * math.Exp(-c.Shift*t)
}
