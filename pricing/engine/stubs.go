package engine

import (
	"errors"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/instrument"
)

var errTODO = errors.New("engine: not implemented yet")

// FDAmerican prices American options on a finite-difference grid.
type FDAmerican struct{ TimeSteps, GridPoints int }

// Price returns npv (and greeks where available).
func (e FDAmerican) Price(o *instrument.American, m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	return pricing.Result{}, errTODO
}
