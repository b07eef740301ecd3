package instrument

import (
	"strings"
	"testing"

	"github.com/pricefn/pricefn/pricing/dates"
)

func TestSwapValidate(t *testing.T) {
	ok := Swap{Curve: "c", Notional: 1e7, FixedRate: 0.03, Start: ratesAsOf, Maturity: ratesAsOf.AddMonths(60),
		Side: PayFixed, FixedFrequency: dates.Annual, FixedDayCount: dates.Thirty360, FloatFrequency: dates.Semiannual,
		FloatDayCount: dates.Act360, Calendar: dates.TARGET, Convention: dates.ModifiedFollowing}
	if err := ok.Validate(ratesAsOf); err != nil {
		t.Fatalf("valid swap: %v", err)
	}
	tests := []struct {
		name  string
		edit  func(*Swap)
		field string
	}{
		{"maturity before start", func(s *Swap) { s.Maturity = s.Start - 1 }, "maturity"},
		{"matured", func(s *Swap) { s.Start, s.Maturity = ratesAsOf-800, ratesAsOf }, "maturity"},
		{"zero notional", func(s *Swap) { s.Notional = 0 }, "notional"},
		{"no side", func(s *Swap) { s.Side = 0 }, "side"},
		{"bad calendar", func(s *Swap) { s.Calendar = 0 }, "calendar"},
		{"bad convention", func(s *Swap) { s.Convention = 9 }, "convention"},
		{"bad float day count", func(s *Swap) { s.FloatDayCount = 0 }, "floatDayCount"},
		{"bad fixed frequency", func(s *Swap) { s.FixedFrequency = 3 }, "fixedFrequency"},
		{"no curve", func(s *Swap) { s.Curve = "" }, "curve"},
		{"huge notional", func(s *Swap) { s.Notional = 1e300 }, "notional"},
		{"huge fixed rate", func(s *Swap) { s.FixedRate = 1e300 }, "fixedRate"},
		{"huge spread", func(s *Swap) { s.Spread = 2 }, "spread"},
		{"maturity past the horizon", func(s *Swap) { s.Maturity = ratesAsOf.AddMonths(12 * 300) }, "maturity"},
		{"start long ago", func(s *Swap) { s.Start = ratesAsOf.AddMonths(-12 * 300) }, "start"},
	}
	for _, tt := range tests {
		s := ok
		tt.edit(&s)
		wantInputError(t, tt.name, s.Validate(ratesAsOf), tt.field)
	}
	s := ok
	s.Calendar = 0
	if err := s.Validate(ratesAsOf); err == nil || !strings.Contains(err.Error(), "none, weekends, TARGET") {
		t.Errorf("bad calendar: error %v, want the valid names listed", err)
	}
}
