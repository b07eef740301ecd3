package batch

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/engine"
	"github.com/pricefn/pricefn/pricing/instrument"
)

// The rates trades' wire forms (shared/spec/wire-format.md section 1 and
// docs/rates.md). Optional fields are empty or nil when absent and take the
// spec's defaults.

// curvesWire holds the fields every rates trade has: its discount curve,
// its forecast curve (the discount curve when empty) and its notional.
type curvesWire struct {
	Curve         string   `json:"curve"`
	ForecastCurve string   `json:"forecastCurve,omitempty"`
	Notional      *float64 `json:"notional"`
}

func (w *curvesWire) setField(k string, v value) (bool, error) {
	switch k {
	case "curve":
		return true, v.str("curve", &w.Curve)
	case "forecastCurve":
		return true, v.str("forecastCurve", &w.ForecastCurve)
	case "notional":
		return true, v.num("notional", &w.Notional)
	}
	return false, nil
}

type fraWire struct {
	common
	curvesWire
	Rate     *float64 `json:"rate"`
	Start    string   `json:"start"`
	End      string   `json:"end"`
	DayCount string   `json:"dayCount,omitempty"`
	Position string   `json:"position"`
}

func (w *fraWire) setField(k string, v value) (bool, error) {
	switch k {
	case "rate":
		return true, v.num("rate", &w.Rate)
	case "start":
		return true, v.str("start", &w.Start)
	case "end":
		return true, v.str("end", &w.End)
	case "dayCount":
		return true, v.str("dayCount", &w.DayCount)
	case "position":
		return true, v.str("position", &w.Position)
	}
	return anyField(k, v, &w.common, &w.curvesWire)
}

type swapWire struct {
	common
	curvesWire
	swapLegsWire
	rollsWire
	FixedRate *float64 `json:"fixedRate"`
	Start     string   `json:"start"`
	Maturity  string   `json:"maturity"`
	Side      string   `json:"side"`
	Spread    float64  `json:"spread,omitempty"`
}

func (w *swapWire) setField(k string, v value) (bool, error) {
	switch k {
	case "fixedRate":
		return true, v.num("fixedRate", &w.FixedRate)
	case "start":
		return true, v.str("start", &w.Start)
	case "maturity":
		return true, v.str("maturity", &w.Maturity)
	case "side":
		return true, v.str("side", &w.Side)
	case "spread":
		return true, v.numv("spread", &w.Spread)
	}
	return anyField(k, v, &w.common, &w.curvesWire, &w.swapLegsWire, &w.rollsWire)
}

type bondWire struct {
	common
	rollsWire
	Curve          string   `json:"curve"`
	Face           *float64 `json:"face,omitempty"`
	Coupon         *float64 `json:"coupon"`
	Issue          string   `json:"issue"`
	Maturity       string   `json:"maturity"`
	Frequency      string   `json:"frequency,omitempty"`
	DayCount       string   `json:"dayCount,omitempty"`
	SettlementDays *int     `json:"settlementDays,omitempty"`
}

func (w *bondWire) setField(k string, v value) (bool, error) {
	switch k {
	case "curve":
		return true, v.str("curve", &w.Curve)
	case "face":
		return true, v.num("face", &w.Face)
	case "coupon":
		return true, v.num("coupon", &w.Coupon)
	case "issue":
		return true, v.str("issue", &w.Issue)
	case "maturity":
		return true, v.str("maturity", &w.Maturity)
	case "frequency":
		return true, v.str("frequency", &w.Frequency)
	case "dayCount":
		return true, v.str("dayCount", &w.DayCount)
	case "settlementDays":
		return true, v.intp("settlementDays", &w.SettlementDays)
	}
	return anyField(k, v, &w.common, &w.rollsWire)
}

