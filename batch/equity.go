package batch

import (
	"fmt"
	"strings"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/engine"
	"github.com/pricefn/pricefn/pricing/instrument"
)

// common holds the fields every trade type accepts. Decode and Compile
// have read them already (the quantity from the trade's header); a type's
// wire form embeds them so that its strict decoding knows them.
type common struct {
	ID       string        `json:"id"`
	Type     string        `json:"type"`
	Quantity quantityField `json:"quantity"`
}

// optionWire is the wire form of a plain equity option.
type optionWire struct {
	common
	Underlying string   `json:"underlying"`
	Right      string   `json:"right"`
	Strike     *float64 `json:"strike"`
	Expiry     string   `json:"expiry"`
}

// option converts and validates the shared option terms.
func (w *optionWire) option(asOf dates.Date) (instrument.Option, error) {
	var o instrument.Option
	if w.Underlying == "" {
		return o, fmt.Errorf("underlying is required (the name of an underlying)")
	}
	o.Underlying = w.Underlying
	switch w.Right {
	case "call":
		o.Right = instrument.Call
	case "put":
		o.Right = instrument.Put
	case "":
		return o, fmt.Errorf("right is required (call or put)")
	default:
		return o, pricing.Invalid("right", fmt.Sprintf("%q", w.Right), "must be call or put")
	}
	if w.Strike == nil {
		return o, fmt.Errorf("strike is required")
	}
	o.Strike = *w.Strike
	var err error
	if o.Expiry, err = requiredDate("expiry", w.Expiry); err != nil {
		return o, err
	}
	return o, o.Validate(asOf)
}

// optionTerms is a wire form that starts with a plain option's fields.
type optionTerms interface{ base() *optionWire }

func (w *optionWire) base() *optionWire { return w }

// decodeOption decodes raw strictly into w and returns the option terms it
// starts with, checked against the valuation date asOf.
func decodeOption(raw []byte, asOf dates.Date, w optionTerms) (instrument.Option, error) {
	if err := decodeStrict(raw, w); err != nil {
		return instrument.Option{}, err
	}
	return w.base().option(asOf)
}

// requiredDate parses a mandatory date field.
func requiredDate(field, s string) (dates.Date, error) {
	if s == "" {
		return 0, fmt.Errorf("%s is required (YYYY-MM-DD)", field)
	}
	d, err := dates.Parse(s)
	if err != nil {
		return 0, pricing.Invalid(field, fmt.Sprintf("%q", s), "must be a YYYY-MM-DD date")
	}
	return d, nil
}

// enumValue maps a wire name to its value, or explains the valid names.
func enumValue[T any](field, s string, names map[string]T, def *T) (T, error) {
	var zero T
	if s == "" {
		if def != nil {
			return *def, nil
		}
		return zero, fmt.Errorf("%s is required (one of %s)", field, strings.Join(sortedKeys(names), ", "))
	}
	v, ok := names[s]
	if !ok {
		return zero, pricing.Invalid(field, fmt.Sprintf("%q", s), "must be one of "+strings.Join(sortedKeys(names), ", "))
	}
	return v, nil
}

// europeanWire is a european trade: a plain option, the model it is
// priced under and, for its implied volatility, a quoted premium.
type europeanWire struct {
	optionWire
	Model string   `json:"model,omitempty"`
	Price *float64 `json:"price,omitempty"`
}

// europeanTerms is a decoded european trade.
type europeanTerms struct {
	o      instrument.European
	heston bool    // priced under the underlying's Heston model
	quote  float64 // the quoted premium per unit of underlying, 0 if none
}

var europeanModels = map[string]bool{"black": false, "heston": true}

var europeanType = &kind[europeanTerms]{
	fields: refsUnderlying,
	decode: decodeEuropean,
	price:  priceEuropean,
	cost:   costEuropean,
}

