package market_test

import (
	"fmt"
	"math"
	"time"

	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/market"
)

// A curve from a 6-month deposit and 2- and 5-year par swaps, given in any
// order, and the discount factors and continuously compounded zero rates
// at its pillars (QuantLib's PiecewiseLogLinearDiscount gives the same).
func ExampleBootstrap() {
	asOf := dates.New(2026, time.November, 25)
	swap := func(years int, rate float64) market.ParSwap {
		return market.ParSwap{Start: asOf, Maturity: asOf.AddMonths(12 * years), Rate: rate,
			FixedFrequency: dates.Annual, FixedDayCount: dates.Thirty360,
			FloatFrequency: dates.Semiannual, FloatDayCount: dates.Act360,
			Calendar: dates.TARGET, Convention: dates.ModifiedFollowing}
	}
	curve, err := market.Bootstrap(asOf, []market.Quote{
		swap(5, 0.0363),
		market.Deposit{Start: asOf, End: asOf.AddMonths(6), Rate: 0.032, DayCount: dates.Act360},
		swap(2, 0.0342),
	})
	if err != nil {
		panic(err)
	}
	for _, p := range curve.Pillars() {
		t := dates.YearFraction365(asOf, p)
		fmt.Printf("%s  DF %.6f  zero %.4f%%\n", p, curve.Discount(t), 100*-math.Log(curve.Discount(t))/t)
	}
	// Output:
	// 2027-05-25  DF 0.984166  zero 3.2186%
	// 2028-11-27  DF 0.934768  zero 3.3591%
	// 2031-11-25  DF 0.836373  zero 3.5717%
}
