package batch_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/pricing/fsum"
)

// scenMarket is the market of the scenario tests: a flat and a zero curve,
// two underlyings.
const scenMarket = `{"curves": {"USD": {"rate": 0.045},
	"EUR": {"zeros": [{"date": "2027-11-25", "rate": 0.03}, {"date": "2031-11-25", "rate": 0.035}, {"date": "2036-11-25", "rate": 0.037}]}},
	"underlyings": {"ACME": {"spot": 100, "dividendYield": 0.02, "vol": 0.25, "curve": "USD"},
	"GLOBEX": {"spot": 55.5, "dividendYield": 0.01, "vol": 0.35, "curve": "EUR"}}}`

// scenTrades holds a trade of most types, on both curves and underlyings,
// an arithmetic Asian priced by Monte Carlo among them.
var scenTrades = []string{
	`{"id": "EU-1", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25"}`,
	`{"id": "EU-2", "type": "european", "underlying": "GLOBEX", "right": "put", "strike": 60, "expiry": "2028-11-24", "quantity": -5}`,
	`{"id": "AM-1", "type": "american", "underlying": "ACME", "right": "put", "strike": 105, "expiry": "2027-11-25"}`,
	`{"id": "BA-1", "type": "barrier", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "barrierType": "downOut", "barrier": 80, "rebate": 2}`,
	`{"id": "AS-1", "type": "asian", "underlying": "GLOBEX", "right": "put", "strike": 55, "expiry": "2027-05-25", "averaging": "arithmetic", "fixings": ["2027-01-25", "2027-03-25", "2027-05-25"], "paths": 2000}`,
	`{"id": "AS-2", "type": "asian", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "averaging": "geometric", "fixings": ["2027-05-25", "2027-11-25"]}`,
	`{"id": "FRA-1", "type": "fra", "curve": "USD", "notional": 1000000, "rate": 0.045, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}`,
	`{"id": "SW-1", "type": "swap", "curve": "EUR", "notional": 5000000, "fixedRate": 0.033, "start": "2026-11-27", "maturity": "2036-11-27", "side": "receiveFixed"}`,
	`{"id": "BD-1", "type": "bond", "curve": "USD", "face": 100, "coupon": 0.04, "issue": "2024-05-15", "maturity": "2034-05-15", "quantity": 50}`,
	`{"id": "HE-1", "type": "european", "underlying": "ACME", "right": "call", "strike": 95, "expiry": "2027-11-25", "model": "heston"}`,
	`{"id": "BAD", "type": "european", "underlying": "ACME", "right": "call", "strike": -5, "expiry": "2027-11-25"}`,
}

// scenDoc is a batch of the scenario tests' trades and market with the
// given scenarios and extra top-level members.
func scenDoc(scenarios []string, extra string) string {
	m := strings.Replace(scenMarket, `"curve": "USD"}`, `"curve": "USD", "heston": {"v0": 0.06, "kappa": 1.5, "theta": 0.05, "sigma": 0.4, "rho": -0.6}}`, 1)
	return `{"valuationDate": "2026-11-25", "measures": ["npv", "delta", "vega", "pv01"], "market": ` + m +
		`, "trades": [` + strings.Join(scenTrades, ",\n") + `], "scenarios": [` + strings.Join(scenarios, ",\n") + `]` + extra + `}`
}

