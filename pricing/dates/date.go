// Package dates holds the calendar vocabulary of pricing: civil dates, day
// count conventions, holiday calendars, business-day conventions and coupon
// schedules, after QuantLib's ql/time. It does no I/O and reads no clock.
package dates

import (
	"fmt"
	"time"
)

// Date is a civil date (no time of day, no zone), stored as the number of
// days since 1970-01-01. The zero value is 1970-01-01. Dates compare with the
// ordinary operators and their difference is a number of days.
type Date int32

// New returns the date y-m-d. Out-of-range months and days are normalised
// as time.Date does (2026-02-30 is 2026-03-02).
func New(y int, m time.Month, d int) Date {
	// Days from civil, Howard Hinnant's algorithm (proleptic Gregorian).
	if m < 1 || m > 12 || d < 1 || d > 28 {
		t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		y, m, d = t.Date()
	}
	yy := y
	if m <= 2 {
		yy--
	}
	era := yy / 400
	if yy < 0 && yy%400 != 0 {
		era = (yy - 399) / 400
	}
	yoe := yy - era*400
	mp := (int(m) + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return Date(era*146097 + doe - 719468)
}

// Parse reads an ISO 8601 calendar date, YYYY-MM-DD.
func Parse(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("dates: %q is not a YYYY-MM-DD date", s)
	}
	y, m, d := t.Date()
	return New(y, m, d), nil
}

// Civil returns the year, month and day of d.
func (d Date) Civil() (year int, month time.Month, day int) {
	z := int(d) + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day = doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, time.Month(m), day
}

// Year returns d's year.
func (d Date) Year() int { y, _, _ := d.Civil(); return y }

// Month returns d's month.
func (d Date) Month() time.Month { _, m, _ := d.Civil(); return m }

// Day returns d's day of the month, 1 to 31.
func (d Date) Day() int { _, _, dd := d.Civil(); return dd }

// Weekday returns d's day of the week.
func (d Date) Weekday() time.Weekday {
	// 1970-01-01 was a Thursday.
	w := (int(d) + 4) % 7
	if w < 0 {
		w += 7
	}
	return time.Weekday(w)
}

// AddDays returns d moved by n calendar days.
func (d Date) AddDays(n int) Date { return d + Date(n) }

// AddMonths returns d moved by n months, the day clipped to the end of the
// target month (2027-01-31 plus one month is 2027-02-28), as QuantLib does.
func (d Date) AddMonths(n int) Date {
	y, m, dd := d.Civil()
	total := y*12 + int(m) - 1 + n
	ny, nm := total/12, time.Month(total%12+1)
	if total < 0 && total%12 != 0 {
		ny = (total - 11) / 12
		nm = time.Month(total - ny*12 + 1)
	}
	if last := DaysInMonth(ny, nm); dd > last {
		dd = last
	}
	return New(ny, nm, dd)
}

// String formats d as YYYY-MM-DD.
func (d Date) String() string {
	y, m, dd := d.Civil()
	return fmt.Sprintf("%04d-%02d-%02d", y, int(m), dd)
}

// IsLeap reports whether y is a Gregorian leap year.
func IsLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// DaysInMonth returns the number of days of month m of year y.
func DaysInMonth(y int, m time.Month) int {
	switch m {
	case time.February:
		if IsLeap(y) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// IsEndOfMonth reports whether d is the last day of its month.
func (d Date) IsEndOfMonth() bool {
	y, m, dd := d.Civil()
	return dd == DaysInMonth(y, m)
}

// YearFraction365 returns (to - from) in days over 365: the Actual/365 Fixed
// year fraction that the wire format uses for option expiries and curves.
func YearFraction365(from, to Date) float64 { return float64(to-from) / 365 }

// MarshalText formats d as YYYY-MM-DD, so that d encodes as a JSON string.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a YYYY-MM-DD date.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