func decodeEuropean(raw []byte, asOf dates.Date) (europeanTerms, error) {
	var w europeanWire
	o, err := decodeOption(raw, asOf, &w)
	if err != nil {
		return europeanTerms{}, err
	}
	def := false
	t := europeanTerms{o: instrument.European{Option: o}}
	if t.heston, err = enumValue("model", w.Model, europeanModels, &def); err != nil {
		return europeanTerms{}, err
	}
	if w.Price != nil {
		if err := pricing.CheckAmount("price", *w.Price); err != nil {
			return europeanTerms{}, err
		}
		t.quote = *w.Price
	}
	return t, nil
}

// priceEuropean values a european under its model: Black-Scholes
// (engine.AnalyticEuropean) or Heston (Engines.Heston), and, for a trade
// with a quoted price, its implied volatility (engine.ImpliedVolatility).
// It skips the model when only the implied volatility is wanted.
func priceEuropean(t *europeanTerms, m *pricing.Market, want pricing.Measures, e *Engines) (pricing.Result, error) {
	var r pricing.Result
	var err error
	switch {
	case want&^pricing.Of(pricing.ImpliedVol, pricing.NPVStdErr) == 0 && t.quote > 0:
	case t.heston:
		r, err = e.Heston.Price(&t.o, m, want)
	default:
		r, err = engine.AnalyticEuropean{}.Price(&t.o, m, want)
	}
	if err != nil || t.quote == 0 || !want.Has(pricing.ImpliedVol) {
		return r, err
	}
	iv, err := engine.ImpliedVolatility{}.Price(&t.o, t.quote, m)
	if err != nil {
		return pricing.Result{}, err
	}
	r.SetValue(pricing.ImpliedVol, iv)
	return r, nil
}

// costEuropean follows BenchmarkEuropean, BenchmarkHeston and
// BenchmarkImpliedVol.
func costEuropean(t *europeanTerms, _ *Engines) float64 {
	c := 150.0
	if t.heston {
		c = 60_000
	}
	if t.quote > 0 {
		c += 600
	}
	return c
}

// americanWire is an american trade: a plain option and the engine that
// prices it.
type americanWire struct {
	optionWire
	Engine string `json:"engine,omitempty"`
}

// americanTerms is a decoded american trade.
type americanTerms struct {
	o     instrument.American
	fd    bool    // priced by finite differences (Engines.American), not engine.QdFpAmerican
	years float64 // Act/365F years to expiry, for the cost estimate
}

// americanEngines are the wire names of the american engines: "qdfp"
// (Andersen-Lake-Offengenden, the default) and "fd" (finite differences).
var americanEngines = map[string]bool{"qdfp": false, "fd": true}

var americanType = &kind[americanTerms]{
	fields: refsUnderlying,
	decode: decodeAmerican,
	price: func(t *americanTerms, m *pricing.Market, want pricing.Measures, e *Engines) (pricing.Result, error) {
		if t.fd {
			return e.American.Price(&t.o, m, want)
		}
		return engine.QdFpAmerican{}.Price(&t.o, m, want)
	},
	cost: costAmerican,
}

// costAmerican follows BenchmarkAmericanQdFp, BenchmarkAmericanQdFpLong
// and BenchmarkAmerican: QdFp takes some 45 µs up to two years (its scheme
// grows with the expiry, and at low vols), ~0.3 ms at 20 years; FD about
// 1 ms (6.5 ms on its replica path).
func costAmerican(t *americanTerms, _ *Engines) float64 {
	switch {
	case t.fd:
		return 1_200_000
	case t.years <= 2:
		return 60_000
	case t.years <= 5:
		return 150_000
	}
	return 400_000
}

func decodeAmerican(raw []byte, asOf dates.Date) (americanTerms, error) {
	var w americanWire
	o, err := decodeOption(raw, asOf, &w)
	if err != nil {
		return americanTerms{}, err
	}
	def := false
	t := americanTerms{o: instrument.American{Option: o}, years: dates.YearFraction365(asOf, o.Expiry)}
	if t.fd, err = enumValue("engine", w.Engine, americanEngines, &def); err != nil {
		return americanTerms{}, err
	}
	return t, nil
}

