package instrument

import (
	"fmt"
	"math"

	"github.com/pricefn/pricefn/pricing/dates"
)

// FixedCoupon is one period of a fixed-rate leg: it accrues from Start to
// End, pays on Pay (the adjusted End) and its Accrual is the leg's day-count
// fraction of the period.
type FixedCoupon struct {
	Start, End, Pay dates.Date
	Accrual         float64
}

// FloatCoupon is one period of a floating leg with QuantLib's par-coupon
// rule and no fixing lag: it accrues from Start to End and pays on Pay (the
// adjusted End). Its rate is the simple forward from FixingStart (Start
// rolled to the preceding business day, which is also its fixing date) to
// FixingEnd (End rolled to the following one); Span is the day-count
// fraction of that forward period and Accrual that of the accrual period.
type FloatCoupon struct {
	Start, End, Pay        dates.Date
	FixingStart, FixingEnd dates.Date
	Accrual, Span          float64
}

// FixedLeg returns the coupons of a fixed leg paying with frequency f from
// start to end: a backward schedule (dates.BackwardSchedule) adjusted by cal
// and conv, each coupon paying its day count dc's fraction of its period on
// the period's adjusted end.
func FixedLeg(start, end dates.Date, f dates.Frequency, dc dates.DayCount, cal dates.Calendar, conv dates.Convention) ([]FixedCoupon, error) {
	ds, err := dates.BackwardSchedule(start, end, f, cal, conv)
	if err != nil {
		return nil, fmt.Errorf("instrument: fixed leg: %w", err)
	}
	out := make([]FixedCoupon, len(ds)-1)
	for i := range out {
		out[i] = FixedCoupon{Start: ds[i], End: ds[i+1], Pay: ds[i+1], Accrual: dc.YearFraction(ds[i], ds[i+1])}
	}
	return out, nil
}

// FloatLeg returns the coupons of a floating leg paying with frequency f
// from start to end, scheduled as FixedLeg, with forwards and accruals on
// the day count dc. A forward period that is not positive under dc is an
// error.
func FloatLeg(start, end dates.Date, f dates.Frequency, dc dates.DayCount, cal dates.Calendar, conv dates.Convention) ([]FloatCoupon, error) {
	return floatLeg(start, end, f, dc, cal, conv, math.MinInt32)
}

// floatLeg is FloatLeg checking the forward period's length only on the
// coupons paid after paid: one paid on or before it is never read.
func floatLeg(start, end dates.Date, f dates.Frequency, dc dates.DayCount, cal dates.Calendar, conv dates.Convention, paid dates.Date) ([]FloatCoupon, error) {
	ds, err := dates.BackwardSchedule(start, end, f, cal, conv)
	if err != nil {
		return nil, fmt.Errorf("instrument: floating leg: %w", err)
	}
	// Under an adjusting convention every schedule date is a business day
	// already, which the forward period's rolls leave in place.
	rolled := conv == dates.Unadjusted
	out := make([]FloatCoupon, len(ds)-1)
	for i := range out {
		s, e := ds[i], ds[i+1]
		fs, fe := s, e
		if rolled {
			fs, fe = cal.Adjust(s, dates.Preceding), cal.Adjust(e, dates.Following)
		}
		c := FloatCoupon{Start: s, End: e, Pay: e, FixingStart: fs, FixingEnd: fe,
			Accrual: dc.YearFraction(s, e), Span: dc.YearFraction(fs, fe)}
		if !(c.Span > 0) && c.Pay > paid {
			return nil, fmt.Errorf("instrument: floating leg: %s gives the forward period from %s to %s no length", dc, fs, fe)
		}
		out[i] = c
	}
	return out, nil
}

// Legs returns the swap's fixed and floating coupons, every one of them
// (paid or not), in payment order. A floating coupon paid after asOf
// whose forward period has no length under the float day count is an
// error; one paid on or before asOf is not checked (its Span may be 0).
func (s *Swap) Legs(asOf dates.Date) ([]FixedCoupon, []FloatCoupon, error) {
	fixed, err := FixedLeg(s.Start, s.Maturity, s.FixedFrequency, s.FixedDayCount, s.Calendar, s.Convention)
	if err != nil {
		return nil, nil, err
	}
	float, err := floatLeg(s.Start, s.Maturity, s.FloatFrequency, s.FloatDayCount, s.Calendar, s.Convention, asOf)
	if err != nil {
		return nil, nil, err
	}
	return fixed, float, nil
}
