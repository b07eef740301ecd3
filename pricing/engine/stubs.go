package engine

import (
	"errors"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/instrument"
)

var errTODO = errors.New("engine: not implemented yet")

// AnalyticEuropean prices European options with the Black-Scholes-Merton formula.
type AnalyticEuropean struct{}

// Price returns npv and the five greeks.
func (AnalyticEuropean) Price(o *instrument.European, m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	return pricing.Result{}, errTODO
}

// FDAmerican prices American options on a finite-difference grid.
type FDAmerican struct{ TimeSteps, GridPoints int }

// Price returns npv (and greeks where available).
func (e FDAmerican) Price(o *instrument.American, m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	return pricing.Result{}, errTODO
}

// AnalyticBarrier prices single-barrier options with the Reiner-Rubinstein formulas.
type AnalyticBarrier struct{}

// Price returns npv.
func (AnalyticBarrier) Price(o *instrument.Barrier, m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	return pricing.Result{}, errTODO
}

// AnalyticGeometricAsian prices discrete geometric average-price options.
type AnalyticGeometricAsian struct{}

// Price returns npv.
func (AnalyticGeometricAsian) Price(o *instrument.Asian, m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	return pricing.Result{}, errTODO
}

// DefaultAsianPaths is the Monte Carlo path count when a trade names none.
const DefaultAsianPaths = 100_000

// MCArithmeticAsian prices discrete arithmetic average-price options by Monte Carlo.
type MCArithmeticAsian struct{ Paths int }

// Price returns npv and npvStdErr.
func (e MCArithmeticAsian) Price(o *instrument.Asian, m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	return pricing.Result{}, errTODO
}
