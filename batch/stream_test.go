package batch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/pricefn/pricefn/batch"
)

// priceToDoc is what pricefn price writes of doc without a stream:
// DecodeBytes and PriceTo; nil when either fails.
func priceToDoc(t *testing.T, doc []byte, opt batch.Options) []byte {
	t.Helper()
	b, err := batch.DecodeBytes(doc)
	if err != nil {
		return nil
	}
	var out bytes.Buffer
	if err := batch.PriceTo(context.Background(), b, opt, &out); err != nil {
		return nil
	}
	return out.Bytes()
}

// TestStreamPriceToMatchesPriceTo checks that StreamPriceTo writes what
// DecodeBytes and PriceTo write, for every sample kind, at the sizes
// around a block's, on one core and more.
func TestStreamPriceToMatchesPriceTo(t *testing.T) {
	for _, typ := range batch.SampleTypes {
		sizes := []int{1, 511, 512, 513, 1300}
		switch typ {
		case "american", "asian", "asian-arithmetic", "swaption", "capfloor":
			sizes = []int{1, 7} // dear to price
		}
		for _, n := range sizes {
			doc, err := batch.Sample(batch.SampleSpec{Type: typ, N: n, Seed: uint64(n), Measures: []string{"npv", "delta", "gamma", "vega", "theta", "rho"}})
			if err != nil {
				t.Fatal(err)
			}
			want := priceToDoc(t, doc, batch.Options{})
			if want == nil {
				t.Fatalf("%s %d: the sample does not price", typ, n)
			}
			for _, workers := range []int{1, 2, 7} {
				var got bytes.Buffer
				if !batch.StreamPriceTo(context.Background(), doc, batch.Options{Workers: workers}, &got) {
					t.Errorf("%s %d, %d workers: not streamed", typ, n, workers)
					continue
				}
				if !bytes.Equal(got.Bytes(), want) {
					t.Errorf("%s %d, %d workers: %d bytes differ from PriceTo's %d", typ, n, workers, got.Len(), len(want))
				}
			}
		}
	}
}

// europeanLines returns the trades of a batch: n Europeans on ACME, ids E0 on,
// each a line of its own after the first.
func europeanLines(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `{"id": "E%d", "type": "european", "underlying": "ACME", "right": "call", "strike": %d, "expiry": "2027-11-25"}`, i, 80+i%40)
	}
	return b.String()
}

