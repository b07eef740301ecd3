package batch

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestMarketUseFindsEachNameOnce checks marketUse against a plain ordered
// set, on trades whose names share their bytes (as the decoder's do),
// share the start of their bytes with a longer name, or are the same
// name in bytes of their own: names.known must take a name for another
// only when both are the same bytes.
func TestMarketUseFindsEachNameOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	base := "ACMEGLOBEXINITECHUSD"
	pool := []string{"", "A", "AC", "ACME", base[:4], base[:10], base[4:10], base[10:17], "USD", base[17:], base}
	for _, p := range slices.Clone(pool) {
		pool = append(pool, strings.Clone(p)) // the same name, other bytes
	}
	for n := range 40 {
		names := pool
		if n%2 == 1 { // past the list's 16 names, a map beside it
			for i := range 30 {
				names = append(names, "U"+strings.Repeat("x", i))
			}
		}
		trades := make([]Trade, 1+r.IntN(3000))
		for i := range trades {
			trades[i].Underlying = names[r.IntN(len(names))]
			for range r.IntN(3) {
				trades[i].Curves = append(trades[i].Curves, names[r.IntN(len(names))])
			}
		}
		m := MarketData{Underlyings: map[string]UnderlyingData{"ACME": {Curve: "USD"}, "A": {Curve: "EUR"}}}
		var wantU, wantC []string
		for _, tr := range trades {
			for _, c := range tr.Curves {
				if !slices.Contains(wantC, c) {
					wantC = append(wantC, c)
				}
			}
			if tr.Underlying != "" && !slices.Contains(wantU, tr.Underlying) {
				wantU = append(wantU, tr.Underlying)
			}
		}
		for _, u := range wantU {
			if c := m.Underlyings[u].Curve; c != "" && !slices.Contains(wantC, c) {
				wantC = append(wantC, c)
			}
		}
		u, c := marketUse(trades, &m)
		if !slices.Equal(u.list, wantU) || !slices.Equal(c.list, wantC) {
			t.Fatalf("case %d: underlyings %q, curves %q; want %q, %q", n, u.list, c.list, wantU, wantC)
		}
		for _, name := range names {
			if u.has(name) != slices.Contains(wantU, name) || c.has(name) != slices.Contains(wantC, name) {
				t.Fatalf("case %d: has(%q) %v %v", n, name, u.has(name), c.has(name))
			}
		}
	}
}

// BenchmarkMarketUse is the look for the market data a batch's trades
// use (marketUse), as Compile and each chunk's Subset make it.
func BenchmarkMarketUse(b *testing.B) {
	doc, err := Sample(SampleSpec{Type: "european", N: 20_000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	bt, err := DecodeBytes(doc)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		marketUse(bt.Trades, &bt.Market)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bt.Trades)), "ns/trade")
}

// TestAllKnownAsEachTrade: a batch whose trades' names allKnown finds in
// the market is one in which no trade names what the market lacks
// (checkRefs, which compileJob then skips), on random trades over
// markets that lack some of their names.
func TestAllKnownAsEachTrade(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	pool := []string{"", "USD", "EUR", "JPY", "ACME", "GLOBEX", "INITECH"}
	for i := range 40 {
		pool = append(pool, "N"+strings.Repeat("x", i)) // past 16 names, a map beside the list
	}
	known := 0
	for n := range 2000 {
		names := pool[:2+r.IntN(len(pool)-2)]
		b := &Batch{Market: MarketData{Underlyings: map[string]UnderlyingData{}, Curves: map[string]CurveData{}}}
		for _, name := range names {
			if r.IntN(8) > 0 || n%3 == 0 { // most names, or all, in the market
				b.Market.Underlyings[name] = UnderlyingData{}
				b.Market.Curves[name] = CurveData{}
			}
		}
		b.Trades = make([]Trade, 1+r.IntN(200))
		for i := range b.Trades {
			b.Trades[i].Underlying = names[r.IntN(len(names))]
			for range r.IntN(3) {
				b.Trades[i].Curves = append(b.Trades[i].Curves, names[r.IntN(len(names))])
			}
		}
		u, c := marketUse(b.Trades, &b.Market)
		all := allKnown(u, c, &b.Market)
		if err := checkRefs(b.Trades, 0, &b.Market); all != (err == nil) {
			t.Fatalf("case %d: allKnown %v, the first trade naming what the market lacks: %v", n, all, err)
		}
		if all {
			known++
		}
	}
	if known < 500 || known > 1500 {
		t.Errorf("%d batches of 2000 with every name known, want some of both", known)
	}
}
