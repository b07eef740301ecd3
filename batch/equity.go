package batch

import (
	"cmp"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/engine"
	"github.com/pricefn/pricefn/pricing/instrument"
)

// common stands for the fields every trade type accepts (id, type,
// quantity), which Decode reads into the trade's header: a type's wire
// form embeds it so that its setField knows them.
type common struct{}

// setField knows the shared fields, which Decode has read already.
func (*common) setField(k string, _ value) (bool, error) {
	switch k {
	case "id", "type", "quantity":
		return true, nil
	}
	return false, nil
}

// optionWire is the wire form of a plain equity option. Its underlying is
// the trade's (Trade.Underlying), which Decode's header read and checked
// (a name that is not a string fails the trade before its wire form is
// read): not held again, 16 bytes of each of 100,000 wire forms.
type optionWire struct {
	common
	Right  string   `json:"right"`
	Strike *float64 `json:"strike"`
	Expiry string   `json:"expiry"`
}

func (w *optionWire) setField(k string, v value) (bool, error) {
	switch k {
	case "underlying":
		return true, nil
	case "right":
		return true, v.str("right", &w.Right)
	case "strike":
		return true, v.num("strike", &w.Strike)
	case "expiry":
		return true, v.str("expiry", &w.Expiry)
	}
	return w.common.setField(k, v)
}

// option converts and validates the shared option terms, of an option on
// underlying.
func (w *optionWire) option(underlying string, asOf dates.Date, ds *dateCache) (o instrument.Option, err error) {
	err = w.optionInto(&o, underlying, asOf, ds)
	return o, err
}

// optionInto is option writing the terms into o, which must be zero.
func (w *optionWire) optionInto(o *instrument.Option, underlying string, asOf dates.Date, ds *dateCache) error {
	if underlying == "" {
		return fmt.Errorf("underlying is required (the name of an underlying)")
	}
	o.Underlying = underlying
	switch w.Right {
	case "call":
		o.Right = instrument.Call
	case "put":
		o.Right = instrument.Put
	case "":
		return fmt.Errorf("right is required (call or put)")
	default:
		return pricing.Invalid("right", pricing.Quoted(w.Right), "must be call or put")
	}
	if w.Strike == nil {
		return fmt.Errorf("strike is required")
	}
	o.Strike = *w.Strike
	var err error
	if o.Expiry, err = ds.required("expiry", w.Expiry); err != nil {
		return err
	}
	return o.Validate(asOf)
}

// requiredDate parses a mandatory date field.
func requiredDate(field, s string) (dates.Date, error) {
	if s == "" {
		return 0, fmt.Errorf("%s is required (YYYY-MM-DD)", field)
	}
	d, err := parseDate(s)
	if err != nil {
		return 0, pricing.Invalid(field, pricing.Quoted(s), "must be a YYYY-MM-DD date")
	}
	return d, nil
}

// dateCache remembers the dates one compile goroutine has parsed, keyed
// by their ten bytes (YYYY-MM-DD): the trades of a batch name a few
// thousand dates at most, and parse each about once. Its slots are made
// on first use, as many as reserve asked for, so that a small batch makes
// little more than it uses. The zero value is empty and ready; a nil
// *dateCache parses every date.
type dateCache struct {
	slots []cachedDate // direct-mapped, a power of two of them
	shift uint8        // a hash's bits past the slots' index
}

// dateSlotsMin and dateSlotsMax bound the number of a dateCache's slots:
// at most twice the days of five years.
const (
	dateSlotsMin = 1 << 6
	dateSlotsMax = 1 << 12
)

// reserve makes c's slots, if it has fewer, for the dates of n trades:
// as many slots as trades, within dateSlotsMin and dateSlotsMax. (A
// cache kept from a larger job keeps its slots.)
func (c *dateCache) reserve(n int) {
	if want := min(max(n, dateSlotsMin), dateSlotsMax); len(c.slots) < want {
		k := bits.Len(uint(want - 1))
		c.slots, c.shift = make([]cachedDate, 1<<k), uint8(64-k)
	}
}

