package instrument

import (
	"fmt"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
)

// MaxSettlementDays bounds a bond's settlement lag, in business days.
const MaxSettlementDays = 30

// FixedRateBond is a bullet bond of Face paying Coupon (a simple annual
// rate under DayCount) Frequency times a year from Issue to Maturity, and
// Face at Maturity. Its schedule runs backward from Maturity (end-of-month
// off), adjusted by Calendar and Convention, each payment on the adjusted
// end of its accrual period, as QuantLib's FixedRateBond with the payment
// convention equal to Convention. It settles SettlementDays business days
// of Calendar after the valuation date, and not before Issue.
type FixedRateBond struct {
	// Curve names the discounting curve.
	Curve          string
	Face           float64
	Coupon         float64
	Issue          dates.Date
	Maturity       dates.Date
	Frequency      dates.Frequency
	DayCount       dates.DayCount
	Calendar       dates.Calendar
	Convention     dates.Convention
	SettlementDays int
}

// Validate checks the terms against the valuation date asOf: the bond
// matures on or after it. One maturing on asOf is priced as QuantLib
// prices it, its flows on asOf excluded (npv 0 unless a holiday rolls the
// last payment later; no yield: see engine.DiscountingBond).
func (b *FixedRateBond) Validate(asOf dates.Date) error {
	if b.Curve == "" {
		return pricing.Invalid("curve", `""`, "must name a curve")
	}
	if err := pricing.CheckAmount("face", b.Face); err != nil {
		return err
	}
	if err := pricing.CheckRate("coupon", b.Coupon); err != nil {
		return err
	}
	if !b.Frequency.Valid() {
		return pricing.Invalid("frequency", b.Frequency, "must be one of "+listNames(dates.FrequencyNames()))
	}
	if !b.DayCount.Valid() {
		return pricing.Invalid("dayCount", b.DayCount, "must be one of "+listNames(dates.DayCountNames()))
	}
	if err := validRolls(b.Calendar, b.Convention); err != nil {
		return err
	}
	if b.SettlementDays < 0 || b.SettlementDays > MaxSettlementDays {
		return pricing.Invalid("settlementDays", b.SettlementDays, fmt.Sprintf("must be between 0 and %d", MaxSettlementDays))
	}
	if b.Maturity <= b.Issue {
		return pricing.Invalid("maturity", b.Maturity, fmt.Sprintf("must be after issue %s", b.Issue))
	}
	if b.Maturity < asOf {
		return pricing.Invalid("maturity", b.Maturity, fmt.Sprintf("must not be before the valuation date %s", asOf))
	}
	if err := pricing.CheckHorizon("issue", b.Issue, asOf); err != nil {
		return err
	}
	return pricing.CheckHorizon("maturity", b.Maturity, asOf)
}