func priceDoc(t *testing.T, doc string, opt batch.Options) *batch.Results {
	t.Helper()
	b, err := batch.DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := batch.Price(context.Background(), b, opt)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestConfidenceTailSize: k = ceil(N (1 - a)) in integer arithmetic, the
// spec's example included, where float64 is one off.
func TestConfidenceTailSize(t *testing.T) {
	tests := []struct {
		text string
		n, k int
	}{
		{"0.99", 1000, 10},
		{"0.975", 1000, 25},
		{"0.99", 500, 5},
		{"0.975", 500, 13},
		{"0.95", 250, 13},
		{"0.99", 1, 1},
		{"0.999999", 10000, 1},
		{"0.5", 3, 2},
		{"9.9e-1", 1000, 10},
		{"0.990000", 1000, 10},
		{"0.000001", 10000, 10000},
	}
	for _, tc := range tests {
		b, err := batch.DecodeBytes([]byte(`{"valuationDate": "2026-11-25", "trades": [], "risk": {"var": [` + tc.text + `]}}`))
		if err != nil {
			t.Fatalf("%s: %v", tc.text, err)
		}
		c := b.Scenarios.Risk.VaR[0]
		if got := c.TailSize(tc.n); got != tc.k || c.Text != tc.text {
			t.Errorf("%s of %d: k = %d (text %q), want %d", tc.text, tc.n, got, c.Text, tc.k)
		}
	}
	n, a := 1000.0, 0.99 // variables: float64 arithmetic, not exact constants
	if k := math.Ceil(n * (1 - a)); k != 11 {
		t.Errorf("float64 gives k = %v for the spec's example: the test no longer shows why integers are used", k)
	}
}

// TestRiskHandComputed: VaR and ES of ten P&Ls worked by hand.
func TestRiskHandComputed(t *testing.T) {
	pnls := []float64{-5, 3, -2, 10, -7, 1, 0, -1, 4, 2}
	b, err := batch.DecodeBytes([]byte(`{"valuationDate": "2026-11-25", "trades": [], "risk": {"var": [0.8, 0.95, 0.5], "es": [0.8, 0.75, 0.1]}}`))
	if err != nil {
		t.Fatal(err)
	}
	p := &batch.ScenarioPartials{Of: len(pnls), Risk: b.Scenarios.Risk}
	for i, x := range pnls {
		var pnl, npv fsum.Sum
		pnl.Add(x)
		npv.Add(100 + x)
		p.Scenarios = append(p.Scenarios, batch.ScenarioSums{ID: fmt.Sprint("s", i), NPV: npv, PnL: pnl})
	}
	tot := batch.NewScenarioTotals(len(pnls), b.Scenarios.Risk)
	if err := tot.Add(p); err != nil {
		t.Fatal(err)
	}
	scs, risk := tot.Results()
	if len(scs) != 10 || scs[3].ID != "s3" || scs[3].PnL != 10 || scs[3].NPV != 110 {
		t.Fatalf("scenarios %+v", scs)
	}
	// Sorted: -7 -5 -2 -1 0 1 2 3 4 10.
	want := map[string]float64{
		"var 0.8":  5,        // k = 2: -(-5)
		"var 0.95": 7,        // k = ceil(0.5) = 1
		"var 0.5":  0,        // k = 5
		"es 0.8":   6,        // mean(-7, -5)
		"es 0.75":  14.0 / 3, // k = ceil(2.5) = 3: mean(-7, -5, -2)
		"es 0.1":   -0.5,     // k = 9: mean of all but 10 = -5/9 ... see below
	}
	want["es 0.1"] = -(-7 - 5 - 2 - 1 + 0 + 1 + 2 + 3 + 4) / 9.0
	got := map[string]float64{}
	for _, v := range risk.VaR {
		got["var "+v.Confidence] = v.Value
	}
	for _, v := range risk.ES {
		got["es "+v.Confidence] = v.Value
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || math.Abs(g-w) > 1e-15 {
			t.Errorf("%s = %v, want %v", k, g, w)
		}
	}
	data, err := json.Marshal(risk)
	if err != nil || string(data) != `{"var":{"0.8":5,"0.95":7,"0.5":0},"es":{"0.8":6,"0.75":4.666666666666667,"0.1":0.5555555555555556}}` {
		t.Errorf("risk JSON %s %v", data, err)
	}
}

// TestScenarioZeroShift: a scenario that moves nothing reprices every
// trade to its base npv's bits, the Monte Carlo Asian included (common
// random numbers): its P&L is exactly 0 and its npv the base total.
func TestScenarioZeroShift(t *testing.T) {
	rs := priceDoc(t, scenDoc([]string{
		`{"id": "nothing"}`,
		`{"id": "zeros", "curves": {"*": {"parallel": 0}}, "underlyings": {"*": {"spotRel": 0, "volAbs": 0, "dividendYieldAbs": 0}}}`,
	}, `, "scenarioDetail": "trades"`), batch.Options{})
	var base fsum.Sum
	for _, r := range rs.Results {
		if r.Error != "" {
			if r.ID != "BAD" || r.ScenarioNPV != nil {
				t.Errorf("%s: %s (scenarioNpv %v)", r.ID, r.Error, r.ScenarioNPV)
			}
			continue
		}
		base.Add(r.NPV)
		for s, v := range r.ScenarioNPV {
			if math.Float64bits(v) != math.Float64bits(r.NPV) {
				t.Errorf("%s in scenario %d: npv %v, base %v", r.ID, s, v, r.NPV)
			}
		}
	}
	for _, s := range rs.Scenarios {
		if s.PnL != 0 || s.NPV != base.Value() || s.Failed != 1 {
			t.Errorf("%s: %+v, want pnl 0, npv %v, 1 failed", s.ID, s, base.Value())
		}
		for u, v := range s.ByUnderlying {
			if v != 0 {
				t.Errorf("%s: P&L of %s %v", s.ID, u, v)
			}
		}
	}
}

// shiftMarket applies scenario sc to the market m (decoded JSON) by the
// spec's rules, written out here independently of the engine: "*" for the
// names without an entry, rates and pillar rates plus parallel, spot x (1
// + spotRel) or + spotAbs, vol + volAbs or x (1 + volRel), dividend yield
// + dividendYieldAbs.
func shiftMarket(t *testing.T, m map[string]any, sc map[string]any) map[string]any {
	t.Helper()
	var out map[string]any
	data, _ := json.Marshal(m)
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	entry := func(kind, name string) map[string]any {
		all, _ := sc[kind].(map[string]any)
		if e, ok := all[name].(map[string]any); ok {
			return e
		}
		e, _ := all["*"].(map[string]any)
		return e
	}
	for name, c := range out["curves"].(map[string]any) {
		p, _ := entry("curves", name)["parallel"].(float64)
		c := c.(map[string]any)
		if r, ok := c["rate"].(float64); ok {
			c["rate"] = r + p
		}
		if zs, ok := c["zeros"].([]any); ok {
			for _, z := range zs {
				z.(map[string]any)["rate"] = z.(map[string]any)["rate"].(float64) + p
			}
		}
	}
	for name, u := range out["underlyings"].(map[string]any) {
		u := u.(map[string]any)
		e := entry("underlyings", name)
		if x, ok := e["spotRel"].(float64); ok {
			u["spot"] = u["spot"].(float64) * (1 + x)
		}
		if x, ok := e["spotAbs"].(float64); ok {
			u["spot"] = u["spot"].(float64) + x
		}
		if x, ok := e["volAbs"].(float64); ok {
			u["vol"] = u["vol"].(float64) + x
		}
		if x, ok := e["volRel"].(float64); ok {
			u["vol"] = u["vol"].(float64) * (1 + x)
		}
		if x, ok := e["dividendYieldAbs"].(float64); ok {
			q, _ := u["dividendYield"].(float64)
			u["dividendYield"] = q + x
		}
	}
	return out
}

// TestScenariosMatchShiftedBatches is the independent check, in
// process: each scenario's market, shifted by the spec's rules outside the
// engine, priced as a plain batch, gives the scenario's npv, P&L, split by
// underlying and failures; VaR and ES follow from those P&Ls. Shifts
// compose as the spec says: a named entry replaces "*", a spot and a vol
// shift apply together.
func TestScenariosMatchShiftedBatches(t *testing.T) {
	scenarios := []string{
		`{"id": "rates+1bp", "curves": {"*": {"parallel": 0.0001}}}`,
		`{"id": "eq-10%", "underlyings": {"*": {"spotRel": -0.10}}}`,
		`{"id": "2008-10-15", "curves": {"USD": {"parallel": -0.0042}}, "underlyings": {"ACME": {"spotRel": -0.083, "volAbs": 0.12}, "*": {"spotRel": -0.05}}}`,
		`{"id": "eur-up-vol-down", "curves": {"EUR": {"parallel": 0.0025}, "*": {"parallel": -0.001}}, "underlyings": {"GLOBEX": {"spotAbs": 2.5, "volRel": -0.2, "dividendYieldAbs": 0.005}}}`,
		`{"id": "acme-negative", "underlyings": {"ACME": {"spotAbs": -150}}}`,
		`{"id": "vol-negative", "underlyings": {"GLOBEX": {"volAbs": -0.5}}}`,
	}
	doc := scenDoc(scenarios, `, "risk": {"var": [0.5], "es": [0.6]}`)
	rs := priceDoc(t, doc, batch.Options{})

	var full map[string]any
	if err := json.Unmarshal([]byte(doc), &full); err != nil {
		t.Fatal(err)
	}
	plain := func(market map[string]any) map[string]batch.TradeResult {
		d := map[string]any{"valuationDate": full["valuationDate"], "measures": []string{"npv"}, "market": market, "trades": full["trades"]}
		data, _ := json.Marshal(d)
		out := map[string]batch.TradeResult{}
		for _, r := range priceDoc(t, string(data), batch.Options{}).Results {
			out[r.ID] = r
		}
		return out
	}
	und := map[string]string{}
	for _, tr := range full["trades"].([]any) {
		u, _ := tr.(map[string]any)["underlying"].(string)
		und[tr.(map[string]any)["id"].(string)] = u
	}
	base := plain(full["market"].(map[string]any))
	var pnls []float64
	for s, sc := range full["scenarios"].([]any) {
		shifted := plain(shiftMarket(t, full["market"].(map[string]any), sc.(map[string]any)))
		var npv, pnl float64
		by := map[string]float64{}
		failed := 0
		for id, b := range base {
			x := shifted[id]
			if b.Error != "" || x.Error != "" {
				failed++
				continue
			}
			npv += x.NPV
			pnl += x.NPV - b.NPV
			if u := und[id]; u != "" {
				by[u] += x.NPV - b.NPV
			}
		}
		got := rs.Scenarios[s]
		scale := math.Max(math.Abs(npv), 1)
		if got.ID != sc.(map[string]any)["id"] || math.Abs(got.NPV-npv) > 1e-9*scale || math.Abs(got.PnL-pnl) > 1e-9*scale || got.Failed != failed {
			t.Errorf("scenario %d: %+v, want npv %v pnl %v failed %d", s, got, npv, pnl, failed)
		}
		for u, v := range by {
			if math.Abs(got.ByUnderlying[u]-v) > 1e-9*scale {
				t.Errorf("scenario %s: P&L of %s %v, want %v", got.ID, u, got.ByUnderlying[u], v)
			}
		}
		pnls = append(pnls, pnl)
	}
	if s := rs.Scenarios[4]; s.Failed != 1+5 { // BAD and ACME's five trades
		t.Errorf("a negative spot fails the trades on it, there only: %+v", s)
	}
	if s := rs.Scenarios[5]; s.Failed != 1+2 { // BAD, GLOBEX's european and Asian
		t.Errorf("a negative vol fails the trades on it, there only: %+v", s)
	}
	// N = 6: VaR 0.5 is the 3rd smallest loss, ES 0.6 the mean of the 3 smallest.
	sorted := append([]float64(nil), pnls...)
	for i := range sorted {
		for j := i + 1; j < len(sorted); j++ {
			if sorted[j] < sorted[i] {
				sorted[i], sorted[j] = sorted[j], sorted[i]
			}
		}
	}
	wantVaR, wantES := -sorted[2], -(sorted[0]+sorted[1]+sorted[2])/3
	if v := rs.Risk.VaR[0]; v.Confidence != "0.5" || math.Abs(v.Value-wantVaR) > 1e-9*math.Abs(wantVaR) {
		t.Errorf("VaR %+v, want %v", v, wantVaR)
	}
	if v := rs.Risk.ES[0]; v.Confidence != "0.6" || math.Abs(v.Value-wantES) > 1e-9*math.Abs(wantES) {
		t.Errorf("ES %+v, want %v", v, wantES)
	}
}

// TestScenarioBootstrappedCurve: a bootstrapped curve is shifted as a
// curve, so +1bp on every curve moves a swap's npv by its pv01 (the same
// revaluation).
func TestScenarioBootstrappedCurve(t *testing.T) {
	doc := `{"valuationDate": "2026-11-25", "measures": ["npv", "pv01"], "market": {"curves": {"B": ` + bootCurve + `}},
		"trades": [{"id": "S", "type": "swap", "curve": "B", "notional": 1e7, "fixedRate": 0.036, "start": "2026-11-25", "maturity": "2033-11-25", "side": "payFixed", "calendar": "TARGET"}],
		"scenarios": [{"id": "up", "curves": {"B": {"parallel": 0.0001}}}, {"id": "down", "curves": {"*": {"parallel": -0.0001}}}],
		"scenarioDetail": "trades"}`
	rs := priceDoc(t, doc, batch.Options{})
	r := rs.Results[0]
	if r.Error != "" || r.PV01 == 0 {
		t.Fatalf("%+v", r)
	}
	if up := rs.Scenarios[0].PnL; math.Abs(up-r.PV01) > 1e-9*math.Abs(r.PV01) {
		t.Errorf("+1bp P&L %v, pv01 %v", up, r.PV01)
	}
	if down := rs.Scenarios[1].PnL; down > 0 == (r.PV01 > 0) || math.Abs(math.Abs(down)-math.Abs(r.PV01)) > 1e-3*math.Abs(r.PV01) {
		t.Errorf("-1bp P&L %v, pv01 %v", down, r.PV01)
	}
	if got := r.ScenarioNPV; len(got) != 2 || got[0] != r.NPV+rs.Scenarios[0].PnL {
		t.Errorf("scenarioNpv %v, npv %v", got, r.NPV)
	}
}

// TestScenarioBatchErrors: every bad scenario input rejects the batch with
// an error naming its field.
func TestScenarioBatchErrors(t *testing.T) {
	ok := `{"id": "s%d"}`
	many := make([]string, batch.MaxScenarios+1)
	for i := range many {
		many[i] = fmt.Sprintf(ok, i)
	}
	three := []string{fmt.Sprintf(ok, 0), fmt.Sprintf(ok, 1), fmt.Sprintf(ok, 2)}
	with := func(sc string) []string { return append(append([]string(nil), three...), sc) }
	tests := []struct {
		name      string
		scenarios []string
		extra     string
		field     string
		reason    string
	}{
		{"unknown underlying", with(`{"id": "x", "underlyings": {"X": {"spotRel": 0.1}}}`), "", "scenarios[3].underlyings.X", `unknown underlying "X"`},
		{"unknown curve", with(`{"id": "x", "curves": {"GBP": {"parallel": 0.01}}}`), "", "scenarios[3].curves.GBP", `unknown curve "GBP"`},
		{"spot not a number", with(`{"id": "x", "underlyings": {"ACME": {"spotRel": "10%"}}}`), "", "scenarios[3].underlyings.ACME.spotRel", "must be a number, got JSON string"},
		{"spot past a double's range", with(`{"id": "x", "underlyings": {"ACME": {"spotAbs": 1e400}}}`), "", "scenarios[3].underlyings.ACME.spotAbs", "must be a number within a double's range (a magnitude up to 1.8e308), got JSON number 1e400"},
		{"two spot shifts", with(`{"id": "x", "underlyings": {"ACME": {"spotRel": 0.1, "spotAbs": 1}}}`), "", "scenarios[3].underlyings.ACME", "at most one spot shift"},
		{"two vol shifts", with(`{"id": "x", "underlyings": {"*": {"volRel": 0.1, "volAbs": 0.01}}}`), "", "scenarios[3].underlyings.*", "at most one vol shift"},
		{"unknown shift", with(`{"id": "x", "underlyings": {"ACME": {"spotPct": 1}}}`), "", "scenarios[3].underlyings.ACME", `unknown field "spotPct"`},
		{"unknown curve shift", with(`{"id": "x", "curves": {"USD": {"slope": 1}}}`), "", "scenarios[3].curves.USD", `unknown field "slope"`},
		{"unknown scenario field", with(`{"id": "x", "vols": {}}`), "", "scenarios[3]", `unknown field "vols"`},
		{"parallel too large", with(`{"id": "x", "curves": {"*": {"parallel": 2}}}`), "", "scenarios[3].curves.*.parallel", "must be between -1 and 1"},
		{"spotRel too large", with(`{"id": "x", "underlyings": {"ACME": {"spotRel": 11}}}`), "", "scenarios[3].underlyings.ACME.spotRel", "must be between -10 and 10"},
		{"no id", with(`{"curves": {}}`), "", "scenarios[3].id", "is required"},
		{"empty id", with(`{"id": ""}`), "", "scenarios[3].id", "is required"},
		// Unbounded before: a 100 KB id came back in every document.
		{"id too long", with(`{"id": "` + strings.Repeat("y", batch.MaxTradeID+1) + `"}`), "", "scenarios[3].id", "is 257 bytes, more than the 256 a scenario id may have"},
		{"duplicate id", with(`{"id": "s1"}`), "", "scenarios[3].id", `duplicate scenario id "s1" (also scenarios[1])`},
		// The document's scanner finds a key given twice anywhere first,
		// named on the field it is in.
		{"duplicate key", with(`{"id": "x", "id": "y"}`), "", "scenarios", `duplicate key "id" (in the object at byte`},
		{"not an object", with(`[1]`), "", "scenarios[3]", "must be an object, got JSON array"},
		{"null entry", with(`{"id": "x", "underlyings": {"ACME": null}}`), "", "scenarios[3].underlyings.ACME", "must be an object"},
		{"too many", many, "", "scenarios", "more than the limit of 10000"},
		{"seven decimals", three, `, "risk": {"var": [0.9999999]}`, "risk.var[0]", "at most 6 decimals"},
		{"confidence 1", three, `, "risk": {"es": [1]}`, "risk.es[0]", "strictly between 0 and 1"},
		{"confidence 0", three, `, "risk": {"var": [0.99, 0]}`, "risk.var[1]", "strictly between 0 and 1"},
		{"confidence string", three, `, "risk": {"var": ["0.99"]}`, "risk.var[0]", "must be a number"},
		{"confidence twice", three, `, "risk": {"var": [0.99, 0.99]}`, "risk.var[1]", "given twice"},
		{"confidence twice, written two ways", three, `, "risk": {"var": [0.5, 0.50]}`, "risk.var[1]", "given twice"},
		{"risk unknown field", three, `, "risk": {"cvar": [0.99]}`, "risk", `unknown field "cvar"`},
		{"risk without scenarios", nil, `, "risk": {"var": [0.99]}`, "risk.var[0]", "leaves no scenario in the tail"},
		{"detail", three, `, "scenarioDetail": "all"`, "scenarioDetail", `must be "trades"`},
		{"scenarios not a list", nil, `, "scenarioDetail": "trades", "scenarios": {"id": "x"}`, "scenarios", "must be a list"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := scenDoc(tc.scenarios, tc.extra)
			if tc.name == "scenarios not a list" {
				doc = strings.Replace(doc, `, "scenarios": []`, "", 1)
			}
			b, err := batch.DecodeBytes([]byte(doc))
			if err == nil {
				_, err = batch.Compile(b)
			}
			var be *batch.Error
			if !errors.As(err, &be) || be.Field != tc.field || !strings.Contains(be.Reason, tc.reason) {
				t.Fatalf("error %v, want a batch error on %s: ...%s...", err, tc.field, tc.reason)
			}
		})
	}
}

