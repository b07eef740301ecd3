package instrument

import (
	"errors"
	"fmt"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
)

// Swaption is a European option, exercisable on Expiry, to enter Swap,
// which starts on Expiry (its FixedRate is the strike and its Spread 0),
// with physical settlement. Swap.Side says which swap the holder may enter:
// PayFixed for a payer swaption, ReceiveFixed for a receiver.
type Swaption struct {
	Swap   Swap
	Expiry dates.Date
}

// Validate checks the terms against the valuation date asOf: the option
// has not expired, the swap starts on Expiry, is valid and its start does
// not roll (by its calendar and convention) before Expiry. Faults of the
// swap name the swaption's fields: the fixed rate is "strike", the start
// "expiry".
func (s *Swaption) Validate(asOf dates.Date) error {
	if s.Expiry <= asOf {
		return pricing.Invalid("expiry", s.Expiry, fmt.Sprintf("must be after the valuation date %s", asOf))
	}
	if s.Swap.Start != s.Expiry {
		return pricing.Invalid("expiry", s.Expiry, fmt.Sprintf("must be the underlying swap's start %s", s.Swap.Start))
	}
	if s.Swap.Spread != 0 {
		return pricing.Invalid("spread", s.Swap.Spread, "must be 0 for a swaption's swap")
	}
	if s.Swap.Maturity <= s.Expiry {
		// Before the swap's own check, which would name its start: a
		// swaption has none.
		return pricing.Invalid("maturity", s.Swap.Maturity, fmt.Sprintf("must be after expiry %s", s.Expiry))
	}
	if err := SwaptionField(s.Swap.Validate(asOf)); err != nil {
		return err
	}
	// QuantLib's swaption engines refuse a swap that starts before the
	// exercise date ("swap start before exercise date not supported"):
	// the holder would enter a swap that has been accruing already.
	if start := s.Swap.Calendar.Adjust(s.Swap.Start, s.Swap.Convention); start < s.Expiry {
		return pricing.Invalid("expiry", s.Expiry, fmt.Sprintf(
			"must not roll the underlying swap's start back before it (%s %s starts the swap on %s; a swap that starts before the exercise date is not supported)",
			s.Swap.Calendar, s.Swap.Convention, start))
	}
	return nil
}

// SwaptionField renames, in an *pricing.InputError err about a swaption's
// underlying swap, the swap's fields to the swaption's: the fixed rate is
// "strike" and the start "expiry". It returns err.
func SwaptionField(err error) error {
	var ie *pricing.InputError
	if errors.As(err, &ie) {
		switch ie.Field {
		case "fixedRate":
			ie.Field = "strike"
		case "start":
			ie.Field = "expiry"
		}
	}
	return err
}

// CapFloorType says whether a CapFloor is a cap or a floor. The zero value
// is invalid.
type CapFloorType int8

// The cap and floor types.
const (
	// Cap pays max(rate - strike, 0) on each coupon.
	Cap CapFloorType = iota + 1
	// Floor pays max(strike - rate, 0) on each coupon.
	Floor
)

func (c CapFloorType) String() string {
	switch c {
	case Cap:
		return "cap"
	case Floor:
		return "floor"
	}
	return "invalid capType"
}

// CapFloor is a strip of caplets (floorlets) on the coupons of a floating
// leg from Start to Maturity, scheduled as a swap's floating leg
// (FloatLeg): the caplet on coupon i pays Notional·τ_i·max(F_i - Strike, 0)
// (a floorlet max(Strike - F_i, 0)) on the coupon's payment date, with F_i
// the coupon's par forward and τ_i its accrual fraction by DayCount. Each
// caplet expires on its coupon's fixing date (FloatCoupon.FixingStart).
type CapFloor struct {
	Type CapFloorType
	// Curve names the discounting curve; it also forecasts the rates
	// unless ForecastCurve names another.
	Curve         string
	ForecastCurve string
	Notional      float64
	// Strike is the cap (floor) rate, simple under DayCount; it may be
	// negative.
	Strike     float64
	Start      dates.Date
	Maturity   dates.Date
	Frequency  dates.Frequency
	DayCount   dates.DayCount
	Calendar   dates.Calendar
	Convention dates.Convention
}

// Validate checks the terms against the valuation date asOf: Start is
// after it, so that no caplet has fixed.
func (c *CapFloor) Validate(asOf dates.Date) error {
	if c.Type != Cap && c.Type != Floor {
		return pricing.Invalid("capType", c.Type, "must be cap or floor")
	}
	if c.Curve == "" {
		return pricing.Invalid("curve", `""`, "must name a curve")
	}
	if err := pricing.CheckAmount("notional", c.Notional); err != nil {
		return err
	}
	if err := pricing.CheckRate("strike", c.Strike); err != nil {
		return err
	}
	if !c.Frequency.Valid() {
		return pricing.Invalid("frequency", c.Frequency, "must be one of "+listNames(dates.FrequencyNames()))
	}
	if !c.DayCount.Valid() {
		return pricing.Invalid("dayCount", c.DayCount, "must be one of "+listNames(dates.DayCountNames()))
	}
	if err := validRolls(c.Calendar, c.Convention); err != nil {
		return err
	}
	if c.Start <= asOf {
		return pricing.Invalid("start", c.Start, fmt.Sprintf("must be after the valuation date %s (past fixings are not supported)", asOf))
	}
	if c.Maturity <= c.Start {
		return pricing.Invalid("maturity", c.Maturity, fmt.Sprintf("must be after start %s", c.Start))
	}
	return pricing.CheckHorizon("maturity", c.Maturity, asOf)
}

// Leg returns the coupons the caplets are written on.
func (c *CapFloor) Leg() ([]FloatCoupon, error) {
	return FloatLeg(c.Start, c.Maturity, c.Frequency, c.DayCount, c.Calendar, c.Convention)
}
