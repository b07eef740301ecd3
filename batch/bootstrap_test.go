package batch_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// bootCurve is a TARGET EUR curve in the bootstrap form of docs/rates.md.
const bootCurve = `{"bootstrap": [
	{"type": "deposit", "tenor": "1W", "rate": 0.0298},
	{"type": "deposit", "tenor": "3M", "rate": 0.0312, "calendar": "TARGET"},
	{"type": "deposit", "maturity": "2027-05-25", "rate": 0.0320, "dayCount": "ACT/360", "calendar": "TARGET"},
	{"type": "swap", "tenor": "2Y", "rate": 0.0342, "calendar": "TARGET"},
	{"type": "swap", "tenor": "5Y", "rate": 0.0363, "calendar": "TARGET"},
	{"type": "swap", "tenor": "10Y", "rate": 0.0378, "calendar": "TARGET", "floatFrequency": "quarterly", "floatDayCount": "ACT/365F"},
	{"type": "swap", "maturity": "2056-11-25", "rate": 0.0381, "calendar": "TARGET", "fixedFrequency": "semiannual", "fixedDayCount": "ACT/ACT"}
]}`

// TestBootstrapCurveReprices prices, through the batch layer, the deposits
// (as FRAs from today) and swaps a curve was bootstrapped from: each
// reprices to its quote within 1e-10 and its npv is zero.
func TestBootstrapCurveReprices(t *testing.T) {
	swap := `{"id": "%s", "type": "swap", "curve": "B", "notional": 1e7, "fixedRate": %v, "start": "2026-11-25", "maturity": "%s", "side": "payFixed", "calendar": "TARGET"%s}`
	fra := `{"id": "%s", "type": "fra", "curve": "B", "notional": 1e7, "rate": %v, "start": "2026-11-25", "end": "%s", "position": "long"}`
	trades := []string{
		fmt.Sprintf(fra, "1W", 0.0298, "2026-12-02"),
		fmt.Sprintf(fra, "3M", 0.0312, "2027-02-25"),
		fmt.Sprintf(fra, "6M", 0.0320, "2027-05-25"),
		fmt.Sprintf(swap, "2Y", 0.0342, "2028-11-25", ""),
		fmt.Sprintf(swap, "5Y", 0.0363, "2031-11-25", ""),
		fmt.Sprintf(swap, "10Y", 0.0378, "2036-11-25", `, "floatFrequency": "quarterly", "floatDayCount": "ACT/365F"`),
		fmt.Sprintf(swap, "30Y", 0.0381, "2056-11-25", `, "fixedFrequency": "semiannual", "fixedDayCount": "ACT/ACT"`),
	}
	quotes := []float64{0.0298, 0.0312, 0.0320, 0.0342, 0.0363, 0.0378, 0.0381}
	doc := `{"valuationDate": "2026-11-25", "measures": ["npv", "fairRate"], "market": {"curves": {"B": ` + bootCurve + `}},
		"trades": [` + strings.Join(trades, ",") + `]}`
	for i, r := range priceRates(t, doc) {
		if r.Error != "" {
			t.Fatalf("%s: %s", r.ID, r.Error)
		}
		if math.Abs(r.FairRate-quotes[i]) > 1e-10 || math.Abs(r.NPV) > 1e-8*1e7 {
			t.Errorf("%s: fairRate %.15g, quote %v; npv %v", r.ID, r.FairRate, quotes[i], r.NPV)
		}
	}
}

