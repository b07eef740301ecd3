package engine

import (
	"fmt"
	"math"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
)

// VolType is the kind of a rates option's volatility.
type VolType uint8

// The volatility types.
const (
	// Lognormal is Black's model on the forward rate plus a displacement
	// (shifted Black; a displacement of 0 is Black's own).
	Lognormal VolType = iota
	// Normal is Bachelier's model: the forward rate moves by a normal
	// amount, the vol in rate units per sqrt(year) (0.01 is 100bp).
	Normal
)

func (v VolType) String() string {
	if v == Normal {
		return "normal"
	}
	return "lognormal"
}

// maxNormalVol bounds normal vols: 1 is 10,000bp a year.
const maxNormalVol = 1.0

// RateVol is the flat volatility a rates option engine prices with:
// Vol per sqrt(year), lognormal (per 1.00 of the shifted forward) or
// normal (in rate units), and for lognormal vols a Displacement added to
// the forward and the strike.
type RateVol struct {
	Type         VolType
	Vol          float64
	Displacement float64
}

// validate checks the vol; faults are *pricing.InputError on "vol" or
// "displacement".
func (v RateVol) validate() error {
	switch v.Type {
	case Lognormal:
		if err := pricing.CheckVol("vol", v.Vol); err != nil {
			return err
		}
		if math.IsNaN(v.Displacement) || v.Displacement < 0 || v.Displacement > pricing.MaxRate {
			return pricing.Invalid("displacement", v.Displacement, fmt.Sprintf("must be between 0 and %g", pricing.MaxRate))
		}
	case Normal:
		if !(v.Vol > 0) || v.Vol > maxNormalVol {
			return pricing.Invalid("vol", v.Vol, fmt.Sprintf("must be > 0 and at most %g for normal vols (in rate units: 0.01 is 100bp)", maxNormalVol))
		}
		if v.Displacement != 0 {
			return pricing.Invalid("displacement", v.Displacement, "must be 0 with normal vols")
		}
	default:
		return pricing.Invalid("volType", v.Type, "must be lognormal or normal")
	}
	return nil
}

// option returns the undiscounted value of a call (put if !call) on the
// forward rate f struck at k, expiring t years (Act/365F) from now, on
// expiry date, with its derivatives by f (delta) and by the vol in its own
// units (vega). At t = 0 it is the intrinsic value. A lognormal option
// whose shifted forward or strike is not positive is an error naming the
// date.
func (v RateVol) option(call bool, f, k, t float64, expiry dates.Date) (value, delta, vega float64, err error) {
	if v.Type == Lognormal && (f+v.Displacement <= 0 || k+v.Displacement <= 0) {
		return 0, 0, 0, pricing.Invalid("displacement", v.Displacement, fmt.Sprintf(
			"must make the forward (%.10g) and the strike (%.10g) positive for lognormal vols: they are not for the option expiring %s", f, k, expiry))
	}
	if t <= 0 {
		w := f - k
		if !call {
			w = -w
		}
		if w > 0 {
			delta = 1
			if !call {
				delta = -1
			}
		}
		return max(w, 0), delta, 0, nil
	}
	sqrtT := math.Sqrt(t)
	if v.Type == Normal {
		value, delta, vega = bachelierForward(call, f, k, v.Vol*sqrtT)
	} else {
		value, delta, vega = blackForward(call, f+v.Displacement, k+v.Displacement, v.Vol*sqrtT)
	}
	return value, delta, vega * sqrtT, nil
}
