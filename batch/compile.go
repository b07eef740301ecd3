package batch

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
)

// Job is a compiled batch: market data built, every trade decoded into an
// instrument and its engine, or into the error that will be its result.
// A Job is read-only once compiled and may be priced from many goroutines.
type Job struct {
	ID     string
	Market pricing.Market
	// Want is the set of measures the batch asked for.
	Want pricing.Measures
	// trades are the compiled trades; a lazy job (CompileLazily) compiles
	// them all only when a caller other than PriceBlocks needs them (all).
	trades []compiled
	lazy   *lazyTrades
	// costs are the trades' costs (Cost) of a job that only plans
	// (planOnly, CompilePlan), whose trades are not kept.
	costs    []float64
	planOnly bool
	engines  *Engines
	// scen is the batch's scenarios compiled, nil without any.
	scen *scenarioSet
	// curveNS is the estimated time bootstrapping its curves takes, in
	// nanoseconds of one core (bootstrapCostNS); curveCost is each
	// bootstrapped curve's, by name.
	curveNS   float64
	curveCost map[string]float64
}

// compiled is one trade ready to price.
type compiled struct {
	id  string
	qty float64
	p   priceable
	err error // set when the trade cannot be priced
}

// priceable is a decoded trade bound to its engine.
type priceable interface {
	// priceUnit values the trade for one unit of quantity into r.
	priceUnit(r *pricing.Result, m *pricing.Market, want pricing.Measures) error
	// costNS estimates the time priceUnit takes, in nanoseconds, for
	// chunking.
	costNS() float64
}

// Compile is CompileWith with every engine's default settings.
func Compile(b *Batch) (*Job, error) { return CompileWith(b, Engines{}) }

// CompileWith checks b as a whole and decodes each trade, binding it to
// its engine configured by e. It returns an *Error for a batch-level
// fault: a bad valuation date, an unknown measure, market data that cannot
// be read, a trade naming a curve or underlying the market lacks. A trade
// whose own terms are bad does not fail the batch: it prices to its error.
func CompileWith(b *Batch, e Engines) (*Job, error) { return compileJob(b, e, false) }

// CompileLazily is CompileWith, its batch-level checks made, but each
// trade compiled by the PriceBlocks worker that prices it, just before,
// into memory that serves the worker's next block: the compiled trades of
// a batch are never all in memory (a quarter of what pricing 100,000
// Europeans held), and a trade's wire form is compiled, priced and
// encoded while it is in the cache. The results are PriceBlocks' on a
// CompileWith job, to the last bit. Price and Cost compile every trade
// first, once; a batch with scenarios, whose pricing needs every trade
// compiled, is compiled as CompileWith does. b must stay as it is (not
// released, its terms not dropped) while the job is in use.
func CompileLazily(b *Batch, e Engines) (*Job, error) { return compileJob(b, e, true) }

// CompilePlan is CompileWith for a job that plans b's chunks and prices
// nothing (ingress's): the same checks and errors, and of each trade only
// its cost, not its compiled form (8 bytes a trade, not 56 with pointers
// for the collector to follow). Len, Cost, ChunkCost, TotalCost, Plan and
// PlanChunks answer as they do on CompileWith's job. Pricing it is a
// programmer error: it panics. A batch with scenarios is compiled as
// CompileWith does.
func CompilePlan(b *Batch, e Engines) (*Job, error) {
	j, err := compileJob(b, e, true) // the checks made, no trade compiled
	if err != nil {
		return nil, err
	}
	if l := j.lazy; l != nil {
		j.costs, j.planOnly, j.lazy = compileCosts(l.src, l.env, l.broken), true, nil
	}
	return j, nil
}

