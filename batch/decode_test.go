package batch_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/pricefn/pricefn/batch"
)

const market = `"market": {
	"curves": {"USD": {"rate": 0.05}, "EUR": {"zeros": [{"date": "2027-11-25", "rate": 0.03}, {"date": "2031-11-25", "rate": 0.035}]}},
	"underlyings": {"ACME": {"spot": 100, "dividendYield": 0.02, "vol": 0.25, "curve": "USD"}}
}`

// TestBatchErrors checks that batch-level faults reject the whole batch with
// a *batch.Error naming the field.
func TestBatchErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"empty", ``, "empty document"},
		{"byte order mark", "\xef\xbb\xbf{\"valuationDate\": \"2026-11-25\", \"trades\": []}", "(document): starts with a UTF-8 byte order mark"},
		// As Windows PowerShell's > saves a file: the first byte was taken for
		// a malformed value ("invalid character 'ÿ'").
		{"UTF-16LE with its mark", "\xff\xfe{\x00}\x00", "(document): is UTF-16 or UTF-32 text, where JSON text must be UTF-8"},
		{"UTF-16BE with its mark", "\xfe\xff\x00{\x00}", "(document): is UTF-16 or UTF-32 text"},
		{"UTF-16LE", "{\x00}\x00", "(document): is UTF-16 or UTF-32 text"},
		{"UTF-32BE", "\x00\x00\x00{\x00\x00\x00}", "(document): is UTF-16 or UTF-32 text"},
		{"malformed", `{"valuationDate": "2026-11-25",`, "malformed JSON"},
		{"trailing", `{"valuationDate": "2026-11-25", "trades": []} {}`, "unexpected data after"},
		{"not object", `[1,2]`, "must be an object"},
		{"no valuation date", `{"trades": []}`, "valuationDate: is required"},
		{"bad valuation date", `{"valuationDate": "2026-13-01", "trades": []}`, `valuationDate: "2026-13-01" is not a YYYY-MM-DD date`},
		{"no trades", `{"valuationDate": "2026-11-25"}`, "trades: is required"},
		// As the pipeline refuses them: pricefn price took them.
		{"batch id with a slash", `{"id": "a/b?c", "valuationDate": "2026-11-25", "trades": []}`, `id: batch id "a/b?c": want 1 to 128 letters`},
		{"deadline too short", `{"deadline": "0.5s", "valuationDate": "2026-11-25", "trades": []}`, `deadline: "0.5s": want a Go duration between 1s and 24h0m0s`},
		{"deadline too long", `{"deadline": "25h", "valuationDate": "2026-11-25", "trades": []}`, `deadline: "25h": want a Go duration`},
		{"unknown top field", `{"valuationDate": "2026-11-25", "trades": [], "tardes": []}`, `unknown field "tardes"`},
		{"wrong type", `{"valuationDate": 20261125, "trades": []}`, "valuationDate: must be a string, got JSON number"},
		{"trade not object", `{"valuationDate": "2026-11-25", "trades": [3]}`, "trades[0]: must be an object, got JSON number"},
		{"trade without id", `{"valuationDate": "2026-11-25", "trades": [{"type": "european"}]}`, "trades[0].id: is required"},
		{"trade id too long", `{"valuationDate": "2026-11-25", "trades": [{"id": "` + strings.Repeat("y", batch.MaxTradeID+1) + `", "type": "fra"}]}`, "trades[0].id: is 257 bytes, more than the 256 a trade id may have"},
		// Read as U+FFFD, two different ids were taken for one.
		{"trade id not UTF-8", "{\"valuationDate\": \"2026-11-25\", \"trades\": [{\"id\": \"a\xffb\", \"type\": \"fra\"}, {\"id\": \"a\xfeb\", \"type\": \"fra\"}]}", "trades[0].id: is not valid UTF-8"},
		{"trade id lone surrogate", `{"valuationDate": "2026-11-25", "trades": [{"id": "T\u00e9\ufffd", "type": "fra"}, {"id": "a\udbffb", "type": "fra"}]}`, `trades[1].id: escapes a lone surrogate`},
		{"duplicate ids", `{"valuationDate": "2026-11-25", "trades": [{"id": "T1", "type": "fra"}, {"id": "T1", "type": "fra"}]}`, `trades[1].id: duplicate trade id "T1" (also trades[0])`},
		{"unknown measure", `{"valuationDate": "2026-11-25", "measures": ["npv", "vanna"], "trades": []}`, `measures[1]: unknown measure "vanna"`},
		// Taken once, as if given once, where a risk confidence twice is refused.
		{"duplicate measure", `{"valuationDate": "2026-11-25", "measures": ["npv", "delta", "npv"], "trades": []}`, `measures[2]: measure "npv" given twice (also measures[0])`},
		{"unknown underlying", `{"valuationDate": "2026-11-25", ` + market + `, "trades": [{"id": "T1", "type": "european", "underlying": "XYZ", "right": "call", "strike": 100, "expiry": "2027-11-25"}]}`, `trades[0].underlying: trade "T1" names unknown underlying "XYZ" (market has: ACME)`},
		{"unknown curve", `{"valuationDate": "2026-11-25", ` + market + `, "trades": [{"id": "F1", "type": "fra", "curve": "GBP"}]}`, `trades[0].curve: trade "F1" names unknown curve "GBP" (market has: EUR, USD)`},
		{"unknown forecast curve", `{"valuationDate": "2026-11-25", ` + market + `, "trades": [{"id": "S1", "type": "swap", "curve": "USD", "forecastCurve": "GBP", "notional": 1e6, "fixedRate": 0.03, "start": "2026-11-27", "tenor": "5Y"}]}`, `trades[0].forecastCurve: trade "S1" names unknown curve "GBP" (market has: EUR, USD)`},
		{"underlying unknown curve", `{"valuationDate": "2026-11-25", "market": {"underlyings": {"A": {"spot": 1, "vol": 0.2, "curve": "X"}}}, "trades": []}`, `market.underlyings.A.curve: unknown curve "X"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := price(tt.doc)
			if err == nil {
				t.Fatalf("batch accepted, want error containing %q", tt.want)
			}
			if !batch.IsBatchError(err) {
				t.Errorf("error %v (%T) is not a *batch.Error", err, err)
			}
			var be *batch.Error
			if !errors.As(err, &be) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestTradeErrors checks that a trade's own faults become its error result,
// naming the trade and the reason, while the other trades still price.
func TestTradeErrors(t *testing.T) {
	good := `{"id": "OK", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25"}`
	tests := []struct {
		name, trade, want string
	}{
		{"negative strike", `{"id": "T2", "type": "european", "underlying": "ACME", "right": "call", "strike": -5, "expiry": "2027-11-25"}`, "trade T2: strike must be > 0, got -5"},
		{"zero strike", `{"id": "T2", "type": "american", "underlying": "ACME", "right": "put", "strike": 0, "expiry": "2027-11-25"}`, "trade T2: strike must be > 0, got 0"},
		{"missing strike", `{"id": "T2", "type": "european", "underlying": "ACME", "right": "call", "expiry": "2027-11-25"}`, "trade T2: strike is required"},
		{"misspelt field", `{"id": "T2", "type": "european", "underlying": "ACME", "right": "call", "strik": 100, "expiry": "2027-11-25"}`, `trade T2: unknown field "strik"`},
		{"bad right", `{"id": "T2", "type": "european", "underlying": "ACME", "right": "straddle", "strike": 100, "expiry": "2027-11-25"}`, `trade T2: right must be call or put, got "straddle"`},
		{"expired", `{"id": "T2", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2026-11-25"}`, "trade T2: expiry must be after the valuation date 2026-11-25, got 2026-11-25"},
		{"bad expiry", `{"id": "T2", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-02-30"}`, `trade T2: expiry must be a YYYY-MM-DD date, got "2027-02-30"`},
		{"strike as string", `{"id": "T2", "type": "european", "underlying": "ACME", "right": "call", "strike": "100", "expiry": "2027-11-25"}`, "trade T2: strike must be a number, got JSON string"},
		{"unknown type", `{"id": "T2", "type": "cds"}`, `trade T2: unknown type "cds" (valid: american, asian, barrier, bond, capfloor, european, fra, swap, swaption)`},
		{"bad quantity", `{"id": "T2", "type": "european", "quantity": "ten"}`, "trade T2: quantity must be a number, got JSON string"},
		{"quantity object", `{"id": "T2", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "quantity": {"n": 1}}`, "trade T2: quantity must be a number, got JSON object"},
		{"quantity overflows", `{"id": "T2", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "quantity": 1e400}`, "trade T2: quantity must be a number between -1e+15 and 1e+15, got 1e400"},
		{"bad barrier type", `{"id": "T2", "type": "barrier", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "barrierType": "sideways", "barrier": 90}`, `trade T2: barrierType must be one of downIn, downOut, upIn, upOut, got "sideways"`},
		{"negative rebate", `{"id": "T2", "type": "barrier", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "barrierType": "downOut", "barrier": 90, "rebate": -1}`, "trade T2: rebate must be >= 0, got -1"},
		{"fixing after expiry", `{"id": "T2", "type": "asian", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "averaging": "geometric", "fixings": ["2027-05-25", "2027-12-25"]}`, "trade T2: fixings[1] must not be after expiry 2027-11-25, got 2027-12-25"},
		{"fixing in the past", `{"id": "T2", "type": "asian", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "averaging": "arithmetic", "fixings": ["2026-11-25"]}`, "trade T2: fixings[0] must be after the valuation date 2026-11-25, got 2026-11-25"},
		{"fixing repeated", `{"id": "T2", "type": "asian", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "averaging": "arithmetic", "fixings": ["2027-03-25", "2027-03-25"]}`, "trade T2: fixings[1] must not repeat fixings[0], got 2027-03-25"},
		// Out of order (which is no fault), a faulty fixing is named by its place in the trade.
		{"fixing repeated out of order", `{"id": "T2", "type": "asian", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "averaging": "arithmetic", "fixings": ["2027-05-25", "2027-03-25", "2027-05-25"]}`, "trade T2: fixings[2] must not repeat fixings[0], got 2027-05-25"},
		{"fixing after expiry out of order", `{"id": "T2", "type": "asian", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "averaging": "geometric", "fixings": ["2027-12-25", "2027-05-25"]}`, "trade T2: fixings[0] must not be after expiry 2027-11-25, got 2027-12-25"},
		{"no fixings", `{"id": "T2", "type": "asian", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "averaging": "arithmetic", "fixings": []}`, "trade T2: fixings must list at least one date"},
		{"no underlying", `{"id": "T2", "type": "european", "right": "call", "strike": 100, "expiry": "2027-11-25"}`, "trade T2: underlying is required"},
		{"no expiry", `{"id": "T2", "type": "barrier", "underlying": "ACME", "right": "call", "strike": 100, "barrierType": "upOut", "barrier": 120}`, "trade T2: expiry is required"},
		{"null strike", `{"id": "T2", "type": "european", "underlying": "ACME", "right": "call", "strike": null, "expiry": "2027-11-25"}`, "trade T2: strike is required"},
		{"no barrier", `{"id": "T2", "type": "barrier", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "barrierType": "upOut"}`, "trade T2: barrier is required"},
		{"no averaging", `{"id": "T2", "type": "asian", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "fixings": ["2027-05-25"]}`, "trade T2: averaging is required (one of arithmetic, geometric)"},
		{"down barrier above spot", `{"id": "T2", "type": "barrier", "underlying": "ACME", "right": "put", "strike": 100, "expiry": "2027-11-25", "barrierType": "downOut", "barrier": 120}`, "trade T2: barrier must not be above spot 100 for a downOut option (it is already crossed), got 120"},
		{"up barrier below spot", `{"id": "T2", "type": "barrier", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "barrierType": "upIn", "barrier": 80}`, "trade T2: barrier must not be below spot 100 for an upIn option (it is already crossed), got 80"},
		// Numbers JSON can carry but no market quotes: each names its field.
		{"huge strike", `{"id": "T2", "type": "european", "underlying": "ACME", "right": "put", "strike": 1e308, "expiry": "2027-11-25"}`, "trade T2: strike must be at most 1e+15, got 1e+308"},
		{"huge barrier", `{"id": "T2", "type": "barrier", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "barrierType": "upOut", "barrier": 1e308}`, "trade T2: barrier must be at most 1e+15, got 1e+308"},
		{"huge rebate", `{"id": "T2", "type": "barrier", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "barrierType": "upOut", "barrier": 120, "rebate": 1e308}`, "trade T2: rebate must be at most 1e+15, got 1e+308"},
		{"huge quantity", `{"id": "T2", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "quantity": -1e308}`, "trade T2: quantity must be a number between -1e+15 and 1e+15, got -1e308"},
		{"expiry past the horizon", `{"id": "T2", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "9999-12-31"}`, "trade T2: expiry must be within 200 years of the valuation date 2026-11-25, got 9999-12-31"},
		// Fewer paths than MinPaths gave a standard error many times too small.
		{"too few paths", `{"id": "T2", "type": "asian", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "averaging": "arithmetic", "fixings": ["2027-05-25"], "paths": 10}`, "trade T2: paths of an arithmetic Asian must be at least 1000, or 0 for the engine's default, got 10"},
		{"fractional paths", `{"id": "T2", "type": "asian", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "averaging": "arithmetic", "fixings": ["2027-05-25"], "paths": 1000.5}`, "trade T2: paths must be a whole number, got JSON number 1000.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := `{"valuationDate": "2026-11-25", ` + market + `, "trades": [` + good + `, ` + tt.trade + `, ` + good2 + `]}`
			rs, err := price(doc)
			if err != nil {
				t.Fatalf("batch rejected: %v", err)
			}
			if len(rs.Results) != 3 {
				t.Fatalf("got %d results, want 3", len(rs.Results))
			}
			if got := rs.Results[1].Error; !strings.Contains(got, tt.want) {
				t.Errorf("error %q, want it to contain %q", got, tt.want)
			}
			if rs.Results[1].ID != "T2" || rs.Results[0].ID != "OK" || rs.Results[2].ID != "OK2" {
				t.Errorf("ids %q %q %q, want OK T2 OK2", rs.Results[0].ID, rs.Results[1].ID, rs.Results[2].ID)
			}
		})
	}
}

