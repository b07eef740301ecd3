package batch

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/market"
)

// BenchmarkCompileBlocks is the compile of a lazy job (CompileLazily), as
// PriceBlocks runs it: a block of trades at a time on one core, into
// memory that serves the next block.
func BenchmarkCompileBlocks(b *testing.B) {
	const n, block = 20_000, 2048
	doc, err := Sample(SampleSpec{Type: "european", N: n, Seed: 1,
		Measures: []string{"npv", "delta", "gamma", "vega", "theta", "rho"}})
	if err != nil {
		b.Fatal(err)
	}
	bt, err := DecodeBytes(doc)
	if err != nil {
		b.Fatal(err)
	}
	j, err := CompileLazily(bt, Engines{})
	if err != nil {
		b.Fatal(err)
	}
	var sc compileScratch
	b.ReportAllocs()
	for b.Loop() {
		for lo := 0; lo < n; lo += block {
			j.lazy.block(lo, min(lo+block, n), &sc)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/trade")
}

// TestDateCacheMatchesRequiredDate checks that a dateCache returns what
// requiredDate returns, error and all, for dates seen before and not:
// one string's prefixes, bad dates repeated, dates that differ in one
// byte, and more dates than its slots.
func TestDateCacheMatchesRequiredDate(t *testing.T) {
	var c dateCache // its slots made by required: dateSlotsMin
	long := "2027-01-0112"
	ins := []string{long[:10], long[:9], long, long[:10], "", "2027-02-30", "2027-02-30", "2028-02-29", "2028-02-28", "2028-12-28", "x", "2027-01-01"}
	for d := range 3 * dateSlotsMax {
		ins = append(ins, dates.Date(20000+d%(2*dateSlotsMax)).String())
	}
	for round := range 2 {
		for _, s := range ins {
			want, wantErr := requiredDate("expiry", s)
			got, err := c.required("expiry", s)
			if got != want || fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Fatalf("round %d, %q: got %v, %v; want %v, %v", round, s, got, err, want, wantErr)
			}
		}
	}
	var none *dateCache
	if d, err := none.required("expiry", "2027-01-01"); err != nil || d != dates.New(2027, 1, 1) {
		t.Fatalf("nil cache: %v, %v", d, err)
	}
}

// TestCompileSharedDates checks that trades sharing an expiry (one
// interned string) or a bad one compile as each would alone, and that a
// bad date repeated fails every trade that names it.
func TestCompileSharedDates(t *testing.T) {
	doc := `{"valuationDate":"2026-11-25","market":{"curves":{"USD":{"rate":0.05}},
	"underlyings":{"ACME":{"spot":100,"vol":0.25,"curve":"USD"}}},"trades":[
	{"id":"a","type":"european","underlying":"ACME","right":"call","strike":100,"expiry":"2027-11-25"},
	{"id":"b","type":"european","underlying":"ACME","right":"put","strike":90,"expiry":"2027-11-25"},
	{"id":"c","type":"european","underlying":"ACME","right":"call","strike":100,"expiry":"2027-02-30"},
	{"id":"d","type":"american","underlying":"ACME","right":"put","strike":100,"expiry":"2027-02-30"},
	{"id":"e","type":"european","underlying":"ACME","right":"call","strike":100,"expiry":"2026-11-25"},
	{"id":"f","type":"european","underlying":"ACME","right":"call","strike":100,"expiry":"2027-11-25"},
	{"id":"g","type":"european","underlying":"ACME","right":"call","strike":100,"expiry":"2026-11-25"}]}`
	b, err := DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	j, err := CompileLazily(b, Engines{})
	if err != nil {
		t.Fatal(err)
	}
	var sc compileScratch
	got := j.lazy.block(0, len(b.Trades), &sc)
	for i := range b.Trades {
		var want compiled
		compileTrade(&want, &b.Trades[i], j.lazy.env, j.lazy.broken, new(compileScratch)) // its date parsed afresh
		g := got[i]
		if fmt.Sprint(g.err) != fmt.Sprint(want.err) || (g.p == nil) != (want.p == nil) {
			t.Fatalf("trade %s: got %v, want %v", b.Trades[i].ID, g.err, want.err)
		}
		if g.p != nil && g.p.(*bound[europeanTerms]).t != want.p.(*bound[europeanTerms]).t {
			t.Fatalf("trade %s: got terms %+v, want %+v", b.Trades[i].ID, g.p.(*bound[europeanTerms]).t, want.p.(*bound[europeanTerms]).t)
		}
	}
	for _, i := range []int{2, 3} {
		if want := `trade ` + b.Trades[i].ID + `: expiry must be a YYYY-MM-DD date, got "2027-02-30"`; fmt.Sprint(got[i].err) != want {
			t.Errorf("got %v, want %s", got[i].err, want)
		}
	}
}

// TestCompileEnvEquity checks that a compileEnv finds an underlying's
// market in its list (a market of a few underlyings) as in its map (many):
// every usable one, none for an unusable or unknown name.
func TestCompileEnvEquity(t *testing.T) {
	for _, n := range []int{0, 1, 3, fewEquities, fewEquities + 1, 20} {
		m := pricing.Market{ValuationDate: dates.New(2026, 11, 25),
			Curves:      map[string]pricing.YieldCurve{"USD": market.NewFlatCurve(0.05)},
			Underlyings: map[string]pricing.Underlying{}}
		for i := range n {
			spot := 100.0
			if i%3 == 2 {
				spot = -1 // not usable: left unbound
			}
			m.Underlyings[fmt.Sprintf("U%d", i)] = pricing.Underlying{Spot: spot, Vol: 0.2, Curve: "USD"}
		}
		env := &compileEnv{m: &m}
		env.bindEquities()
		if (env.few != nil) != (n <= fewEquities) {
			t.Fatalf("%d underlyings: list %v", n, env.few)
		}
		for i := range n + 2 {
			name := fmt.Sprintf("U%d", i)
			em, ok := env.equities[name]
			if got := env.equity(name); got != em || ok != (i < n && i%3 != 2) {
				t.Errorf("%d underlyings, %s: got %p, map %p (%v)", n, name, got, em, ok)
			}
		}
	}
}

// TestCompileNulDate checks that a date of ten NUL bytes fails its trade
// as a bad date, its bytes those of a dateCache's empty slot: it matched
// one, and a bond issued on the zero date (1970-01-01) priced.
func TestCompileNulDate(t *testing.T) {
	nul := strings.Repeat(`\u0000`, 10)
	doc := `{"valuationDate":"2026-11-25","market":{"curves":{"USD":{"rate":0.05}}},"trades":[
	{"id":"a","type":"bond","curve":"USD","coupon":0.04,"issue":"` + nul + `","maturity":"2034-05-15"},
	{"id":"b","type":"bond","curve":"USD","coupon":0.04,"issue":"2024-05-15","maturity":"2034-05-15"}]}`
	b, err := DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Price(context.Background(), b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `trade a: issue must be a YYYY-MM-DD date, got "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"`
	if got := rs.Results[0].Error; got != want {
		t.Errorf("trade a: got error %q, NPV %v; want %q", got, rs.Results[0].NPV, want)
	}
	if rs.Results[1].Error != "" {
		t.Errorf("trade b: %s", rs.Results[1].Error)
	}
}

// TestCompileScratchServesAnotherJob checks that a compileScratch
// released after one job (a pricer's chunk) compiles the next, of other
// types, dates and sizes, as a fresh one does, and that its release
// keeps no value of the job before.
func TestCompileScratchServesAnotherJob(t *testing.T) {
	var sc compileScratch
	for round, spec := range []SampleSpec{
		{Type: "european", N: 700, Seed: 1},
		{Type: "american", N: 40, Seed: 2},
		{Type: "barrier", N: 300, Seed: 3},
		{Type: "european", N: 5000, Seed: 4},
		{Type: "european", N: 30, Seed: 5},
	} {
		b := sampleBatch(t, spec)
		j, err := CompileLazily(b, Engines{})
		if err != nil {
			t.Fatal(err)
		}
		n := len(b.Trades)
		for lo := 0; lo < n; lo += encodeBlock {
			hi := min(lo+encodeBlock, n)
			got := j.lazy.block(lo, hi, &sc)
			want := j.lazy.block(lo, hi, new(compileScratch))
			for i := range got {
				var rg, rw pricing.Result
				eg, ew := got[i].err, want[i].err
				if eg == nil {
					eg = got[i].p.priceUnit(&rg, &j.Market, j.Want)
					ew = want[i].p.priceUnit(&rw, &j.Market, j.Want)
				}
				if got[i].id != want[i].id || fmt.Sprint(eg) != fmt.Sprint(ew) || fmt.Sprint(rg) != fmt.Sprint(rw) {
					t.Fatalf("round %d, trade %d: got %s %v %+v, want %s %v %+v", round, lo+i, got[i].id, eg, rg, want[i].id, ew, rw)
				}
			}
		}
		sc.release()
		if sc.typ != "" || sc.tt != nil || len(sc.cs) != 0 || slices.ContainsFunc(sc.cs[:cap(sc.cs)], func(c compiled) bool { return c != compiled{} }) {
			t.Fatalf("round %d: released scratch keeps the job's values", round)
		}
	}
}
