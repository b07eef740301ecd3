package instrument

import (
	"errors"
	"testing"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
)

// ratesAsOf is the valuation date of the rates instruments' tests.
var ratesAsOf = dates.New(2026, 11, 25)

// wantInputError fails unless err is a *pricing.InputError on field.
func wantInputError(t *testing.T, name string, err error, field string) {
	t.Helper()
	var ie *pricing.InputError
	if !errors.As(err, &ie) || ie.Field != field {
		t.Errorf("%s: error %v, want an InputError on %s", name, err, field)
	}
}

func TestFRAValidate(t *testing.T) {
	ok := FRA{Curve: "c", Notional: 1e6, Rate: 0.02, Start: ratesAsOf + 30, End: ratesAsOf + 120, DayCount: dates.Act360, Position: Long}
	if err := ok.Validate(ratesAsOf); err != nil {
		t.Fatalf("valid FRA: %v", err)
	}
	tests := []struct {
		name  string
		edit  func(*FRA)
		field string
	}{
		{"zero notional", func(f *FRA) { f.Notional = 0 }, "notional"},
		{"negative notional", func(f *FRA) { f.Notional = -1 }, "notional"},
		{"end on start", func(f *FRA) { f.End = f.Start }, "end"},
		{"started", func(f *FRA) { f.Start = ratesAsOf - 1 }, "start"},
		{"no day count", func(f *FRA) { f.DayCount = 0 }, "dayCount"},
		{"no position", func(f *FRA) { f.Position = 0 }, "position"},
		{"no curve", func(f *FRA) { f.Curve = "" }, "curve"},
		{"huge notional", func(f *FRA) { f.Notional = 1e308 }, "notional"},
		{"huge rate", func(f *FRA) { f.Rate = -1e308 }, "rate"},
		{"end past the horizon", func(f *FRA) { f.End = ratesAsOf.AddMonths(12 * 201) }, "end"},
	}
	for _, tt := range tests {
		f := ok
		tt.edit(&f)
		wantInputError(t, tt.name, f.Validate(ratesAsOf), tt.field)
	}
}
