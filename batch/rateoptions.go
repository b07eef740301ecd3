package batch

import (
	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/engine"
	"github.com/pricefn/pricefn/pricing/instrument"
)

// The rates options' wire forms (shared/spec/wire-format.md section 1b).

// rateVolWire is the volatility a rates option carries.
type rateVolWire struct {
	Vol          *float64 `json:"vol"`
	VolType      string   `json:"volType,omitempty"`
	Displacement *float64 `json:"displacement,omitempty"`
}

func (w *rateVolWire) setField(k string, v value) (bool, error) {
	switch k {
	case "vol":
		return true, v.num("vol", &w.Vol)
	case "volType":
		return true, v.str("volType", &w.VolType)
	case "displacement":
		return true, v.num("displacement", &w.Displacement)
	}
	return false, nil
}

var volTypes = map[string]engine.VolType{"lognormal": engine.Lognormal, "normal": engine.Normal}

// rateVol reads the vol: lognormal by default, a displacement only with
// lognormal vols.
func (w *rateVolWire) rateVol() (engine.RateVol, error) {
	var v engine.RateVol
	var err error
	def := engine.Lognormal
	if v.Type, err = enumValue("volType", w.VolType, volTypes, &def); err != nil {
		return v, err
	}
	if v.Vol, err = requiredNumber("vol", w.Vol); err != nil {
		return v, err
	}
	if w.Displacement != nil {
		if v.Type == engine.Normal {
			return v, pricing.Invalid("displacement", *w.Displacement, "is for lognormal vols only (normal vols take none)")
		}
		v.Displacement = *w.Displacement
	}
	return v, nil
}

type swaptionWire struct {
	common
	curvesWire
	swapLegsWire
	rollsWire
	rateVolWire
	Strike   *float64 `json:"strike"`
	Expiry   string   `json:"expiry"`
	Maturity string   `json:"maturity"`
	Side     string   `json:"side"`
}

func (w *swaptionWire) setField(k string, v value) (bool, error) {
	switch k {
	case "strike":
		return true, v.num("strike", &w.Strike)
	case "expiry":
		return true, v.str("expiry", &w.Expiry)
	case "maturity":
		return true, v.str("maturity", &w.Maturity)
	case "side":
		return true, v.str("side", &w.Side)
	}
	return anyField(k, v, &w.common, &w.curvesWire, &w.swapLegsWire, &w.rollsWire, &w.rateVolWire)
}

var swaptionSides = map[string]instrument.SwapSide{"payer": instrument.PayFixed, "receiver": instrument.ReceiveFixed}

// swaptionTerms is a decoded swaption and its engine.
type swaptionTerms struct {
	s   instrument.Swaption
	eng engine.BlackSwaption
}

// swaptionType: BenchmarkSwaption, like the swap's legs, costs about 500
// ns plus 170 ns per coupon.
var swaptionType = &kind[swaptionWire, *swaptionWire, swaptionTerms]{
	fields: refsCurves,
	terms:  swaptionTermsOf,
	price: func(t *swaptionTerms, m *pricing.Market, want pricing.Measures, _ *Engines) (pricing.Result, error) {
		return t.eng.Price(&t.s, m, want)
	},
	cost: func(t *swaptionTerms, e *Engines) float64 { return costSwap(&t.s.Swap, e) },
}

func swaptionTermsOf(w *swaptionWire, _ string, asOf dates.Date, ds *dateCache) (swaptionTerms, error) {
	var t swaptionTerms
	sw := instrument.Swap{ForecastCurve: w.ForecastCurve}
	var err error
	if sw.Curve, err = requiredCurve(w.Curve); err != nil {
		return t, err
	}
	if sw.Notional, err = requiredNumber("notional", w.Notional); err != nil {
		return t, err
	}
	if sw.FixedRate, err = requiredNumber("strike", w.Strike); err != nil {
		return t, err
	}
	if t.s.Expiry, err = ds.required("expiry", w.Expiry); err != nil {
		return t, err
	}
	sw.Start = t.s.Expiry
	if sw.Maturity, err = ds.required("maturity", w.Maturity); err != nil {
		return t, err
	}
	if sw.Side, err = enumValue("side", w.Side, swaptionSides, nil); err != nil {
		return t, err
	}
	l, err := w.legs()
	if err != nil {
		return t, err
	}
	sw.FixedFrequency, sw.FixedDayCount, sw.FloatFrequency, sw.FloatDayCount = l.fixedFrequency, l.fixedDayCount, l.floatFrequency, l.floatDayCount
	if sw.Calendar, sw.Convention, err = w.rolls(dates.ModifiedFollowing); err != nil {
		return t, err
	}
	t.s.Swap = sw
	if t.eng.Vol, err = w.rateVol(); err != nil {
		return t, err
	}
	if err := t.s.Validate(asOf); err != nil {
		return t, err
	}
	return t, nil
}

