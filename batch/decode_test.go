package batch_test

import (
	"context"
	"errors"
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
		{"malformed", `{"valuationDate": "2026-11-25",`, "malformed JSON"},
		{"trailing", `{"valuationDate": "2026-11-25", "trades": []} {}`, "unexpected data after"},
		{"not object", `[1,2]`, "must be an object"},
		{"no valuation date", `{"trades": []}`, "valuationDate: is required"},
		{"bad valuation date", `{"valuationDate": "2026-13-01", "trades": []}`, `valuationDate: "2026-13-01" is not a YYYY-MM-DD date`},
		{"no trades", `{"valuationDate": "2026-11-25"}`, "trades: is required"},
		{"unknown top field", `{"valuationDate": "2026-11-25", "trades": [], "tardes": []}`, `unknown field "tardes"`},
		{"wrong type", `{"valuationDate": 20261125, "trades": []}`, "valuationDate: must be a string, got JSON number"},
		{"trade not object", `{"valuationDate": "2026-11-25", "trades": [3]}`, "trades: must be an object, got JSON number"},
		{"trade without id", `{"valuationDate": "2026-11-25", "trades": [{"type": "european"}]}`, "trades[0].id: is required"},
		{"duplicate ids", `{"valuationDate": "2026-11-25", "trades": [{"id": "T1", "type": "fra"}, {"id": "T1", "type": "fra"}]}`, `trades[1].id: duplicate trade id "T1" (also trades[0])`},
		{"trade without type", `{"valuationDate": "2026-11-25", "trades": [{"id": "T1"}]}`, `trades[0].type: is required for trade "T1"`},
		{"unknown measure", `{"valuationDate": "2026-11-25", "measures": ["npv", "vanna"], "trades": []}`, `measures[1]: unknown measure "vanna"`},
		{"unknown underlying", `{"valuationDate": "2026-11-25", ` + market + `, "trades": [{"id": "T1", "type": "european", "underlying": "XYZ", "right": "call", "strike": 100, "expiry": "2027-11-25"}]}`, `trades[0].underlying: trade "T1" names unknown underlying "XYZ" (market has: ACME)`},
		{"unknown curve", `{"valuationDate": "2026-11-25", ` + market + `, "trades": [{"id": "F1", "type": "fra", "curve": "GBP"}]}`, `trade "F1" names unknown curve "GBP" (market has: EUR, USD)`},
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
		{"unknown type", `{"id": "T2", "type": "cds"}`, `trade T2: unknown type "cds" (valid: american, asian, barrier, bond, european, fra, swap)`},
		{"bad quantity", `{"id": "T2", "type": "european", "quantity": "ten"}`, "trade T2: quantity must be a number"},
		{"bad barrier type", `{"id": "T2", "type": "barrier", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "barrierType": "sideways", "barrier": 90}`, `trade T2: barrierType must be one of downIn, downOut, upIn, upOut, got "sideways"`},
		{"negative rebate", `{"id": "T2", "type": "barrier", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "barrierType": "downOut", "barrier": 90, "rebate": -1}`, "trade T2: rebate must be >= 0, got -1"},
		{"fixing after expiry", `{"id": "T2", "type": "asian", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "averaging": "geometric", "fixings": ["2027-05-25", "2027-12-25"]}`, "trade T2: fixings[1] must not be after expiry 2027-11-25, got 2027-12-25"},
		{"fixing in the past", `{"id": "T2", "type": "asian", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "averaging": "arithmetic", "fixings": ["2026-11-25"]}`, "trade T2: fixings[0] must be after the valuation date 2026-11-25, got 2026-11-25"},
		{"fixings unordered", `{"id": "T2", "type": "asian", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "averaging": "arithmetic", "fixings": ["2027-05-25", "2027-03-25"]}`, "trade T2: fixings[1] must be after the previous fixing, got 2027-03-25"},
		{"no fixings", `{"id": "T2", "type": "asian", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "averaging": "arithmetic", "fixings": []}`, "trade T2: fixings must list at least one date"},
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

// TestBadMarketDataFailsOnlyItsTrades checks that an underlying with bad
// values fails the trades on it, and not the others.
func TestBadMarketDataFailsOnlyItsTrades(t *testing.T) {
	doc := `{"valuationDate": "2026-11-25", "market": {"curves": {"USD": {"rate": 0.05}},
		"underlyings": {"BAD": {"spot": -1, "vol": 0.2, "curve": "USD"}, "NOVOL": {"spot": 10, "vol": 0, "curve": "USD"}}},
		"trades": [
		{"id": "T1", "type": "european", "underlying": "BAD", "right": "call", "strike": 100, "expiry": "2027-11-25"},
		{"id": "T2", "type": "european", "underlying": "NOVOL", "right": "call", "strike": 100, "expiry": "2027-11-25"}]}`
	rs, err := price(doc)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"trade T1: underlying BAD unusable: batch: market.underlyings.BAD.spot: must be > 0, got -1",
		"trade T2: underlying NOVOL unusable: batch: market.underlyings.NOVOL.vol: must be > 0, got 0"} {
		if got := rs.Results[i].Error; got != want {
			t.Errorf("result %d: error %q, want %q", i, got, want)
		}
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

func price(doc string) (*batch.Results, error) {
	b, err := batch.DecodeBytes([]byte(doc))
	if err != nil {
		return nil, err
	}
	return batch.Price(context.Background(), b, batch.Options{})
}
