package batch_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/pricefn/pricefn/batch"
)

// TestDecodeStrictPaths checks the one-pass decoder's batch-level errors:
// each names the field by its path in the document.
func TestDecodeStrictPaths(t *testing.T) {
	trade := `{"id": "T1", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25"}`
	doc := func(market, trades string) string {
		return `{"valuationDate": "2026-11-25", "market": ` + market + `, "trades": [` + trades + `]}`
	}
	good := `{"curves": {"USD": {"rate": 0.05}}, "underlyings": {"ACME": {"spot": 100, "vol": 0.25, "curve": "USD"}}}`
	for _, c := range []struct{ name, doc, want string }{
		{"duplicate top key", `{"valuationDate": "2026-11-25", "valuationDate": "2026-11-26", "trades": []}`, `duplicate key "valuationDate"`},
		{"duplicate trade key", doc(good, `{"id": "T1", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "strike": 90, "expiry": "2027-11-25"}`), `trades[0]: duplicate key "strike"`},
		{"duplicate curve", doc(`{"curves": {"USD": {"rate": 0.05}, "USD": {"rate": 0.04}}}`, ``), `market.curves: duplicate key "USD"`},
		{"duplicate underlying key", doc(`{"curves": {"USD": {"rate": 0.05}}, "underlyings": {"ACME": {"spot": 100, "spot": 101, "vol": 0.25, "curve": "USD"}}}`, ``), `market.underlyings.ACME: duplicate key "spot"`},
		{"spot a string", doc(`{"curves": {"USD": {"rate": 0.05}}, "underlyings": {"S": {"spot": "100", "vol": 0.25, "curve": "USD"}}}`, ``), `market.underlyings.S.spot: must be a number, got JSON string`},
		{"zero rate a string", doc(`{"curves": {"EUR": {"zeros": [{"date": "2027-11-25", "rate": 0.03}, {"date": "2028-11-25", "rate": "x"}]}}}`, ``), `market.curves.EUR.zeros[1].rate: must be a number, got JSON string`},
		{"heston sigma a bool", doc(`{"curves": {"USD": {"rate": 0.05}}, "underlyings": {"H": {"spot": 100, "vol": 0.2, "curve": "USD", "heston": {"v0": 0.04, "kappa": 1, "theta": 0.04, "sigma": true, "rho": 0}}}}`, ``), `market.underlyings.H.heston.sigma: must be a number, got JSON bool`},
		{"unknown underlying field", doc(`{"underlyings": {"S": {"spot": 100, "vol": 0.25, "curve": "USD", "volatility": 1}}}`, ``), `market.underlyings.S: unknown field "volatility"`},
		{"unknown market field", doc(`{"curve": {}}`, ``), `market: unknown field "curve"`},
		// A fault within a nested object is named on its path: it read
		// "market.curves.EUR: zeros[0]: unknown field", whose path the
		// console marks stopped at the curve.
		{"unknown zero pillar field", doc(`{"curves": {"EUR": {"zeros": [{"date": "2027-11-25", "rate": 0.03, "x": 1}]}}}`, ``), `batch: market.curves.EUR.zeros[0]: unknown field "x"`},
		{"unknown heston field", doc(`{"curves": {"USD": {"rate": 0.05}}, "underlyings": {"H": {"spot": 100, "vol": 0.2, "curve": "USD", "heston": {"v0": 0.04, "x": 1}}}}`, ``), `batch: market.underlyings.H.heston: unknown field "x"`},
		{"curve not an object", doc(`{"curves": {"USD": 0.05}}`, ``), `market.curves.USD: must be an object, got JSON number`},
		{"id a number", doc(good, `{"id": 7, "type": "european"}`), `trades[0].id: must be a string, got JSON number`},
		{"null trade", doc(good, trade+`, null`), `trades[1]: must be an object`},
		{"trades an object", `{"valuationDate": "2026-11-25", "trades": {}}`, `trades: must be a list, got JSON object`},
		{"measures not strings", `{"valuationDate": "2026-11-25", "measures": ["npv", 3], "trades": []}`, `measures[1]: must be a string, got JSON number`},
		// It read as the measure "" ("unknown measure \"\"").
		{"measure null", `{"valuationDate": "2026-11-25", "measures": ["npv", null], "trades": []}`, `measures[1]: must be a string, got JSON null`},
		{"bad escape", `{"valuationDate": "2026-11-25", "trades": [], "id": "a\qb"}`, `malformed JSON at byte`},
		{"control character", "{\"valuationDate\": \"2026-11-25\x01\", \"trades\": []}", `malformed JSON at byte`},
		{"leading zero", doc(good, `{"id": "T1", "type": "european", "strike": 0100}`), `malformed JSON at byte`},
		{"nested duplicate", doc(`{"curves": {"B": {"bootstrap": [{"type": "deposit", "type": "swap"}]}}}`, ``), `market.curves.B: duplicate key "type" (in the object at byte 74)`},
		// A key given twice deeper in a value is named on the value's path,
		// not called malformed JSON ("malformed JSON at byte 72: duplicate
		// key").
		{"duplicate zero pillar key", doc(`{"curves": {"EUR": {"zeros": [{"date": "2027-11-25", "rate": 0.03, "rate": 0.04}]}}}`, ``), `batch: market.curves.EUR: duplicate key "rate" (in the object at byte 72)`},
		{"duplicate heston key", doc(`{"curves": {"USD": {"rate": 0.05}}, "underlyings": {"H": {"spot": 100, "vol": 0.2, "curve": "USD", "heston": {"v0": 0.04, "v0": 0.05}}}}`, ``), `batch: market.underlyings.H: duplicate key "v0" (in the object at byte 151)`},
		{"duplicate key in a trade's value", doc(good, `{"id": "T1", "type": "european", "terms": {"a": 1, "a": 2}}`), `batch: trades[0]: duplicate key "a" (in the object at byte`},
		{"duplicate scenario key", `{"valuationDate": "2026-11-25", "trades": [], "scenarios": [{"id": "s1", "id": "s2"}]}`, `batch: scenarios[0]: duplicate key "id"`},
		{"duplicate risk key", `{"valuationDate": "2026-11-25", "trades": [], "risk": {"var": [0.9], "var": [0.99]}}`, `batch: risk: duplicate key "var"`},
		// It read "malformed JSON at byte 10579: exceeded max depth".
		{"nesting too deep", doc(good, `{"id": "T1", "type": "european", "terms": `+strings.Repeat("[", 10001)+strings.Repeat("]", 10001)+`}`), `batch: trades[0]: nests arrays and objects more than 10000 deep (at byte`},
		{"document nesting too deep", strings.Repeat("[", 10001) + strings.Repeat("]", 10001), `batch: nests arrays and objects more than 10000 deep (at byte 10000)`},
		{"duplicate key in a curve that is no object", doc(`{"curves": {"X": [{"a": 1, "a": 1}]}}`, ``), `batch: market.curves.X: duplicate key "a" (in the object at byte`},
		{"truncated", `{"valuationDate": "2026-11-25", "trades": [{"id": "T1"`, `unexpected end of document`},
		{"top-level list", `[]`, `(document): must be an object, got JSON array`},
	} {
		_, err := batch.DecodeBytes([]byte(c.doc))
		if err == nil {
			t.Errorf("%s: decoded, want error %q", c.name, c.want)
			continue
		}
		if !batch.IsBatchError(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want a batch error containing %q", c.name, err, c.want)
		}
	}
}

