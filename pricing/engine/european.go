package engine

import (
	"math"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/instrument"
)

// setNPV is the measure set holding npv alone.
const setNPV = pricing.Measures(1) << pricing.NPV

// AnalyticEuropean prices European options with the Black-Scholes-Merton
// closed form, as QuantLib's AnalyticEuropeanEngine: spot, flat vol and
// continuous dividend yield q from the underlying; r = -ln(DF(T))/T, the
// continuously compounded zero rate of the underlying's curve to expiry; T in
// Actual/365 Fixed years from the valuation date to expiry. The zero value is
// ready to use and safe for concurrent use.
type AnalyticEuropean struct{}

// Price returns the npv of one unit of o and, when want holds any greek, all
// five greeks, analytic: delta dV/dS; gamma d²V/dS²; vega dV/dσ per 1.00 of
// vol; theta dV/dt per year, QuantLib's r·V - (r-q)·S·delta - ½σ²S²·gamma;
// rho dV/dr per 1.00 of the risk-free rate, the dividend yield held fixed.
func (AnalyticEuropean) Price(o *instrument.European, m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	if err := o.Validate(m.ValuationDate); err != nil {
		return pricing.Result{}, err
	}
	in, err := loadEquity(&o.Option, m)
	if err != nil {
		return pricing.Result{}, err
	}
	greeks := want&pricing.Greeks != 0
	bs := blackScholes(o.Right == instrument.Call, in.spot, o.Strike, in.r, in.q, in.vol, in.t, greeks)
	res := pricing.Result{Set: setNPV, NPV: bs.npv}
	if greeks {
		res.Set |= pricing.Greeks
		res.Delta, res.Gamma, res.Vega, res.Theta, res.Rho = bs.delta, bs.gamma, bs.vega, bs.theta, bs.rho
	}
	return res, nil
}

// bsm is a Black-Scholes-Merton value and its greeks, in the units of
// AnalyticEuropean.Price.
type bsm struct {
	npv, delta, gamma, vega, theta, rho float64
}

// blackScholes returns the value of a European call (put if !call) on spot s
// with strike k and expiry t years (Act/365F), under the continuously
// compounded risk-free rate r, dividend yield q and Black volatility vol, all
// per year. It computes the greeks only if greeks is set; npv is always set.
// Every input must be finite, with s, k, vol and t > 0.
func blackScholes(call bool, s, k, r, q, vol, t float64, greeks bool) bsm {
	sqrtT := math.Sqrt(t)
	sd := vol * sqrtT
	df := math.Exp(-r * t)
	dq := math.Exp(-q * t)
	d1 := (math.Log(s/k)+(r-q)*t)/sd + 0.5*sd
	d2 := d1 - sd
	var out bsm
	if call {
		n1, n2 := normCDF(d1), normCDF(d2)
		out.npv = s*dq*n1 - k*df*n2
		out.delta = dq * n1
		out.rho = k * t * df * n2
	} else {
		n1, n2 := normCDF(-d1), normCDF(-d2)
		out.npv = k*df*n2 - s*dq*n1
		out.delta = -dq * n1
		out.rho = -k * t * df * n2
	}
	if !greeks {
		return out
	}
	sPhi := s * dq * normPDF(d1) // S·e^{-qT}·φ(d1)
	out.gamma = sPhi / (s * s * sd)
	out.vega = sPhi * sqrtT
	out.theta = r*out.npv - (r-q)*s*out.delta - 0.5*vol*sPhi/sqrtT
	return out
}
