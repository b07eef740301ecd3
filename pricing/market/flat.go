// Package market holds concrete market data: yield curves of the forms the
// wire format names and, later, volatility surfaces. Constructors return
// concrete types; engines see them through pricing.YieldCurve.
package market

import (
	"math"

	"github.com/pricefn/pricefn/pricing"
)

var (
	_ pricing.YieldCurve = (*FlatCurve)(nil)
	_ pricing.YieldCurve = (*ZeroCurve)(nil)
)

// FlatCurve is a flat, continuously compounded Actual/365 Fixed zero rate.
type FlatCurve struct {
	Rate float64
}

// NewFlatCurve returns the flat curve at rate r.
func NewFlatCurve(r float64) *FlatCurve { return &FlatCurve{Rate: r} }

// Discount returns exp(-r t).
func (c *FlatCurve) Discount(t float64) float64 { return math.Exp(-c.Rate * t) }

// ZeroRate returns the continuously compounded zero rate to t.
func (c *FlatCurve) ZeroRate(float64) float64 { return c.Rate }
