package pricing

import (
	"fmt"
	"strings"

	"github.com/pricefn/pricefn/pricing/dates"
)

// Measure names one figure a pricing can report.
type Measure uint8

// The measures, in the order results list them.
const (
	NPV Measure = iota
	NPVStdErr
	Delta
	Gamma
	Vega
	Theta
	Rho
	FairRate
	PV01
	CleanPrice
	DirtyPrice
	Accrued
	Yield
	Duration
	Convexity
	// ImpliedVol is the Black-Scholes volatility, per 1.00, that reproduces
	// a European option's quoted price.
	ImpliedVol
	// Annuity is a swaption's annuity: the underlying swap's fixed-leg
	// accruals times their discount factors, times notional.
	Annuity
	Cashflows
	numMeasures
)

var measureNames = [numMeasures]string{
	"npv", "npvStdErr", "delta", "gamma", "vega", "theta", "rho", "fairRate", "pv01",
	"cleanPrice", "dirtyPrice", "accrued", "yield", "duration", "convexity", "impliedVol", "annuity",
	"cashflows",
}

// Valid reports whether m is a measure: a loop over every measure runs
// from 0 while Valid holds.
func (m Measure) Valid() bool { return m < numMeasures }

// String returns the wire name of m, e.g. "npv".
func (m Measure) String() string {
	if m < numMeasures {
		return measureNames[m]
	}
	return fmt.Sprintf("Measure(%d)", uint8(m))
}

// AllMeasures lists every measure in result order.
func AllMeasures() []Measure {
	out := make([]Measure, numMeasures)
	for i := range out {
		out[i] = Measure(i)
	}
	return out
}

// ParseMeasure returns the measure whose wire name is s.
func ParseMeasure(s string) (Measure, error) {
	for i, n := range measureNames {
		if n == s {
			return Measure(i), nil
		}
	}
	return 0, fmt.Errorf("pricing: unknown measure %q (valid: %s)", s, strings.Join(measureNames[:], ", "))
}

// Measures is a set of measures.
type Measures uint32

// Of returns the set holding ms.
func Of(ms ...Measure) Measures {
	var s Measures
	for _, m := range ms {
		s |= 1 << m
	}
	return s
}

// Has reports whether m is in s.
func (s Measures) Has(m Measure) bool { return s&(1<<m) != 0 }

// With returns s plus ms.
func (s Measures) With(ms ...Measure) Measures { return s | Of(ms...) }

// Greeks is the set of the five option sensitivities.
const Greeks = Measures(1<<Delta | 1<<Gamma | 1<<Vega | 1<<Theta | 1<<Rho)

// Cashflow is one payment of a rates trade, as the measure "cashflows" shows it.
type Cashflow struct {
	Date     dates.Date `json:"date"`
	Leg      string     `json:"leg,omitempty"`
	Amount   float64    `json:"amount"`
	Discount float64    `json:"discount"`
}

// Result holds what an engine computed for one trade. Set records which
// fields hold values; a field not in Set is meaningless. Engines may compute
// more than they were asked for; the caller reports what was requested.
type Result struct {
	Set Measures

	NPV, NPVStdErr                 float64
	Delta, Gamma, Vega, Theta, Rho float64
	FairRate, PV01                 float64
	CleanPrice, DirtyPrice         float64
	Accrued, Yield                 float64
	Duration, Convexity            float64
	ImpliedVol, Annuity            float64
	Cashflows                      []Cashflow
}

// Value returns the float value of m and whether it is set. Cashflows is
// not a float: Value reports it as unset.
func (r *Result) Value(m Measure) (float64, bool) {
	if p := r.field(m); p != nil && r.Set.Has(m) {
		return *p, true
	}
	return 0, false
}

// SetValue stores v as measure m and marks it set. It panics if m is
// Cashflows, which is not a float.
func (r *Result) SetValue(m Measure, v float64) {
	p := r.field(m)
	if p == nil {
		panic("pricing: SetValue of non-float measure " + m.String())
	}
	*p = v
	r.Set |= 1 << m
}

// field returns the address of m's float field, or nil.
func (r *Result) field(m Measure) *float64 {
	switch m {
	case NPV:
		return &r.NPV
	case NPVStdErr:
		return &r.NPVStdErr
	case Delta:
		return &r.Delta
	case Gamma:
		return &r.Gamma
	case Vega:
		return &r.Vega
	case Theta:
		return &r.Theta
	case Rho:
		return &r.Rho
	case FairRate:
		return &r.FairRate
	case PV01:
		return &r.PV01
	case CleanPrice:
		return &r.CleanPrice
	case DirtyPrice:
		return &r.DirtyPrice
	case Accrued:
		return &r.Accrued
	case Yield:
		return &r.Yield
	case Duration:
		return &r.Duration
	case Convexity:
		return &r.Convexity
	case ImpliedVol:
		return &r.ImpliedVol
	case Annuity:
		return &r.Annuity
	}
	return nil
}

// Scale multiplies every amount that grows with position size (npv, its
// standard error, the greeks, pv01 and cash-flow amounts) by q. Prices quoted
// per 100 of face, rates, yields, implied volatilities and a swaption's
// annuity do not scale.
func (r *Result) Scale(q float64) {
	if q == 1 {
		return
	}
	r.NPV *= q
	r.NPVStdErr *= abs(q)
	r.Delta *= q
	r.Gamma *= q
	r.Vega *= q
	r.Theta *= q
	r.Rho *= q
	r.PV01 *= q
	for i := range r.Cashflows {
		r.Cashflows[i].Amount *= q
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
