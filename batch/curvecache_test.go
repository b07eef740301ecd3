package batch

import (
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
)

// depositCurve is a bootstrapped curve of n deposits.
func depositCurve(n int) string {
	list := make([]string, n)
	for i := range list {
		list[i] = fmt.Sprintf(`{"type": "deposit", "tenor": "%dD", "rate": 0.02}`, i+1)
	}
	return `{"bootstrap": [` + strings.Join(list, ", ") + `]}`
}

// fras is the JSON list of one FRA on each of the curves called names:
// a curve is built only for the trades that use it.
func fras(names ...string) string {
	trades := make([]string, len(names))
	for i, name := range names {
		trades[i] = fmt.Sprintf(`{"id": "F%d", "type": "fra", "curve": %q, "notional": 1, "rate": 0.02, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}`, i, name)
	}
	return "[" + strings.Join(trades, ", ") + "]"
}

// curveCacheDoc is a batch of n FRAs on a bootstrapped curve B and a
// broken bootstrapped curve X, whose last instrument repeats a pillar,
// with one FRA on X.
func curveCacheDoc(n int) string {
	var trades []string
	for i := range n {
		trades = append(trades, fmt.Sprintf(`{"id": "F%d", "type": "fra", "curve": "B", "notional": %d, "rate": 0.02, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}`, i, 1000+i))
	}
	trades = append(trades, `{"id": "FX", "type": "fra", "curve": "X", "notional": 1, "rate": 0.02, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}`)
	broken := `{"bootstrap": [{"type": "deposit", "tenor": "3M", "rate": 0.02}, {"type": "deposit", "tenor": "3M", "rate": 0.021}]}`
	return `{"valuationDate": "2026-11-25", "market": {"curves": {"B": ` + depositCurve(40) + `, "X": ` + broken + `}}, "trades": [` + strings.Join(trades, ", ") + `]}`
}

// TestCurveCacheBuildsOnce: the chunks of a batch, compiled at once on
// many goroutines with one cache as a pricer's are, bootstrap each curve
// once, a broken one too, and price to the bits of chunks compiled
// without a cache; each chunk built them again.
func TestCurveCacheBuildsOnce(t *testing.T) {
	const chunks, per = 8, 3
	b, err := DecodeBytes([]byte(curveCacheDoc(chunks*per - 1)))
	if err != nil {
		t.Fatal(err)
	}
	price := func(sub *Batch, cache *CurveCache) []TradeResult {
		j, err := CompileLazily(sub, Engines{Curves: cache})
		if err != nil {
			t.Error(err)
			return nil
		}
		rs, err := j.Price(context.Background(), Options{})
		if err != nil {
			t.Error(err)
		}
		return rs
	}
	cache := NewCurveCache(0)
	got := make([][]TradeResult, chunks)
	var wg sync.WaitGroup
	for k := range chunks {
		wg.Go(func() { got[k] = price(b.Subset(k*per, (k+1)*per), cache) })
	}
	wg.Wait()
	// B and X, each once; the other chunks took them as built.
	if cache.Builds() != 2 || cache.Reuses() != chunks-1 {
		t.Errorf("builds %d, reuses %d; want 2 and %d", cache.Builds(), cache.Reuses(), chunks-1)
	}
	for k := range chunks {
		want := price(b.Subset(k*per, (k+1)*per), nil)
		if len(got[k]) != len(want) {
			t.Fatalf("chunk %d: %d results, want %d", k, len(got[k]), len(want))
		}
		for i := range want {
			g, w := got[k][i], want[i]
			if g.ID != w.ID || g.Error != w.Error || math.Float64bits(g.Result.NPV) != math.Float64bits(w.Result.NPV) {
				t.Errorf("chunk %d trade %d: %+v, uncached %+v", k, i, g, w)
			}
		}
	}
	last := got[chunks-1][per-1]
	if last.ID != "FX" || !strings.Contains(last.Error, "curve X unusable: market.curves.X.bootstrap[1]: has the same pillar date") {
		t.Errorf("FX: %+v, want the broken curve's error", last)
	}
}