const good2 = `{"id": "OK2", "type": "european", "underlying": "ACME", "right": "put", "strike": 90, "expiry": "2027-11-25", "quantity": -3}`

// TestBadMarketDataFailsOnlyItsTrades checks that a curve or underlying with
// bad values fails the trades on it, naming its field, and not the others.
func TestBadMarketDataFailsOnlyItsTrades(t *testing.T) {
	doc := `{"valuationDate": "2026-11-25", "market": {"curves": {"USD": {"rate": 0.05}, "HUGE": {"rate": 1e308},
			"ZHUGE": {"zeros": [{"date": "2027-11-25", "rate": 0.02}, {"date": "2028-11-25", "rate": -1e300}]},
			"ZNORATE": {"zeros": [{"date": "2027-11-25", "rate": 0.02}, {"date": "2028-11-25"}]}},
		"underlyings": {"BAD": {"spot": -1, "vol": 0.2, "curve": "USD"}, "NOVOL": {"spot": 10, "vol": 0, "curve": "USD"},
			"BIG": {"spot": 1e308, "vol": 0.2, "curve": "USD"}, "WILD": {"spot": 10, "vol": 1e308, "curve": "USD"},
			"DIV": {"spot": 10, "vol": 0.2, "dividendYield": 1e308, "curve": "USD"}, "ONHUGE": {"spot": 10, "vol": 0.2, "curve": "HUGE"},
			"NOSPOT": {"vol": 0.2, "curve": "USD"}, "GOOD": {"spot": 10, "vol": 0.2, "curve": "USD"}}},
		"trades": [
		{"id": "T1", "type": "european", "underlying": "BAD", "right": "call", "strike": 100, "expiry": "2027-11-25"},
		{"id": "T2", "type": "european", "underlying": "NOVOL", "right": "call", "strike": 100, "expiry": "2027-11-25"},
		{"id": "T3", "type": "barrier", "underlying": "BIG", "right": "call", "strike": 100, "expiry": "2027-11-25", "barrierType": "downOut", "barrier": 1},
		{"id": "T4", "type": "asian", "underlying": "WILD", "right": "call", "strike": 10, "expiry": "2027-11-25", "averaging": "geometric", "fixings": ["2027-11-25"]},
		{"id": "T5", "type": "american", "underlying": "DIV", "right": "put", "strike": 10, "expiry": "2027-11-25"},
		{"id": "T6", "type": "european", "underlying": "ONHUGE", "right": "put", "strike": 10, "expiry": "2027-11-25"},
		{"id": "T7", "type": "fra", "curve": "ZHUGE", "notional": 1e6, "rate": 0.02, "start": "2027-05-25", "end": "2027-11-25", "position": "long"},
		{"id": "T8", "type": "european", "underlying": "NOSPOT", "right": "put", "strike": 10, "expiry": "2027-11-25"},
		{"id": "T9", "type": "european", "underlying": "GOOD", "right": "put", "strike": 10, "expiry": "2027-11-25"},
		{"id": "T10", "type": "swap", "curve": "ZNORATE", "notional": 1e6, "fixedRate": 0.02, "start": "2027-05-25", "maturity": "2030-05-25", "side": "payFixed"}]}`
	rs, err := price(doc)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"trade T1: underlying BAD unusable: market.underlyings.BAD.spot: must be > 0, got -1",
		"trade T2: underlying NOVOL unusable: market.underlyings.NOVOL.vol: must be > 0, got 0",
		"trade T3: underlying BIG unusable: market.underlyings.BIG.spot: must be at most 1e+15, got 1e+308",
		"trade T4: underlying WILD unusable: market.underlyings.WILD.vol: must be at most 10 (1 is 100%), got 1e+308",
		"trade T5: underlying DIV unusable: market.underlyings.DIV.dividendYield: must be between -1 and 1 (a rate per year, 1 is 100%), got 1e+308",
		"trade T6: underlying ONHUGE unusable: market.curves.HUGE.rate: must be between -1 and 1 (a rate per year, 1 is 100%), got 1e+308",
		"trade T7: curve ZHUGE unusable: market.curves.ZHUGE.zeros[1].rate: must be between -1 and 1 (a rate per year, 1 is 100%), got -1e+300",
		"trade T8: underlying NOSPOT unusable: market.underlyings.NOSPOT.spot: is required",
		"", // T9, on good market data, prices
		"trade T10: curve ZNORATE unusable: market.curves.ZNORATE.zeros[1].rate: is required"} {
		if got := rs.Results[i].Error; got != want {
			t.Errorf("result %d: error %q, want %q", i, got, want)
		}
	}
}