// TestDecodeTradeFields checks the trade-level faults of the one-pass
// decoder: each fails its trade alone, naming the field, and keys match
// exactly (encoding/json matched them case-insensitively) while escaped
// keys read as their text.
func TestDecodeTradeFields(t *testing.T) {
	for _, c := range []struct{ name, trade, want string }{
		{"case-sensitive key", `{"id": "T2", "type": "european", "underlying": "ACME", "right": "call", "Strike": 100, "expiry": "2027-11-25"}`, `trade T2: unknown field "Strike"`},
		{"escaped key", `{"id": "T2", "type": "european", "underlying": "ACME", "right": "call", "str\u0069ke": 100, "expiry": "2027-11-25"}`, ``},
		{"fixings element", `{"id": "T2", "type": "asian", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "averaging": "arithmetic", "fixings": ["2027-05-25", 7]}`, `trade T2: fixings[1] must be a string, got JSON number`},
		{"fixing null", `{"id": "T2", "type": "asian", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "averaging": "arithmetic", "fixings": ["2027-05-25", null]}`, `trade T2: fixings[1] must be a string, got JSON null`},
		{"fixings not a list", `{"id": "T2", "type": "asian", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "averaging": "arithmetic", "fixings": "2027-05-25"}`, `trade T2: fixings must be a list, got JSON string`},
		{"number out of range", `{"id": "T2", "type": "european", "underlying": "ACME", "right": "call", "strike": 1e400, "expiry": "2027-11-25"}`, `trade T2: strike must be a number within a double's range (a magnitude up to 1.8e308), got JSON number 1e400`},
		{"model a number", `{"id": "T2", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "model": 1}`, `trade T2: model must be a string, got JSON number`},
		{"null strike", `{"id": "T2", "type": "european", "underlying": "ACME", "right": "call", "strike": null, "expiry": "2027-11-25"}`, `trade T2: strike is required`},
		{"unknown type keeps nested values", `{"id": "T2", "type": "cds", "legs": [{"a": [1, {"b": null}]}]}`, `trade T2: unknown type "cds"`},
		// A trade's type, like its other terms, fails it alone: wrong or
		// missing, the rest of the batch is priced.
		{"type a list", `{"id": "T2", "type": ["fra"]}`, `trade T2: type must be a string, got JSON array (valid: `},
		{"type a number", `{"id": "T2", "type": 5, "underlying": "ACME"}`, `trade T2: type must be a string, got JSON number (valid: `},
		{"no type", `{"id": "T2", "underlying": "ACME", "strike": 100}`, `trade T2: type is required (valid: `},
		{"type null", `{"id": "T2", "type": null}`, `trade T2: type is required (valid: `},
		{"type empty", `{"id": "T2", "type": ""}`, `trade T2: type is required (valid: `},
		// A market name that is not a string names nothing: it fails its
		// trade alone, as a missing one does (it failed the batch). Of a
		// field the type does not have, the error is that field's.
		{"underlying a number", `{"id": "T2", "type": "european", "underlying": 5, "right": "call", "strike": 100, "expiry": "2027-11-25"}`, `trade T2: underlying must be a string, got JSON number`},
		{"curve an object", `{"id": "T2", "type": "fra", "curve": {"USD": 1}, "notional": 1, "rate": 0.01, "start": "2027-01-01", "end": "2027-06-01", "position": "long"}`, `trade T2: curve must be a string, got JSON object`},
		{"forecastCurve a bool", `{"id": "T2", "type": "swap", "curve": "USD", "forecastCurve": true, "notional": 1, "fixedRate": 0.01, "start": "2027-01-01", "maturity": "2030-01-01", "side": "payFixed"}`, `trade T2: forecastCurve must be a string, got JSON bool`},
		{"curve a number on a european", `{"id": "T2", "type": "european", "underlying": "ACME", "curve": 5, "right": "call", "strike": 100, "expiry": "2027-11-25"}`, `trade T2: unknown field "curve"`},
	} {
		doc := `{"valuationDate": "2026-11-25", ` + market + `, "trades": [` + c.trade + `]}`
		rs, err := price(doc)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := rs.Results[0].Error; got != c.want && (c.want == "" || !strings.Contains(got, c.want)) {
			t.Errorf("%s: error %q, want %q", c.name, got, c.want)
		}
	}
}

