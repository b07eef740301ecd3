package dates_test

import (
	"fmt"
	"time"

	"github.com/pricefn/pricefn/pricing/dates"
)

// A semiannual leg generated backward from its maturity: the start opens a
// short front stub, and modified following moves the Saturdays 2027-11-27
// and 2028-05-27 to the following Mondays.
func ExampleBackwardSchedule() {
	start := dates.New(2027, time.March, 10)
	end := dates.New(2028, time.November, 27)
	ds, err := dates.BackwardSchedule(start, end, dates.Semiannual, dates.TARGET, dates.ModifiedFollowing)
	if err != nil {
		panic(err)
	}
	for i := 1; i < len(ds); i++ {
		fmt.Printf("%s to %s: %.6f years ACT/360\n", ds[i-1], ds[i], dates.Act360.YearFraction(ds[i-1], ds[i]))
	}
	// Output:
	// 2027-03-10 to 2027-05-27: 0.216667 years ACT/360
	// 2027-05-27 to 2027-11-29: 0.516667 years ACT/360
	// 2027-11-29 to 2028-05-29: 0.505556 years ACT/360
	// 2028-05-29 to 2028-11-27: 0.505556 years ACT/360
}

func ExampleCalendar_Adjust() {
	goodFriday := dates.New(2027, time.March, 26)
	fmt.Println(dates.TARGET.IsBusinessDay(goodFriday), dates.TARGET.Adjust(goodFriday, dates.Following))
	fmt.Println(dates.TARGET.Adjust(dates.New(2027, time.July, 31), dates.ModifiedFollowing))
	// Output:
	// false 2027-03-30
	// 2027-07-30
}
