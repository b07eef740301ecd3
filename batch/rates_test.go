package batch_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/pricefn/pricefn/batch"
)

// ratesBatch returns a batch on 2026-11-25 with curves USD (flat 3%) and
// EUR (zeros), the given measures and trades.
func ratesBatch(measures string, trades ...string) string {
	return `{"valuationDate": "2026-11-25", "measures": [` + measures + `],
	"market": {"curves": {"USD": {"rate": 0.03},
		"EUR": {"zeros": [{"date": "2027-11-25", "rate": 0.021}, {"date": "2036-11-25", "rate": 0.033}]}}},
	"trades": [` + strings.Join(trades, ",\n") + `]}`
}

// priceRates prices a batch document and returns its results; it fails the
// test on a batch-level error.
func priceRates(t *testing.T, doc string) []batch.TradeResult {
	t.Helper()
	b, err := batch.DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	rs, err := batch.Price(context.Background(), b, batch.Options{Workers: 1})
	if err != nil {
		t.Fatalf("price: %v", err)
	}
	return rs.Results
}

// TestRatesDefaults checks that every optional field takes the spec's
// default: a trade with only its required fields prices exactly as one
// with the defaults spelled out.
func TestRatesDefaults(t *testing.T) {
	pairs := []struct{ name, bare, full string }{
		{"fra",
			`{"id": "a", "type": "fra", "curve": "EUR", "notional": 1e6, "rate": 0.025, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}`,
			`{"id": "b", "type": "fra", "curve": "EUR", "notional": 1e6, "rate": 0.025, "start": "2027-05-25", "end": "2027-11-25", "position": "long", "dayCount": "ACT/360", "quantity": 1}`},
		{"swap",
			`{"id": "a", "type": "swap", "curve": "EUR", "notional": 1e7, "fixedRate": 0.03, "start": "2026-11-27", "maturity": "2033-11-27", "side": "payFixed"}`,
			`{"id": "b", "type": "swap", "curve": "EUR", "notional": 1e7, "fixedRate": 0.03, "start": "2026-11-27", "maturity": "2033-11-27", "side": "payFixed",
			  "fixedFrequency": "annual", "fixedDayCount": "30/360", "floatFrequency": "semiannual", "floatDayCount": "ACT/360", "spread": 0,
			  "calendar": "weekends", "convention": "modifiedFollowing"}`},
		{"bond",
			`{"id": "a", "type": "bond", "curve": "EUR", "coupon": 0.04, "issue": "2025-03-31", "maturity": "2035-03-31"}`,
			`{"id": "b", "type": "bond", "curve": "EUR", "coupon": 0.04, "issue": "2025-03-31", "maturity": "2035-03-31", "face": 100,
			  "frequency": "semiannual", "dayCount": "ACT/ACT", "calendar": "weekends", "convention": "unadjusted", "settlementDays": 0}`},
	}
	for _, p := range pairs {
		rs := priceRates(t, ratesBatch(`"npv", "fairRate", "pv01", "cleanPrice", "yield", "duration"`, p.bare, p.full))
		a, b := rs[0], rs[1]
		if a.Error != "" || b.Error != "" {
			t.Fatalf("%s: errors %q, %q", p.name, a.Error, b.Error)
		}
		a.ID, b.ID = "", ""
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Errorf("%s: defaults differ:\n%s\n%s", p.name, ja, jb)
		}
	}
}