// TestModelDataFailsOnlyTheTradesOnIt: an underlying's Black vol and its
// Heston model are each used by some of its trades alone (wire-format.md
// section 1b: a Heston trade does not use vol, nor does an implied
// volatility), so a fault in one fails the trades priced on it, naming the
// field, and not the others. A Heston underlying without a vol failed its
// Heston trades, and one whose Heston model lacked rho its Black trades.
func TestModelDataFailsOnlyTheTradesOnIt(t *testing.T) {
	heston := `"heston": {"v0": 0.06, "kappa": 1.5, "theta": 0.05, "sigma": 0.4, "rho": -0.6}`
	doc := `{"valuationDate": "2026-11-25", "measures": ["npv", "impliedVol"], "market": {"curves": {"USD": {"rate": 0.05}},
		"underlyings": {"NOVOL": {"spot": 100, "curve": "USD", ` + heston + `}, "ZEROVOL": {"spot": 100, "vol": 0, "curve": "USD", ` + heston + `},
			"NORHO": {"spot": 100, "vol": 0.25, "curve": "USD", "heston": {"v0": 0.06, "kappa": 1.5, "theta": 0.05, "sigma": 0.4}}}},
		"trades": [
		{"id": "H1", "type": "european", "model": "heston", "underlying": "NOVOL", "right": "call", "strike": 100, "expiry": "2027-11-25"},
		{"id": "B1", "type": "european", "underlying": "NOVOL", "right": "call", "strike": 100, "expiry": "2027-11-25"},
		{"id": "A1", "type": "american", "underlying": "NOVOL", "right": "put", "strike": 100, "expiry": "2027-11-25"},
		{"id": "H2", "type": "european", "model": "heston", "underlying": "ZEROVOL", "right": "call", "strike": 100, "expiry": "2027-11-25"},
		{"id": "B2", "type": "barrier", "underlying": "ZEROVOL", "right": "call", "strike": 100, "expiry": "2027-11-25", "barrierType": "upOut", "barrier": 150},
		{"id": "H3", "type": "european", "model": "heston", "underlying": "NORHO", "right": "call", "strike": 100, "expiry": "2027-11-25"},
		{"id": "B3", "type": "european", "underlying": "NORHO", "right": "call", "strike": 100, "expiry": "2027-11-25"}]}`
	rs, err := price(doc)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"", // H1: Heston, no vol needed
		"trade B1: underlying NOVOL unusable: market.underlyings.NOVOL.vol: is required",
		"trade A1: underlying NOVOL unusable: market.underlyings.NOVOL.vol: is required",
		"", // H2
		"trade B2: underlying ZEROVOL unusable: market.underlyings.ZEROVOL.vol: must be > 0, got 0",
		"trade H3: underlying NORHO unusable: market.underlyings.NORHO.heston.rho: is required",
		""} { // B3: Black, the Heston model not needed
		if got := rs.Results[i].Error; got != want {
			t.Errorf("%s: error %q, want %q", rs.Results[i].ID, got, want)
		}
	}
	// The same Heston model on each underlying: the same price, whatever
	// its vol; B3 at the Black-Scholes price of a 25% vol (closed form, by hand).
	if h1, h2 := rs.Results[0].NPV, rs.Results[3].NPV; !(h1 > 0) || h1 != h2 {
		t.Errorf("H1 npv %v, H2 %v: want the same positive price", h1, h2)
	}
	if got, want := rs.Results[6].NPV, 12.335998930368717; math.Abs(got-want) > 1e-9 {
		t.Errorf("B3 npv %v, want %v", got, want)
	}

	// An implied volatility alone reads no vol: the quote's volatility.
	doc = `{"valuationDate": "2026-11-25", "measures": ["impliedVol"], "market": {"curves": {"USD": {"rate": 0.05}},
		"underlyings": {"QUOTED": {"spot": 100, "curve": "USD"}}},
		"trades": [{"id": "IV", "type": "european", "underlying": "QUOTED", "right": "call", "strike": 100, "expiry": "2027-11-25", "price": 12.335998930368717}]}`
	if rs, err = price(doc); err != nil {
		t.Fatal(err)
	}
	if r := rs.Results[0]; r.Error != "" || math.Abs(r.ImpliedVol-0.25) > 1e-12 {
		t.Errorf("IV: %+v, want an implied vol of 0.25", r)
	}
}

