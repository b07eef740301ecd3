package dates

import (
	"testing"
	"time"
)

func TestDateRoundTripAgainstTime(t *testing.T) {
	start := time.Date(1899, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 200*366; i++ {
		tt := start.AddDate(0, 0, i)
		d := New(tt.Year(), tt.Month(), tt.Day())
		if want := int32(tt.Unix() / 86400); int32(d) != want {
			t.Fatalf("New(%s) = %d, want %d", tt.Format(time.DateOnly), d, want)
		}
		y, m, dd := d.Civil()
		if y != tt.Year() || m != tt.Month() || dd != tt.Day() {
			t.Fatalf("Civil(%d) = %d-%d-%d, want %s", d, y, m, dd, tt.Format(time.DateOnly))
		}
		if d.Weekday() != tt.Weekday() {
			t.Fatalf("Weekday(%s) = %v, want %v", d, d.Weekday(), tt.Weekday())
		}
		if d.String() != tt.Format(time.DateOnly) {
			t.Fatalf("String = %s, want %s", d, tt.Format(time.DateOnly))
		}
	}
}

func TestAddMonthsClipsToMonthEnd(t *testing.T) {
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2027-01-31", 1, "2027-02-28"},
		{"2028-01-31", 1, "2028-02-29"},
		{"2026-11-25", 6, "2027-05-25"},
		{"2026-11-25", -12, "2025-11-25"},
		{"2026-03-31", -1, "2026-02-28"},
		{"2026-11-30", 3, "2027-02-28"},
		{"2026-05-15", -17, "2024-12-15"},
	}
	for _, tt := range tests {
		d, err := Parse(tt.from)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.AddMonths(tt.n).String(); got != tt.want {
			t.Errorf("%s + %d months = %s, want %s", tt.from, tt.n, got, tt.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{"", "2026-13-01", "2026-02-30", "26-11-25", "2026/11/25", "2026-11-25T00:00:00Z"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) succeeded, want error", s)
		}
	}
}
