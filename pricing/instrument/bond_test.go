package instrument

import (
	"strings"
	"testing"

	"github.com/pricefn/pricefn/pricing/dates"
)

func TestFixedRateBondValidate(t *testing.T) {
	ok := FixedRateBond{Curve: "c", Face: 100, Coupon: 0.03, Issue: ratesAsOf - 400, Maturity: ratesAsOf.AddMonths(60),
		Frequency: dates.Semiannual, DayCount: dates.ActActISDA, Calendar: dates.WeekendsOnly, Convention: dates.Unadjusted}
	if err := ok.Validate(ratesAsOf); err != nil {
		t.Fatalf("valid bond: %v", err)
	}
	// QuantLib prices a bond maturing on the valuation date (its flows on
	// that date left out); one that matured before stays refused.
	onAsOf := ok
	onAsOf.Maturity = ratesAsOf
	if err := onAsOf.Validate(ratesAsOf); err != nil {
		t.Errorf("bond maturing on the valuation date: %v", err)
	}
	matured := ok
	matured.Maturity = ratesAsOf - 1
	if err := matured.Validate(ratesAsOf); err == nil || !strings.Contains(err.Error(), "maturity must not be before the valuation date 2026-11-25") {
		t.Errorf("matured bond: error %v, want maturity must not be before the valuation date", err)
	}
	tests := []struct {
		name  string
		edit  func(*FixedRateBond)
		field string
	}{
		{"maturity before issue", func(b *FixedRateBond) { b.Maturity = b.Issue - 1 }, "maturity"},
		{"matured", func(b *FixedRateBond) { b.Maturity = ratesAsOf - 1 }, "maturity"},
		{"zero face", func(b *FixedRateBond) { b.Face = 0 }, "face"},
		{"bad day count", func(b *FixedRateBond) { b.DayCount = 0 }, "dayCount"},
		{"bad frequency", func(b *FixedRateBond) { b.Frequency = 0 }, "frequency"},
		{"bad convention", func(b *FixedRateBond) { b.Convention = 0 }, "convention"},
		{"negative settlement", func(b *FixedRateBond) { b.SettlementDays = -1 }, "settlementDays"},
		{"long settlement", func(b *FixedRateBond) { b.SettlementDays = MaxSettlementDays + 1 }, "settlementDays"},
		{"huge face", func(b *FixedRateBond) { b.Face = 1e308 }, "face"},
		{"huge coupon", func(b *FixedRateBond) { b.Coupon = 1e308 }, "coupon"},
		{"maturity past the horizon", func(b *FixedRateBond) { b.Maturity = ratesAsOf.AddMonths(12 * 250) }, "maturity"},
		{"issued long ago", func(b *FixedRateBond) { b.Issue = ratesAsOf.AddMonths(-12 * 250) }, "issue"},
	}
	for _, tt := range tests {
		b := ok
		tt.edit(&b)
		wantInputError(t, tt.name, b.Validate(ratesAsOf), tt.field)
	}
}
