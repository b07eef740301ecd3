package engine

import (
	"fmt"
	"math"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/instrument"
)

// AnalyticBarrier prices European single-barrier options, monitored
// continuously, with the Reiner-Rubinstein closed forms as Haug (1998,
// section 2.10) gives them and QuantLib's AnalyticBarrierEngine computes
// them: all eight cases (call or put, down or up, in or out), with a rebate
// paid at expiry for a knock-in that never knocked in and at the hitting
// time for a knock-out. Market conventions are AnalyticEuropean's. The zero
// value is ready to use and safe for concurrent use.
type AnalyticBarrier struct {
	// HitIfCrossed prices a barrier that spot lies beyond as hit now: a
	// knock-out is worth its rebate (paid at the hit), a knock-in the
	// vanilla option. It is for a market moved through the barrier at
	// once (a scenario's shift), where the hit is the move. Without it
	// such a barrier is an error, as in QuantLib: in a market as it is, a
	// barrier beyond spot was hit before, and what is left of the option
	// (its rebate paid or not) is not known.
	HitIfCrossed bool
}

// Price returns the npv of one unit of o. A barrier already crossed (spot
// strictly below a down barrier or above an up barrier) is an error, as in
// QuantLib, unless HitIfCrossed; spot exactly at the barrier prices as
// touched: a knock-out is worth its rebate, a knock-in the vanilla option.
func (e AnalyticBarrier) Price(o *instrument.Barrier, m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	if err := o.Validate(m.ValuationDate); err != nil {
		return pricing.Result{}, err
	}
	in, err := loadEquity(&o.Option, m)
	if err != nil {
		return pricing.Result{}, err
	}
	call := o.Right == instrument.Call
	if crossed := o.Type.IsDown() && in.spot < o.Level || !o.Type.IsDown() && in.spot > o.Level; crossed && e.HitIfCrossed {
		if o.Type.IsIn() {
			return pricing.Result{Set: setNPV, NPV: blackScholes(call, in.spot, o.Strike, in.r, in.q, in.vol, in.t, false).npv}, nil
		}
		return pricing.Result{Set: setNPV, NPV: o.Rebate}, nil
	}
	v, err := barrierValue(o.Type, call, in.spot, o.Strike, o.Level, o.Rebate, in.r, in.q, in.vol, in.t)
	if err != nil {
		return pricing.Result{}, err
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		// Not reached by any input found: the powers of H/S that overflow
		// (μ = (r-q)/σ² - ½ huge, at a vol of a few tenths of a percent,
		// or a barrier far from spot) are taken with their probabilities
		// (scaled). Should one still not be, the vol is the likely cause.
		return pricing.Result{}, pricing.UnderlyingInvalid(o.Underlying, "vol", in.vol, fmt.Sprintf("is too low for the closed form with barrier %v and spot %v: (H/S)^(2mu) overflows", o.Level, in.spot))
	}
	return pricing.Result{Set: setNPV, NPV: v}, nil
}

// barrierValue returns the value of a European barrier option of kind typ,
// call (put if !call), on spot s with strike k, barrier h and rebate rb,
// expiry t years, under continuous rates r and q and Black volatility vol.
// It fails when spot lies beyond the barrier, or when a knock-out rebate
// needs λ = sqrt(μ² + 2r/σ²) and μ² + 2r/σ² < 0 (a negative r), where the
// closed form has no real value.
func barrierValue(typ instrument.BarrierType, call bool, s, k, h, rb, r, q, vol, t float64) (float64, error) {
	if typ.IsDown() && s < h {
		return 0, pricing.Invalid("barrier", h, fmt.Sprintf("must not be above spot %v for a %s option (it is already crossed)", s, typ))
	}
	if !typ.IsDown() && s > h {
		return 0, pricing.Invalid("barrier", h, fmt.Sprintf("must not be below spot %v for an %s option (it is already crossed)", s, typ))
	}
	b := barrierTerms{s: s, k: k, h: h, rb: rb, r: r, vol: vol}
	b.sd = vol * math.Sqrt(t)
	b.df = math.Exp(-r * t)
	b.dq = math.Exp(-q * t)
	b.mu = (r-q)/(vol*vol) - 0.5
	b.muSigma = (1 + b.mu) * b.sd
	b.hs = h / s
	b.powHS0 = math.Pow(b.hs, 2*b.mu)
	b.powHS1 = b.powHS0 * b.hs * b.hs

	if rb > 0 && !typ.IsIn() {
		if l2 := b.mu*b.mu + 2*r/(vol*vol); l2 < 0 {
			return 0, pricing.Invalid("rebate", rb, fmt.Sprintf("of a knock-out cannot be priced in closed form when mu^2 + 2r/vol^2 < 0 (r = %v, q = %v, vol = %v)", r, q, vol))
		}
	}

	aboveK := k >= h // QuantLib's strike >= barrier branch
	var v float64
	if call {
		switch typ {
		case instrument.DownIn:
			if aboveK {
				v = b.c(1, 1) + b.e(1)
			} else {
				v = b.a(1) - b.b(1) + b.d(1, 1) + b.e(1)
			}
		case instrument.UpIn:
			if aboveK {
				v = b.a(1) + b.e(-1)
			} else {
				v = b.b(1) - b.c(-1, 1) + b.d(-1, 1) + b.e(-1)
			}
		case instrument.DownOut:
			if aboveK {
				v = b.a(1) - b.c(1, 1) + b.f(1)
			} else {
				v = b.b(1) - b.d(1, 1) + b.f(1)
			}
		case instrument.UpOut:
			if aboveK {
				v = b.f(-1)
			} else {
				v = b.a(1) - b.b(1) + b.c(-1, 1) - b.d(-1, 1) + b.f(-1)
			}
		}
	} else {
		switch typ {
		case instrument.DownIn:
			if aboveK {
				v = b.b(-1) - b.c(1, -1) + b.d(1, -1) + b.e(1)
			} else {
				v = b.a(-1) + b.e(1)
			}
		case instrument.UpIn:
			if aboveK {
				v = b.a(-1) - b.b(-1) + b.d(-1, -1) + b.e(-1)
			} else {
				v = b.c(-1, -1) + b.e(-1)
			}
		case instrument.DownOut:
			if aboveK {
				v = b.a(-1) - b.b(-1) + b.c(1, -1) - b.d(1, -1) + b.f(1)
			} else {
				v = b.f(1)
			}
		case instrument.UpOut:
			if aboveK {
				v = b.b(-1) - b.d(-1, -1) + b.f(-1)
			} else {
				v = b.a(-1) - b.c(-1, -1) + b.f(-1)
			}
		}
	}
	return v, nil
}