func TestRatesTradeErrors(t *testing.T) {
	swapFrom := func(start, extra string) string {
		return `{"id": "s", "type": "swap", "curve": "EUR", "notional": 1e7, "fixedRate": 0.03, "start": "` + start + `", "side": "payFixed", ` + extra + `}`
	}
	swap := func(extra string) string { return swapFrom("2026-11-27", extra) }
	tests := []struct {
		name, trade string
		want        []string
	}{
		{"unknown day count lists the valid ones", swap(`"maturity": "2030-11-27", "fixedDayCount": "ACT/ACT ISMA"`),
			[]string{`fixedDayCount must be one of ACT/360, ACT/365F, 30/360, ACT/ACT, got "ACT/ACT ISMA"`}},
		{"unknown calendar lists the valid ones", swap(`"maturity": "2030-11-27", "calendar": "NYSE"`),
			[]string{`calendar must be one of none, weekends, TARGET, got "NYSE"`}},
		{"unknown convention", swap(`"maturity": "2030-11-27", "convention": "modifiedPreceding"`),
			[]string{`convention must be one of unadjusted, following, modifiedFollowing, preceding, got "modifiedPreceding"`}},
		{"unknown frequency", swap(`"maturity": "2030-11-27", "floatFrequency": "weekly"`),
			[]string{`floatFrequency must be one of annual, semiannual, quarterly, monthly, got "weekly"`}},
		{"maturity before start", swap(`"maturity": "2026-11-20"`), []string{"maturity must be after start 2026-11-27"}},
		{"zero notional", `{"id": "f", "type": "fra", "curve": "EUR", "notional": 0, "rate": 0.02, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}`,
			[]string{"notional must be > 0, got 0"}},
		{"FRA end before start", `{"id": "f", "type": "fra", "curve": "EUR", "notional": 1, "rate": 0.02, "start": "2027-05-25", "end": "2027-05-25", "position": "long"}`,
			[]string{"end must be after start"}},
		{"FRA position", `{"id": "f", "type": "fra", "curve": "EUR", "notional": 1, "rate": 0.02, "start": "2027-05-25", "end": "2027-08-25", "position": "buy"}`,
			[]string{"position must be one of long, short"}},
		{"bond zero face", `{"id": "b", "type": "bond", "curve": "EUR", "face": 0, "coupon": 0.02, "issue": "2025-01-01", "maturity": "2030-01-01"}`,
			[]string{"face must be > 0"}},
		{"bond matured", `{"id": "b", "type": "bond", "curve": "EUR", "coupon": 0.02, "issue": "2015-01-01", "maturity": "2025-01-01"}`,
			[]string{"maturity must not be before the valuation date"}},
		{"bond maturity before issue", `{"id": "b", "type": "bond", "curve": "EUR", "coupon": 0.02, "issue": "2031-01-01", "maturity": "2030-01-01"}`,
			[]string{"maturity must be after issue"}},
		{"missing coupon", `{"id": "b", "type": "bond", "curve": "EUR", "issue": "2025-01-01", "maturity": "2030-01-01"}`,
			[]string{"coupon is required"}},
		{"misspelt field", `{"id": "b", "type": "bond", "curve": "EUR", "coupn": 0.02, "issue": "2025-01-01", "maturity": "2030-01-01"}`,
			[]string{`unknown field "coupn"`}},
		{"seasoned swap needs a past fixing", swapFrom("2025-12-10", `"maturity": "2030-12-10"`),
			[]string{"past fixings are not supported"}},
		// Numbers JSON can carry but no market quotes: each names its field.
		{"huge notional", `{"id": "f", "type": "fra", "curve": "EUR", "notional": 1e308, "rate": 0.02, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}`,
			[]string{"trade f: notional must be at most 1e+15, got 1e+308"}},
		{"huge FRA rate", `{"id": "f", "type": "fra", "curve": "EUR", "notional": 1e6, "rate": 1e308, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}`,
			[]string{"trade f: rate must be between -1 and 1", "got 1e+308"}},
		{"FRA end past the horizon", `{"id": "f", "type": "fra", "curve": "EUR", "notional": 1e6, "rate": 0.02, "start": "2027-05-25", "end": "9999-11-25", "position": "long"}`,
			[]string{"trade f: end must be within 200 years of the valuation date 2026-11-25, got 9999-11-25"}},
		{"huge fixed rate", `{"id": "s", "type": "swap", "curve": "EUR", "notional": 1e7, "fixedRate": -1e300, "start": "2026-11-27", "maturity": "2030-11-27", "side": "payFixed"}`,
			[]string{"fixedRate must be between -1 and 1", "got -1e+300"}},
		{"huge spread", swap(`"maturity": "2030-11-27", "spread": 1e308`), []string{"spread must be between -1 and 1", "got 1e+308"}},
		{"swap maturity past the horizon", swap(`"maturity": "9999-11-27"`), []string{"maturity must be within 200 years", "got 9999-11-27"}},
		{"swap start long ago", swapFrom("0001-01-01", `"maturity": "2030-11-27"`), []string{"start must be within 200 years", "got 0001-01-01"}},
		{"negative swap notional", `{"id": "s", "type": "swap", "curve": "EUR", "notional": -5, "fixedRate": 0.03, "start": "2026-11-27", "maturity": "2030-11-27", "side": "payFixed"}`,
			[]string{"trade s: notional must be > 0, got -5"}},
		{"huge face", `{"id": "b", "type": "bond", "curve": "EUR", "face": 1e308, "coupon": 0.02, "issue": "2025-01-01", "maturity": "2030-01-01"}`,
			[]string{"trade b: face must be at most 1e+15, got 1e+308"}},
		{"huge coupon", `{"id": "b", "type": "bond", "curve": "EUR", "coupon": 1e308, "issue": "2025-01-01", "maturity": "2030-01-01"}`,
			[]string{"trade b: coupon must be between -1 and 1", "got 1e+308"}},
		{"fractional settlement days", `{"id": "b", "type": "bond", "curve": "EUR", "coupon": 0.02, "issue": "2025-01-01", "maturity": "2030-01-01", "settlementDays": 1.5}`,
			[]string{"trade b: settlementDays must be a whole number, got JSON number 1.5"}},
		{"huge quantity", `{"id": "b", "type": "bond", "curve": "EUR", "coupon": 0.02, "issue": "2025-01-01", "maturity": "2030-01-01", "quantity": 1e308}`,
			[]string{"trade b: quantity must be a number between -1e+15 and 1e+15, got 1e308"}},
		{"no curve", `{"id": "b", "type": "bond", "coupon": 0.02, "issue": "2025-01-01", "maturity": "2030-01-01"}`,
			[]string{"trade b: curve is required"}},
		{"no start", `{"id": "s", "type": "swap", "curve": "EUR", "notional": 1e7, "fixedRate": 0.03, "maturity": "2030-11-27", "side": "payFixed"}`,
			[]string{"trade s: start is required"}},
	}
	for _, tt := range tests {
		rs := priceRates(t, ratesBatch(`"npv"`, tt.trade))
		for _, w := range tt.want {
			if !strings.Contains(rs[0].Error, w) {
				t.Errorf("%s: error %q, want it to contain %q", tt.name, rs[0].Error, w)
			}
		}
	}
}

