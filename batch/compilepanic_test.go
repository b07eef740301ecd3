package batch

import (
	"context"
	"strings"
	"testing"
)

// TestCompilePanicFailsTheTrade: a bug in a type's compile (here a wire
// form of the wrong type, which its type assertion rejects) fails that
// trade with an internal error, eagerly or lazily compiled, and the other
// trades price; it took the process down.
func TestCompilePanicFailsTheTrade(t *testing.T) {
	doc := `{"valuationDate": "2026-11-25", "market": {"curves": {"USD": {"rate": 0.05}},
	"underlyings": {"ACME": {"spot": 100, "vol": 0.25, "curve": "USD"}}}, "trades": [
	{"id": "E1", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25"},
	{"id": "E2", "type": "european", "underlying": "ACME", "right": "put", "strike": 90, "expiry": "2027-11-25"}]}`
	for _, lazy := range []bool{false, true} {
		b, err := DecodeBytes([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		b.Trades[0].terms = new(int) // not a european's wire form
		j, err := compileJob(b, Engines{}, lazy)
		if err != nil {
			t.Fatal(err)
		}
		var rs []TradeResult
		err = j.PriceBlocks(context.Background(), Options{}, nil, func(pb *PricedBlock) error {
			rs = append(rs, pb.Results...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 2 || !strings.Contains(rs[0].Error, "trade E1: internal error compiling it") {
			t.Fatalf("lazy %v: results %+v, want E1 failed by an internal error", lazy, rs)
		}
		if rs[1].Error != "" || rs[1].Result.NPV <= 0 {
			t.Errorf("lazy %v: E2 = %+v, want it priced", lazy, rs[1])
		}
	}
}
