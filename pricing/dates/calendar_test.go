package dates

import (
	"errors"
	"testing"
	"time"
)

func TestEasterSunday(t *testing.T) {
	tests := []struct {
		year int
		want string
	}{
		{1998, "1998-04-12"}, {2000, "2000-04-23"}, {2008, "2008-03-23"}, {2011, "2011-04-24"},
		{2019, "2019-04-21"}, {2024, "2024-03-31"}, {2025, "2025-04-20"}, {2026, "2026-04-05"},
		{2027, "2027-03-28"}, {2038, "2038-04-25"}, {2285, "2285-03-22"},
	}
	for _, tt := range tests {
		if got := EasterSunday(tt.year).String(); got != tt.want {
			t.Errorf("EasterSunday(%d) = %s, want %s", tt.year, got, tt.want)
		}
	}
}

func TestTARGETHolidays(t *testing.T) {
	// Weekday holidays: Good Friday, Easter Monday, 1 May, 25 and 26
	// December, 1 January; and business days next to them.
	tests := []struct {
		date    string
		holiday bool
	}{
		{"2024-03-29", true}, {"2024-04-01", true}, {"2024-05-01", true}, {"2024-12-25", true}, {"2024-12-26", true}, {"2024-01-01", true},
		{"2025-04-18", true}, {"2025-04-21", true}, {"2025-05-01", true}, {"2025-12-25", true}, {"2025-12-26", true}, {"2025-01-01", true},
		{"2026-04-03", true}, {"2026-04-06", true}, {"2026-05-01", true}, {"2026-12-25", true}, {"2026-01-01", true},
		{"2027-03-26", true}, {"2027-03-29", true}, {"2027-01-01", true}, {"2027-12-27", false},
		{"2028-04-14", true}, {"2028-04-17", true}, {"2028-05-01", true}, {"2028-12-25", true}, {"2028-12-26", true},
		{"2038-04-23", true}, {"2038-04-26", true},
		{"2001-12-31", true}, {"2002-12-31", false}, {"1999-04-02", false}, {"1999-05-03", false},
		{"2026-04-02", false}, {"2026-04-07", false}, {"2026-12-24", false}, {"2026-12-31", false}, {"2026-11-25", false},
		{"2026-11-28", true}, {"2026-11-29", true}, // a Saturday and a Sunday
	}
	for _, tt := range tests {
		d := mustDate(t, tt.date)
		if got := !TARGET.IsBusinessDay(d); got != tt.holiday {
			t.Errorf("TARGET holiday(%s, %s) = %v, want %v", tt.date, d.Weekday(), got, tt.holiday)
		}
	}
}

// TestTARGETQuantLib compares every TARGET weekday holiday from 1990 to 2150
// with QuantLib 1.29's holiday list, both ways.
func TestTARGETQuantLib(t *testing.T) {
	want := map[Date]bool{}
	for _, row := range readGolden(t, "target_quantlib.csv") {
		want[mustDate(t, row[0])] = true
	}
	for d := New(1990, time.January, 1); d <= New(2150, time.December, 31); d++ {
		if isWeekend(d) {
			continue
		}
		if got := !TARGET.IsBusinessDay(d); got != want[d] {
			t.Errorf("TARGET holiday(%s) = %v, QuantLib %v", d, got, want[d])
		}
	}
}

func TestWeekendsAndNone(t *testing.T) {
	sat, mon := mustDate(t, "2026-11-28"), mustDate(t, "2026-11-30")
	if WeekendsOnly.IsBusinessDay(sat) || !WeekendsOnly.IsBusinessDay(mon) {
		t.Error("weekends calendar: Saturday must be a holiday, Monday a business day")
	}
	if !NoHolidays.IsBusinessDay(sat) || !NoHolidays.IsBusinessDay(mustDate(t, "2026-12-25")) {
		t.Error("none calendar: every day must be a business day")
	}
}

func TestAdjust(t *testing.T) {
	tests := []struct {
		cal  Calendar
		conv Convention
		date string
		want string
	}{
		{WeekendsOnly, Following, "2026-11-28", "2026-11-30"},
		{WeekendsOnly, Preceding, "2026-11-28", "2026-11-27"},
		{WeekendsOnly, ModifiedFollowing, "2027-07-31", "2027-07-30"}, // Saturday month end rolls back
		{WeekendsOnly, ModifiedFollowing, "2027-07-24", "2027-07-26"},
		{WeekendsOnly, Unadjusted, "2026-11-28", "2026-11-28"},
		{TARGET, Following, "2026-12-25", "2026-12-28"},
		{TARGET, Preceding, "2027-01-01", "2026-12-31"},
		{TARGET, ModifiedFollowing, "2027-04-30", "2027-04-30"},
		{TARGET, Following, "2027-03-26", "2027-03-30"}, // Good Friday, weekend, Easter Monday
		{NoHolidays, Following, "2026-11-28", "2026-11-28"},
	}
	for _, tt := range tests {
		if got := tt.cal.Adjust(mustDate(t, tt.date), tt.conv).String(); got != tt.want {
			t.Errorf("%s.Adjust(%s, %s) = %s, want %s", tt.cal, tt.date, tt.conv, got, tt.want)
		}
	}
}

