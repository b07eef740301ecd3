package batch

import (
	"context"
	"encoding/json"
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
// same, and the cache keeps at most its
// bound, dropping the curve used least recently.
func TestCurveCacheKeys(t *testing.T) {
	cache := NewCurveCache(2)
	compile := func(asOf, curves string) {
		t.Helper()
		doc := `{"valuationDate": "` + asOf + `", "market": {"curves": {` + curves + `}}, "trades": []}`
		b, err := DecodeBytes([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := CompileLazily(b, Engines{Curves: cache}); err != nil {
			t.Fatal(err)
		}
	}
	a, a2 := depositCurve(3), depositCurve(4)
	for _, step := range []struct {
		asOf, curves   string
		builds, reuses int64
	}{
		{"2026-11-25", `"A": ` + a, 1, 0},
		{"2026-11-25", `"A": ` + a, 1, 1},
		{"2026-11-26", `"A": ` + a, 2, 1},  // another day
		{"2026-11-25", `"B": ` + a, 3, 1},  // another name, its errors' field; drops A of 11-25
		{"2026-11-25", `"B": ` + a2, 4, 1}, // other instruments; drops A of 11-26
		{"2026-11-25", `"B": ` + a, 4, 2},
		{"2026-11-25", `"A": ` + a, 5, 2}, // dropped
		{"2026-11-25", `"A": ` + a + `, "B": ` + a, 5, 4},
		{"2026-11-25", `"A": ` + strings.ReplaceAll(a, ", ", ",\n\t"), 5, 5}, // the same once compacted
	} {
		compile(step.asOf, step.curves)
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
