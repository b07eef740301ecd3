package batch_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pricefn/pricefn/batch"
)

// TestErrorsShowLongNamesCut: a name of the client's choosing (a field, a
// curve or underlying, a scenario's shift, a trade's type) comes back in
// an error cut to 200 bytes and its length (pricing.Shown), as a bad value
// does: a 100,000-byte key was repeated in full, twice where the path
// names it too, in the 400's body, ingress's log line and the results.
func TestErrorsShowLongNamesCut(t *testing.T) {
	long := strings.Repeat("X", 100_000)
	const cut = `(100000 bytes)`
	trade := `{"id": "T1", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25"}`
	doc := func(extra string, trades ...string) string {
		if trades == nil {
			trades = []string{trade}
		}
		return `{"valuationDate": "2026-11-25", "market": ` + scenMarket + `, "trades": [` + strings.Join(trades, ",") + `]` + extra + `}`
	}
	for _, c := range []struct {
		name, doc, field string
	}{
		{"top-level field", doc(`, "` + long + `": 1`), "batch: unknown field"},
		{"market field", strings.Replace(doc(""), `"market": {`, `"market": {"`+long+`": 1, `, 1), "batch: market: unknown field"},
		{"curve name", strings.Replace(doc(""), `"curves": {`, `"curves": {"`+long+`": {"rat": 0.05}, `, 1), "batch: market.curves.XXX"},
		{"underlying's curve", strings.Replace(doc(""), `"curve": "USD"`, `"curve": "`+long+`"`, 1), "batch: market.underlyings.ACME.curve: unknown curve"},
		{"key twice in a curve", strings.Replace(doc(""), `"curves": {`, `"curves": {"`+long+`": {"rate": 0.01, "rate": 0.02}, `, 1), "batch: market.curves.XXX"},
		{"key twice in a trade", doc("", strings.Replace(trade, `"id": "T1"`, `"id": "T1", "`+long+`": 1, "`+long+`": 2`, 1)), "batch: trades[0]: duplicate key"},
		{"key twice in a scenario", doc(`, "scenarios": [{"id": "s", "` + long + `": 1, "` + long + `": 2}]`), "batch: scenarios[0]: duplicate key"},
		{"measure", doc(`, "measures": ["` + long + `"]`), "batch: measures[0]: unknown measure"},
		{"trade's underlying", doc("", strings.Replace(trade, `"ACME"`, `"`+long+`"`, 1)), "batch: trades[0].underlying"},
		{"scenario field", doc(`, "scenarios": [{"id": "s", "` + long + `": 1}]`), "batch: scenarios[0]: unknown field"},
		{"scenario underlying", doc(`, "scenarios": [{"id": "s", "underlyings": {"` + long + `": {"spotRel": 0.1}}}]`), "batch: scenarios[0].underlyings.XXX"},
		{"scenario curve", doc(`, "scenarios": [{"id": "s", "curves": {"` + long + `": {"parallel": 0.1}}}]`), "batch: scenarios[0].curves.XXX"},
		{"shift field", doc(`, "scenarios": [{"id": "s", "underlyings": {"*": {"` + long + `": 0.1}}}]`), "batch: scenarios[0].underlyings.*: unknown field"},
		{"curve shift field", doc(`, "scenarios": [{"id": "s", "curves": {"*": {"` + long + `": 0.1}}}]`), "batch: scenarios[0].curves.*: unknown field"},
		{"risk field", doc(`, "scenarios": [{"id": "s"}], "risk": {"` + long + `": [0.5]}`), "batch: risk: unknown field"},
		{"scenarioDetail", doc(`, "scenarios": [{"id": "s"}], "scenarioDetail": "` + long + `"`), "batch: scenarioDetail: must be"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := batch.DecodeBytes([]byte(c.doc))
			if err == nil {
				_, err = batch.Compile(b)
			}
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if len(msg) > 1000 || !strings.HasPrefix(msg, c.field) || !strings.Contains(msg, cut) {
				t.Errorf("%d bytes, want a message under 1,000 starting %q and showing %s: %.300s", len(msg), c.field, cut, msg)
			}
		})
	}
	// A trade's own fault, or its curve's, fails that trade alone, its
	// message bounded too.
	for name, d := range map[string]string{
		"trade field":         doc("", strings.Replace(trade, `"id": "T1"`, `"id": "T1", "`+long+`": 1`, 1)),
		"trade type":          doc("", strings.Replace(trade, `"european"`, `"`+long+`"`, 1)),
		"pillar date":         strings.Replace(doc("", strings.Replace(trade, `"ACME"`, `"GLOBEX"`, 1)), `"date": "2027-11-25"`, `"date": "`+long+`"`, 1),
		"unusable underlying": strings.Replace(strings.ReplaceAll(doc(""), `"ACME"`, `"`+long+`"`), `"spot": 100`, `"spot": -100`, 1),
		"day count":           strings.Replace(doc(""), `"USD": {"rate": 0.045}`, `"USD": {"bootstrap": [{"type": "deposit", "rate": 0.03, "tenor": "6M", "dayCount": "`+long+`"}]}`, 1),
		// An engine's faults of an underlying: a Heston model it cannot
		// price with, an integral that does not converge, an American
		// with no finite grid price.
		"engine's market fault": engineDoc(long, `"rho": 1`, `"type": "european", "model": "heston"`),
		"heston unpriced":       engineDoc(long, `"rho": -0.5`, `"type": "european", "model": "heston"`),
		"american's grid":       engineDoc(long, `"rho": -0.5`, `"type": "american", "engine": "fd"`),
	} {
		b, err := batch.DecodeBytes([]byte(d))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rs, err := batch.Price(context.Background(), b, batch.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if msg := rs.Results[0].Error; len(msg) > 1000 || !strings.Contains(msg, cut) {
			t.Errorf("%s: %d bytes, want an error under 1,000 showing %s: %.300s", name, len(msg), cut, msg)
		}
	}
}

