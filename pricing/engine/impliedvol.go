package engine

import (
	"fmt"
	"math"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/instrument"
)

// ImpliedVolatility finds the flat Black-Scholes volatility at which a
// European option is worth a quoted premium, with the spot, dividend
// yield and curve of its underlying and the conventions of
// AnalyticEuropean (the underlying's own vol is not used). It works, as
// Jäckel's "Let's be rational" (2015) does, on the normalised Black
// function of the out-of-the-money option (an in-the-money premium is
// turned into its out-of-the-money counterpart by parity), evaluated
// through the scaled complementary error function so that deep wings and
// short expiries keep full relative precision and nothing underflows. It
// solves by Halley steps kept inside a bracket, on ln b below the
// function's inflection point and on ln(b_max - b) above it, from
// asymptotic first guesses: four to six steps reach the volatility to a
// few units in the last place. The zero value is ready to use and safe
// for concurrent use.
type ImpliedVolatility struct{}

// ivMaxSteps bounds the solver's steps; it needs fewer than ten.
const ivMaxSteps = 60

// Price returns the implied volatility, per 1.00, of o quoted at premium
// (per unit of underlying, undiscounted by quantity). A premium on or
// outside the no-arbitrage bounds, max(S·e^{-qT} - K·e^{-rT}, 0) and
// S·e^{-qT} for a call, max(K·e^{-rT} - S·e^{-qT}, 0) and K·e^{-rT} for a
// put, has no implied volatility: an *pricing.InputError on "price".
func (ImpliedVolatility) Price(o *instrument.European, premium float64, m *pricing.Market) (float64, error) {
	if err := o.Validate(m.ValuationDate); err != nil {
		return 0, err
	}
	u, c, err := m.Underlying(o.Underlying)
	if err != nil {
		return 0, err
	}
	if err := pricing.CheckAmount("spot", u.Spot); err != nil {
		return 0, pricing.UnderlyingInvalid(o.Underlying, "spot", u.Spot, err.(*pricing.InputError).Reason)
	}
	if err := pricing.CheckRate("dividendYield", u.DividendYield); err != nil {
		return 0, pricing.UnderlyingInvalid(o.Underlying, "dividendYield", u.DividendYield, err.(*pricing.InputError).Reason)
	}
	t := m.YearFraction(o.Expiry)
	df := c.Discount(t)
	if !(df > 0) || math.IsInf(df, 0) {
		return 0, pricing.CurveInvalid(u.Curve, df, fmt.Sprintf("must give a finite discount factor > 0 to expiry %s", o.Expiry))
	}
	fwdDisc, kDisc := u.Spot*math.Exp(-u.DividendYield*t), o.Strike*df
	call := o.Right == instrument.Call
	lo, hi := max(fwdDisc-kDisc, 0), fwdDisc
	if !call {
		lo, hi = max(kDisc-fwdDisc, 0), kDisc
	}
	if !(premium > lo && premium < hi) {
		return 0, pricing.Invalid("price", premium, fmt.Sprintf("must lie strictly between the no-arbitrage bounds %.17g and %.17g", lo, hi))
	}
	s, err := impliedStdDev(call, premium/df, fwdDisc/df, o.Strike)
	if err != nil {
		return 0, pricing.Invalid("price", premium, err.Error())
	}
	return s / math.Sqrt(t), nil
}

// impliedStdDev returns the total standard deviation s = σ·sqrt(T) at
// which Black's undiscounted call (put if !call) on forward f struck at k
// is worth p, which must lie strictly within the bounds.
func impliedStdDev(call bool, p, f, k float64) (float64, error) {
	// The out-of-the-money option, by parity.
	intrinsic := f - k
	if !call {
		intrinsic = -intrinsic
	}
	if intrinsic > 0 {
		p -= intrinsic
	}
	if !(p > 0) {
		return 0, fmt.Errorf("is its intrinsic value to within rounding: it determines no volatility")
	}
	// Normalised: b(x, s) = otm / sqrt(f·k) for the call with x = -|ln(f/k)|.
	x := -math.Abs(math.Log(f / k))
	beta := p / math.Sqrt(f*k)
	bMax := math.Exp(0.5 * x)
	if !(beta < bMax) {
		return 0, fmt.Errorf("is at its upper bound to within rounding: it determines no volatility")
	}
	// ln beta from p itself: beta may be subnormal, with fewer digits than p.
	return normalisedImpliedStdDev(x, beta, logPositive(p)-0.5*math.Log(f*k))
}