func TestRatesUnknownCurveRejectsBatch(t *testing.T) {
	for _, trade := range []string{
		`{"id": "s", "type": "swap", "curve": "GBP", "notional": 1, "fixedRate": 0.03, "start": "2026-11-27", "maturity": "2030-11-27", "side": "payFixed"}`,
		`{"id": "s", "type": "swap", "curve": "EUR", "forecastCurve": "SOFR", "notional": 1, "fixedRate": 0.03, "start": "2026-11-27", "maturity": "2030-11-27", "side": "payFixed"}`,
		`{"id": "b", "type": "bond", "curve": "JPY", "coupon": 0.02, "issue": "2025-01-01", "maturity": "2030-01-01"}`,
	} {
		b, err := batch.DecodeBytes([]byte(ratesBatch(`"npv"`, trade)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = batch.Price(context.Background(), b, batch.Options{})
		if !batch.IsBatchError(err) || !strings.Contains(err.Error(), "unknown curve") || !strings.Contains(err.Error(), "EUR, USD") {
			t.Errorf("error %v, want a batch error naming the unknown curve and the known ones", err)
		}
	}
}

// TestRatesQuantityAndCashflows checks that quantity scales npv, pv01 and
// cash flows but not prices or yields, and that cash flows are reported
// only when asked for, summing to npv.
func TestRatesQuantityAndCashflows(t *testing.T) {
	bond := `{"id": "b%s", "type": "bond", "curve": "EUR", "face": 1000, "coupon": 0.035, "issue": "2024-06-15", "maturity": "2031-06-15", "dayCount": "30/360"%s}`
	rs := priceRates(t, ratesBatch(`"npv", "pv01", "cleanPrice", "yield", "cashflows"`,
		strings.Replace(strings.Replace(bond, "%s", "1", 1), "%s", "", 1),
		strings.Replace(strings.Replace(bond, "%s", "3", 1), "%s", `, "quantity": 3`, 1)))
	one, three := rs[0], rs[1]
	if one.Error != "" || three.Error != "" {
		t.Fatal(one.Error, three.Error)
	}
	if math.Abs(three.NPV-3*one.NPV) > 1e-9 || math.Abs(three.PV01-3*one.PV01) > 1e-9 {
		t.Errorf("quantity 3: npv %v pv01 %v, want 3 x %v, %v", three.NPV, three.PV01, one.NPV, one.PV01)
	}
	if three.CleanPrice != one.CleanPrice || three.Yield != one.Yield {
		t.Errorf("quantity changed the price or yield: %v %v vs %v %v", three.CleanPrice, three.Yield, one.CleanPrice, one.Yield)
	}
	var sum float64
	for _, c := range three.Cashflows {
		sum += c.Amount * c.Discount
	}
	if last := three.Cashflows[len(three.Cashflows)-1]; last.Leg != "redemption" || last.Amount != 3000 {
		t.Errorf("last cash flow %+v, want the redemption of 3 x 1000", last)
	}
	if math.Abs(sum-three.NPV) > 1e-9 {
		t.Errorf("cash flows sum to %v, npv %v", sum, three.NPV)
	}
	js, _ := json.Marshal(three)
	if !strings.Contains(string(js), `"cashflows":[{"date":"2026-12-15","leg":"coupon","amount":52.5`) {
		t.Errorf("cash flow JSON: %s", js)
	}
	rs = priceRates(t, ratesBatch(`"npv"`, strings.Replace(strings.Replace(bond, "%s", "1", 1), "%s", "", 1)))
	if js, _ := json.Marshal(rs[0]); strings.Contains(string(js), "cashflows") {
		t.Errorf("cash flows reported unasked: %s", js)
	}
}

// TestSettlementDaysWrittenAsFloat checks that settlementDays 2.0 and 2e0
// (JSON writers' form of a float) price the bond as 2 does.
func TestSettlementDaysWrittenAsFloat(t *testing.T) {
	bond := func(days string) string {
		return `{"id": "b` + days + `", "type": "bond", "curve": "EUR", "coupon": 0.02, "issue": "2025-01-01", "maturity": "2030-01-01", "settlementDays": ` + days + `}`
	}
	rs := priceRates(t, ratesBatch(`"npv", "dirtyPrice"`, bond("2"), bond("2.0"), bond("2e0")))
	for _, r := range rs {
		if r.Error != "" || r.DirtyPrice != rs[0].DirtyPrice || r.NPV != rs[0].NPV {
			t.Errorf("%s: %s npv %v dirty %v, want those of settlementDays 2: %v %v", r.ID, r.Error, r.NPV, r.DirtyPrice, rs[0].NPV, rs[0].DirtyPrice)
		}
	}
}

// TestRatesBondMaturingOnValuationDate checks that a bond maturing on the
// valuation date is priced, not refused, with QuantLib 1.29's values: its
// last flows are on the valuation date, which QuantLib leaves out, and it
// settles on them, so npv, prices and accrued are 0. (FixedRateBond(0, 100,
// Schedule(2025-11-25, 2026-11-25, 6M, WeekendsOnly, Unadjusted, Unadjusted,
// Backward, false), [0.02], ActualActual ISDA) on the EUR zero curve of
// ratesBatch, evaluation date 2026-11-25: NPV, cleanPrice, dirtyPrice,
// accruedAmount 0.0; BondFunctions.bondYield throws "non tradable".) Its
// yield is that trade's error, naming the maturity; a bond matured the day
// before stays refused.
func TestRatesBondMaturingOnValuationDate(t *testing.T) {
	bond := func(id, maturity string) string {
		return `{"id": "` + id + `", "type": "bond", "curve": "EUR", "coupon": 0.02, "issue": "2025-11-25", "maturity": "` + maturity + `"}`
	}
	rs := priceRates(t, ratesBatch(`"npv", "pv01", "cleanPrice", "dirtyPrice", "accrued"`, bond("b", "2026-11-25"), bond("m", "2026-11-24")))
	r := rs[0]
	if r.Error != "" {
		t.Fatalf("bond maturing on the valuation date: %s", r.Error)
	}
	for _, v := range []struct {
		name string
		got  float64
	}{{"npv", r.NPV}, {"pv01", r.PV01}, {"cleanPrice", r.CleanPrice}, {"dirtyPrice", r.DirtyPrice}, {"accrued", r.Accrued}} {
		if v.got != 0 {
			t.Errorf("%s %v, QuantLib 0", v.name, v.got)
		}
	}
	if js, _ := json.Marshal(r); string(js) != `{"id":"b","npv":0,"pv01":0,"cleanPrice":0,"dirtyPrice":0,"accrued":0}` {
		t.Errorf("result %s, want every measure asked for, 0", js)
	}
	if !strings.Contains(rs[1].Error, "trade m: maturity must not be before the valuation date 2026-11-25") {
		t.Errorf("bond matured the day before: error %q, want it refused", rs[1].Error)
	}
	rs = priceRates(t, ratesBatch(`"npv", "yield"`, bond("b", "2026-11-25")))
	if want := "trade b: maturity must be paid after the settlement date 2026-11-25 for a yield"; !strings.HasPrefix(rs[0].Error, want) ||
		!strings.Contains(rs[0].Error, "its last payment is on 2026-11-25") {
		t.Errorf("yield: error %q, want %q ... naming the last payment", rs[0].Error, want)
	}
}