type barrierWire struct {
	optionWire
	BarrierType string   `json:"barrierType"`
	Barrier     *float64 `json:"barrier"`
	Rebate      float64  `json:"rebate,omitempty"`
}

var barrierTypes = map[string]instrument.BarrierType{
	"downIn": instrument.DownIn, "downOut": instrument.DownOut, "upIn": instrument.UpIn, "upOut": instrument.UpOut,
}

var barrierType = &kind[instrument.Barrier]{
	fields: refsUnderlying,
	decode: decodeBarrier,
	price: func(o *instrument.Barrier, m *pricing.Market, want pricing.Measures, _ *Engines) (pricing.Result, error) {
		return engine.AnalyticBarrier{}.Price(o, m, want)
	},
	cost: func(*instrument.Barrier, *Engines) float64 { return 400 },
}

func decodeBarrier(raw []byte, asOf dates.Date) (instrument.Barrier, error) {
	var w barrierWire
	o, err := decodeOption(raw, asOf, &w)
	if err != nil {
		return instrument.Barrier{}, err
	}
	b := instrument.Barrier{Option: o, Rebate: w.Rebate}
	if b.Type, err = enumValue("barrierType", w.BarrierType, barrierTypes, nil); err != nil {
		return instrument.Barrier{}, err
	}
	if w.Barrier == nil {
		return instrument.Barrier{}, fmt.Errorf("barrier is required")
	}
	b.Level = *w.Barrier
	if err := b.Validate(asOf); err != nil {
		return instrument.Barrier{}, err
	}
	return b, nil
}

type asianWire struct {
	optionWire
	Averaging string   `json:"averaging"`
	Fixings   []string `json:"fixings"`
	Paths     int      `json:"paths,omitempty"`
}

var averagings = map[string]instrument.Averaging{
	"geometric": instrument.Geometric, "arithmetic": instrument.Arithmetic,
}

var asianType = &kind[instrument.Asian]{
	fields: refsUnderlying,
	decode: decodeAsian,
	price: func(o *instrument.Asian, m *pricing.Market, want pricing.Measures, e *Engines) (pricing.Result, error) {
		if o.Averaging == instrument.Geometric {
			return engine.AnalyticGeometricAsian{}.Price(o, m, want)
		}
		return e.Asian.Price(o, m, want)
	},
	cost: costAsian,
}

func costAsian(o *instrument.Asian, e *Engines) float64 {
	if o.Averaging == instrument.Geometric {
		return 300 + 20*float64(len(o.Fixings))
	}
	paths := o.Paths
	if paths == 0 {
		paths = e.Asian.Paths
	}
	if paths <= 0 {
		paths = engine.DefaultAsianPaths
	}
	return float64(paths) * (5 + 9.5*float64(len(o.Fixings))) // measured ~9 ns per path per fixing
}

func decodeAsian(raw []byte, asOf dates.Date) (instrument.Asian, error) {
	var w asianWire
	o, err := decodeOption(raw, asOf, &w)
	if err != nil {
		return instrument.Asian{}, err
	}
	a := instrument.Asian{Option: o, Paths: w.Paths}
	if a.Averaging, err = enumValue("averaging", w.Averaging, averagings, nil); err != nil {
		return instrument.Asian{}, err
	}
	if w.Fixings == nil {
		return instrument.Asian{}, fmt.Errorf("fixings is required (a list of dates)")
	}
	a.Fixings = make([]dates.Date, len(w.Fixings))
	for i, s := range w.Fixings {
		if a.Fixings[i], err = requiredDate(fmt.Sprintf("fixings[%d]", i), s); err != nil {
			return instrument.Asian{}, err
		}
	}
	if err := a.Validate(asOf); err != nil {
		return instrument.Asian{}, err
	}
	return a, nil
}