// TestScenarioJSONRoundTrip: a batch with scenarios writes back to a
// document that decodes to the same scenarios, and the results document
// reads back.
func TestScenarioJSONRoundTrip(t *testing.T) {
	doc := scenDoc([]string{
		`{"id": "a", "curves": {"*": {"parallel": 1e-4}, "EUR": {"parallel": -0.0003}}, "underlyings": {"ACME": {"spotAbs": -1.5, "volRel": 0.1, "dividendYieldAbs": 0.001}}}`,
		`{"id": "b \"quoted\""}`,
	}, `, "risk": {"var": [0.99, 9.5e-1], "es": [0.975]}, "scenarioDetail": "trades"`)
	b, err := batch.DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	data, err := b.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	b2, err := batch.DecodeBytes(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	a1, _ := json.Marshal(b.Scenarios.List)
	a2, _ := json.Marshal(b2.Scenarios.List)
	if string(a1) != string(a2) || b2.Scenarios.Detail != "trades" || b2.Scenarios.Risk.VaR[1].Text != "9.5e-1" {
		t.Errorf("round trip:\n%s\n%s\n%+v", a1, a2, b2.Scenarios)
	}
	if *b2.Scenarios.List[0].Underlyings["ACME"].SpotAbs != -1.5 || b2.Scenarios.List[0].Curves["EUR"].Parallel != -0.0003 {
		t.Errorf("shifts %+v", b2.Scenarios.List[0])
	}
	rs := priceDoc(t, doc, batch.Options{})
	out, err := rs.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var back batch.Results
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	again, _ := back.MarshalJSON()
	if string(again) != string(out) {
		t.Errorf("results do not read back:\n%s\n%s", out, again)
	}
	if !strings.Contains(string(out), `"risk":{"var":{"0.99":`) || !strings.Contains(string(out), `"9.5e-1":`) {
		t.Errorf("risk keys as written: %s", out[strings.Index(string(out), `"risk"`):])
	}
}

// TestScenarioDetailBounded: a detail of more than MaxScenarioDetail npvs
// is a batch error, not a results document of gigabytes.
func TestScenarioDetailBounded(t *testing.T) {
	trades := make([]string, batch.MaxScenarioDetail/batch.MaxScenarios+1)
	for i := range trades {
		trades[i] = fmt.Sprintf(`{"id": "T%d", "type": "fra", "curve": "USD", "notional": 1e6, "rate": 0.04, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}`, i)
	}
	scen := make([]string, batch.MaxScenarios)
	for i := range scen {
		scen[i] = fmt.Sprintf(`{"id": "s%d"}`, i)
	}
	doc := `{"valuationDate": "2026-11-25", "market": ` + scenMarket + `, "trades": [` + strings.Join(trades, ",") +
		`], "scenarios": [` + strings.Join(scen, ",") + `], "scenarioDetail": "trades"}`
	b, err := batch.DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	_, err = batch.Compile(b)
	var be *batch.Error
	if !errors.As(err, &be) || be.Field != "scenarioDetail" || !strings.Contains(be.Reason, "more than the limit of 10000000") {
		t.Errorf("error %v, want one on scenarioDetail", err)
	}
}

// TestScenarioBarrierCrossed: a scenario that moves spot through a
// barrier hits it in that scenario: a knock-out is worth its rebate, a
// knock-in becomes the vanilla option (the same value as a european of
// its terms at the shifted spot). Before, such trades failed in the
// scenario and were left out of its P&L and the risk: the stress that
// knocks a book's barriers out was the one the VaR did not see. A barrier
// crossed in the base market stays an error (QuantLib's), so that trade
// fails in every scenario.
func TestScenarioBarrierCrossed(t *testing.T) {
	market := `{"curves": {"USD": {"rate": 0.05}}, "underlyings": {"ACME": {"spot": 100, "dividendYield": 0.02, "vol": 0.25, "curve": "USD"}}}`
	trades := `[
{"id": "KO", "type": "barrier", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "barrierType": "downOut", "barrier": 90, "rebate": 1.5},
{"id": "KI", "type": "barrier", "underlying": "ACME", "right": "put", "strike": 95, "expiry": "2027-11-25", "barrierType": "downIn", "barrier": 90},
{"id": "UO", "type": "barrier", "underlying": "ACME", "right": "put", "strike": 100, "expiry": "2027-11-25", "barrierType": "upOut", "barrier": 110},
{"id": "UI", "type": "barrier", "underlying": "ACME", "right": "call", "strike": 105, "expiry": "2027-11-25", "barrierType": "upIn", "barrier": 110, "rebate": 2},
{"id": "GONE", "type": "barrier", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "barrierType": "downOut", "barrier": 101}]`
	doc := `{"valuationDate": "2026-11-25", "measures": ["npv"], "scenarioDetail": "trades", "market": ` + market + `, "trades": ` + trades + `,
"scenarios": [{"id": "crash", "underlyings": {"ACME": {"spotRel": -0.2}}}, {"id": "rally", "underlyings": {"ACME": {"spotRel": 0.2}}}, {"id": "dip", "underlyings": {"ACME": {"spotRel": -0.05}}}]}`
	rs := priceDoc(t, doc, batch.Options{})
	// npv of the trades at spot s: the barriers, and europeans of their terms.
	at := func(s float64, typ string) map[string]batch.TradeResult {
		m := strings.Replace(market, `"spot": 100`, fmt.Sprintf(`"spot": %v`, s), 1)
		tr := trades
		if typ == "european" {
			tr = regexp.MustCompile(`"type": "barrier"|, "barrierType": "[a-zA-Z]+", "barrier": [0-9]+(, "rebate": [0-9.]+)?`).ReplaceAllStringFunc(trades, func(s string) string {
				if strings.HasPrefix(s, `"type"`) {
					return `"type": "european"`
				}
				return ""
			})
		}
		out := map[string]batch.TradeResult{}
		for _, r := range priceDoc(t, `{"valuationDate": "2026-11-25", "measures": ["npv"], "market": `+m+`, "trades": `+tr+`}`, batch.Options{}).Results {
			out[r.ID] = r
		}
		return out
	}
	base := at(100, "barrier")
	dip := at(95, "barrier")
	crashVanilla, rallyVanilla := at(80, "european"), at(120, "european")
	crash, rally := at(80, "barrier"), at(120, "barrier")
	want := map[string][3]float64{ // crash, rally, dip
		"KO": {1.5, rally["KO"].NPV, dip["KO"].NPV},
		"KI": {crashVanilla["KI"].NPV, rally["KI"].NPV, dip["KI"].NPV},
		"UO": {crash["UO"].NPV, 0, dip["UO"].NPV},
		"UI": {crash["UI"].NPV, rallyVanilla["UI"].NPV, dip["UI"].NPV},
	}
	var pnl [3]float64
	for _, r := range rs.Results {
		w, ok := want[r.ID]
		if !ok {
			if r.Error == "" || slices.ContainsFunc(r.ScenarioNPV, func(v float64) bool { return !math.IsNaN(v) }) {
				t.Errorf("%s, crossed in the base market: %+v, want an error and no scenario npvs", r.ID, r)
			}
			continue
		}
		for s := range 3 {
			if math.IsNaN(w[s]) || w[s] == 0 && r.ID != "UO" {
				t.Fatalf("%s scenario %d: no reference value (%v)", r.ID, s, w[s])
			}
			if got := r.ScenarioNPV[s]; math.Abs(got-w[s]) > 1e-12*max(1, math.Abs(w[s])) {
				t.Errorf("%s in scenario %s: %v, want %v", r.ID, rs.Scenarios[s].ID, got, w[s])
			}
			pnl[s] += w[s] - base[r.ID].NPV
		}
	}
	for s, sc := range rs.Scenarios {
		if sc.Failed != 1 || math.Abs(sc.PnL-pnl[s]) > 1e-12*max(1, math.Abs(pnl[s])) {
			t.Errorf("scenario %s: %+v, want pnl %v with GONE alone failed", sc.ID, sc, pnl[s])
		}
	}
}

// TestScenarioCurveBeyondRates: a shift that takes a curve's rates past
// +-100% fails the trades that use the curve (their underlying's included)
// in that scenario alone, as such rates in the base market fail its trades.
// Before, it rejected the whole batch, where a spot or vol shifted out of
// range failed only its trades: one stress scenario of a risk run refused
// the run.
func TestScenarioCurveBeyondRates(t *testing.T) {
	doc := scenDoc([]string{
		`{"id": "all-up", "curves": {"*": {"parallel": 0.96}}}`,     // USD 4.5% -> 100.5%: beyond; EUR to 99.7%
		`{"id": "eur-up", "curves": {"EUR": {"parallel": 0.96}}}`,   // the same EUR market
		`{"id": "eur-past", "curves": {"EUR": {"parallel": 0.98}}}`, // EUR's 3% pillar -> 101%
	}, `, "scenarioDetail": "trades"`)
	rs := priceDoc(t, doc, batch.Options{})
	onUSD := map[string]bool{"EU-1": true, "AM-1": true, "BA-1": true, "AS-2": true, "FRA-1": true, "BD-1": true, "HE-1": true}
	for _, r := range rs.Results {
		if r.ID == "BAD" {
			continue
		}
		if r.Error != "" || len(r.ScenarioNPV) != 3 {
			t.Fatalf("%s: %+v", r.ID, r)
		}
		all, eur, past := r.ScenarioNPV[0], r.ScenarioNPV[1], r.ScenarioNPV[2]
		if onUSD[r.ID] {
			if !math.IsNaN(all) || math.IsNaN(past) {
				t.Errorf("%s on USD: %v in all-up (want none: USD beyond 100%%), %v in eur-past", r.ID, all, past)
			}
			continue
		}
		if math.IsNaN(all) || all != eur || !math.IsNaN(past) {
			t.Errorf("%s on EUR: %v in all-up, %v in eur-up (want the same), %v in eur-past (want none)", r.ID, all, eur, past)
		}
	}
	if got := rs.Scenarios[0].Failed; got != 7+1 {
		t.Errorf("all-up: %d failed, want the 7 trades on USD and BAD", got)
	}
	if s := rs.Scenarios[2]; s.Failed != 3+1 || s.PnL != 0 {
		t.Errorf("eur-past: %+v, want the 3 trades on EUR and BAD failed, the others unmoved (pnl 0)", s)
	}
}

// TestScenarioBootstrappedCurveBeyondRates: the +-100% rule holds for a
// bootstrapped curve (shifted as a curve) as for a flat one: its trades
// fail in the scenario. It was not checked, and a swap on it priced at
// rates of 105%, its P&L in the sums and the risk.
func TestScenarioBootstrappedCurveBeyondRates(t *testing.T) {
	doc := `{"valuationDate": "2026-11-25", "scenarioDetail": "trades", "market": {"curves": {"B": {"bootstrap": [{"type": "deposit", "tenor": "6M", "rate": 0.05}, {"type": "swap", "tenor": "2Y", "rate": 0.05}, {"type": "swap", "tenor": "10Y", "rate": 0.05}]}, "F": {"rate": 0.05}}},
"trades": [{"id": "SW-B", "type": "swap", "curve": "B", "notional": 1000000, "fixedRate": 0.05, "start": "2026-11-27", "maturity": "2031-11-27", "side": "payFixed"},
{"id": "SW-F", "type": "swap", "curve": "F", "notional": 1000000, "fixedRate": 0.05, "start": "2026-11-27", "maturity": "2031-11-27", "side": "payFixed"}],
"scenarios": [{"id": "up99", "curves": {"*": {"parallel": 0.99}}}, {"id": "up90", "curves": {"*": {"parallel": 0.90}}}]}`
	rs := priceDoc(t, doc, batch.Options{})
	for _, r := range rs.Results {
		if r.Error != "" || len(r.ScenarioNPV) != 2 {
			t.Fatalf("%s: %+v", r.ID, r)
		}
		if !math.IsNaN(r.ScenarioNPV[0]) || math.IsNaN(r.ScenarioNPV[1]) {
			t.Errorf("%s: %v, want none at +99%% (rates past 100%%) and a value at +90%%", r.ID, r.ScenarioNPV)
		}
	}
	if s := rs.Scenarios[0]; s.Failed != 2 || s.PnL != 0 {
		t.Errorf("up99: %+v, want both swaps failed", s)
	}
}

// TestScenarioUnderlyingBeyondLimits: a shift that takes an underlying's
// vol past 10 or its dividend yield past +-100% fails the trades that use
// it in that scenario, as such data in the base market fails them. The
// american and Heston engines check less than the market does, and an
// american priced at a vol of 10.25 or a yield of 102%, its P&L in the
// sums. A Heston trade does not use the Black vol (wire-format.md 1b, 1c:
// vol shifts leave Heston parameters unshifted): the vol past 10 leaves it
// at its base npv.
func TestScenarioUnderlyingBeyondLimits(t *testing.T) {
	doc := scenDoc([]string{
		`{"id": "vol-past", "underlyings": {"ACME": {"volAbs": 10}}}`,             // 0.25 -> 10.25
		`{"id": "div-past", "underlyings": {"ACME": {"dividendYieldAbs": 0.99}}}`, // 0.02 -> 1.01
		`{"id": "vol-in", "underlyings": {"ACME": {"volAbs": 9}}}`,                // 0.25 -> 9.25
	}, `, "scenarioDetail": "trades"`)
	rs := priceDoc(t, doc, batch.Options{})
	onACME := map[string]bool{"EU-1": true, "AM-1": true, "BA-1": true, "AS-2": true, "HE-1": true}
	for _, r := range rs.Results {
		if !onACME[r.ID] {
			continue
		}
		if r.Error != "" || len(r.ScenarioNPV) != 3 {
			t.Fatalf("%s: %+v", r.ID, r)
		}
		if r.ID == "HE-1" {
			if r.ScenarioNPV[0] != r.NPV || r.ScenarioNPV[2] != r.NPV || !math.IsNaN(r.ScenarioNPV[1]) {
				t.Errorf("%s: %v, want its base npv %v in vol-past and vol-in, none in div-past", r.ID, r.ScenarioNPV, r.NPV)
			}
			continue
		}
		if !math.IsNaN(r.ScenarioNPV[0]) || !math.IsNaN(r.ScenarioNPV[1]) {
			t.Errorf("%s: %v, want none in vol-past and div-past (ACME beyond the market's limits)", r.ID, r.ScenarioNPV)
		}
	}
	if got := rs.Scenarios[0].Failed; got != len(onACME)-1+1 {
		t.Errorf("vol-past: %d failed, want the %d trades on ACME's Black vol and BAD", got, len(onACME)-1)
	}
	if got := rs.Scenarios[1].Failed; got != len(onACME)+1 {
		t.Errorf("div-past: %d failed, want the %d trades on ACME and BAD", got, len(onACME))
	}
}

// TestScenarioNoTradePricedNoRisk: a batch none of whose trades priced in
// any scenario lists its scenarios, every trade failed, without risk, as
// the pipeline writes it (README, Scenarios and risk). Price reported a
// VaR and ES of 0, a figure of nothing, where the pipeline had none.
func TestScenarioNoTradePricedNoRisk(t *testing.T) {
	for name, doc := range map[string]string{
		"base": `{"valuationDate": "2026-11-25", "market": ` + scenMarket + `, "trades": [` + scenTrades[len(scenTrades)-1] + `],
"scenarios": [{"id": "a", "underlyings": {"*": {"spotRel": 0.1}}}, {"id": "b"}], "risk": {"var": [0.5], "es": [0.5]}}`,
		"scenarios": `{"valuationDate": "2026-11-25", "market": ` + scenMarket + `, "trades": [` + scenTrades[0] + `],
"scenarios": [{"id": "a", "underlyings": {"*": {"spotRel": -1}}}, {"id": "b", "underlyings": {"ACME": {"volRel": -1}}}], "risk": {"var": [0.5]}}`,
	} {
		rs := priceDoc(t, doc, batch.Options{})
		if len(rs.Scenarios) != 2 || rs.Scenarios[0].Failed != 1 || rs.Scenarios[1].Failed != 1 {
			t.Errorf("%s: scenarios %+v, want both listed, the trade failed in each", name, rs.Scenarios)
		}
		if rs.Risk != nil {
			t.Errorf("%s: risk %+v, want none: no trade priced in any scenario", name, rs.Risk)
		}
	}
}

// TestScenarioBaseErrorLeftOut: a trade whose base result is an error is
// left out of every scenario's sums and counted failed (wire format
// section 1c), even where its npv alone prices: a european quoting a
// price outside the no-arbitrage bounds fails on impliedVol. Its scenario
// npvs were in the sums, which no document could reconcile; a scenario
// chunk (PriceScenarios without the base results) must agree.
func TestScenarioBaseErrorLeftOut(t *testing.T) {
	doc := `{"valuationDate": "2026-11-25", "measures": ["npv", "impliedVol"], "market": ` + scenMarket + `, "trades": [` + scenTrades[0] + `,
{"id": "IV-BAD", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "price": 99}],
"scenarios": [{"id": "a", "underlyings": {"*": {"spotRel": 0.1}}}, {"id": "b"}], "scenarioDetail": "trades"}`
	rs := priceDoc(t, doc, batch.Options{})
	if rs.Results[1].Error == "" || rs.Results[0].Error != "" {
		t.Fatalf("results %+v, want IV-BAD failed and EU-1 priced", rs.Results)
	}
	for s, sc := range rs.Scenarios {
		if want := rs.Results[0].ScenarioNPV[s]; sc.Failed != 1 || sc.NPV != want || sc.PnL != want-rs.Results[0].NPV {
			t.Errorf("%s: %+v, want IV-BAD failed and EU-1's npv %v alone", sc.ID, sc, want)
		}
	}
	b, err := batch.DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	j, err := batch.Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	p, err := j.PriceScenarios(context.Background(), batch.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for s, sc := range p.Scenarios {
		if sc.Failed != 1 || sc.NPV.Value() != rs.Scenarios[s].NPV {
			t.Errorf("scenario chunk %s: %d failed, npv %v, want 1 and %v as Price", sc.ID, sc.Failed, sc.NPV.Value(), rs.Scenarios[s].NPV)
		}
	}
}

// TestScenarioCompileMemory: compiling scenarios holds what the batch
// says, not each scenario's shift resolved for every name of the market.
// A "*" shift in each of 2,000 scenarios on 500 underlyings and curves
// held a million resolved shifts, some 100 MB (10,000 scenarios on 1,000
// names: over a gigabyte, from a batch of 1.3 MB).
func TestScenarioCompileMemory(t *testing.T) {
	var doc strings.Builder
	doc.WriteString(`{"valuationDate": "2026-11-25", "market": {"curves": {`)
	for i := range 500 {
		fmt.Fprintf(&doc, `%s"C%d": {"rate": 0.03}`, map[bool]string{true: ",", false: ""}[i > 0], i)
	}
	doc.WriteString(`}, "underlyings": {`)
	for i := range 500 {
		fmt.Fprintf(&doc, `%s"U%d": {"spot": 100, "vol": 0.2, "curve": "C%d"}`, map[bool]string{true: ",", false: ""}[i > 0], i, i)
	}
	doc.WriteString(`}}, "trades": [{"id": "E", "type": "european", "underlying": "U0", "right": "call", "strike": 100, "expiry": "2027-11-25"}], "scenarios": [`)
	for s := range 2000 {
		fmt.Fprintf(&doc, `%s{"id": "s%d", "curves": {"*": {"parallel": 0.001}}, "underlyings": {"*": {"spotRel": 0.01, "volAbs": 0.01}}}`, map[bool]string{true: ",", false: ""}[s > 0], s)
	}
	doc.WriteString(`]}`)
	b, err := batch.DecodeBytes([]byte(doc.String()))
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	j, err := batch.Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if held := int64(after.HeapAlloc) - int64(before.HeapAlloc); held > 10<<20 {
		t.Errorf("compiled job holds %d MB, want a few", held>>20)
	}
	runtime.KeepAlive(j)
}