// cachedDate is one date of a dateCache: its string's first eight bytes
// and last two (lo, hi), and the date. A date's first bytes are digits:
// lo is 0 only in an empty slot, which a string whose first eight bytes
// are NULs (lo 0 too) must not match.
type cachedDate struct {
	lo uint64
	hi uint32
	d  dates.Date
}

// required is requiredDate, the date taken from c where it parsed the
// same string before. Only dates that parse are kept: a bad one fails as
// requiredDate fails it, each time.
func (c *dateCache) required(field, s string) (dates.Date, error) {
	if c == nil || len(s) != 10 {
		return requiredDate(field, s)
	}
	c.reserve(0)
	lo := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	hi := uint32(s[8]) | uint32(s[9])<<8
	slot := &c.slots[(lo*0x9e3779b97f4a7c15^uint64(hi)*0xc2b2ae3d27d4eb4f)>>c.shift]
	if lo != 0 && slot.lo == lo && slot.hi == hi {
		return slot.d, nil
	}
	d, err := requiredDate(field, s)
	if err == nil {
		*slot = cachedDate{lo: lo, hi: hi, d: d}
	}
	return d, err
}

// parseDate is dates.Parse, with a fast path for the common case of a
// valid YYYY-MM-DD date.
func parseDate(s string) (dates.Date, error) {
	if len(s) == 10 && s[4] == '-' && s[7] == '-' {
		y, ok1 := digits(s[0:4])
		m, ok2 := digits(s[5:7])
		d, ok3 := digits(s[8:10])
		if ok1 && ok2 && ok3 && m >= 1 && m <= 12 && d >= 1 && d <= dates.DaysInMonth(y, time.Month(m)) {
			return dates.New(y, time.Month(m), d), nil
		}
	}
	return dates.Parse(s)
}

// digits reads a string of decimal digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = 10*n + int(s[i]-'0')
	}
	return n, true
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
		return zero, pricing.Invalid(field, pricing.Quoted(s), "must be one of "+strings.Join(sortedKeys(names), ", "))
	}
	return v, nil
}

// europeanWire is a european trade: a plain option, the model it is
// priced under and, for its implied volatility, a quoted premium.
type europeanWire struct {
	optionWire
	// quoted holds the model and quoted premium of a trade that gives
	// either, nil for most: 8 bytes of a wire form of 100,000 trades held
	// until each is compiled, where their fields took 24.
	quoted *europeanQuoted
}

// europeanQuoted is a european's model and quoted premium.
type europeanQuoted struct {
	Model string   `json:"model,omitempty"`
	Price *float64 `json:"price,omitempty"`
}

func (w *europeanWire) setField(k string, v value) (bool, error) {
	switch k {
	case "model":
		return true, v.str("model", &w.quotedTerms().Model)
	case "price":
		return true, v.num("price", &w.quotedTerms().Price)
	}
	return w.optionWire.setField(k, v)
}

// quotedTerms returns w's model and quoted premium, made when first set.
func (w *europeanWire) quotedTerms() *europeanQuoted {
	if w.quoted == nil {
		w.quoted = new(europeanQuoted)
	}
	return w.quoted
}

// europeanTerms is a decoded european trade.
type europeanTerms struct {
	o      instrument.European
	heston bool    // priced under the underlying's Heston model
	quote  float64 // the quoted premium per unit of underlying, 0 if none
	// em is the underlying's market looked up once, for the Black model;
	// nil prices by name (AnalyticEuropean.Price), to the same result.
	em *engine.EquityMarket
}

var europeanModels = map[string]bool{"black": false, "heston": true}

var europeanType = &kind[europeanWire, *europeanWire, europeanTerms]{
	fields:    refsUnderlying,
	termsInto: europeanTermsInto,
	bind: func(t *europeanTerms, env *compileEnv) {
		if !t.heston {
			t.em = env.equity(t.o.Underlying)
		}
	},
	price:      priceEuropean,
	into:       priceEuropeanInto,
	cost:       costEuropean,
	costFields: []string{"model", "price"},
	costTerms: func(w *europeanWire) (europeanTerms, bool) {
		t, err := w.model()
		return t, err == nil
	},
}