// logPositive returns ln v for v > 0, subnormal v included: math.Log on
// amd64 and s390x does not normalise a subnormal argument and is wrong
// there by up to 35 (golang/go#56600), so it is scaled by 2^54 first.
func logPositive(v float64) float64 {
	if v < 0x1p-1022 {
		return math.Log(v*0x1p54) - 54*math.Ln2
	}
	return math.Log(v)
}

// normalisedImpliedStdDev solves b(x, s) = beta for s > 0, with x <= 0,
// 0 < beta < e^{x/2} and lnBeta = ln beta.
func normalisedImpliedStdDev(x, beta, lnBeta float64) (float64, error) {
	sc := math.Sqrt(-2 * x) // b's inflection point in s
	bMax := math.Exp(0.5 * x)
	// The root lies below sc where beta <= b(sc) (< bMax/2), above it
	// otherwise.
	bracketLo, bracketHi := 0.0, math.Inf(1)
	var s float64
	if x < 0 && beta <= math.Exp(normLogBlack(x, sc)) {
		bracketHi = sc
		// From the leading term of ln b, -x²/(2s²), which overestimates
		// it: the guess is below the root.
		s = math.Min(-x/math.Sqrt(-2*lnBeta), 0.5*sc)
	} else {
		bracketLo = sc
		// Exact at the money.
		s = math.Max(-2*normQuantile(0.5*(bMax-beta)/bMax), 1.01*sc)
	}
	// The objective, increasing in s, and its first two derivatives: ln b
	// where beta is small against bMax, -ln(bMax - b) where it is near,
	// each computed without cancellation.
	var obj func(s float64) (f, f1, f2 float64)
	lowObj := beta <= 0.5*bMax
	if lowObj {
		obj = func(s float64) (float64, float64, float64) {
			lnb := normLogBlack(x, s)
			v := math.Exp(normLogVega(x, s) - lnb) // b'/b
			curv := x*x/(s*s*s) - 0.25*s           // b''/b'
			return lnb - lnBeta, v, v*curv - v*v
		}
	} else {
		lnGap := math.Log(bMax - beta)
		obj = func(s float64) (float64, float64, float64) {
			gap := normBlackGap(x, s)
			v := math.Exp(normLogVega(x, s)) / gap // b'/(bMax - b)
			curv := x*x/(s*s*s) - 0.25*s
			return lnGap - math.Log(gap), v, v*curv + v*v
		}
	}
	prev := math.Inf(1)
	for range ivMaxSteps {
		f, f1, f2 := obj(s)
		if math.IsNaN(f) || math.IsNaN(f1) {
			return 0, fmt.Errorf("gives no finite normalised price at the standard deviation %v", s)
		}
		if f == 0 {
			return s, nil
		}
		if f < 0 {
			bracketLo = s
		} else {
			bracketHi = s
		}
		// Halley's step in the variable the objective is nearly linear in:
		// w = 1/s² for ln b (≈ -x²w/2), w = s² for -ln(bMax - b) (≈ w/8).
		var w, dsdw, d2sdw2 float64
		if lowObj {
			w, dsdw, d2sdw2 = 1/(s*s), -0.5*s*s*s, 0.75*s*s*s*s*s
		} else {
			w, dsdw, d2sdw2 = s*s, 0.5/s, -0.25/(s*s*s)
		}
		g1 := f1 * dsdw
		g2 := f2*dsdw*dsdw + f1*d2sdw2
		step := -f / g1
		if d := 1 - 0.5*step*g2/g1; d > 0.5 && d < 2 {
			step /= d
		}
		next := math.NaN()
		if w += step; w > 0 {
			if lowObj {
				next = 1 / math.Sqrt(w)
			} else {
				next = math.Sqrt(w)
			}
		}
		// Done when the step is down to rounding, or stops shrinking near
		// it (the objective's own rounding).
		if d := math.Abs(next - s); d <= 4e-16*s || d <= 1e-13*s && d >= 0.5*prev {
			return next, nil
		}
		if !(next > bracketLo && next < bracketHi) {
			if math.IsInf(bracketHi, 1) {
				next = 2 * bracketLo
			} else {
				next = 0.5 * (bracketLo + bracketHi)
			}
		}
		d := math.Abs(next - s)
		prev = d
		s = next
	}
	return s, nil
}

