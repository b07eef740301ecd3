package batch

import (
	"context"
	"strings"
	"testing"
)

// TestRegistryWireFormsKnowCommonFields checks that every trade type's
// wire form knows the fields every trade shares (id, type, quantity), of
// any value: Decode reads them in the header and skips them in the wire
// form (its shared members), which is the same only so.
func TestRegistryWireFormsKnowCommonFields(t *testing.T) {
	for name, tt := range tradeTypes {
		for _, obj := range []string{`{"id":"T1","type":"x","quantity":2}`, `{"quantity":{},"type":1,"id":[]}`} {
			s := scanner{data: []byte(obj)}
			var ms members
			if err := s.members(&ms, 0); err != nil {
				t.Fatal(err)
			}
			if _, err := tt.decode(&ms, 0, nil); err != nil && strings.Contains(err.Error(), "unknown field") {
				t.Errorf("%s: %s: %v", name, obj, err)
			}
		}
	}
}

// TestRegistryRefsAreHeaderFields checks that every market reference a
// registry entry declares is a field the trade header reads.
func TestRegistryRefsAreHeaderFields(t *testing.T) {
	var h tradeHeader
	for name, tt := range tradeTypes {
		for _, r := range tt.refs() {
			if _, ok := h.ref(r.field); !ok {
				t.Errorf("%s: reference field %q is not read by tradeHeader", name, r.field)
			}
		}
	}
}

// v11Market has a Heston underlying, a Black one and a curve.
const v11Market = `"market": {"curves": {"USD": {"rate": 0.03}},
	"underlyings": {"H": {"spot": 100, "vol": 0.2, "curve": "USD", "heston": {"v0": 0.04, "kappa": 1.5, "theta": 0.04, "sigma": 0.5, "rho": -0.7}},
		"B": {"spot": 100, "vol": 0.2, "curve": "USD"},
		"BADH": {"spot": 100, "vol": 0.2, "curve": "USD", "heston": {"v0": 0.04, "kappa": -1, "theta": 0.04, "sigma": 0.5, "rho": -0.7}}}}`

