package batch

import (
	"errors"
	"sort"
	"sync"

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
	// decode reads the members of one trade's JSON object (Decode's one
	// pass over it) strictly into the type's wire form, made in sl, all
	// but those of the fields every trade shares (common), which the
	// header read: member i where bit i of shared is set.
	decode(ms *members, shared uint64, sl *slabs) (any, error)
	// compile checks the wire form that decode returned against the
	// valuation date and binds it to its engine and market under env,
	// the result made in sc's slabs; underlying is the trade's
	// (Trade.Underlying), which the options' wire forms do not hold again.
	compile(w any, underlying string, env *compileEnv, sc *compileScratch) (priceable, error)
	// plan reads of one trade's members only what its cost depends on
	// (DecodePlan), and reports false when the type cannot be costed so
	// (its cost needs all of its terms) or the members it reads are bad.
	plan(ms *members) (*planned, bool)
}

// compileEnv is what compile binds a trade to: the job's market, its
// underlyings looked up once for the engines that take them so, and the
// engine settings.
type compileEnv struct {
	m        *pricing.Market
	equities map[string]*engine.EquityMarket // the usable underlyings
	// few are the usable underlyings again, set when the market has at
	// most fewEquities: a trade's is found comparing names, which costs
	// less than hashing its name for the map.
	few  []namedEquity
	e    *Engines
	want pricing.Measures // the batch's measures
}

// fewEquities is the most underlyings a compileEnv finds in a list.
const fewEquities = 8

// namedEquity is an underlying's market and its name.
type namedEquity struct {
	name string
	em   *engine.EquityMarket
}

// bindEquities binds the usable underlyings of env's market once
// (engine.BindEquity). An underlying that is not usable (a negative spot
// in a scenario) is left unbound, and the trades on it fail with its
// engine's error.
func (env *compileEnv) bindEquities() {
	m := env.m
	env.equities = make(map[string]*engine.EquityMarket, len(m.Underlyings))
	if len(m.Underlyings) <= fewEquities {
		env.few = make([]namedEquity, 0, len(m.Underlyings))
	}
	for name := range m.Underlyings {
		if em, err := engine.BindEquity(m, name); err == nil {
			env.equities[name] = em
			if env.few != nil {
				env.few = append(env.few, namedEquity{name, em})
			}
		}
	}
}