// normBlackGap returns e^{x/2} - b(x, s), the normalised call's distance
// to its upper bound, e^{x/2}N(-d1) + e^{-x/2}N(d2): a sum of positive
// terms, exact where b is near the bound.
func normBlackGap(x, s float64) float64 {
	h, t := x/s, 0.5*s
	return 0.5*math.Exp(0.5*x)*math.Erfc((h+t)/math.Sqrt2) + 0.5*math.Exp(-0.5*x)*math.Erfc(-(h-t)/math.Sqrt2)
}

// normLogBlack returns ln b(x, s), the logarithm of Black's normalised
// call price e^{x/2}N(x/s + s/2) - e^{-x/2}N(x/s - s/2) for x <= 0, as
// -(h²+t²)/2 + ln(½(erfcx(-(h+t)/√2) - erfcx(-(h-t)/√2))) with h = x/s,
// t = s/2 (Jäckel 2015, eq. 2.12): the two erfcx terms carry no common
// exponential factor, so the difference is exact for large |h|.
func normLogBlack(x, s float64) float64 {
	h, t := x/s, 0.5*s
	d := erfcx(-(h+t)/math.Sqrt2) - erfcx(-(h-t)/math.Sqrt2)
	return -0.5*(h*h+t*t) + math.Log(0.5*d)
}

// normLogVega returns ln(∂b/∂s) = -(h²+t²)/2 - ln sqrt(2π).
func normLogVega(x, s float64) float64 {
	h, t := x/s, 0.5*s
	return -0.5*(h*h+t*t) - 0.5*math.Log(2*math.Pi)
}

// normQuantile returns the standard normal quantile N⁻¹(p), 0 < p < 1.
func normQuantile(p float64) float64 { return -math.Sqrt2 * math.Erfcinv(2*p) }

// erfcx returns the scaled complementary error function e^{x²}·erfc(x),
// to a few units in the last place: erfc times e^{x²} with x² split into
// two exact parts for x < 26, its asymptotic series beyond, and
// 2e^{x²} - erfcx(-x) for negative x (+Inf from below -26.6).
func erfcx(x float64) float64 {
	switch {
	case x < 0:
		if x < -26.6 {
			return math.Inf(1)
		}
		return 2*expSquare(x) - erfcx(-x)
	case x < 26:
		return math.Erfc(x) * expSquare(x)
	}
	// erfcx(x) = 1/(x√π) Σ (-1)^n (2n-1)!! / (2x²)^n; the terms fall by
	// (2n+1)/(2x²) < 1/30 at x >= 26.
	inv := 1 / (2 * x * x)
	sum, term := 1.0, 1.0
	for n := 1; n < 12; n++ {
		term *= -float64(2*n-1) * inv
		sum += term
	}
	return sum / (x * math.Sqrt(math.Pi))
}

// expSquare returns e^{x²} with x² split exactly into hi + lo.
func expSquare(x float64) float64 {
	hi := x * x
	lo := math.FMA(x, x, -hi)
	return math.Exp(hi) * (1 + lo)
}
