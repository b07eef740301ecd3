// Package instrument holds contract terms: what a trade is, with no market
// data and no pricing maths. Each type validates its own terms.
package instrument

import (
	"fmt"
	"math"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
)

// Right is the side of an option: the right to buy (Call) or sell (Put).
type Right int8

// The option rights.
const (
	Call Right = iota
	Put
)

func (r Right) String() string {
	if r == Put {
		return "put"
	}
	return "call"
}

// Option holds the terms every single-underlying equity option shares: a
// plain call or put payoff max(±(S-K), 0) on Underlying at Expiry.
type Option struct {
	Underlying string
	Right      Right
	Strike     float64
	Expiry     dates.Date
}

// Validate checks the terms against the valuation date asOf.
func (o *Option) Validate(asOf dates.Date) error {
	if o.Underlying == "" {
		return pricing.Invalid("underlying", `""`, "must name an underlying")
	}
	if o.Right != Call && o.Right != Put {
		return pricing.Invalid("right", o.Right, "must be call or put")
	}
	if err := pricing.CheckAmount("strike", o.Strike); err != nil {
		return err
	}
	if o.Expiry <= asOf {
		return pricing.Invalid("expiry", o.Expiry, fmt.Sprintf("must be after the valuation date %s", asOf))
	}
	return pricing.CheckHorizon("expiry", o.Expiry, asOf)
}

// Payoff returns the option's exercise value at underlying price s.
func (o *Option) Payoff(s float64) float64 {
	if o.Right == Call {
		return math.Max(s-o.Strike, 0)
	}
	return math.Max(o.Strike-s, 0)
}

// European is an option exercisable at expiry only.
type European struct{ Option }

// American is an option exercisable at any time up to and including expiry.
type American struct{ Option }