// TestCurveCacheKeys: a curve is reused only when its valuation date,
// name and instruments (but for the space between their tokens) are the
// same, and the cache keeps curves of at most its bound of pillars,
// dropping the curve used least recently.
func TestCurveCacheKeys(t *testing.T) {
	cache := NewCurveCache(2*(3+curveEntryWeight) + 2) // two curves of 3 or 4 deposits
	compile := func(asOf, curves, scope string) {
		t.Helper()
		var names []string
		for _, name := range []string{"A", "B"} {
			if strings.Contains(curves, `"`+name+`": `) {
				names = append(names, name)
			}
		}
		doc := `{"valuationDate": "` + asOf + `", "market": {"curves": {` + curves + `}}, "trades": ` + fras(names...) + `}`
		b, err := DecodeBytes([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := CompileLazily(b, Engines{Curves: cache, CurveScope: scope}); err != nil {
			t.Fatal(err)
		}
	}
	a, a2 := depositCurve(3), depositCurve(4)
	for _, step := range []struct {
		asOf, curves   string
		builds, reuses int64
		scope          string
	}{
		{"2026-11-25", `"A": ` + a, 1, 0, ""},
		{"2026-11-25", `"A": ` + a, 1, 1, ""},
		{"2026-11-26", `"A": ` + a, 2, 1, ""},  // another day
		{"2026-11-25", `"B": ` + a, 3, 1, ""},  // another name, its errors' field; drops A of 11-25
		{"2026-11-25", `"B": ` + a2, 4, 1, ""}, // other instruments; drops A of 11-26
		{"2026-11-25", `"B": ` + a, 4, 2, ""},
		{"2026-11-25", `"A": ` + a, 5, 2, ""}, // dropped
		{"2026-11-25", `"A": ` + a + `, "B": ` + a, 5, 4, ""},
		{"2026-11-25", `"A": ` + strings.ReplaceAll(a, ", ", ",\n\t"), 5, 5, ""}, // the same once compacted
		{"2026-11-25", `"A": ` + a, 6, 5, "t2"},                                  // another tenant
		{"2026-11-25", `"A": ` + a, 6, 6, "t2"},
		{"2026-11-25", `"A": ` + a, 6, 7, ""},
	} {
		compile(step.asOf, step.curves, step.scope)
		if cache.Builds() != step.builds || cache.Reuses() != step.reuses {
			t.Fatalf("after %s %s: builds %d, reuses %d; want %d and %d", step.asOf, step.curves, cache.Builds(), cache.Reuses(), step.builds, step.reuses)
		}
	}
}

// TestCurveCachePanicFailsTheCurve: a build that panics (a bug) fails the
// compile that built it and one waiting for it with the curve's internal
// error, not the process, and leaves no curve behind: the next compile
// builds it again. Without it the waiting compile would never wake.
func TestCurveCachePanicFailsTheCurve(t *testing.T) {
	cache := NewCurveCache(0)
	building, fail := make(chan struct{}), make(chan struct{})
	panics := true
	cache.build = func(field string, raw json.RawMessage, asOf dates.Date) (pricing.YieldCurve, error) {
		if panics {
			panics = false
			close(building)
			<-fail
			panic("boom")
		}
		return buildBootstrapCurve(field, raw, asOf)
	}
	doc := curveCacheDoc(1)
	compile := func() (*Job, error) {
		b, err := DecodeBytes([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return CompileWith(b, Engines{Curves: cache})
	}
	var first *Job
	done := make(chan error, 1)
	go func() {
		var err error
		first, err = compile()
		done <- err
	}()
	<-building
	waiter := make(chan *Job, 1)
	go func() {
		j, err := compile()
		if err != nil {
			t.Error(err)
		}
		waiter <- j
	}()
	for cache.Reuses() == 0 { // the waiter found the curve being built
		runtime.Gosched()
	}
	close(fail)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	second := <-waiter
	for _, j := range []*Job{first, second} {
		rs, err := j.Price(context.Background(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(rs[0].Error, "curve B unusable: market.curves.B.bootstrap: internal error bootstrapping it: boom") {
			t.Errorf("F0: %+v, want the curve's internal error", rs[0])
		}
	}
	j, err := compile()
	if err != nil {
		t.Fatal(err)
	}
	if rs, _ := j.Price(context.Background(), Options{}); rs[0].Error != "" || cache.Builds() != 3 {
		t.Errorf("after the panic: F0 %+v, builds %d; want it priced on B built again (B twice, X once)", rs[0], cache.Builds())
	}
}

// TestCurveCacheBoundsPillars: the cache's bound is of pillars, not of
// curves: 70 small curves used in turns (a batch's chunks each on all of
// them, or 70 batches' chunks) stay, where a bound of 64 curves had each
// built again every time; a curve larger than the bound alone is kept
// until another is used, and the pillars it holds never pass the bound
// otherwise.
func TestCurveCacheBoundsPillars(t *testing.T) {
	many := NewCurveCache(0)
	curves, names := make([]string, 70), make([]string, 70)
	for i := range curves {
		names[i] = fmt.Sprint("C", i)
		curves[i] = fmt.Sprintf(`"C%d": %s`, i, depositCurve(2))
	}
	doc := []byte(`{"valuationDate": "2026-11-25", "market": {"curves": {` + strings.Join(curves, ", ") + `}}, "trades": ` + fras(names...) + `}`)
	for range 2 {
		b, err := DecodeBytes(doc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := CompileLazily(b, Engines{Curves: many}); err != nil {
			t.Fatal(err)
		}
	}
	if many.Builds() != 70 || many.Reuses() != 70 {
		t.Errorf("70 small curves twice: builds %d, reuses %d; want 70 and 70", many.Builds(), many.Reuses())
	}

	const bound = 200
	cache := NewCurveCache(bound)
	compile := func(name, curve string) {
		t.Helper()
		b, err := DecodeBytes([]byte(`{"valuationDate": "2026-11-25", "market": {"curves": {"` + name + `": ` + curve + `}}, "trades": ` + fras(name) + `}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := CompileLazily(b, Engines{Curves: cache}); err != nil {
			t.Fatal(err)
		}
		if cache.weight > bound && cache.order.Len() > 1 {
			t.Fatalf("after %s: weight %d of %d curves, past the bound %d", name, cache.weight, cache.order.Len(), bound)
		}
	}
	small := depositCurve(2) // 18 each: 11 fit
	for i := range 11 {
		compile(fmt.Sprint("S", i), small)
	}
	for i := range 11 {
		compile(fmt.Sprint("S", i), small)
	}
	if cache.Builds() != 11 || cache.Reuses() != 11 {
		t.Fatalf("11 small curves twice: builds %d, reuses %d; want 11 and 11", cache.Builds(), cache.Reuses())
	}
	compile("L", depositCurve(300)) // alone past the bound
	if cache.order.Len() != 1 || cache.weight != 300+curveEntryWeight {
		t.Fatalf("after a large curve: %d curves of weight %d, want it alone", cache.order.Len(), cache.weight)
	}
	compile("L", depositCurve(300))
	compile("S0", small)
	if cache.order.Len() != 1 || cache.Builds() != 13 || cache.Reuses() != 12 {
		t.Errorf("after a small curve: %d curves, builds %d, reuses %d; want it alone, 13 and 12", cache.order.Len(), cache.Builds(), cache.Reuses())
	}
}

// TestCurveCacheKeepsErrorsShort: a broken curve's error, which the cache
// keeps at the weight of curveEntryWeight pillars, repeats a bad number
// cut as pricing.Shown cuts a bad value: a rate of 100,000 digits past a
// double's range was repeated in full, in the cached error twice (its
// reason and its cause) and in every trade's result on the curve, so
// that a tenant's few curves pinned what the batches' bodies weighed.
func TestCurveCacheKeepsErrorsShort(t *testing.T) {
	digits := "1" + strings.Repeat("0", 100_000)
	doc := `{"valuationDate": "2026-11-25", "market": {"curves": {"B": {"bootstrap": [{"type": "deposit", "tenor": "3M", "rate": ` + digits + `}]}}}, "trades": [
	{"id": "F", "type": "fra", "curve": "B", "notional": 1, "rate": 0.02, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}]}`
	b, err := DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	cache := NewCurveCache(0)
	j, err := CompileWith(b, Engines{Curves: cache})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := j.Price(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rs[0].Error; len(got) > 1000 || !strings.Contains(got, "got JSON number 1000") || !strings.Contains(got, "(100001 bytes)") {
		t.Errorf("F: %d bytes of error %.300q, want it under 1,000, the number cut", len(got), got)
	}
	for el := cache.order.Front(); el != nil; el = el.Next() {
		e := el.Value.(*curveEntry)
		var be *Error
		if !errors.As(e.err, &be) {
			t.Fatalf("cached error %v, want a *Error", e.err)
		}
		if n := len(be.Reason) + len(fmt.Sprint(be.Err)); n > 1000 {
			t.Errorf("the cached error holds %d bytes of messages, want under 1,000", n)
		}
	}
}

// TestCurveCacheKeepsNoBadValue: a broken curve's error, which the cache
// keeps at the weight of curveEntryWeight pillars, keeps its message
// alone, not its cause: a tenor of 8 MB is cut in the message but was
// whole in the cause (a *pricing.InputError's Value), which the cache
// kept after the batch was gone, 8 MB a curve.
func TestCurveCacheKeepsNoBadValue(t *testing.T) {
	cache := NewCurveCache(0)
	func() {
		doc := `{"valuationDate": "2026-11-25", "market": {"curves": {"B": {"bootstrap": [{"type": "deposit", "tenor": "` + strings.Repeat("x", 8<<20) + `", "rate": 0.02}]}}}, "trades": [
		{"id": "F", "type": "fra", "curve": "B", "notional": 1, "rate": 0.02, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}]}`
		for range 2 { // built, then from the cache
			b, err := DecodeBytes([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			j, err := CompileWith(b, Engines{Curves: cache})
			if err != nil {
				t.Fatal(err)
			}
			rs, err := j.Price(context.Background(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if want := `trade F: curve B unusable: market.curves.B.bootstrap[0]: tenor must be a positive whole number of D, W, M or Y`; !strings.HasPrefix(rs[0].Error, want) || !strings.HasSuffix(rs[0].Error, `(8388608 bytes)"`) {
				t.Errorf("F: %.300q, want %q..., the tenor cut", rs[0].Error, want)
			}
		}
	}()
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	held := heap()
	cache.mu.Lock()
	cache.byKey, cache.weight = map[curveKey]*list.Element{}, 0
	cache.order.Init()
	cache.mu.Unlock()
	if free := heap(); held > free+1<<20 {
		t.Errorf("the cache held %d bytes for a broken curve, want under 1 MB", held-free)
	}
	runtime.KeepAlive(cache)
}

// TestFailedCurveBuildCosts: a bootstrapped curve whose build fails past
// its first solves costs what its build did: X, B's 40 deposits and one
// more repeating the last one's pillar, costs B's and the set-up of its
// 41 deposits (2 discount factors each), without a cache, built in one
// and taken from it as built, in TotalCost too. It cost 0, though built:
// the estimate (and the default deadline) left it out.
func TestFailedCurveBuildCosts(t *testing.T) {
	good := depositCurve(40)
	bad := strings.TrimSuffix(good, "]}") + `, {"type": "deposit", "tenor": "40D", "rate": 0.03}]}`
	doc := []byte(`{"valuationDate": "2026-11-25", "market": {"curves": {"B": ` + good + `, "X": ` + bad + `}}, "trades": ` + fras("B", "X") + `}`)
	want := float64(40 * (2*bootstrapReadNS + bootstrapInstrumentNS))
	wantX := want + 41*2*bootstrapSetUpNS
	cache := NewCurveCache(0)
	for k, c := range []*CurveCache{nil, cache, cache} {
		b, err := DecodeBytes(doc)
		if err != nil {
			t.Fatal(err)
		}
		j, err := CompileWith(b, Engines{Curves: c})
		if err != nil {
			t.Fatal(err)
		}
		rs, err := j.Price(context.Background(), Options{})
		if err != nil || rs[0].Error != "" || !strings.Contains(rs[1].Error, "curve X unusable: market.curves.X.bootstrap[40]: has the same pillar date") {
			t.Fatalf("compile %d: %v %+v", k, err, rs)
		}
		if j.CurveCost("B") != want || j.CurveCost("X") != wantX || j.curveNS != want+wantX {
			t.Errorf("compile %d: B costs %v, X %v, the curves %v; want %v, %v and %v", k, j.CurveCost("B"), j.CurveCost("X"), j.curveNS, want, wantX, want+wantX)
		}
	}
	if cache.Builds() != 2 || cache.Reuses() != 2 {
		t.Errorf("builds %d, reuses %d; want 2 and 2", cache.Builds(), cache.Reuses())
	}
}

// TestBootstrapBound: past Engines.MaxBootstrapInstruments, counted over
// the bootstrapped curves the trades use, a batch fails with a batch
// error caused by ErrBootstrapBound before any curve is built; a curve no
// trade uses does not count, and the bound itself passes. There was no
// bound: a batch of hundreds of 1,000-swap curves held its compile (in
// ingress's submitting request) for minutes.
func TestBootstrapBound(t *testing.T) {
	doc := func(names ...string) []byte {
		return []byte(`{"valuationDate": "2026-11-25", "market": {"curves": {"A": ` + depositCurve(60) + `, "B": ` + depositCurve(60) + `, "F": {"rate": 0.02}}}, "trades": ` + fras(names...) + `}`)
	}
	compile := func(data []byte, most int) (*CurveCache, error) {
		t.Helper()
		b, err := DecodeBytes(data)
		if err != nil {
			t.Fatal(err)
		}
		cache := NewCurveCache(0)
		_, err = CompileWith(b, Engines{Curves: cache, MaxBootstrapInstruments: most})
		return cache, err
	}
	cache, err := compile(doc("A", "B", "F"), 119)
	var be *Error
	if !errors.As(err, &be) || !errors.Is(err, ErrBootstrapBound) || be.Field != "market.curves" ||
		!strings.Contains(err.Error(), "the curves its trades use list 120 bootstrap instruments in all, more than the limit of 119 for one batch") || cache.Builds() != 0 {
		t.Errorf("120 instruments against a bound of 119: %v, %d curves built; want the bound's batch error, none built", err, cache.Builds())
	}
	for _, c := range []struct {
		names  []string
		most   int
		builds int64
	}{{[]string{"A", "B"}, 120, 2}, {[]string{"A", "F"}, 60, 1}, {[]string{"A", "B"}, 0, 2}} {
		if cache, err := compile(doc(c.names...), c.most); err != nil || cache.Builds() != c.builds {
			t.Errorf("trades on %v, bound %d: %v, %d built; want no error, %d", c.names, c.most, err, cache.Builds(), c.builds)
		}
	}
}

// TestBootstrapBoundCountsACurveAtMostItsLimit: a curve listing more
// instruments than a curve may have counts the most a curve may have
// against Engines.MaxBootstrapInstruments, where its build stops: at a
// bound of that many the batch compiles, and the trade on the curve fails
// with the curve's own fault. It counted one more, and the batch was
// refused whole, as too many instruments for one batch, for a curve that
// is never solved.
func TestBootstrapBoundCountsACurveAtMostItsLimit(t *testing.T) {
	b, err := DecodeBytes([]byte(`{"valuationDate": "2026-11-25", "market": {"curves": {"L": ` + depositCurve(maxBootstrapInstruments+5) + `}}, "trades": ` + fras("L") + `}`))
	if err != nil {
		t.Fatal(err)
	}
	j, err := CompileWith(b, Engines{MaxBootstrapInstruments: maxBootstrapInstruments})
	if err != nil {
		t.Fatalf("a curve of %d instruments against a bound of %d: %v; want it compiled", maxBootstrapInstruments+5, maxBootstrapInstruments, err)
	}
	rs, err := j.Price(context.Background(), Options{})
	if err != nil || len(rs) != 1 || rs[0].Error != "trade F0: curve L unusable: market.curves.L.bootstrap: lists more than 1000 instruments, the most a curve may have" {
		t.Errorf("%v %+v; want the curve's fault on its trade", err, rs)
	}
}
