package instrument

import (
	"fmt"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
)

// Averaging is how an Asian option averages its fixings.
type Averaging int8

// The averaging kinds.
const (
	Geometric Averaging = iota
	Arithmetic
)

func (a Averaging) String() string {
	if a == Arithmetic {
		return "arithmetic"
	}
	return "geometric"
}

// MaxPaths bounds the Monte Carlo paths a trade may ask for.
const MaxPaths = 10_000_000

// MinPaths is the fewest paths an arithmetic Asian may ask for. With
// fewer, the standard error, estimated from the same few paths as the
// control variate's regression coefficients, understates the true error
// many times over (10 paths: 12 times on average, and 36 at worst in 60
// seeds; 200 paths: by a third).
const MinPaths = 1000

// MaxPathSteps bounds paths times fixings, the steps a Monte Carlo
// average simulates (some 10 ns each, one core): 2.5e9 is the most paths
// with a year of daily fixings, about half a minute, where a trade of 10M
// paths and a century of daily fixings would hold a pricer for an hour.
const MaxPathSteps = 2_500_000_000

// Asian is a fixed-strike, discretely monitored average-price option: at
// expiry it pays the Option payoff on the average of the spot fixings.
type Asian struct {
	Option
	Averaging Averaging
	// Fixings are the averaging dates, strictly increasing, each after the
	// valuation date and not after expiry.
	Fixings []dates.Date
	// Paths is the number of Monte Carlo paths for arithmetic averaging;
	// zero means the engine's default.
	Paths int
}

// Validate checks the terms against the valuation date asOf.
func (a *Asian) Validate(asOf dates.Date) error {
	if err := a.Option.Validate(asOf); err != nil {
		return err
	}
	if a.Averaging != Geometric && a.Averaging != Arithmetic {
		return pricing.Invalid("averaging", a.Averaging, "must be geometric or arithmetic")
	}
	if len(a.Fixings) == 0 {
		return pricing.Invalid("fixings", "[]", "must list at least one date")
	}
	for i, f := range a.Fixings {
		var reason string
		switch {
		case f <= asOf:
			reason = fmt.Sprintf("must be after the valuation date %s", asOf)
		case f > a.Expiry:
			reason = fmt.Sprintf("must not be after expiry %s", a.Expiry)
		case i > 0 && f <= a.Fixings[i-1]:
			reason = "must be after the previous fixing"
		default:
			continue
		}
		return pricing.Invalid(fmt.Sprintf("fixings[%d]", i), f, reason)
	}
	if a.Paths < 0 || a.Paths > MaxPaths {
		low := 1
		if a.Averaging == Arithmetic {
			low = MinPaths
		}
		return pricing.Invalid("paths", a.Paths, fmt.Sprintf("must be between %d and %d, or 0 for the engine's default", low, MaxPaths))
	}
	if a.Averaging == Arithmetic && a.Paths != 0 && a.Paths < MinPaths {
		return pricing.Invalid("paths", a.Paths, fmt.Sprintf("of an arithmetic Asian must be at least %d, or 0 for the engine's default", MinPaths))
	}
	return nil
}
