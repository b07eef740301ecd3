package pricing

import (
	"fmt"
	"math"

	"github.com/pricefn/pricefn/pricing/dates"
)

// The limits on inputs. A value beyond them is no market's quote, and near
// them the engines' floating-point arithmetic (exp(r·t), S², (H/S)^(2μ),
// sums of cash flows) overflows: JSON cannot carry NaN or infinities, but it
// carries 1e308. Instruments and market data are checked against them, so
// that such input is an *InputError naming its field rather than a price
// that is infinite, NaN or silently wrong.
const (
	// MaxAmount bounds every amount in currency or price units: spots,
	// strikes, barriers, rebates, notionals, faces, and |quantity|.
	MaxAmount = 1e15
	// MaxRate bounds |r| for every rate per year: zero rates of curves,
	// dividend yields, FRA and fixed rates, coupons and spreads (1 is 100%).
	MaxRate = 1.0
	// MaxVol bounds Black volatilities, per 1.00 (10 is 1000%).
	MaxVol = 10.0
	// MaxYears bounds, in calendar years before or after the valuation
	// date, every date a trade depends on: expiries, maturities, FRA ends,
	// swap starts and bond issues.
	MaxYears = 200
)

// CheckAmount returns an *InputError on field unless v is a finite number,
// > 0 and at most MaxAmount.
func CheckAmount(field string, v float64) error {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return Invalid(field, v, "must be a finite number")
	case v <= 0:
		return Invalid(field, v, "must be > 0")
	case v > MaxAmount:
		return Invalid(field, v, fmt.Sprintf("must be at most %g", float64(MaxAmount)))
	}
	return nil
}

// CheckRate returns an *InputError on field unless v is a finite number
// with |v| <= MaxRate.
func CheckRate(field string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Invalid(field, v, "must be a finite number")
	}
	if math.Abs(v) > MaxRate {
		return Invalid(field, v, fmt.Sprintf("must be between %g and %g (a rate per year, 1 is 100%%)", -MaxRate, MaxRate))
	}
	return nil
}

// CheckVol returns an *InputError on field unless v is a volatility
// > 0 and at most MaxVol.
func CheckVol(field string, v float64) error {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return Invalid(field, v, "must be a finite number")
	case v <= 0:
		return Invalid(field, v, "must be > 0")
	case v > MaxVol:
		return Invalid(field, v, fmt.Sprintf("must be at most %g (1 is 100%%)", MaxVol))
	}
	return nil
}

// CheckHorizon returns an *InputError on field unless d is at most
// MaxYears calendar years before or after asOf.
func CheckHorizon(field string, d, asOf dates.Date) error {
	// MaxYears years hold at least 365 days each: within that, no calendar
	// arithmetic is needed (engines call this on every price).
	if n := d - asOf; n <= 365*MaxYears && n >= -365*MaxYears {
		return nil
	}
	if d > asOf.AddMonths(12*MaxYears) || d < asOf.AddMonths(-12*MaxYears) {
		return Invalid(field, d, fmt.Sprintf("must be within %d years of the valuation date %s", MaxYears, asOf))
	}
	return nil
}