// europeanTermsInto checks a european's wire form into t, which must be
// zero: its option terms, then its model.
func europeanTermsInto(w *europeanWire, underlying string, asOf dates.Date, ds *dateCache, t *europeanTerms) error {
	if err := w.optionInto(&t.o.Option, underlying, asOf, ds); err != nil {
		return err
	}
	return w.modelInto(t)
}

// model reads a european's model and quoted premium: the terms its cost
// depends on.
func (w *europeanWire) model() (t europeanTerms, err error) {
	if err := w.modelInto(&t); err != nil {
		return europeanTerms{}, err
	}
	return t, nil
}

// modelInto is model writing into t's model and quote.
func (w *europeanWire) modelInto(t *europeanTerms) (err error) {
	var q europeanQuoted
	if w.quoted != nil {
		q = *w.quoted
	}
	def := false
	if t.heston, err = enumValue("model", q.Model, europeanModels, &def); err != nil {
		return err
	}
	if q.Price != nil {
		if err := pricing.CheckAmount("price", *q.Price); err != nil {
			return err
		}
		t.quote = *q.Price
	}
	return nil
}

// priceEuropean values a european under its model: Black-Scholes
// (engine.AnalyticEuropean) or Heston (Engines.Heston), and, for a trade
// with a quoted price, its implied volatility (engine.ImpliedVolatility).
// It skips the model when only the implied volatility is wanted.
func priceEuropean(t *europeanTerms, m *pricing.Market, want pricing.Measures, e *Engines) (r pricing.Result, err error) {
	err = priceEuropeanInto(t, &r, m, want, e)
	return r, err
}

// priceEuropeanInto is priceEuropean into r, which must be zero and is
// left zero on error.
func priceEuropeanInto(t *europeanTerms, r *pricing.Result, m *pricing.Market, want pricing.Measures, e *Engines) (err error) {
	switch {
	case !t.needsModel(want):
	case t.heston:
		*r, err = e.Heston.Price(&t.o, m, want)
	case t.em != nil:
		err = engine.AnalyticEuropean{}.PriceInto(r, &t.o, t.em, want)
	default:
		*r, err = engine.AnalyticEuropean{}.Price(&t.o, m, want)
	}
	if err != nil || t.quote == 0 || !want.Has(pricing.ImpliedVol) {
		if err != nil {
			*r = pricing.Result{}
		}
		return err
	}
	iv, err := engine.ImpliedVolatility{}.Price(&t.o, t.quote, m)
	if err != nil {
		*r = pricing.Result{}
		return err
	}
	r.SetValue(pricing.ImpliedVol, iv)
	return nil
}

// needsModel reports whether valuing want takes the trade's model: not
// when only the implied volatility of its quoted premium is wanted.
func (t *europeanTerms) needsModel(want pricing.Measures) bool {
	return want&^pricing.Of(pricing.ImpliedVol, pricing.NPVStdErr) != 0 || t.quote <= 0
}

func (t *europeanTerms) usesHeston() bool { return t.heston }