// anyField offers the member k to each of the wire parts in turn.
func anyField(k string, v value, parts ...fieldSetter) (bool, error) {
	for _, p := range parts {
		if ok, err := p.setField(k, v); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// swapLegsWire is the conventions of a swap's two legs, as a swap trade
// and a bootstrap swap quote both give them.
type swapLegsWire struct {
	FixedFrequency string `json:"fixedFrequency,omitempty"`
	FixedDayCount  string `json:"fixedDayCount,omitempty"`
	FloatFrequency string `json:"floatFrequency,omitempty"`
	FloatDayCount  string `json:"floatDayCount,omitempty"`
}

func (w *swapLegsWire) setField(k string, v value) (bool, error) {
	switch k {
	case "fixedFrequency":
		return true, v.str("fixedFrequency", &w.FixedFrequency)
	case "fixedDayCount":
		return true, v.str("fixedDayCount", &w.FixedDayCount)
	case "floatFrequency":
		return true, v.str("floatFrequency", &w.FloatFrequency)
	case "floatDayCount":
		return true, v.str("floatDayCount", &w.FloatDayCount)
	}
	return false, nil
}

// swapLegs is a swapLegsWire read.
type swapLegs struct {
	fixedFrequency dates.Frequency
	fixedDayCount  dates.DayCount
	floatFrequency dates.Frequency
	floatDayCount  dates.DayCount
}

// legs reads the leg conventions with the spec's swap defaults: annual
// 30/360 fixed, semiannual ACT/360 floating.
func (w *swapLegsWire) legs() (l swapLegs, err error) {
	if l.fixedFrequency, err = namedValue("fixedFrequency", w.FixedFrequency, dates.Annual, dates.ParseFrequency); err != nil {
		return l, err
	}
	if l.fixedDayCount, err = namedValue("fixedDayCount", w.FixedDayCount, dates.Thirty360, dates.ParseDayCount); err != nil {
		return l, err
	}
	if l.floatFrequency, err = namedValue("floatFrequency", w.FloatFrequency, dates.Semiannual, dates.ParseFrequency); err != nil {
		return l, err
	}
	l.floatDayCount, err = namedValue("floatDayCount", w.FloatDayCount, dates.Act360, dates.ParseDayCount)
	return l, err
}

// given reports whether any leg field is set.
func (w *swapLegsWire) given() bool { return *w != swapLegsWire{} }

// rollsWire is the holiday calendar and business-day convention of a
// schedule.
type rollsWire struct {
	Calendar   string `json:"calendar,omitempty"`
	Convention string `json:"convention,omitempty"`
}

func (w *rollsWire) setField(k string, v value) (bool, error) {
	switch k {
	case "calendar":
		return true, v.str("calendar", &w.Calendar)
	case "convention":
		return true, v.str("convention", &w.Convention)
	}
	return false, nil
}

// rolls reads the calendar, default weekends, and the convention, default
// defConv.
func (w *rollsWire) rolls(defConv dates.Convention) (dates.Calendar, dates.Convention, error) {
	cal, err := namedValue("calendar", w.Calendar, dates.WeekendsOnly, dates.ParseCalendar)
	if err != nil {
		return 0, 0, err
	}
	conv, err := namedValue("convention", w.Convention, defConv, dates.ParseConvention)
	return cal, conv, err
}

var positions = map[string]instrument.Position{"long": instrument.Long, "short": instrument.Short}

var swapSides = map[string]instrument.SwapSide{"payFixed": instrument.PayFixed, "receiveFixed": instrument.ReceiveFixed}

// namedValue parses an optional day count, calendar, convention or
// frequency field with parse, or returns def when the field is absent. An
// unknown name is an error naming the field and listing the valid names,
// the name given cut as pricing.Shown cuts a bad value (package dates,
// which pricing imports, quotes it whole).
func namedValue[T any](field, s string, def T, parse func(string) (T, error)) (T, error) {
	if s == "" {
		return def, nil
	}
	v, err := parse(s)
	if err != nil {
		var u *dates.UnknownNameError
		if errors.As(err, &u) {
			// As every other name a trade gives is refused, without the
			// package's prefix: "calendar: dates: unknown calendar".
			return v, pricing.Invalid(field, pricing.Quoted(u.Name), "must be one of "+strings.Join(u.Valid, ", "))
		}
		return v, fmt.Errorf("%s: %w", field, err)
	}
	return v, nil
}

// requiredNumber returns a mandatory number field.
func requiredNumber(field string, p *float64) (float64, error) {
	if p == nil {
		return 0, fmt.Errorf("%s is required", field)
	}
	return *p, nil
}

// requiredCurve returns a mandatory curve name.
func requiredCurve(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("curve is required (the name of a curve)")
	}
	return name, nil
}

// fraType: BenchmarkFRA's figure is about 100 ns.
var fraType = &kind[fraWire, *fraWire, instrument.FRA]{
	fields: refsCurves,
	terms:  fraTermsOf,
	price: func(f *instrument.FRA, m *pricing.Market, want pricing.Measures, _ *Engines) (pricing.Result, error) {
		return engine.DiscountingFRA{}.Price(f, m, want)
	},
	cost:      func(*instrument.FRA, *Engines) float64 { return 100 },
	costTerms: func(*fraWire) (instrument.FRA, bool) { return instrument.FRA{}, true },
}

func fraTermsOf(w *fraWire, _ string, asOf dates.Date, ds *dateCache) (instrument.FRA, error) {
	f := instrument.FRA{ForecastCurve: w.ForecastCurve}
	var err error
	if f.Curve, err = requiredCurve(w.Curve); err != nil {
		return instrument.FRA{}, err
	}
	if f.Notional, err = requiredNumber("notional", w.Notional); err != nil {
		return instrument.FRA{}, err
	}
	if f.Rate, err = requiredNumber("rate", w.Rate); err != nil {
		return instrument.FRA{}, err
	}
	if f.Start, err = ds.required("start", w.Start); err != nil {
		return instrument.FRA{}, err
	}
	if f.End, err = ds.required("end", w.End); err != nil {
		return instrument.FRA{}, err
	}
	if f.DayCount, err = namedValue("dayCount", w.DayCount, dates.Act360, dates.ParseDayCount); err != nil {
		return instrument.FRA{}, err
	}
	if f.Position, err = enumValue("position", w.Position, positions, nil); err != nil {
		return instrument.FRA{}, err
	}
	if err := f.Validate(asOf); err != nil {
		return instrument.FRA{}, err
	}
	return f, nil
}

var swapType = &kind[swapWire, *swapWire, instrument.Swap]{
	fields: refsCurves,
	terms:  swapTermsOf,
	price: func(sw *instrument.Swap, m *pricing.Market, want pricing.Measures, _ *Engines) (pricing.Result, error) {
		return engine.DiscountingSwap{}.Price(sw, m, want)
	},
	cost: costSwap,
}

// costSwap follows BenchmarkSwap: about 500 ns plus 170 ns per coupon of
// either leg (schedule, day counts and discounting; pv01 included).
func costSwap(sw *instrument.Swap, _ *Engines) float64 {
	years := float64(sw.Maturity-sw.Start) / 365.25
	coupons := years * float64(sw.FixedFrequency.PerYear()+sw.FloatFrequency.PerYear())
	return 500 + 170*coupons
}

func swapTermsOf(w *swapWire, _ string, asOf dates.Date, ds *dateCache) (instrument.Swap, error) {
	s := instrument.Swap{ForecastCurve: w.ForecastCurve, Spread: w.Spread}
	var err error
	if s.Curve, err = requiredCurve(w.Curve); err != nil {
		return instrument.Swap{}, err
	}
	if s.Notional, err = requiredNumber("notional", w.Notional); err != nil {
		return instrument.Swap{}, err
	}
	if s.FixedRate, err = requiredNumber("fixedRate", w.FixedRate); err != nil {
		return instrument.Swap{}, err
	}
	if s.Start, err = ds.required("start", w.Start); err != nil {
		return instrument.Swap{}, err
	}
	if s.Maturity, err = ds.required("maturity", w.Maturity); err != nil {
		return instrument.Swap{}, err
	}
	if s.Side, err = enumValue("side", w.Side, swapSides, nil); err != nil {
		return instrument.Swap{}, err
	}
	l, err := w.legs()
	if err != nil {
		return instrument.Swap{}, err
	}
	s.FixedFrequency, s.FixedDayCount, s.FloatFrequency, s.FloatDayCount = l.fixedFrequency, l.fixedDayCount, l.floatFrequency, l.floatDayCount
	if s.Calendar, s.Convention, err = w.rolls(dates.ModifiedFollowing); err != nil {
		return instrument.Swap{}, err
	}
	if err := s.Validate(asOf); err != nil {
		return instrument.Swap{}, err
	}
	return s, nil
}

var bondType = &kind[bondWire, *bondWire, instrument.FixedRateBond]{
	fields: refsCurve,
	terms:  bondTermsOf,
	price: func(b *instrument.FixedRateBond, m *pricing.Market, want pricing.Measures, _ *Engines) (pricing.Result, error) {
		return engine.DiscountingBond{}.Price(b, m, want)
	},
	cost: costBond,
}

// costBond follows BenchmarkBond: about 500 ns plus 150 ns per coupon for
// npv and prices; QuantLib's yield solver adds some 30 passes over the
// remaining flows, about 450 ns per coupon more.
func costBond(b *instrument.FixedRateBond, _ *Engines) float64 {
	years := float64(b.Maturity-b.Issue) / 365.25
	return 500 + 600*years*float64(b.Frequency.PerYear())
}

func bondTermsOf(w *bondWire, _ string, asOf dates.Date, ds *dateCache) (instrument.FixedRateBond, error) {
	b := instrument.FixedRateBond{Face: 100}
	var err error
	if b.Curve, err = requiredCurve(w.Curve); err != nil {
		return instrument.FixedRateBond{}, err
	}
	if w.Face != nil {
		b.Face = *w.Face
	}
	if w.SettlementDays != nil {
		b.SettlementDays = *w.SettlementDays
	}
	if b.Coupon, err = requiredNumber("coupon", w.Coupon); err != nil {
		return instrument.FixedRateBond{}, err
	}
	if b.Issue, err = ds.required("issue", w.Issue); err != nil {
		return instrument.FixedRateBond{}, err
	}
	if b.Maturity, err = ds.required("maturity", w.Maturity); err != nil {
		return instrument.FixedRateBond{}, err
	}
	if b.Frequency, err = namedValue("frequency", w.Frequency, dates.Semiannual, dates.ParseFrequency); err != nil {
		return instrument.FixedRateBond{}, err
	}
	if b.DayCount, err = namedValue("dayCount", w.DayCount, dates.ActActISDA, dates.ParseDayCount); err != nil {
		return instrument.FixedRateBond{}, err
	}
	if b.Calendar, b.Convention, err = w.rolls(dates.Unadjusted); err != nil {
		return instrument.FixedRateBond{}, err
	}
	if err := b.Validate(asOf); err != nil {
		return instrument.FixedRateBond{}, err
	}
	return b, nil
}