func compileJob(b *Batch, e Engines, lazy bool) (*Job, error) {
	asOf, err := dates.Parse(b.ValuationDate)
	if err != nil {
		return nil, batchErr("valuationDate", "%q is not a YYYY-MM-DD date", pricing.Shown(b.ValuationDate))
	}
	j := &Job{ID: b.ID, Market: pricing.Market{ValuationDate: asOf}, engines: &e}
	if j.Want, err = ParseMeasures(b.Measures); err != nil {
		return nil, err
	}

	// Market data. A curve or underlying whose values are bad is remembered
	// and fails only the trades that use it. A curve no trade uses, directly
	// or through its underlying, is not built: no chunk carries it (Subset),
	// so no pricer builds it, and its faults fail nothing; a bootstrapped
	// one would cost its build (up to seconds) for nothing.
	broken := map[string]*Error{}
	named, used := marketUse(b.Trades, &b.Market)
	if most := e.MaxBootstrapInstruments; most > 0 {
		if err := checkBootstrapBound(b.Market.Curves, &used, most); err != nil {
			return nil, err
		}
	}
	j.Market.Curves = make(map[string]pricing.YieldCurve, len(used.list))
	for _, name := range sortedKeys(b.Market.Curves) {
		if !used.has(name) {
			continue
		}
		field := "market.curves." + pricing.Shown(name)
		c, cost, err := buildCurve(field, b.Market.Curves[name], asOf, e.Curves, e.CurveScope)
		if cost > 0 {
			// A curve that failed to build counts what its build did: a
			// pricer builds it again, to fail the trades on it.
			if j.curveCost == nil {
				j.curveCost = map[string]float64{}
			}
			j.curveCost[name] = cost
			j.curveNS += cost
		}
		if err != nil {
			broken["curve "+name] = asError(field, err)
			continue
		}
		j.Market.Curves[name] = c
	}
	j.Market.Underlyings = make(map[string]pricing.Underlying, len(b.Market.Underlyings))
	for _, name := range sortedKeys(b.Market.Underlyings) {
		field := "market.underlyings." + pricing.Shown(name)
		ud := b.Market.Underlyings[name]
		if _, ok := b.Market.Curves[ud.Curve]; !ok && ud.Curve != "" {
			return nil, batchErr(field+".curve", "unknown curve %q (market has: %s)", pricing.Shown(ud.Curve), keyList(b.Market.Curves))
		}
		u, faults, err := buildUnderlying(field, ud)
		if err != nil {
			broken["underlying "+name] = asError(field, err)
			continue
		}
		if cerr, bad := broken["curve "+u.Curve]; bad {
			broken["underlying "+name] = cerr
			continue
		}
		if faults.vol != nil {
			broken["vol "+name] = faults.vol
		}
		if faults.heston != nil {
			broken["heston "+name] = faults.heston
		}
		j.Market.Underlyings[name] = u
	}

	// A trade naming what the market lacks fails the batch. The names the
	// trades use were gathered above, with the curves of the underlyings
	// (each checked just above): the trades are looked at again only when
	// one is missing, for the first trade that names it.
	if !allKnown(named, used, &b.Market) {
		if err := checkRefs(b.Trades, 0, &b.Market); err != nil {
			return nil, err
		}
	}
	env := &compileEnv{m: &j.Market, e: j.engines, want: j.Want}
	env.bindEquities()
	if j.scen, err = compileScenarios(b, j); err != nil { // before the costly part
		return nil, err
	}
	if lazy && j.scen == nil {
		j.lazy = &lazyTrades{src: b.Trades, env: env, broken: broken, used: used}
	} else {
		j.trades = compileTrades(b.Trades, env, broken)
	}
	return j, nil
}

// checkRefs returns the batch's error for the first of trades, the
// batch's from index lo on, that names an underlying or a curve m lacks.
func checkRefs(trades []Trade, lo int, m *MarketData) error {
	var known [4]string // underlyings found: a batch names few, in runs
	for i := range trades {
		t := &trades[i]
		if u := t.Underlying; u != "" && u != known[0] && u != known[1] && u != known[2] && u != known[3] {
			known[i%len(known)] = u
			if _, ok := m.Underlyings[u]; !ok {
				return batchErr(fmt.Sprintf("trades[%d].underlying", lo+i), "trade %q names unknown underlying %q (market has: %s)", t.ID, pricing.Shown(t.Underlying), keyList(m.Underlyings))
			}
		}
		for _, c := range t.Curves {
			if _, ok := m.Curves[c]; !ok {
				path := fmt.Sprintf("trades[%d]", lo+i)
				if f := curveField(t, c); f != "" {
					path += "." + f
				}
				return batchErr(path, "trade %q names unknown curve %q (market has: %s)", t.ID, pricing.Shown(c), keyList(m.Curves))
			}
		}
	}
	return nil
}