// TestAdjustQuantLib compares Adjust under every convention, and Advance by
// 0, 2 and -3 business days, with QuantLib 1.29 on 600 dates.
func TestAdjustQuantLib(t *testing.T) {
	convs := []Convention{Unadjusted, Following, ModifiedFollowing, Preceding}
	for _, row := range readGolden(t, "adjust_quantlib.csv") {
		d := mustDate(t, row[0])
		cal, err := ParseCalendar(row[1])
		if err != nil {
			t.Fatal(err)
		}
		for i, conv := range convs {
			if got := cal.Adjust(d, conv).String(); got != row[2+i] {
				t.Errorf("%s.Adjust(%s, %s) = %s, QuantLib %s", cal, d, conv, got, row[2+i])
			}
		}
		for i, n := range []int{0, 2, -3} {
			if got := cal.Advance(d, n).String(); got != row[6+i] {
				t.Errorf("%s.Advance(%s, %d) = %s, QuantLib %s", cal, d, n, got, row[6+i])
			}
		}
	}
}

func TestParseCalendarAndConvention(t *testing.T) {
	for _, n := range CalendarNames() {
		if c, err := ParseCalendar(n); err != nil || c.String() != n || !c.Valid() {
			t.Errorf("ParseCalendar(%q) = %v, %v", n, c, err)
		}
	}
	for _, n := range ConventionNames() {
		if c, err := ParseConvention(n); err != nil || c.String() != n || !c.Valid() {
			t.Errorf("ParseConvention(%q) = %v, %v", n, c, err)
		}
	}
	for _, n := range FrequencyNames() {
		if f, err := ParseFrequency(n); err != nil || f.String() != n || 12%f.Months() != 0 || f.Months()*f.PerYear() != 12 {
			t.Errorf("ParseFrequency(%q) = %v, %v", n, f, err)
		}
	}
	var u *UnknownNameError
	if _, err := ParseCalendar("target"); !errors.As(err, &u) || u.Kind != "calendar" {
		t.Errorf("ParseCalendar(target) error = %v, want UnknownNameError", err)
	} else if got, want := err.Error(), `dates: unknown calendar "target" (valid: none, weekends, TARGET)`; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	if _, err := ParseConvention("modifiedPreceding"); !errors.As(err, &u) {
		t.Errorf("ParseConvention(modifiedPreceding) error = %v, want UnknownNameError", err)
	}
	if _, err := ParseFrequency("weekly"); !errors.As(err, &u) {
		t.Errorf("ParseFrequency(weekly) error = %v, want UnknownNameError", err)
	}
}

// advanceByDays is Advance as it stepped, a day at a time: the reference
// the week steps must match.
func advanceByDays(c Calendar, d Date, n int) Date {
	if n == 0 {
		return c.Adjust(d, Following)
	}
	for ; n > 0; n-- {
		d++
		for !c.IsBusinessDay(d) {
			d++
		}
	}
	for ; n < 0; n++ {
		d--
		for !c.IsBusinessDay(d) {
			d--
		}
	}
	return d
}

// TestAdvanceMatchesStepping: Advance, which steps whole weeks over a
// long span, lands where stepping a day at a time does, on every calendar,
// both ways, from every weekday, over TARGET's changes of 1998-2001 and
// Easters far apart, up to 200 years of business days.
func TestAdvanceMatchesStepping(t *testing.T) {
	starts := []Date{New(1997, time.December, 20), New(2000, time.April, 20), New(2026, time.November, 25), New(2026, time.November, 28), New(2100, time.March, 1)}
	for i := range 7 {
		starts = append(starts, New(2026, time.December, 21)+Date(i))
	}
	ns := []int{1, 5, 10, 11, 12, 25, 26, 27, 260, 261, 262, 1000, 12_345, 52_200}
	for _, c := range []Calendar{NoHolidays, WeekendsOnly, TARGET} {
		for _, d := range starts {
			for _, n := range ns {
				for _, n := range []int{n, -n} {
					if got, want := c.Advance(d, n), advanceByDays(c, d, n); got != want {
						t.Errorf("%v: %s advanced %d business days: %s, want %s", c, d, n, got, want)
					}
				}
			}
		}
	}
}

// BenchmarkAdvanceLong advances 49,000 business days of TARGET, a
// deposit's tenor of 49000D: whole weeks at a time, where a day at a time
// (advanceByDays, BenchmarkAdvanceLong/days) took some 17 times as long.
func BenchmarkAdvanceLong(b *testing.B) {
	from := New(2026, time.November, 25)
	for _, c := range []struct {
		name    string
		advance func(Calendar, Date, int) Date
	}{{"weeks", Calendar.Advance}, {"days", advanceByDays}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				c.advance(TARGET, from, 49_000)
			}
		})
	}
}
