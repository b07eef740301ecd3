package instrument

import (
	"fmt"
	"strings"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
)

// SwapSide says which leg of a swap the holder pays. The zero value is invalid.
type SwapSide int8

// The swap sides.
const (
	// PayFixed pays the fixed leg and receives the floating leg (a payer swap).
	PayFixed SwapSide = iota + 1
	// ReceiveFixed receives the fixed leg and pays the floating leg.
	ReceiveFixed
)

func (s SwapSide) String() string {
	switch s {
	case PayFixed:
		return "payFixed"
	case ReceiveFixed:
		return "receiveFixed"
	}
	return "invalid side"
}

// Swap is a vanilla fixed-for-floating interest rate swap on Notional from
// Start to Maturity. Both legs have backward schedules (end-of-month off)
// adjusted by Calendar and Convention and pay on the adjusted end of each
// accrual period. The fixed leg pays FixedRate times FixedDayCount's
// fraction of each period. A floating coupon pays the simple forward rate
// (FloatDayCount) over its accrual period, from the start rolled to the
// preceding business day to the end rolled to the following one, plus
// Spread, times FloatDayCount's fraction of its period (QuantLib's par
// coupon without fixing lag).
type Swap struct {
	// Curve names the discounting curve; it also forecasts the floating
	// rates unless ForecastCurve names another.
	Curve          string
	ForecastCurve  string
	Notional       float64
	FixedRate      float64
	Start          dates.Date
	Maturity       dates.Date
	Side           SwapSide
	FixedFrequency dates.Frequency
	FixedDayCount  dates.DayCount
	FloatFrequency dates.Frequency
	FloatDayCount  dates.DayCount
	// Spread is added to each floating rate, simple under FloatDayCount.
	Spread     float64
	Calendar   dates.Calendar
	Convention dates.Convention
}

// Validate checks the terms against the valuation date asOf. A swap may
// have started, but not matured.
func (s *Swap) Validate(asOf dates.Date) error {
	if s.Curve == "" {
		return pricing.Invalid("curve", `""`, "must name a curve")
	}
	if err := pricing.CheckAmount("notional", s.Notional); err != nil {
		return err
	}
	if err := pricing.CheckRate("fixedRate", s.FixedRate); err != nil {
		return err
	}
	if err := pricing.CheckRate("spread", s.Spread); err != nil {
		return err
	}
	if s.Side != PayFixed && s.Side != ReceiveFixed {
		return pricing.Invalid("side", s.Side, "must be payFixed or receiveFixed")
	}
	if err := validLeg("fixed", s.FixedFrequency, s.FixedDayCount); err != nil {
		return err
	}
	if err := validLeg("float", s.FloatFrequency, s.FloatDayCount); err != nil {
		return err
	}
	if err := validRolls(s.Calendar, s.Convention); err != nil {
		return err
	}
	if s.Maturity <= s.Start {
		return pricing.Invalid("maturity", s.Maturity, fmt.Sprintf("must be after start %s", s.Start))
	}
	if s.Maturity <= asOf {
		return pricing.Invalid("maturity", s.Maturity, fmt.Sprintf("must be after the valuation date %s", asOf))
	}
	if err := pricing.CheckHorizon("start", s.Start, asOf); err != nil {
		return err
	}
	return pricing.CheckHorizon("maturity", s.Maturity, asOf)
}

// validLeg checks a leg's frequency and day count; prefix is "fixed" or "float".
func validLeg(prefix string, f dates.Frequency, dc dates.DayCount) error {
	if !f.Valid() {
		return pricing.Invalid(prefix+"Frequency", f, "must be one of "+listNames(dates.FrequencyNames()))
	}
	if !dc.Valid() {
		return pricing.Invalid(prefix+"DayCount", dc, "must be one of "+listNames(dates.DayCountNames()))
	}
	return nil
}

// validRolls checks a calendar and business-day convention.
func validRolls(cal dates.Calendar, conv dates.Convention) error {
	if !cal.Valid() {
		return pricing.Invalid("calendar", cal, "must be one of "+listNames(dates.CalendarNames()))
	}
	if !conv.Valid() {
		return pricing.Invalid("convention", conv, "must be one of "+listNames(dates.ConventionNames()))
	}
	return nil
}

func listNames(names []string) string { return strings.Join(names, ", ") }