// allKnown reports whether m has every underlying and every curve named.
func allKnown(underlyings, curves names, m *MarketData) bool {
	for _, u := range underlyings.list {
		if _, ok := m.Underlyings[u]; !ok {
			return false
		}
	}
	for _, c := range curves.list {
		if _, ok := m.Curves[c]; !ok {
			return false
		}
	}
	return true
}

// lazyTrades is what a lazy job compiles its trades from.
type lazyTrades struct {
	src    []Trade
	env    *compileEnv
	broken map[string]*Error
	// used holds the curves the market was built for: those src uses.
	used names
	once sync.Once // all
}

// block compiles trades [lo, hi) into sc's compiled trades (their room
// reused) and slabs, rewound first: the values of the block compiled
// before are dead.
func (l *lazyTrades) block(lo, hi int, sc *compileScratch) []compiled {
	sc.sl.rewind()
	sc.dates.reserve(len(l.src))
	cs := slices.Grow(sc.cs[:0], hi-lo)[:hi-lo]
	for i := range cs {
		compileTrade(&cs[i], &l.src[lo+i], l.env, l.broken, sc)
	}
	sc.cs = cs
	return cs
}

// compileScratch is what one goroutine compiles trades with: the slabs
// their compiled forms come from, the dates it has parsed and the type it
// looked up last. It serves one job at a time; once released, another.
type compileScratch struct {
	sl slabs
	// cs is the block compiled last (lazyTrades.block).
	cs    []compiled
	dates dateCache
	// typ is the type of the trade compiled last, tt its registry entry:
	// a batch's trades come in runs of one type, and comparing the type
	// (a shared string, the same bytes) costs less than the registry's
	// map.
	typ string
	tt  tradeType
	// planned is the planned terms (DecodePlan) compiled last, and
	// plannedAs their compiled form: the trades of a type that set none
	// of its cost fields share their terms, and so share one compiled
	// form, where each allocated its own (100,000 a batch of Europeans).
	planned   *planned
	plannedAs priceable
	// one is the trade compiled last, when only its cost is kept
	// (compileCosts).
	one compiled
}

// release makes sc ready for another job, keeping its memory: the values
// it handed out are zeroed (nothing may use them after) and it holds no
// string of the job's. Its dates stay: a date parses the same in any job.
func (sc *compileScratch) release() {
	sc.sl.rewind()
	clear(sc.cs[:cap(sc.cs)])
	sc.cs = sc.cs[:0]
	sc.typ, sc.tt = "", nil
	sc.planned, sc.plannedAs, sc.one = nil, nil, compiled{}
}

// all returns every trade compiled, compiling a lazy job's on first use.
func (j *Job) all() []compiled {
	if j.planOnly {
		panic("batch: a job of CompilePlan prices no trade")
	}
	if l := j.lazy; l != nil {
		l.once.Do(func() { j.trades = compileTrades(l.src, l.env, l.broken) })
	}
	return j.trades
}

// compileTrades compiles every trade, spread over the cores: checking a
// trade's terms costs more than pricing a European, so a large batch
// would otherwise spend most of its time here on one core.
func compileTrades(trades []Trade, env *compileEnv, broken map[string]*Error) []compiled {
	out := makeFaulted[compiled](len(trades))
	compileEach(len(trades), func(i int, sc *compileScratch) {
		compileTrade(&out[i], &trades[i], env, broken, sc)
	})
	return out
}

// compileCosts is compileTrades that keeps each trade's cost alone.
func compileCosts(trades []Trade, env *compileEnv, broken map[string]*Error) []float64 {
	out := makeFaulted[float64](len(trades))
	compileEach(len(trades), func(i int, sc *compileScratch) {
		compileTrade(&sc.one, &trades[i], env, broken, sc)
		out[i] = sc.one.cost()
	})
	return out
}