func TestBootstrapCurveErrors(t *testing.T) {
	tests := []struct {
		name, curve string
		want        []string
	}{
		{"same pillar", `{"bootstrap": [{"type": "deposit", "tenor": "3M", "rate": 0.01}, {"type": "deposit", "maturity": "2027-02-25", "rate": 0.02}]}`,
			[]string{"market.curves.B.bootstrap[1]", "same pillar date 2027-02-25 as instrument 0"}},
		{"bad tenor", `{"bootstrap": [{"type": "deposit", "tenor": "3Q", "rate": 0.01}]}`,
			[]string{"bootstrap[0]", `tenor must be a positive whole number of D, W, M or Y`}},
		{"tenor and maturity", `{"bootstrap": [{"type": "deposit", "tenor": "3M", "maturity": "2027-02-25", "rate": 0.01}]}`,
			[]string{"exactly one of maturity"}},
		{"unknown type", `{"bootstrap": [{"type": "future", "tenor": "3M", "rate": 0.01}]}`,
			[]string{`type must be deposit or swap, got "future"`}},
		{"swap with a day tenor", `{"bootstrap": [{"type": "swap", "tenor": "10D", "rate": 0.01}]}`,
			[]string{"tenor of a swap must be in months or years"}},
		{"deposit with swap fields", `{"bootstrap": [{"type": "deposit", "tenor": "3M", "rate": 0.01, "fixedDayCount": "ACT/360"}]}`,
			[]string{"a deposit takes dayCount"}},
		{"unknown day count", `{"bootstrap": [{"type": "deposit", "tenor": "3M", "rate": 0.01, "dayCount": "ACT/364"}]}`,
			[]string{`dayCount must be one of ACT/360, ACT/365F, 30/360, ACT/ACT, got "ACT/364"`}},
		{"unknown field", `{"bootstrap": [{"type": "deposit", "tenor": "3M", "rat": 0.01}]}`,
			[]string{`unknown field "rat"`}},
		{"no rate", `{"bootstrap": [{"type": "deposit", "tenor": "3M"}]}`, []string{"rate is required"}},
		{"empty", `{"bootstrap": []}`, []string{"at least one instrument"}},
		{"not a list", `{"bootstrap": {"type": "deposit"}}`, []string{"must be a list of instruments"}},
		// 70,000 swaps took minutes to build, in every chunk on the curve.
		{"too many instruments", deposits(1001), []string{"market.curves.B.bootstrap: lists more than 1000 instruments, the most a curve may have"}},
	}
	good := `{"id": "ok", "type": "fra", "curve": "G", "notional": 1, "rate": 0.02, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}`
	bad := `{"id": "bad", "type": "fra", "curve": "B", "notional": 1, "rate": 0.02, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}`
	for _, tt := range tests {
		doc := `{"valuationDate": "2026-11-25", "market": {"curves": {"G": {"rate": 0.02}, "B": ` + tt.curve + `}}, "trades": [` + good + `,` + bad + `]}`
		rs := priceRates(t, doc)
		if rs[0].Error != "" {
			t.Errorf("%s: a trade on another curve failed: %s", tt.name, rs[0].Error)
		}
		for _, w := range tt.want {
			if !strings.Contains(rs[1].Error, w) {
				t.Errorf("%s: error %q, want it to contain %q", tt.name, rs[1].Error, w)
			}
		}
	}
}

// deposits is a bootstrap curve of n deposits, one ending each business
// day.
func deposits(n int) string {
	list := make([]string, n)
	for i := range list {
		list[i] = fmt.Sprintf(`{"type": "deposit", "tenor": "%dD", "rate": 0.02}`, i+1)
	}
	return `{"bootstrap": [` + strings.Join(list, ", ") + `]}`
}

// TestBootstrapAtMostInstruments: a curve of as many instruments as a
// curve may have is built.
func TestBootstrapAtMostInstruments(t *testing.T) {
	fra := `{"id": "F", "type": "fra", "curve": "B", "notional": 1, "rate": 0.02, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}`
	doc := `{"valuationDate": "2026-11-25", "market": {"curves": {"B": ` + deposits(1000) + `}}, "trades": [` + fra + `]}`
	if rs := priceRates(t, doc); rs[0].Error != "" || math.IsNaN(rs[0].NPV) {
		t.Errorf("1000 instruments: %+v", rs[0])
	}
}