// TestV11TradeErrors checks the per-trade errors of the wire format's
// section 1b: each names its field, and the other trades still price.
func TestV11TradeErrors(t *testing.T) {
	const swpn = `"type": "swaption", "curve": "USD", "notional": 1e6, "expiry": "2027-11-25", "maturity": "2032-11-25", "side": "payer", "vol": 0.2`
	const capf = `"type": "capfloor", "capType": "cap", "curve": "USD", "notional": 1e6, "strike": 0.03, "start": "2026-12-28", "maturity": "2031-12-29", "vol": 0.2`
	for _, c := range []struct{ name, trade, want string }{
		{"heston without a model", `"type": "european", "model": "heston", "underlying": "B", "right": "call", "strike": 100, "expiry": "2027-11-25"`,
			"market.underlyings.B.heston is required for the heston model"},
		{"bad heston parameter", `"type": "european", "model": "heston", "underlying": "BADH", "right": "call", "strike": 100, "expiry": "2027-11-25"`,
			"market.underlyings.BADH.heston.kappa must be > 0"},
		{"heston on an american", `"type": "american", "model": "heston", "underlying": "H", "right": "call", "strike": 100, "expiry": "2027-11-25"`,
			`unknown field "model"`},
		{"unknown model", `"type": "european", "model": "sabr", "underlying": "H", "right": "call", "strike": 100, "expiry": "2027-11-25"`,
			`model must be one of black, heston, got "sabr"`},
		{"price above the bound", `"type": "european", "underlying": "B", "right": "call", "strike": 100, "expiry": "2027-11-25", "price": 120`,
			"price must lie strictly between the no-arbitrage bounds"},
		{"price below intrinsic", `"type": "european", "underlying": "B", "right": "put", "strike": 150, "expiry": "2027-11-25", "price": 20`,
			"price must lie strictly between the no-arbitrage bounds"},
		{"negative price", `"type": "european", "underlying": "B", "right": "put", "strike": 150, "expiry": "2027-11-25", "price": -1`,
			"price must be > 0"},
		{"normal vol with displacement", swpn + `, "strike": 0.03, "volType": "normal", "displacement": 0.01`,
			"displacement is for lognormal vols only"},
		{"lognormal negative strike", swpn + `, "strike": -0.01`,
			"the option expiring 2027-11-25"},
		{"swaption expired", `"type": "swaption", "curve": "USD", "notional": 1e6, "expiry": "2026-11-25", "maturity": "2032-11-25", "side": "payer", "vol": 0.2, "strike": 0.03`,
			"expiry must be after the valuation date"},
		// A swaption has no start: the swap's check named it ("maturity must
		// be after start 2033-11-25").
		{"swaption maturity before expiry", `"type": "swaption", "curve": "USD", "notional": 1e6, "expiry": "2033-11-25", "maturity": "2032-11-25", "side": "payer", "vol": 0.2, "strike": 0.03`,
			"maturity must be after expiry 2033-11-25, got 2032-11-25"},
		{"swaption maturity on expiry", `"type": "swaption", "curve": "USD", "notional": 1e6, "expiry": "2027-11-25", "maturity": "2027-11-25", "side": "payer", "vol": 0.2, "strike": 0.03`,
			"maturity must be after expiry 2027-11-25, got 2027-11-25"},
		{"bad vol type", capf + `, "volType": "sabr"`, `volType must be one of lognormal, normal, got "sabr"`},
		{"cap without vol", `"type": "capfloor", "capType": "cap", "curve": "USD", "notional": 1e6, "strike": 0.03, "start": "2026-12-28", "maturity": "2031-12-29"`,
			"vol is required"},
		{"cap started", `"type": "capfloor", "capType": "floor", "curve": "USD", "notional": 1e6, "strike": 0.03, "start": "2026-11-25", "maturity": "2031-12-29", "vol": 0.2`,
			"start must be after the valuation date"},
		{"cap lognormal negative strike", `"type": "capfloor", "capType": "floor", "curve": "USD", "notional": 1e6, "strike": -0.01, "start": "2026-12-28", "maturity": "2031-12-29", "vol": 0.2`,
			"displacement must make the forward"},
	} {
		doc := `{"valuationDate": "2026-11-25", "measures": ["npv", "impliedVol"], ` + v11Market + `, "trades": [
			{"id": "OK", "type": "european", "model": "heston", "underlying": "H", "right": "call", "strike": 100, "expiry": "2027-11-25"},
			{"id": "T2", ` + c.trade + `}]}`
		b, err := DecodeBytes([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		rs, err := Price(context.Background(), b, Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if rs.Results[0].Error != "" {
			t.Errorf("%s: the good trade failed: %s", c.name, rs.Results[0].Error)
		}
		if got := rs.Results[1].Error; !strings.HasPrefix(got, "trade T2: ") || !strings.Contains(got, c.want) {
			t.Errorf("%s: error %q, want it to contain %q", c.name, got, c.want)
		}
	}
}

// TestEngineSettingsReachable checks that Options.Engines reaches the
// engines: a Heston integration allowed one piece fails to converge, and
// an arithmetic Asian prices with the engine's default paths.
func TestEngineSettingsReachable(t *testing.T) {
	doc := `{"valuationDate": "2026-11-25", ` + v11Market + `, "trades": [
		{"id": "H", "type": "european", "model": "heston", "underlying": "H", "right": "put", "strike": 80, "expiry": "2036-11-25"},
		{"id": "A", "type": "asian", "underlying": "B", "right": "call", "strike": 100, "expiry": "2027-11-25", "averaging": "arithmetic", "fixings": ["2027-05-25", "2027-11-25"]}]}`
	b, err := DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var e Engines
	e.Heston.MaxPieces = 1
	e.Asian.Paths = 1000
	rs, err := Price(context.Background(), b, Options{Engines: e})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rs.Results[0].Error, "did not converge") {
		t.Errorf("heston with one piece: %+v, want a convergence error", rs.Results[0])
	}
	j, err := CompileWith(b, e)
	if err != nil {
		t.Fatal(err)
	}
	def, err := Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	if j.Cost(1) >= def.Cost(1)/100 {
		t.Errorf("asian cost with 1,000 paths %v, default %v: the settings do not reach the cost model", j.Cost(1), def.Cost(1))
	}
	if a := rs.Results[1]; a.Error != "" || !(a.NPVStdErr > 0.002) {
		t.Errorf("asian with 1,000 paths: %+v, want the error of 1,000 paths (0.0065), not of the default 500,000 (0.0003)", a)
	}
}
