package instrument

import (
	"fmt"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
)

// Position is the side of a forward rate agreement. The zero value is invalid.
type Position int8

// The FRA positions.
const (
	// Long receives the floating (forward) rate and pays the contract rate.
	Long Position = iota + 1
	// Short pays the floating rate and receives the contract rate.
	Short
)

func (p Position) String() string {
	switch p {
	case Long:
		return "long"
	case Short:
		return "short"
	}
	return "invalid position"
}

// FRA is a forward rate agreement on Notional from Start to End at the
// simple contract Rate under DayCount. It settles the difference between
// the forward rate F over [Start, End] and Rate, paid at End:
// Notional * (F - Rate) * DayCount(Start, End) for Long.
type FRA struct {
	// Curve names the discounting curve; it also forecasts F unless
	// ForecastCurve names another.
	Curve         string
	ForecastCurve string
	Notional      float64
	Rate          float64
	Start, End    dates.Date
	DayCount      dates.DayCount
	Position      Position
}

// Validate checks the terms against the valuation date asOf. The rate
// must not have fixed yet: Start is on or after asOf.
func (f *FRA) Validate(asOf dates.Date) error {
	if f.Curve == "" {
		return pricing.Invalid("curve", `""`, "must name a curve")
	}
	if err := pricing.CheckAmount("notional", f.Notional); err != nil {
		return err
	}
	if err := pricing.CheckRate("rate", f.Rate); err != nil {
		return err
	}
	if !f.DayCount.Valid() {
		return pricing.Invalid("dayCount", f.DayCount, "must be one of "+listNames(dates.DayCountNames()))
	}
	if f.Position != Long && f.Position != Short {
		return pricing.Invalid("position", f.Position, "must be long or short")
	}
	if f.End <= f.Start {
		return pricing.Invalid("end", f.End, fmt.Sprintf("must be after start %s", f.Start))
	}
	if f.Start < asOf {
		return pricing.Invalid("start", f.Start, fmt.Sprintf("must not be before the valuation date %s (past fixings are not supported)", asOf))
	}
	return pricing.CheckHorizon("end", f.End, asOf)
}