type capFloorWire struct {
	common
	curvesWire
	rollsWire
	rateVolWire
	CapType   string   `json:"capType"`
	Strike    *float64 `json:"strike"`
	Start     string   `json:"start"`
	Maturity  string   `json:"maturity"`
	Frequency string   `json:"frequency,omitempty"`
	DayCount  string   `json:"dayCount,omitempty"`
}

func (w *capFloorWire) setField(k string, v value) (bool, error) {
	switch k {
	case "capType":
		return true, v.str("capType", &w.CapType)
	case "strike":
		return true, v.num("strike", &w.Strike)
	case "start":
		return true, v.str("start", &w.Start)
	case "maturity":
		return true, v.str("maturity", &w.Maturity)
	case "frequency":
		return true, v.str("frequency", &w.Frequency)
	case "dayCount":
		return true, v.str("dayCount", &w.DayCount)
	}
	return anyField(k, v, &w.common, &w.curvesWire, &w.rollsWire, &w.rateVolWire)
}

var capTypes = map[string]instrument.CapFloorType{"cap": instrument.Cap, "floor": instrument.Floor}

// capFloorTerms is a decoded cap or floor and its engine.
type capFloorTerms struct {
	c   instrument.CapFloor
	eng engine.BlackCapFloor
}

var capFloorType = &kind[capFloorWire, *capFloorWire, capFloorTerms]{
	fields: refsCurves,
	terms:  capFloorTermsOf,
	price: func(t *capFloorTerms, m *pricing.Market, want pricing.Measures, _ *Engines) (pricing.Result, error) {
		return t.eng.Price(&t.c, m, want)
	},
	cost: costCapFloor,
}

// costCapFloor follows BenchmarkCapFloor: about 400 ns plus 500 ns per
// caplet (schedule, forward, discount factor and Black formula).
func costCapFloor(t *capFloorTerms, _ *Engines) float64 {
	years := float64(t.c.Maturity-t.c.Start) / 365.25
	return 400 + 500*years*float64(t.c.Frequency.PerYear())
}

func capFloorTermsOf(w *capFloorWire, _ string, asOf dates.Date, ds *dateCache) (capFloorTerms, error) {
	var t capFloorTerms
	c := instrument.CapFloor{ForecastCurve: w.ForecastCurve}
	var err error
	if c.Type, err = enumValue("capType", w.CapType, capTypes, nil); err != nil {
		return t, err
	}
	if c.Curve, err = requiredCurve(w.Curve); err != nil {
		return t, err
	}
	if c.Notional, err = requiredNumber("notional", w.Notional); err != nil {
		return t, err
	}
	if c.Strike, err = requiredNumber("strike", w.Strike); err != nil {
		return t, err
	}
	if c.Start, err = ds.required("start", w.Start); err != nil {
		return t, err
	}
	if c.Maturity, err = ds.required("maturity", w.Maturity); err != nil {
		return t, err
	}
	if c.Frequency, err = namedValue("frequency", w.Frequency, dates.Quarterly, dates.ParseFrequency); err != nil {
		return t, err
	}
	if c.DayCount, err = namedValue("dayCount", w.DayCount, dates.Act360, dates.ParseDayCount); err != nil {
		return t, err
	}
	if c.Calendar, c.Convention, err = w.rolls(dates.ModifiedFollowing); err != nil {
		return t, err
	}
	if t.eng.Vol, err = w.rateVol(); err != nil {
		return t, err
	}
	if err := c.Validate(asOf); err != nil {
		return t, err
	}
	t.c = c
	return t, nil
}
