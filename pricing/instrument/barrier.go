package instrument

import (
	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
)

// BarrierType says on which side of spot a barrier lies and whether touching
// it activates (in) or extinguishes (out) the option.
type BarrierType int8

// The four single-barrier kinds.
const (
	DownIn BarrierType = iota
	DownOut
	UpIn
	UpOut
)

var barrierTypeNames = [...]string{"downIn", "downOut", "upIn", "upOut"}

func (b BarrierType) String() string {
	if b >= 0 && int(b) < len(barrierTypeNames) {
		return barrierTypeNames[b]
	}
	return "unknown"
}

// IsDown reports whether the barrier lies below spot.
func (b BarrierType) IsDown() bool { return b == DownIn || b == DownOut }

// IsIn reports whether touching the barrier activates the option.
func (b BarrierType) IsIn() bool { return b == DownIn || b == UpIn }

// Barrier is a European option with one continuously monitored barrier.
// Rebate is paid at expiry for a knock-in that never knocked in, and at the
// hitting time for a knock-out that knocked out, as QuantLib's
// AnalyticBarrierEngine has it.
type Barrier struct {
	Option
	Type   BarrierType
	Level  float64
	Rebate float64
}

// Validate checks the terms. That the barrier lies on the right side of spot
// depends on the market and is checked by the engine.
func (b *Barrier) Validate(asOf dates.Date) error {
	if err := b.Option.Validate(asOf); err != nil {
		return err
	}
	if b.Type < DownIn || b.Type > UpOut {
		return pricing.Invalid("barrierType", b.Type, "must be downIn, downOut, upIn or upOut")
	}
	if err := pricing.CheckAmount("barrier", b.Level); err != nil {
		return err
	}
	if b.Rebate == 0 {
		return nil
	}
	if b.Rebate < 0 {
		return pricing.Invalid("rebate", b.Rebate, "must be >= 0")
	}
	return pricing.CheckAmount("rebate", b.Rebate)
}