// TestDecodeKeepsRawBytes: each trade's Raw is its bytes in the document,
// and the market entries' raw JSON is what a chunk carries.
func TestDecodeKeepsRawBytes(t *testing.T) {
	doc := `{"valuationDate": "2026-11-25", ` + market + `, "trades": [ {"id": "A", "type": "fra"} ,
	{"id": "B",   "type": "european", "underlying": "ACME"}]}`
	b, err := batch.DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b.Trades[1].Raw); got != `{"id": "B",   "type": "european", "underlying": "ACME"}` {
		t.Errorf("raw %q", got)
	}
	chunk, err := b.AppendChunkJSON(nil, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"valuationDate":"2026-11-25","market":{"curves":{"USD":{"rate": 0.05}},"underlyings":{"ACME":{"spot": 100, "dividendYield": 0.02, "vol": 0.25, "curve": "USD"}}},"trades":[
{"id": "B",   "type": "european", "underlying": "ACME"}
]}`
	if string(chunk) != want {
		t.Errorf("chunk\n%s\nwant\n%s", chunk, want)
	}
}

// TestDecodeReaders: a batch reads the same from a file (read at its
// size), a bytes.Reader and a reader that tells nothing.
func TestDecodeReaders(t *testing.T) {
	doc, err := batch.Sample(batch.SampleSpec{Type: "european", N: 50, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "b.json")
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, r := range map[string]io.Reader{"file": f, "bytes": bytes.NewReader(doc), "plain": iotest.OneByteReader(bytes.NewReader(doc))} {
		b, err := batch.Decode(r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(b.Trades) != 50 || !bytes.Equal(b.Trades[49].Raw, bytes.TrimSpace(doc[bytes.LastIndex(doc, []byte("\n{")):bytes.LastIndex(doc, []byte("}\n]"))+1])) {
			t.Errorf("%s: %d trades, last %s", name, len(b.Trades), b.Trades[len(b.Trades)-1].Raw)
		}
	}
}