// TestResultsRoundTrip checks that results JSON reads back to the same bits.
func TestResultsRoundTrip(t *testing.T) {
	var tr batch.TradeResult
	in := `{"id":"T1","npv":10.450583572185565,"delta":0.6368306511756191,"gamma":1.0e-9,"fairRate":-0.000012}`
	if err := tr.UnmarshalJSON([]byte(in)); err != nil {
		t.Fatal(err)
	}
	out, err := tr.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":"T1","npv":10.450583572185565,"delta":0.6368306511756191,"gamma":1e-9,"fairRate":-0.000012}`; string(out) != want {
		t.Errorf("got %s, want %s", out, want)
	}
	if err := tr.UnmarshalJSON([]byte(`{"id":"T1","nvp":1}`)); err == nil {
		t.Error("unknown result key accepted")
	}
}

// TestAsianFixingsInAnyOrder: an Asian's fixings may come in any order,
// as the wire format lists them and QuantLib's
// DiscreteAveragingAsianOption takes them (it sorts them), and price as
// the same dates in order, to the bit (the Monte Carlo seed included).
// Out of order they were an error ("fixings[1] must be after the
// previous fixing").
func TestAsianFixingsInAnyOrder(t *testing.T) {
	trade := func(id, avg, fixings string) string {
		return `{"id": "` + id + `", "type": "asian", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "averaging": "` + avg + `", "paths": 2000, "fixings": [` + fixings + `]}`
	}
	inOrder := `"2027-02-25", "2027-05-25", "2027-08-25", "2027-11-25"`
	shuffled := `"2027-08-25", "2027-11-25", "2027-02-25", "2027-05-25"`
	doc := `{"valuationDate": "2026-11-25", "measures": ["npv", "delta", "gamma", "vega", "theta", "rho"], ` + market + `, "trades": [` +
		trade("G", "geometric", inOrder) + `, ` + trade("g", "geometric", shuffled) + `, ` +
		trade("A", "arithmetic", inOrder) + `, ` + trade("a", "arithmetic", shuffled) + `]}`
	rs, err := price(doc)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i += 2 {
		r, shuffledR := rs.Results[i], rs.Results[i+1]
		if r.Error != "" || shuffledR.Error != "" {
			t.Fatalf("errors: %q, %q", r.Error, shuffledR.Error)
		}
		shuffledR.ID = r.ID
		want, _ := r.MarshalJSON()
		got, _ := shuffledR.MarshalJSON()
		if string(got) != string(want) || r.NPV <= 0 {
			t.Errorf("fixings out of order: %s, want %s", got, want)
		}
	}
}

