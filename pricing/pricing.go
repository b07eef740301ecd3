// Package pricing is the domain core of pricefn: the vocabulary shared by
// market data (package market), instruments (package instrument) and pricing
// engines (package engine). It imports nothing else from pricefn but its own
// subpackage dates, and does no I/O.
//
// Conventions throughout: times are year fractions on Actual/365 Fixed from
// the valuation date; rates are continuously compounded unless a type says
// otherwise; greeks are raw derivatives, as QuantLib reports them.
package pricing

import "github.com/pricefn/pricefn/pricing/dates"

// YieldCurve returns discount factors from the valuation date; t is in
// Actual/365 Fixed years and Discount(0) is 1.
type YieldCurve interface {
	Discount(t float64) float64
}

// Underlying is the market state of one equity underlying.
type Underlying struct {
	// Spot is the current price, > 0.
	Spot float64
	// DividendYield is the continuous dividend yield.
	DividendYield float64
	// Vol is the flat Black volatility, per 1.00 (0.25 is 25%).
	Vol float64
	// Curve names the risk-free curve in Market.Curves.
	Curve string
	// Heston is the underlying's stochastic volatility model, for the
	// engines that price under it; nil when the market gives none.
	Heston *Heston
}

// Heston holds the parameters of Heston's (1993) stochastic volatility
// model: the underlying follows dS/S = (r - q) dt + sqrt(v) dW1 and its
// instantaneous variance dv = Kappa (Theta - v) dt + Sigma sqrt(v) dW2,
// with d<W1, W2> = Rho dt. Variances are per year (0.04 is a 20% vol);
// Kappa is per year. The Feller condition 2 Kappa Theta >= Sigma² is not
// required.
type Heston struct {
	// V0 is the initial variance, > 0.
	V0 float64
	// Kappa is the speed of mean reversion of the variance, > 0.
	Kappa float64
	// Theta is the long-run variance, > 0.
	Theta float64
	// Sigma is the volatility of the variance, > 0.
	Sigma float64
	// Rho is the correlation of the underlying's and the variance's
	// Brownian motions, strictly between -1 and 1.
	Rho float64
}

// Market is everything an engine may read: the valuation date, the named
// yield curves and the named underlyings. Engines never modify it, so one
// Market may be shared by any number of goroutines.
type Market struct {
	ValuationDate dates.Date
	Curves        map[string]YieldCurve
	Underlyings   map[string]Underlying
}

// Curve returns the named curve or an error naming it.
func (m *Market) Curve(name string) (YieldCurve, error) {
	c, ok := m.Curves[name]
	if !ok {
		return nil, &UnknownError{Kind: "curve", Name: name}
	}
	return c, nil
}

// Underlying returns the named underlying and its risk-free curve, or an
// error naming what is missing.
func (m *Market) Underlying(name string) (Underlying, YieldCurve, error) {
	u, ok := m.Underlyings[name]
	if !ok {
		return Underlying{}, nil, &UnknownError{Kind: "underlying", Name: name}
	}
	c, err := m.Curve(u.Curve)
	if err != nil {
		return Underlying{}, nil, err
	}
	return u, c, nil
}

// YearFraction returns the Actual/365 Fixed time from the valuation date to d.
func (m *Market) YearFraction(d dates.Date) float64 {
	return dates.YearFraction365(m.ValuationDate, d)
}