// compileEach calls compile for each of n trades, spread over the cores,
// with the scratch of the worker that compiles it.
func compileEach(n int, compile func(i int, sc *compileScratch)) {
	const span = 256 // trades a worker takes at a time: large enough to make sharing free
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), (n+span-1)/span) {
		wg.Go(func() {
			var sc compileScratch // this worker's compiled trades, a block at a time
			sc.dates.reserve(n)
			for {
				lo := int(next.Add(span)) - span
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+span, n); i++ {
					compile(i, &sc)
				}
			}
		})
	}
	wg.Wait()
}

// compileTrade decodes one trade into c; any fault becomes the trade's
// error. It writes c in place: a compiled returned by value was copied
// through the stack twice.
func compileTrade(c *compiled, t *Trade, env *compileEnv, broken map[string]*Error, sc *compileScratch) {
	defer func() {
		// A bug in a type's compile must fail its trade, not the batch, or
		// the pricer process and every chunk in flight with it (as priceOne
		// does for the engines).
		if p := recover(); p != nil {
			*c = compiled{id: t.ID, qty: 1, err: fmt.Errorf("trade %s: internal error compiling it: %v", t.ID, p)}
		}
	}()
	*c = compiled{id: t.ID, qty: 1}
	fail := func(err error) {
		c.err = fmt.Errorf("trade %s: %w", t.ID, err)
	}
	tt, ok := sc.tt, sc.tt != nil && t.Type == sc.typ
	if !ok {
		if tt, ok = tradeTypes[t.Type]; ok {
			sc.typ, sc.tt = t.Type, tt
		}
	}
	switch {
	case !ok && t.fault() != nil: // no type, or not a string
		fail(fmt.Errorf("%w (valid: %s)", t.fault(), strings.Join(TradeTypes(), ", ")))
		return
	case !ok:
		fail(fmt.Errorf("unknown type %q (valid: %s)", pricing.Shown(t.Type), strings.Join(TradeTypes(), ", ")))
		return
	}
	if t.Underlying != "" && len(broken) > 0 {
		if err, bad := broken["underlying "+t.Underlying]; bad {
			fail(&UnusableError{Kind: "underlying", Name: t.Underlying, Err: err})
			return
		}
	}
	for _, name := range t.Curves {
		if err, bad := broken["curve "+name]; bad {
			fail(&UnusableError{Kind: "curve", Name: name, Err: err})
			return
		}
	}
	if q := t.quantity; q.set {
		if q.kind != 0 {
			fail(fmt.Errorf("quantity must be a number, got JSON %s", value{kind: q.kind}.kindName()))
			return
		}
		num := q.num(t.Raw)
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || math.Abs(v) > pricing.MaxAmount {
			fail(pricing.Invalid("quantity", num, fmt.Sprintf("must be a number between %g and %g", -pricing.MaxAmount, float64(pricing.MaxAmount))))
			return
		}
		c.qty = v
	}
	if err := t.fault(); err != nil {
		fail(err)
		return
	}
	if t.terms == nil {
		fail(errors.New("its terms were dropped after decoding (Batch.DropTerms)"))
		return
	}
	if p, ok := t.terms.(*planned); ok {
		if p != sc.planned {
			sc.planned, sc.plannedAs = p, plannedTrade(p.cost(env.e))
		}
		c.p = sc.plannedAs
		return
	}
	p, err := tt.compile(t.terms, t.Underlying, env, sc)
	if err != nil {
		fail(err)
		return
	}
	if t.Underlying != "" && len(broken) > 0 {
		if err := modelFault(p, t.Underlying, broken, env.want); err != nil {
			fail(err)
			return
		}
	}
	c.p = p
}

// modelFault returns the error of a trade on underlying und whose model
// data is bad: its Black vol for a trade priced on it, its Heston model
// for a trade priced under that; nil when the model the trade uses is
// sound.
func modelFault(p priceable, und string, broken map[string]*Error, want pricing.Measures) error {
	key := "vol "
	switch m, _ := p.(modelUser); {
	case m != nil && m.usesHeston():
		key = "heston "
	case m != nil && !m.usesBlackVol(want):
		return nil
	}
	if err, bad := broken[key+und]; bad {
		return &UnusableError{Kind: "underlying", Name: und, Err: err}
	}
	return nil
}