func price(doc string) (*batch.Results, error) {
	b, err := batch.DecodeBytes([]byte(doc))
	if err != nil {
		return nil, err
	}
	return batch.Price(context.Background(), b, batch.Options{})
}

// TestEmbeddedBatchIsStrict: a batch inside another document (a chunk
// event's data) decodes as strictly as Decode.
func TestEmbeddedBatchIsStrict(t *testing.T) {
	var doc struct {
		Batch batch.Batch `json:"batch"`
	}
	for in, want := range map[string]string{
		`{"batch": {"valuationDate": "2026-11-25", "trades": [], "tardes": []}}`: `unknown field "tardes"`,
		`{"batch": {"trades": []}}`: "valuationDate: is required",
		`{"batch": {"valuationDate": "2026-11-25", "trades": [{"id": "A", "type": "fra"}, {"id": "A", "type": "fra"}]}}`: `duplicate trade id "A"`,
	} {
		err := json.Unmarshal([]byte(in), &doc)
		if !batch.IsBatchError(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want a batch error containing %q", in, err, want)
		}
	}
	if err := json.Unmarshal([]byte(`{"batch": {"valuationDate": "2026-11-25", "trades": [{"id": "A", "type": "fra"}]}}`), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Batch.Trades) != 1 || doc.Batch.Trades[0].ID != "A" {
		t.Errorf("decoded %+v", doc.Batch)
	}
}