// TestCurveHorizon checks that curve inputs reaching past the 200-year
// horizon fail the trades on that curve, naming the field, as trade dates
// do: a zero pillar, and a bootstrap instrument's start, maturity or the
// end its tenor gives. A tenor's unit may be lower case.
func TestCurveHorizon(t *testing.T) {
	tests := []struct {
		name, curve string
		want        []string // "" prices
	}{
		{"zero pillar", `{"zeros": [{"date": "2027-11-25", "rate": 0.02}, {"date": "2900-01-01", "rate": 0.03}]}`,
			[]string{"market.curves.B.zeros[1].date", "must be within 200 years of the valuation date 2026-11-25, got 2900-01-01"}},
		{"zero pillar within", `{"zeros": [{"date": "2027-11-25", "rate": 0.02}, {"date": "2226-11-25", "rate": 0.03}]}`, nil},
		{"deposit tenor", `{"bootstrap": [{"type": "deposit", "tenor": "1000Y", "rate": 0.01}]}`,
			[]string{"market.curves.B.bootstrap[0]", `tenor must be within 200 years: at most 200Y, got "1000Y"`}},
		{"swap tenor", `{"bootstrap": [{"type": "deposit", "tenor": "3M", "rate": 0.01}, {"type": "swap", "tenor": "2401m", "rate": 0.01}]}`,
			[]string{"market.curves.B.bootstrap[1]", `tenor must be within 200 years: at most 2400M, got "2401m"`}},
		{"tenor from a late start", `{"bootstrap": [{"type": "deposit", "start": "2100-01-04", "tenor": "150Y", "rate": 0.01}]}`,
			[]string{"market.curves.B.bootstrap[0]", `tenor must end within 200 years of the valuation date 2026-11-25 (from 2100-01-04 it ends on 2250-01-04), got "150Y"`}},
		// A count over 1200 was refused as "not a whole number", within
		// the horizon too.
		{"1201 months", `{"bootstrap": [{"type": "deposit", "tenor": "1201M", "rate": 0.01}]}`, nil},
		{"5000 business days", `{"bootstrap": [{"type": "deposit", "tenor": "5000D", "rate": 0.01}]}`, nil},
		{"no length", `{"bootstrap": [{"type": "deposit", "tenor": "0Y", "rate": 0.01}]}`,
			[]string{`tenor must be a positive whole number of D, W, M or Y`}},
		{"deposit maturity", `{"bootstrap": [{"type": "deposit", "maturity": "2900-01-01", "rate": 0.01}]}`,
			[]string{"market.curves.B.bootstrap[0]", "maturity must be within 200 years of the valuation date 2026-11-25, got 2900-01-01"}},
		{"swap maturity", `{"bootstrap": [{"type": "swap", "maturity": "2900-01-01", "rate": 0.01}]}`,
			[]string{"market.curves.B.bootstrap[0]", "maturity must be within 200 years"}},
		{"start", `{"bootstrap": [{"type": "deposit", "start": "2900-01-01", "tenor": "3M", "rate": 0.01}]}`,
			[]string{"market.curves.B.bootstrap[0]", "start must be within 200 years of the valuation date 2026-11-25, got 2900-01-01"}},
		{"lower-case tenors", `{"bootstrap": [{"type": "deposit", "tenor": "3m", "rate": 0.01}, {"type": "swap", "tenor": "2y", "rate": 0.012}]}`, nil},
	}
	good := `{"id": "ok", "type": "fra", "curve": "G", "notional": 1, "rate": 0.02, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}`
	onB := `{"id": "b", "type": "fra", "curve": "B", "notional": 1, "rate": 0.02, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}`
	for _, tt := range tests {
		doc := `{"valuationDate": "2026-11-25", "market": {"curves": {"G": {"rate": 0.02}, "B": ` + tt.curve + `}}, "trades": [` + good + `,` + onB + `]}`
		rs := priceRates(t, doc)
		if rs[0].Error != "" {
			t.Errorf("%s: a trade on another curve failed: %s", tt.name, rs[0].Error)
		}
		if tt.want == nil && rs[1].Error != "" {
			t.Errorf("%s: %s", tt.name, rs[1].Error)
		}
		for _, w := range tt.want {
			if !strings.Contains(rs[1].Error, w) {
				t.Errorf("%s: error %q, want it to contain %q", tt.name, rs[1].Error, w)
			}
		}
	}
}
