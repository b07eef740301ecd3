package instrument

import (
	"testing"

	"github.com/pricefn/pricefn/pricing/dates"
)

func TestOptionValidate(t *testing.T) {
	ok := Barrier{
		Option: Option{Underlying: "X", Right: Put, Strike: 100, Expiry: ratesAsOf.AddMonths(12)},
		Type:   DownOut, Level: 80, Rebate: 1,
	}
	if err := ok.Validate(ratesAsOf); err != nil {
		t.Fatalf("valid barrier: %v", err)
	}
	tests := []struct {
		name  string
		edit  func(*Barrier)
		field string
	}{
		{"no underlying", func(b *Barrier) { b.Underlying = "" }, "underlying"},
		{"bad right", func(b *Barrier) { b.Right = 7 }, "right"},
		{"zero strike", func(b *Barrier) { b.Strike = 0 }, "strike"},
		{"huge strike", func(b *Barrier) { b.Strike = 1e308 }, "strike"},
		{"expiry today", func(b *Barrier) { b.Expiry = ratesAsOf }, "expiry"},
		{"expiry past the horizon", func(b *Barrier) { b.Expiry = ratesAsOf.AddMonths(12 * 201) }, "expiry"},
		{"bad barrier type", func(b *Barrier) { b.Type = 9 }, "barrierType"},
		{"negative barrier", func(b *Barrier) { b.Level = -80 }, "barrier"},
		{"huge barrier", func(b *Barrier) { b.Level = 1e300 }, "barrier"},
		{"negative rebate", func(b *Barrier) { b.Rebate = -1 }, "rebate"},
		{"huge rebate", func(b *Barrier) { b.Rebate = 1e300 }, "rebate"},
	}
	for _, tt := range tests {
		b := ok
		tt.edit(&b)
		wantInputError(t, tt.name, b.Validate(ratesAsOf), tt.field)
	}
}

func TestAsianValidate(t *testing.T) {
	fix := []dates.Date{ratesAsOf + 30, ratesAsOf + 60, ratesAsOf + 90}
	ok := Asian{Option: Option{Underlying: "X", Right: Call, Strike: 100, Expiry: ratesAsOf + 90}, Averaging: Arithmetic, Fixings: fix}
	if err := ok.Validate(ratesAsOf); err != nil {
		t.Fatalf("valid Asian: %v", err)
	}
	tests := []struct {
		name  string
		edit  func(*Asian)
		field string
	}{
		{"no fixings", func(a *Asian) { a.Fixings = nil }, "fixings"},
		{"fixing today", func(a *Asian) { a.Fixings = []dates.Date{ratesAsOf, ratesAsOf + 60} }, "fixings[0]"},
		{"fixing after expiry", func(a *Asian) { a.Fixings = []dates.Date{ratesAsOf + 30, ratesAsOf + 91} }, "fixings[1]"},
		{"fixings out of order", func(a *Asian) { a.Fixings = []dates.Date{ratesAsOf + 60, ratesAsOf + 30} }, "fixings[1]"},
		{"repeated fixing", func(a *Asian) { a.Fixings = []dates.Date{ratesAsOf + 30, ratesAsOf + 30} }, "fixings[1]"},
		{"bad averaging", func(a *Asian) { a.Averaging = 5 }, "averaging"},
		{"negative paths", func(a *Asian) { a.Paths = -1 }, "paths"},
		{"too many paths", func(a *Asian) { a.Paths = MaxPaths + 1 }, "paths"},
		{"zero strike", func(a *Asian) { a.Strike = 0 }, "strike"},
	}
	for _, tt := range tests {
		a := ok
		a.Fixings = append([]dates.Date(nil), fix...)
		tt.edit(&a)
		wantInputError(t, tt.name, a.Validate(ratesAsOf), tt.field)
	}
}