// barrierTerms holds the inputs of the Reiner-Rubinstein building blocks
// A to F (Haug 1998, p. 70) and the quantities they share.
type barrierTerms struct {
	s, k, h, rb, r, vol float64
	sd                  float64 // σ√T
	df, dq              float64 // e^{-rT}, e^{-qT}
	mu, muSigma         float64 // μ = (r-q)/σ² - ½; (1+μ)σ√T
	hs                  float64 // H/S
	powHS0, powHS1      float64 // (H/S)^{2μ}, (H/S)^{2μ+2}
}

// a is the vanilla term A(φ).
func (b *barrierTerms) a(phi float64) float64 {
	x1 := math.Log(b.s/b.k)/b.sd + b.muSigma
	return phi * (b.s*b.dq*normCDF(phi*x1) - b.k*b.df*normCDF(phi*(x1-b.sd)))
}

// b is the term B(φ), A with the strike replaced by the barrier in x.
func (b *barrierTerms) b(phi float64) float64 {
	x2 := math.Log(b.s/b.h)/b.sd + b.muSigma
	return phi * (b.s*b.dq*normCDF(phi*x2) - b.k*b.df*normCDF(phi*(x2-b.sd)))
}

// c is the reflected term C(η, φ).
func (b *barrierTerms) c(eta, phi float64) float64 {
	y1 := math.Log(b.h*b.hs/b.k)/b.sd + b.muSigma
	return phi * (b.scaled(b.s*b.dq, b.powHS1, 2*b.mu+2, eta*y1) - b.scaled(b.k*b.df, b.powHS0, 2*b.mu, eta*(y1-b.sd)))
}

// d is the reflected term D(η, φ).
func (b *barrierTerms) d(eta, phi float64) float64 {
	y2 := math.Log(b.h/b.s)/b.sd + b.muSigma
	return phi * (b.scaled(b.s*b.dq, b.powHS1, 2*b.mu+2, eta*y2) - b.scaled(b.k*b.df, b.powHS0, 2*b.mu, eta*(y2-b.sd)))
}

// e is E(η), the knock-in rebate paid at expiry if the barrier was never hit.
func (b *barrierTerms) e(eta float64) float64 {
	if b.rb <= 0 {
		return 0
	}
	x2 := math.Log(b.s/b.h)/b.sd + b.muSigma
	y2 := math.Log(b.h/b.s)/b.sd + b.muSigma
	return b.rb * b.df * (normCDF(eta*(x2-b.sd)) - b.scaled(1, b.powHS0, 2*b.mu, eta*(y2-b.sd)))
}

// f is F(η), the knock-out rebate paid when the barrier is hit. The caller
// has checked that μ² + 2r/σ² >= 0.
func (b *barrierTerms) f(eta float64) float64 {
	if b.rb <= 0 {
		return 0
	}
	lambda := math.Sqrt(b.mu*b.mu + 2*b.r/(b.vol*b.vol))
	z := math.Log(b.h/b.s)/b.sd + lambda*b.sd
	up, down := b.mu+lambda, b.mu-lambda
	return b.rb * (b.scaled(1, math.Pow(b.hs, up), up, eta*z) + b.scaled(1, math.Pow(b.hs, down), down, eta*(z-2*lambda*b.sd)))
}

// scaled returns c·pow·N(x), where c is a positive factor (a spot or
// strike discounted) and pow is (H/S)^a: multiplied in that order, as
// QuantLib's AnalyticBarrierEngine does, so that where the terms cancel
// the last digits are QuantLib's. Far from spot the power can overflow
// where the probability, of reaching so far a barrier, underflows or
// nearly: a barrier of 1e-310 against a spot of 100 takes (H/S)^(μ-λ) past
// the largest double, while the chance of a hit is below e^{-10^6}. The
// product is then taken as the exponential of its logarithm, the
// probability's from logNormCDF: N(x) is 0 below x = -37 (QuantLib's),
// while a power past e^709 times e^{-x²/2} may well be worth something
// (a vol of 0.2% and a barrier 1% from spot). It is zero where x is -∞,
// H/S having underflowed to 0 (a barrier of 5e-324).
func (b *barrierTerms) scaled(c, pow, a, x float64) float64 {
	if !math.IsInf(pow, 0) {
		return c * pow * normCDF(x)
	}
	if math.IsInf(x, -1) {
		return 0
	}
	return c * math.Exp(a*math.Log(b.hs)+logNormCDF(x))
}