// TestTradeIDEscapes: escaped surrogates in pairs, U+FFFD written or
// escaped, and escaped backslashes are ids as they read; a lone surrogate
// is refused wherever it stands (after an escaped backslash, whose "\\ufffd"
// is text, it slipped through a count of U+FFFD).
func TestTradeIDEscapes(t *testing.T) {
	for _, c := range []struct {
		id, want, err string
	}{
		{`"caf\u00e9 \ufffd \ud83d\ude00"`, "café \uFFFD 😀", ""},
		{`"a\\ufffd\\\\b"`, `a\ufffd\\b`, ""},
		{"\"\uFFFD\"", "\uFFFD", ""},
		{`"x\\ufffd\ud800"`, "", "lone surrogate"},
		{`"\udc00x"`, "", "lone surrogate"},
		{`"\ud83d\ud83d\ude00"`, "", "lone surrogate"},
		{`"\ud83dA"`, "", "lone surrogate"},
		{`"\ud83d\n"`, "", "lone surrogate"},
	} {
		doc := `{"valuationDate": "2026-11-25", "trades": [{"id": ` + c.id + `, "type": "fra", "notional": 1e6, "rate": 0.04, "start": "2027-05-25", "end": "2027-11-25"}]}`
		b, err := batch.Decode(strings.NewReader(doc))
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("id %s: %v, want an error with %q", c.id, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("id %s: %v", c.id, err)
		case c.err == "" && b.Trades[0].ID != c.want:
			t.Errorf("id %s: read %q, want %q", c.id, b.Trades[0].ID, c.want)
		}
	}
}

