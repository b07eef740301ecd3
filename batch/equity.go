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

type europeanTrade struct{ o instrument.European }

func (t *europeanTrade) price(m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	return engine.AnalyticEuropean{}.Price(&t.o, m, want)
}
func (t *europeanTrade) cost() float64 { return 150 }

func decodeEuropean(raw []byte, asOf dates.Date) (priceable, error) {
	o, err := decodeOption(raw, asOf, &optionWire{})
	if err != nil {
		return nil, err
	}
	return &europeanTrade{o: instrument.European{Option: o}}, nil
}

type americanTrade struct{ o instrument.American }

func (t *americanTrade) price(m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	return engine.FDAmerican{}.Price(&t.o, m, want)
}
func (t *americanTrade) cost() float64 { return 1_200_000 } // ~1 ms typical, 6.5 ms on the replica path

func decodeAmerican(raw []byte, asOf dates.Date) (priceable, error) {
	o, err := decodeOption(raw, asOf, &optionWire{})
	if err != nil {
		return nil, err
	}
	return &americanTrade{o: instrument.American{Option: o}}, nil
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

type barrierTrade struct{ o instrument.Barrier }

func (t *barrierTrade) price(m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	return engine.AnalyticBarrier{}.Price(&t.o, m, want)
}
func (t *barrierTrade) cost() float64 { return 400 }

func decodeBarrier(raw []byte, asOf dates.Date) (priceable, error) {
	var w barrierWire
	o, err := decodeOption(raw, asOf, &w)
	if err != nil {
		return nil, err
	}
	b := instrument.Barrier{Option: o, Rebate: w.Rebate}
	if b.Type, err = enumValue("barrierType", w.BarrierType, barrierTypes, nil); err != nil {
		return nil, err
	}
	if w.Barrier == nil {
		return nil, fmt.Errorf("barrier is required")
	}
	b.Level = *w.Barrier
	if err := b.Validate(asOf); err != nil {
		return nil, err
	}
	return &barrierTrade{o: b}, nil
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

type asianTrade struct{ o instrument.Asian }

func (t *asianTrade) price(m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	if t.o.Averaging == instrument.Geometric {
		return engine.AnalyticGeometricAsian{}.Price(&t.o, m, want)
	}
	return engine.MCArithmeticAsian{}.Price(&t.o, m, want)
}

func (t *asianTrade) cost() float64 {
	if t.o.Averaging == instrument.Geometric {
		return 300 + 20*float64(len(t.o.Fixings))
	}
	paths := t.o.Paths
	if paths == 0 {
		paths = engine.DefaultAsianPaths
	}
	return float64(paths) * (5 + 9.5*float64(len(t.o.Fixings))) // measured ~9 ns per path per fixing
}

func decodeAsian(raw []byte, asOf dates.Date) (priceable, error) {
	var w asianWire
	o, err := decodeOption(raw, asOf, &w)
	if err != nil {
		return nil, err
	}
	a := instrument.Asian{Option: o, Paths: w.Paths}
	if a.Averaging, err = enumValue("averaging", w.Averaging, averagings, nil); err != nil {
		return nil, err
	}
	if w.Fixings == nil {
		return nil, fmt.Errorf("fixings is required (a list of dates)")
	}
	a.Fixings = make([]dates.Date, len(w.Fixings))
	for i, s := range w.Fixings {
		if a.Fixings[i], err = requiredDate(fmt.Sprintf("fixings[%d]", i), s); err != nil {
			return nil, err
		}
	}
	if err := a.Validate(asOf); err != nil {
		return nil, err
	}
	return &asianTrade{o: a}, nil
}
