package dates

import (
	"strings"
	"testing"
)

func TestBackwardSchedule(t *testing.T) {
	tests := []struct {
		name       string
		start, end string
		f          Frequency
		cal        Calendar
		conv       Convention
		want       string
	}{
		{"regular annual", "2026-11-25", "2029-11-25", Annual, NoHolidays, Unadjusted,
			"2026-11-25 2027-11-25 2028-11-25 2029-11-25"},
		{"short front stub", "2027-01-10", "2028-11-25", Semiannual, NoHolidays, Unadjusted,
			"2027-01-10 2027-05-25 2027-11-25 2028-05-25 2028-11-25"},
		{"short front stub, adjusted", "2026-12-20", "2027-11-27", Quarterly, WeekendsOnly, ModifiedFollowing,
			"2026-12-21 2027-02-26 2027-05-27 2027-08-27 2027-11-29"},
		{"month-end clipping from maturity, no end-of-month rule", "2026-08-31", "2027-08-31", Quarterly, NoHolidays, Unadjusted,
			"2026-08-31 2026-11-30 2027-02-28 2027-05-31 2027-08-31"},
		{"a one-day stub is kept, as QuantLib does", "2026-11-27", "2027-11-28", Annual, WeekendsOnly, Following,
			"2026-11-27 2026-11-30 2027-11-29"},
		{"start adjusting onto the first generated date adds no stub", "2026-11-28", "2027-11-29", Annual, WeekendsOnly, Following,
			"2026-11-30 2027-11-29"},
		{"TARGET Good Friday", "2026-03-26", "2027-03-26", Semiannual, TARGET, Following,
			"2026-03-26 2026-09-28 2027-03-30"},
		{"single short period", "2026-11-25", "2027-01-15", Quarterly, NoHolidays, Unadjusted,
			"2026-11-25 2027-01-15"},
	}
	for _, tt := range tests {
		got, err := BackwardSchedule(mustDate(t, tt.start), mustDate(t, tt.end), tt.f, tt.cal, tt.conv)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if s := join(got); s != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, s, tt.want)
		}
	}
}

// TestBackwardScheduleQuantLib compares 300 schedules of every frequency,
// calendar and convention with QuantLib 1.29's Schedule (Backward, EOM off).
func TestBackwardScheduleQuantLib(t *testing.T) {
	for _, row := range readGolden(t, "schedule_quantlib.csv") {
		f, err1 := ParseFrequency(row[2])
		cal, err2 := ParseCalendar(row[3])
		conv, err3 := ParseConvention(row[4])
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatal(row)
		}
		got, err := BackwardSchedule(mustDate(t, row[0]), mustDate(t, row[1]), f, cal, conv)
		if err != nil {
			t.Errorf("%v: %v", row[:5], err)
			continue
		}
		if s := join(got); s != row[5] {
			t.Errorf("%v:\n got %s\nwant %s", row[:5], s, row[5])
		}
	}
}

func TestBackwardScheduleErrors(t *testing.T) {
	d := mustDate(t, "2026-11-25")
	tests := []struct {
		name       string
		start, end Date
		f          Frequency
		cal        Calendar
		conv       Convention
		want       string
	}{
		{"end before start", d, d - 1, Annual, NoHolidays, Unadjusted, "must be after start"},
		{"end equals start", d, d, Annual, NoHolidays, Unadjusted, "must be after start"},
		{"collapses", mustDate(t, "2026-11-28"), mustDate(t, "2026-11-29"), Annual, WeekendsOnly, Following, "collapses"},
		{"bad frequency", d, d + 400, 3, NoHolidays, Unadjusted, "invalid frequency"},
		{"bad calendar", d, d + 400, Annual, 0, Unadjusted, "invalid calendar"},
		{"bad convention", d, d + 400, Annual, TARGET, 9, "invalid convention"},
	}
	for _, tt := range tests {
		_, err := BackwardSchedule(tt.start, tt.end, tt.f, tt.cal, tt.conv)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func join(ds []Date) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.String()
	}
	return strings.Join(s, " ")
}
