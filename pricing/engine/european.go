package engine

import (
	"fmt"
	"math"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
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
func (e AnalyticEuropean) Price(o *instrument.European, m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	if err := o.Validate(m.ValuationDate); err != nil {
		return pricing.Result{}, err
	}
	em, err := bindEquity(m, o.Underlying)
	if err != nil {
		return pricing.Result{}, err
	}
	return e.PriceOn(o, &em, want)
}

// PriceOn is Price on the market of o's underlying looked up once
// (BindEquity), as a batch of trades on few underlyings prices it: the
// same result to the last bit, without the look-ups by name. o must have
// been validated against em's valuation date (o.Validate) and name em's
// underlying.
func (e AnalyticEuropean) PriceOn(o *instrument.European, em *EquityMarket, want pricing.Measures) (res pricing.Result, err error) {
	err = e.PriceInto(&res, o, em, want)
	return res, err
}

// PriceInto is PriceOn writing into res, which must be zero: a result is
// some 170 bytes, and a batch prices into its results in place. res is
// left zero on error.
func (AnalyticEuropean) PriceInto(res *pricing.Result, o *instrument.European, em *EquityMarket, want pricing.Measures) error {
	t := dates.YearFraction365(em.asOf, o.Expiry)
	r := em.zeroRate(t)
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return pricing.CurveInvalid(em.u.Curve, r, fmt.Sprintf("must give a finite zero rate to expiry %s", o.Expiry))
	}
	greeks := want&pricing.Greeks != 0
	var bs bsm
	blackScholesInto(&bs, o.Right == instrument.Call, em.u.Spot, o.Strike, r, em.u.DividendYield, em.u.Vol, t, greeks)
	res.Set, res.NPV = setNPV, bs.npv
	if greeks {
		res.Set |= pricing.Greeks
		res.Delta, res.Gamma, res.Vega, res.Theta, res.Rho = bs.delta, bs.gamma, bs.vega, bs.theta, bs.rho
	}
	return nil
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
func blackScholes(call bool, s, k, r, q, vol, t float64, greeks bool) (out bsm) {
	blackScholesInto(&out, call, s, k, r, q, vol, t, greeks)
	return out
}

// blackScholesInto is blackScholes writing into out, which must be zero. A
// bsm returned by value is stored a field at a time and copied on in
// 16-byte loads, which stall the CPU on each pair (store forwarding): a
// sixth of a European's pricing.
func blackScholesInto(out *bsm, call bool, s, k, r, q, vol, t float64, greeks bool) {
	// The exponentials, the logarithm and the Mills ratio are inlined
	// (fastExp): calls cost this formula a fifth of its time.
	//
	// The logarithm of S/K comes first: it is the longest chain to d1, and
	// the CPU starts an operation only once it has decoded it, in the
	// order of the blocks, which the compiler keeps. After the two
	// discount factors (some 60 instructions) it started later; nothing
	// waits for them.
	var lnSK float64
	if x := s / k; logInRange(x) {
		lnSK = logPoly(logReduce(x))
	} else {
		lnSK = math.Log(x)
	}
	sqrtT := math.Sqrt(t)
	sd := vol * sqrtT
	invSd := 1 / sd
	// exp(-0·t) is 1 exactly: a rate or yield of 0 spares an exponential.
	df, dq := 1.0, 1.0
	if x := -r * t; x != 0 && expInRange(x) {
		df = expPoly(expReduce(x))
	} else if x != 0 {
		df = math.Exp(x)
	}
	if x := -q * t; x != 0 && expInRange(x) {
		dq = expPoly(expReduce(x))
	} else if x != 0 {
		dq = math.Exp(x)
	}
	d1 := (lnSK+(r-q)*t)*invSd + 0.5*sd
	d2 := d1 - sd
	sdq, kdf := s*dq, k*df
	// w·d: N(d) for a call, N(-d) for a put.
	w := 1.0
	if !call {
		w = -1
	}
	var phi1, n1, n2 float64
	// The fast path wants both discounted amounts normal doubles: their
	// ratio is φ(d2)/φ(d1), and 0/0 would make it NaN.
	if a1, a2 := math.Abs(d1), math.Abs(d2); a1 < millsMax && a2 < millsMax && sdq >= minNormal && kdf >= minNormal {
		// φ(d1); the tails from the Mills ratio, φ(d2) from φ(d1) (mills.go).
		phi1 = invSqrt2Pi * expPoly(expReduce(-(d1*d1)/2))
		phi2 := phi1 * (sdq / kdf)
		n1 = cdfFromTail(phi1*millsPoly(millsAt(a1)), w*d1)
		n2 = cdfFromTail(phi2*millsPoly(millsAt(a2)), w*d2)
	} else {
		// φ as normPDF, whose exponent never reaches its cut-off here
		// (|d1| < 37 for any price that is not 0).
		phi1 = invSqrt2Pi * fastExp(-(d1*d1)/2)
		n1, n2 = normCDF(w*d1), normCDF(w*d2)
	}
	out.npv = w * (sdq*n1 - kdf*n2)
	out.delta = w * dq * n1
	out.rho = w * k * t * df * n2
	if !greeks {
		return
	}
	// S·e^{-qT}·φ(d1).
	sPhi := sdq * phi1
	// dq·φ(d1)/(S·σ√T), not S·e^{-qT}·φ(d1)/S²: S² underflows to 0 below
	// a spot of 1e-154, and gamma was then 0/0.
	out.gamma = dq * phi1 * invSd / s
	out.vega = sPhi * sqrtT
	// QuantLib's r·V - (r-q)·S·delta - ½σ²S²·gamma, with V and delta
	// expanded so that theta need not wait for them: the rV and the
	// (r-q)·S·delta terms of the forward leg leave q·S·e^{-qT}·N1.
	out.theta = w*(q*sdq*n1-r*kdf*n2) - 0.5*sPhi*sd/t
}