func (t *europeanTerms) usesBlackVol(want pricing.Measures) bool {
	return !t.heston && t.needsModel(want)
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

func (w *americanWire) setField(k string, v value) (bool, error) {
	if k == "engine" {
		return true, v.str("engine", &w.Engine)
	}
	return w.optionWire.setField(k, v)
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

var americanType = &kind[americanWire, *americanWire, americanTerms]{
	fields: refsUnderlying,
	terms:  americanTermsOf,
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
// grows with the expiry, and at low vols and high rates, which the terms
// do not know: up to 5 ms past 20 years at a vol of 1%), ~0.5 ms at 10
// years, ~1 ms at 30; FD about 1 ms (6.5 ms on its replica path).
func costAmerican(t *americanTerms, _ *Engines) float64 {
	switch {
	case t.fd:
		return 1_200_000
	case t.years <= 2:
		return 60_000
	case t.years <= 5:
		return 150_000
	case t.years <= 20:
		return 600_000
	}
	return 1_200_000
}

func americanTermsOf(w *americanWire, underlying string, asOf dates.Date, ds *dateCache) (americanTerms, error) {
	o, err := w.option(underlying, asOf, ds)
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

func (w *barrierWire) setField(k string, v value) (bool, error) {
	switch k {
	case "barrierType":
		return true, v.str("barrierType", &w.BarrierType)
	case "barrier":
		return true, v.num("barrier", &w.Barrier)
	case "rebate":
		return true, v.numv("rebate", &w.Rebate)
	}
	return w.optionWire.setField(k, v)
}

var barrierTypes = map[string]instrument.BarrierType{
	"downIn": instrument.DownIn, "downOut": instrument.DownOut, "upIn": instrument.UpIn, "upOut": instrument.UpOut,
}

var barrierType = &kind[barrierWire, *barrierWire, instrument.Barrier]{
	fields: refsUnderlying,
	terms:  barrierTermsOf,
	price: func(o *instrument.Barrier, m *pricing.Market, want pricing.Measures, e *Engines) (pricing.Result, error) {
		return e.Barrier.Price(o, m, want)
	},
	cost:      func(*instrument.Barrier, *Engines) float64 { return 400 },
	costTerms: func(*barrierWire) (instrument.Barrier, bool) { return instrument.Barrier{}, true },
}

func barrierTermsOf(w *barrierWire, underlying string, asOf dates.Date, ds *dateCache) (instrument.Barrier, error) {
	o, err := w.option(underlying, asOf, ds)
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

func (w *asianWire) setField(k string, v value) (bool, error) {
	switch k {
	case "averaging":
		return true, v.str("averaging", &w.Averaging)
	case "fixings":
		return true, v.strs("fixings", &w.Fixings)
	case "paths":
		return true, v.int("paths", &w.Paths)
	}
	return w.optionWire.setField(k, v)
}

var averagings = map[string]instrument.Averaging{
	"geometric": instrument.Geometric, "arithmetic": instrument.Arithmetic,
}

var asianType = &kind[asianWire, *asianWire, instrument.Asian]{
	fields: refsUnderlying,
	terms:  asianTermsOf,
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

func asianTermsOf(w *asianWire, underlying string, asOf dates.Date, ds *dateCache) (instrument.Asian, error) {
	o, err := w.option(underlying, asOf, ds)
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
		if a.Fixings[i], err = ds.required(fmt.Sprintf("fixings[%d]", i), s); err != nil {
			return instrument.Asian{}, err
		}
	}
	// The fixings may come in any order, as QuantLib's
	// DiscreteAveragingAsianOption takes them (it sorts them); the
	// instrument wants them increasing. A fault of one is named by its
	// place in the trade.
	given := sortFixings(a.Fixings)
	if err := a.Validate(asOf); err != nil {
		return instrument.Asian{}, fixingError(err, a.Fixings, given)
	}
	return a, nil
}

// sortFixings sorts fixings in place, stably, and returns the place in
// the trade of each sorted fixing, or nil when they were in order.
func sortFixings(fixings []dates.Date) (given []int) {
	if slices.IsSorted(fixings) {
		return nil
	}
	given = make([]int, len(fixings))
	for i := range given {
		given[i] = i
	}
	slices.SortStableFunc(given, func(i, j int) int { return cmp.Compare(fixings[i], fixings[j]) })
	sorted := make([]dates.Date, len(fixings))
	for k, i := range given {
		sorted[k] = fixings[i]
	}
	copy(fixings, sorted)
	return given
}

// fixingError names the fixing at fault in err, an error of the sorted
// fixings, by its place in the trade (given, from sortFixings; nil when
// they were in order). Sorted, a fixing not after the one before it is
// the same date, said so: "must be after the previous fixing" read as if
// their order mattered.
func fixingError(err error, fixings []dates.Date, given []int) error {
	var ie *pricing.InputError
	var k int
	if !errors.As(err, &ie) {
		return err
	}
	if n, _ := fmt.Sscanf(ie.Field, "fixings[%d]", &k); n != 1 || k < 0 || k >= len(fixings) {
		return err
	}
	at := func(k int) int { return k }
	if given != nil {
		at = func(k int) int { return given[k] }
	}
	ie.Field = fmt.Sprintf("fixings[%d]", at(k))
	if k > 0 && fixings[k] == fixings[k-1] {
		ie.Reason = fmt.Sprintf("must not repeat fixings[%d]", at(k-1))
	}
	return err
}