// asError returns err as a batch *Error, on field unless it names its own.
func asError(field string, err error) *Error {
	var be *Error
	if errors.As(err, &be) {
		return be
	}
	return &Error{Field: field, Reason: err.Error(), Err: err}
}

// UnusableError is the error of a trade whose curve or underlying has bad
// market data: the batch still prices, and every trade using that market
// data fails with the market data's own *Error.
type UnusableError struct {
	Kind string // "curve" or "underlying"
	Name string
	Err  *Error
}

// Error names the curve or underlying cut as pricing.Shown cuts a name:
// every trade using it repeats the message.
func (e *UnusableError) Error() string {
	return fmt.Sprintf("%s %s unusable: %s: %s", e.Kind, pricing.Shown(e.Name), e.Err.Field, e.Err.Reason)
}

func (e *UnusableError) Unwrap() error { return e.Err }

// ParseMeasures reads a batch's measure names, as its "measures" field
// lists them; none means npv. With npv comes npvStdErr, which only Monte
// Carlo engines set and no batch asks for.
func ParseMeasures(names []string) (pricing.Measures, error) {
	if len(names) == 0 {
		names = []string{pricing.NPV.String()}
	}
	var s pricing.Measures
	seen := map[pricing.Measure]int{}
	for i, n := range names {
		m, err := pricing.ParseMeasure(n)
		if err != nil || m == pricing.NPVStdErr {
			valid := make([]string, 0, len(pricing.AllMeasures()))
			for _, m := range pricing.AllMeasures() {
				if m != pricing.NPVStdErr {
					valid = append(valid, m.String())
				}
			}
			return 0, batchErr(fmt.Sprintf("measures[%d]", i), "unknown measure %q (valid: %s)", pricing.Shown(n), strings.Join(valid, ", "))
		}
		// A measure twice is refused as a risk confidence twice is: taken
		// once, ["npv", "npv"] was a batch of one measure.
		if j, dup := seen[m]; dup {
			return 0, batchErr(fmt.Sprintf("measures[%d]", i), "measure %q given twice (also measures[%d])", n, j)
		}
		seen[m] = i
		s = s.With(m)
	}
	if s.Has(pricing.NPV) {
		// Monte Carlo prices always report their standard error with npv.
		s = s.With(pricing.NPVStdErr)
	}
	return s, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// keyList names the keys of m for an error message, at most 10 of them,
// each as pricing.Shown shows it.
func keyList[V any](m map[string]V) string {
	keys := sortedKeys(m)
	if len(keys) == 0 {
		return "none"
	}
	more := ""
	if len(keys) > 10 {
		keys, more = keys[:10], fmt.Sprintf(" and %d more", len(keys)-10)
	}
	shown := make([]string, len(keys))
	for i, k := range keys {
		shown[i] = pricing.Shown(k)
	}
	return strings.Join(shown, ", ") + more
}

// Len returns the number of trades.
func (j *Job) Len() int {
	if j.planOnly {
		return len(j.costs)
	}
	if j.lazy != nil {
		return len(j.lazy.src)
	}
	return len(j.trades)
}

// Cost estimates the time pricing trade i takes, in nanoseconds. A trade
// that fails to compile costs almost nothing.
func (j *Job) Cost(i int) float64 {
	if j.planOnly {
		return j.costs[i]
	}
	return j.all()[i].cost()
}

// cost is Cost of the compiled trade c.
func (c *compiled) cost() float64 {
	if c.p != nil {
		return c.p.costNS()
	}
	return 50
}

// curveField returns the field of trade t that names curve c, among the
// references its type declares (curve, forecastCurve...), or "" when its
// JSON does not tell (a trade made in Go): t keeps the names, not their
// fields, and an unknown curve is rare.
func curveField(t *Trade, c string) string {
	var fields map[string]json.RawMessage
	if tt, ok := tradeTypes[t.Type]; ok && json.Unmarshal(t.Raw, &fields) == nil {
		for _, r := range tt.refs() {
			var name string
			if r.kind != underlyingRef && json.Unmarshal(fields[r.field], &name) == nil && name == c {
				return r.field
			}
		}
	}
	return ""
}
