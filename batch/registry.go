package batch

import (
	"sort"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/engine"
)

// A tradeType is the registry entry of one wire trade type: everything
// batch knows of it. Adding a trade type, or a model for one, is adding or
// changing an entry; nothing else in the package names trade types.
type tradeType interface {
	// refs lists the trade's fields that name market data: Compile checks
	// that they resolve and Subset carries what they name into a chunk.
	refs() []marketRef
	// compile decodes one trade's JSON (an object) strictly, checks its
	// terms against the valuation date and binds it to its engine under
	// the settings e.
	compile(raw []byte, asOf dates.Date, e *Engines) (priceable, error)
}

// refKind says what a marketRef names.
type refKind uint8

const (
	curveRef refKind = iota
	underlyingRef
)

// marketRef is a trade field that names market data. Only the fields of
// tradeHeader can be references: the header reads them for every trade
// before its type's decoder runs (TestRegistryRefsAreHeaderFields).
type marketRef struct {
	field string // the wire field, "underlying", "curve", "forecastCurve"
	kind  refKind
}

// kind is the registry entry of a trade type that decodes into T. Its
// decoder is the unit a faster decoder replaces: decode alone reads JSON.
type kind[T any] struct {
	// fields are the trade's market references.
	fields []marketRef
	// decode reads the trade's JSON strictly into T and checks its terms
	// against the valuation date asOf.
	decode func(raw []byte, asOf dates.Date) (T, error)
	// price values one unit of the trade: the type's engine, chosen by
	// the trade's terms and configured by e.
	price func(t *T, m *pricing.Market, want pricing.Measures, e *Engines) (pricing.Result, error)
	// cost estimates the time price takes, in nanoseconds of one core.
	cost func(t *T, e *Engines) float64
}

func (k *kind[T]) refs() []marketRef { return k.fields }

func (k *kind[T]) compile(raw []byte, asOf dates.Date, e *Engines) (priceable, error) {
	t, err := k.decode(raw, asOf)
	if err != nil {
		return nil, err
	}
	return &bound[T]{k: k, t: t, e: e}, nil
}

// bound is a decoded trade bound to its entry and engine settings.
type bound[T any] struct {
	k *kind[T]
	t T
	e *Engines
}

func (b *bound[T]) price(m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	return b.k.price(&b.t, m, want, b.e)
}

func (b *bound[T]) cost() float64 { return b.k.cost(&b.t, b.e) }

// Engines holds the settings of the engines that need any: grids, paths,
// accuracies. The zero value uses every engine's defaults. A trade's own
// settings (an Asian's paths) take precedence.
type Engines struct {
	// American prices american trades.
	American engine.FDAmerican
	// Asian prices arithmetic Asian trades; its Paths applies to trades
	// that name none.
	Asian engine.MCArithmeticAsian
	// Heston prices european trades with "model": "heston".
	Heston engine.AnalyticHeston
}

// The market references trade types share.
var (
	refsUnderlying = []marketRef{{"underlying", underlyingRef}}
	refsCurves     = []marketRef{{"curve", curveRef}, {"forecastCurve", curveRef}}
	refsCurve      = []marketRef{{"curve", curveRef}}
)

// tradeTypes is the registry: each wire trade type and its entry. It is
// never modified.
var tradeTypes = map[string]tradeType{
	"european": europeanType,
	"american": americanType,
	"barrier":  barrierType,
	"asian":    asianType,
	"fra":      fraType,
	"swap":     swapType,
	"bond":     bondType,
	"swaption": swaptionType,
	"capfloor": capFloorType,
}

// TradeTypes lists the trade types this build prices, sorted.
func TradeTypes() []string {
	out := make([]string, 0, len(tradeTypes))
	for k := range tradeTypes {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