// TestZeroCurvePillarOnValuationDate: a zero curve's first pillar may be
// the valuation date (the rate at time 0: QuantLib's ZeroCurve has its
// first node there, and a curve exported from it does); another pillar on
// it, or one before it, fails the trades on the curve. It was refused,
// and every trade on the curve failed. The value is QuantLib 1.29's
// AnalyticEuropeanEngine on its ZeroCurve through the same nodes.
func TestZeroCurvePillarOnValuationDate(t *testing.T) {
	doc := func(zeros string) string {
		return `{"valuationDate": "2026-11-25", "market": {"curves": {"Z": {"zeros": ` + zeros + `}},
			"underlyings": {"A": {"spot": 100, "vol": 0.2, "curve": "Z"}}},
			"trades": [{"id": "T1", "type": "european", "underlying": "A", "right": "call", "strike": 100, "expiry": "2027-11-25"}]}`
	}
	rs, err := price(doc(`[{"date": "2026-11-25", "rate": 0.02}, {"date": "2030-11-25", "rate": 0.03}]`))
	if err != nil {
		t.Fatal(err)
	}
	if r := rs.Results[0]; r.Error != "" || math.Abs(r.NPV-9.038934574749904) > 1e-10 {
		t.Errorf("a first pillar on the valuation date: %+v, QuantLib 9.038934574749904", r)
	}
	for zeros, want := range map[string]string{
		`[{"date": "2026-11-25", "rate": 0.02}, {"date": "2026-11-25", "rate": 0.03}]`: "zeros[1].date: must be after the valuation date 2026-11-25",
		`[{"date": "2026-11-24", "rate": 0.02}, {"date": "2030-11-25", "rate": 0.03}]`: "zeros[0].date: must be after the valuation date 2026-11-25 (the first pillar may be on it), got 2026-11-24",
		// A pillar without a date is told so, as a trade's missing date
		// is: it said `"" is not a YYYY-MM-DD date`.
		`[{"rate": 0.02}]`:                     "market.curves.Z.zeros[0].date: is required (YYYY-MM-DD)",
		`[{"date": null, "rate": 0.02}]`:       "market.curves.Z.zeros[0].date: is required (YYYY-MM-DD)",
		`[{"date": "", "rate": 0.02}]`:         "market.curves.Z.zeros[0].date: is required (YYYY-MM-DD)",
		`[{"date": "2027-1-1", "rate": 0.02}]`: `market.curves.Z.zeros[0].date: "2027-1-1" is not a YYYY-MM-DD date`,
	} {
		rs, err := price(doc(zeros))
		if err != nil {
			t.Fatal(err)
		}
		if r := rs.Results[0]; !strings.Contains(r.Error, want) {
			t.Errorf("%s: %+v, want an error with %q", zeros, r, want)
		}
	}
}