// engineDoc is a batch of one call struck at 100 on the underlying name,
// of spot 1e-200 (yield 1%) and a Heston model with rho as given, the trade's type
// and engine as terms.
func engineDoc(name, rho, terms string) string {
	return `{"valuationDate": "2026-11-25", "market": {"curves": {"USD": {"rate": 0.05}}, "underlyings": {"` + name +
		`": {"spot": 1e-200, "dividendYield": 0.01, "vol": 0.25, "curve": "USD", "heston": {"v0": 0.04, "kappa": 1, "theta": 0.04, "sigma": 0.5, ` + rho + `}}}},` +
		` "trades": [{"id": "T1", ` + terms + `, "underlying": "` + name + `", "right": "call", "strike": 100, "expiry": "2027-11-25"}]}`
}

// TestErrorsQuoteLongValuesWhole: a long string value an error quotes is
// cut, then quoted, "XXXX... (100000 bytes)" as README has it: it was
// quoted, then cut, so that its closing quote went and the length counted
// the quotes, "XXXX... (100002 bytes).
func TestErrorsQuoteLongValuesWhole(t *testing.T) {
	long := strings.Repeat("X", 100_000)
	const want = `XXX... (100000 bytes)"`
	trade := `{"id": "T1", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25"}`
	doc := func(market, trade string) string {
		return `{"valuationDate": "2026-11-25", "market": ` + market + `, "trades": [` + trade + `]}`
	}
	fra := `{"id": "T1", "type": "fra", "curve": "B", "notional": 1, "rate": 0.01, "start": "2027-01-01", "end": "2027-02-01", "position": "long"}`
	boot := func(inst string) string { return `{"curves": {"B": {"bootstrap": [` + inst + `]}}}` }
	for name, d := range map[string]string{
		"right":          doc(scenMarket, strings.Replace(trade, `"call"`, `"`+long+`"`, 1)),
		"expiry":         doc(scenMarket, strings.Replace(trade, `"2027-11-25"`, `"`+long+`"`, 1)),
		"fra position":   doc(boot(`{"type": "deposit", "rate": 0.03, "tenor": "6M"}`), strings.Replace(fra, `"long"`, `"`+long+`"`, 1)),
		"bootstrap type": doc(boot(`{"type": "`+long+`", "rate": 0.03, "tenor": "6M"}`), fra),
		"tenor":          doc(boot(`{"type": "deposit", "rate": 0.03, "tenor": "`+long+`"}`), fra),
	} {
		b, err := batch.DecodeBytes([]byte(d))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rs, err := batch.Price(context.Background(), b, batch.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if msg := rs.Results[0].Error; len(msg) > 1000 || !strings.HasSuffix(msg, want) {
			t.Errorf("%s: %d bytes, want an error under 1,000 ending %s: %.300s", name, len(msg), want, msg)
		}
	}
}
