package market

import (
	"math"

	"github.com/pricefn/pricefn/pricing"
)

var _ pricing.YieldCurve = (*ShiftedZeroCurve)(nil)

// ZeroRateCurve is a yield curve that also knows its continuously
// compounded Actual/365 Fixed zero rates, as every curve of this package
// does.
type ZeroRateCurve interface {
	pricing.YieldCurve
	ZeroRate(t float64) float64
}

// ShiftedZeroCurve is a ShiftedCurve whose base knows its zero rates: it
// knows them too, Base.ZeroRate(t) + Shift, which spares the engines the
// logarithm of a discount factor. Discount(t) is Base.Discount(t) *
// exp(-Shift t), as ShiftedCurve's.
type ShiftedZeroCurve struct {
	Base  ZeroRateCurve
	Shift float64
}

// Discount returns Base.Discount(t) * exp(-Shift t); t in Actual/365
// Fixed years.
func (c *ShiftedZeroCurve) Discount(t float64) float64 {
	return c.Base.Discount(t) * math.Exp(-c.Shift*t)
}

// ZeroRate returns Base.ZeroRate(t) + Shift.
func (c *ShiftedZeroCurve) ZeroRate(t float64) float64 { return c.Base.ZeroRate(t) + c.Shift }

// ShiftCurve returns c with every continuously compounded Actual/365 Fixed
// zero rate moved in parallel by shift (0.0001 is +1bp): the scenario
// shift of a curve (wire format section 1c). A flat curve becomes the flat
// curve at Rate + shift, a zero curve the zero curve through the same
// pillars at the shifted rates (what a batch quoting those rates builds,
// to the last bit), any other curve (a bootstrapped one: the curve is
// shifted, not its quotes) Base shifted as ShiftedZeroCurve or
// ShiftedCurve. A zero shift returns c itself, so that a scenario that
// moves nothing prices to the same bits as the base market.
func ShiftCurve(c pricing.YieldCurve, shift float64) pricing.YieldCurve {
	if shift == 0 {
		return c
	}
	switch c := c.(type) {
	case *FlatCurve:
		return NewFlatCurve(c.Rate + shift)
	case *ZeroCurve:
		if z, err := c.shifted(shift); err == nil {
			return z
		}
		return &ShiftedZeroCurve{Base: c, Shift: shift}
	case ZeroRateCurve:
		return &ShiftedZeroCurve{Base: c, Shift: shift}
	}
	return NewShiftedCurve(c, shift)
}

// shifted returns the zero curve through c's pillars at rates + shift; it
// fails only if a shifted rate is not finite.
func (c *ZeroCurve) shifted(shift float64) (*ZeroCurve, error) {
	rates := make([]float64, len(c.rates))
	for i, r := range c.rates {
		rates[i] = r + shift
	}
	return NewZeroCurve(c.times, rates)
}