// TestStreamPriceToDeclines checks that StreamPriceTo reports false, for
// the caller to price the batch whole, for every batch it must not
// stream: a fault anywhere in it, past the results written too, and what
// the first block cannot tell.
func TestStreamPriceToDeclines(t *testing.T) {
	const market = `"market": {"curves": {"USD": {"rate": 0.05}, "EUR": {"rate": 0.03}},
		"underlyings": {"ACME": {"spot": 100, "vol": 0.25, "curve": "USD"}, "EUX": {"spot": 50, "vol": 0.2, "curve": "EUR"}}}`
	head := `{"valuationDate": "2026-11-25", "measures": ["npv", "delta"], ` + market + `, "trades": [`
	many := europeanLines(1200)
	fra := `{"id": "F1", "type": "fra", "curve": "EUR", "notional": 1000000, "fixedRate": 0.03, "start": "2027-05-25", "end": "2027-11-25"}`
	cases := map[string]string{
		"no trades":          head + `]}`,
		"trades null":        head[:len(head)-1] + `null}`,
		"a member after":     head + many + `], "id": "late"}`,
		"measures after":     `{"valuationDate": "2026-11-25", ` + market + `, "trades": [` + many + `], "measures": ["npv"]}`,
		"a duplicate id":     head + many + `,` + europeanLines(1) + `]}`,
		"a curve used later": head + many + `,` + fra + `]}`,
		"an unknown underlying later": head + many + `,` +
			`{"id": "X", "type": "european", "underlying": "NONE", "right": "call", "strike": 1, "expiry": "2027-11-25"}]}`,
		// EUR is built for no trade of the first block: a later trade on
		// an underlying priced on it needs it built too.
		"an underlying on a curve used later": head + many + `,` +
			`{"id": "X", "type": "european", "underlying": "EUX", "right": "call", "strike": 50, "expiry": "2027-11-25"}]}`,
		// E0 again, spelled with an escape: the ids compared are read.
		"an escaped duplicate id": head + many + `,` +
			`{"id": "E\u0030", "type": "european", "underlying": "ACME", "right": "call", "strike": 1, "expiry": "2027-11-25"}]}`,
		"cut":               head + many,
		"data after":        head + many + `]} x`,
		"a bad trade later": head + many + `, 7]}`,
		"scenarios": `{"valuationDate": "2026-11-25", "scenarios": [{"id": "up", "underlyings": {"*": {"spotRel": 0.01}}}], ` +
			market + `, "trades": [` + many + `]}`,
		"no valuation date": `{` + market + `, "trades": [` + many + `]}`,
		"a bad measure":     `{"valuationDate": "2026-11-25", "measures": ["npv", "nope"], ` + market + `, "trades": [` + many + `]}`,
	}
	for name, doc := range cases {
		var got bytes.Buffer
		if batch.StreamPriceTo(context.Background(), []byte(doc), batch.Options{}, &got) {
			t.Errorf("%s: streamed (%d bytes), want declined", name, got.Len())
		}
	}
	// What the stream declines for the first block's sake alone prices
	// whole; the rest fails whole too.
	for _, name := range []string{"a member after", "measures after", "a curve used later", "an underlying on a curve used later"} {
		if priceToDoc(t, []byte(cases[name]), batch.Options{}) == nil {
			t.Errorf("%s: does not price whole", name)
		}
	}
	// And the same batch without its fault streams.
	var got bytes.Buffer
	doc := head + many + `]}`
	if !batch.StreamPriceTo(context.Background(), []byte(doc), batch.Options{}, &got) {
		t.Fatal("the batch without a fault: not streamed")
	}
	if want := priceToDoc(t, []byte(doc), batch.Options{}); !bytes.Equal(got.Bytes(), want) {
		t.Errorf("the batch without a fault: %d bytes differ from PriceTo's %d", got.Len(), len(want))
	}
}

// fullWriter fails every write after its first n bytes.
type fullWriter struct{ n int }

func (w *fullWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

// TestStreamPriceToStops checks that a stream whose writer fails, or whose
// context ends, reports false.
func TestStreamPriceToStops(t *testing.T) {
	doc, err := batch.Sample(batch.SampleSpec{Type: "european", N: 20000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if batch.StreamPriceTo(context.Background(), doc, batch.Options{}, &fullWriter{n: 100 << 10}) {
		t.Error("writer failed: streamed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	if batch.StreamPriceTo(ctx, doc, batch.Options{}, &out) {
		t.Error("context ended: streamed")
	}
}

// TestStreamPriceToWorkersBounded checks that a batch of a few trades
// makes no more blocks than it has room for, whatever the workers asked
// for: --workers 1000 made 2,002 blocks of 512 trades (a 1-trade batch
// took over 100 MB; 100,000 ran out of memory), where PriceTo starts a
// worker a block.
func TestStreamPriceToWorkersBounded(t *testing.T) {
	doc, err := batch.Sample(batch.SampleSpec{Type: "european", N: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := priceToDoc(t, doc, batch.Options{})
	var got bytes.Buffer
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ok := batch.StreamPriceTo(context.Background(), doc, batch.Options{Workers: 1000}, &got)
	runtime.ReadMemStats(&after)
	if !ok || !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("streamed %v, %d bytes, want PriceTo's %d", ok, got.Len(), len(want))
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 8<<20 {
		t.Errorf("a 1-trade batch on 1000 workers allocated %d MB", n>>20)
	}
}