// equity returns the market of the usable underlying name, nil if there
// is none.
func (env *compileEnv) equity(name string) *engine.EquityMarket {
	if env.few == nil {
		return env.equities[name]
	}
	for i := range env.few {
		if env.few[i].name == name {
			return env.few[i].em
		}
	}
	return nil
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

// kind is the registry entry of a trade type whose wire form is W (read
// by its setField, the type's decoder: the only code that reads its JSON)
// and whose checked terms are T.
type kind[W any, PW wireForm[W], T any] struct {
	// fields are the trade's market references.
	fields []marketRef
	// terms checks the wire form, with the trade's underlying (of a type
	// that references one), against the valuation date asOf and converts
	// it, its dates parsed through ds.
	terms func(w *W, underlying string, asOf dates.Date, ds *dateCache) (T, error)
	// termsInto, if set, is terms writing into t (zero) in place of
	// returning the terms: t is the compiled trade's, in its slab, and a
	// European's terms are cheap enough to check that copying them twice
	// shows.
	termsInto func(w *W, underlying string, asOf dates.Date, ds *dateCache, t *T) error
	// bind, if set, binds the checked terms to the market of env (an
	// underlying looked up once) before the trade is priced.
	bind func(t *T, env *compileEnv)
	// price values one unit of the trade: the type's engine, chosen by
	// the trade's terms and configured by e.
	price func(t *T, m *pricing.Market, want pricing.Measures, e *Engines) (pricing.Result, error)
	// into, if set, is price writing into r (zero) in place of returning
	// its result: for the types cheap enough that copying some 170 bytes
	// of result twice shows (a European).
	into func(t *T, r *pricing.Result, m *pricing.Market, want pricing.Measures, e *Engines) error
	// cost estimates the time price takes, in nanoseconds of one core.
	cost func(t *T, e *Engines) float64
	// costFields and costTerms, when costTerms is set, cost a trade
	// without decoding all of it (DecodePlan): costTerms makes of a wire
	// form holding only the costFields the terms that cost reads.
	costFields []string
	costTerms  func(w *W) (T, bool)

	// zeroPlan is the cost of a trade that sets none of costFields, made
	// once.
	zeroOnce sync.Once
	zeroPlan *planned
}

// wireForm is a pointer to a wire form W that reads itself member by
// member.
type wireForm[W any] interface {
	*W
	fieldSetter
}

func (k *kind[W, PW, T]) refs() []marketRef { return k.fields }

func (k *kind[W, PW, T]) decode(ms *members, shared uint64, sl *slabs) (any, error) {
	w := newIn[W](sl)
	if err := setMembers(PW(w), ms, shared); err != nil {
		return nil, err
	}
	return w, nil
}

func (k *kind[W, PW, T]) compile(w any, underlying string, env *compileEnv, sc *compileScratch) (priceable, error) {
	wf := w.(*W)
	b := newIn[bound[T]](&sc.sl)
	var err error
	if k.termsInto != nil {
		err = k.termsInto(wf, underlying, env.m.ValuationDate, &sc.dates, &b.t)
	} else {
		b.t, err = k.terms(wf, underlying, env.m.ValuationDate, &sc.dates)
	}
	if err != nil {
		dropLast[bound[T]](&sc.sl)
		return nil, err
	}
	b.price, b.into, b.cost, b.bind, b.e = k.price, k.into, k.cost, k.bind, env.e
	if k.bind != nil {
		k.bind(&b.t, env)
	}
	return b, nil
}

func (k *kind[W, PW, T]) plan(ms *members) (*planned, bool) {
	if k.costTerms == nil {
		return nil, false
	}
	var w *W
	for i := range ms.list {
		m := &ms.list[i]
		if !k.costsBy(ms.key(m)) {
			continue
		}
		if w == nil {
			w = new(W)
		}
		if _, err := PW(w).setField(ms.keyText(m), ms.value(m)); err != nil {
			return nil, false
		}
	}
	if w == nil {
		// Most trades set none of the fields: they share one cost.
		k.zeroOnce.Do(func() { k.zeroPlan = k.planOf(new(W)) })
		return k.zeroPlan, k.zeroPlan != nil
	}
	p := k.planOf(w)
	return p, p != nil
}

// costsBy reports whether key is one of the costFields: compared as
// bytes, where slices.Contains took a string made of each key.
func (k *kind[W, PW, T]) costsBy(key []byte) bool {
	for _, f := range k.costFields {
		if string(key) == f {
			return true
		}
	}
	return false
}

// planOf is the cost of a trade whose wire form holds only the cost
// fields w holds, nil when they are bad.
func (k *kind[W, PW, T]) planOf(w *W) *planned {
	t, ok := k.costTerms(w)
	if !ok {
		return nil
	}
	return &planned{cost: func(e *Engines) float64 { return k.cost(&t, e) }}
}

// planned is a trade that DecodePlan read only to cost it: its cost
// under the engines' settings.
type planned struct {
	cost func(e *Engines) float64
}

// plannedTrade is a planned trade compiled: it has a cost and cannot be
// priced.
type plannedTrade float64

func (plannedTrade) priceUnit(*pricing.Result, *pricing.Market, pricing.Measures) error {
	return errors.New("its terms were not read: the batch was decoded to plan its chunks (DecodePlan), not to price them")
}

func (c plannedTrade) costNS() float64 { return float64(c) }

// bound is a decoded trade bound to its entry's engine and settings.
type bound[T any] struct {
	price func(t *T, m *pricing.Market, want pricing.Measures, e *Engines) (pricing.Result, error)
	into  func(t *T, r *pricing.Result, m *pricing.Market, want pricing.Measures, e *Engines) error
	cost  func(t *T, e *Engines) float64
	// bind, if set, binds the terms to another market (priceIn).
	bind func(t *T, env *compileEnv)
	t    T
	e    *Engines
}

func (b *bound[T]) priceUnit(r *pricing.Result, m *pricing.Market, want pricing.Measures) (err error) {
	if b.into != nil {
		return b.into(&b.t, r, m, want, b.e)
	}
	*r, err = b.price(&b.t, m, want, b.e)
	return err
}

func (b *bound[T]) costNS() float64 { return b.cost(&b.t, b.e) }

// modelUser is a trade that says which of its underlying's models it
// prices on; a trade that is not one prices on the Black vol.
type modelUser interface {
	// usesHeston reports whether the trade prices under the Heston model.
	usesHeston() bool
	// usesBlackVol reports whether valuing want reads the Black vol.
	usesBlackVol(want pricing.Measures) bool
}

func (b *bound[T]) usesHeston() bool {
	m, ok := any(&b.t).(modelUser)
	return ok && m.usesHeston()
}

func (b *bound[T]) usesBlackVol(want pricing.Measures) bool {
	m, ok := any(&b.t).(modelUser)
	return !ok || m.usesBlackVol(want)
}

// Engines holds the settings of the engines that need any: grids, paths,
// accuracies. The zero value uses every engine's defaults. A trade's own
// settings (an Asian's paths) take precedence.
type Engines struct {
	// American prices the american trades that choose the finite
	// difference engine ("engine": "fd"); the others are priced by
	// engine.QdFpAmerican, which takes no settings.
	American engine.FDAmerican
	// Asian prices arithmetic Asian trades; its Paths applies to trades
	// that name none.
	Asian engine.MCArithmeticAsian
	// Heston prices european trades with "model": "heston".
	Heston engine.AnalyticHeston
	// Barrier prices barrier trades. Scenario markets use it with
	// HitIfCrossed set (scenarioSet.engines).
	Barrier engine.AnalyticBarrier
	// Curves, when not nil, keeps the bootstrapped curves compiled, for
	// the compiles after that use the same curve (a pricer's chunks of a
	// batch); nil bootstraps each curve in each compile.
	Curves *CurveCache
	// CurveScope is whose curves the compile may share through Curves
	// (a pricer gives the chunk's tenant): a curve one scope built is
	// built again for another, so that no tenant learns from the time
	// its batch took that another priced on the same quotes.
	CurveScope string
	// MaxBootstrapInstruments, when positive, bounds the instruments of
	// the bootstrapped curves the batch's trades use, in all: past it the
	// compile fails with a batch *Error caused by ErrBootstrapBound,
	// before any curve is built. Ingress sets it (and pricefn price, to
	// DefaultMaxBootstrapInstruments); a pricer's chunk, of a batch
	// ingress checked, does not.
	MaxBootstrapInstruments int
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
