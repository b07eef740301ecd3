package pricing

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/pricefn/pricefn/pricing/dates"
)

func TestLimits(t *testing.T) {
	asOf := dates.New(2026, 11, 25)
	tests := []struct {
		name string
		err  error
		want string // "" for no error
	}{
		{"amount ok", CheckAmount("spot", 100), ""},
		{"amount at the limit", CheckAmount("spot", MaxAmount), ""},
		{"amount tiny", CheckAmount("strike", 5e-324), ""},
		{"amount zero", CheckAmount("strike", 0), "strike must be > 0, got 0"},
		{"amount negative", CheckAmount("strike", -5), "strike must be > 0, got -5"},
		{"amount huge", CheckAmount("notional", 1e308), "notional must be at most 1e+15, got 1e+308"},
		{"amount NaN", CheckAmount("face", math.NaN()), "face must be a finite number, got NaN"},
		{"amount Inf", CheckAmount("face", math.Inf(1)), "face must be a finite number, got +Inf"},
		{"rate ok", CheckRate("rate", -0.02), ""},
		{"rate at the limits", CheckRate("rate", -MaxRate), ""},
		{"rate huge", CheckRate("coupon", 1e308), "coupon must be between -1 and 1 (a rate per year, 1 is 100%), got 1e+308"},
		{"rate NaN", CheckRate("spread", math.NaN()), "spread must be a finite number, got NaN"},
		{"vol ok", CheckVol("vol", 1.5), ""},
		{"vol zero", CheckVol("vol", 0), "vol must be > 0, got 0"},
		{"vol huge", CheckVol("vol", 1e308), "vol must be at most 10 (1 is 100%), got 1e+308"},
		{"vol -Inf", CheckVol("vol", math.Inf(-1)), "vol must be a finite number, got -Inf"},
		{"horizon ok", CheckHorizon("maturity", asOf.AddMonths(12*50), asOf), ""},
		{"horizon at the limit", CheckHorizon("maturity", asOf.AddMonths(12*MaxYears), asOf), ""},
		{"horizon past", CheckHorizon("maturity", asOf.AddMonths(12*MaxYears)+1, asOf), "maturity must be within 200 years of the valuation date 2026-11-25, got 2226-11-26"},
		{"horizon before", CheckHorizon("start", asOf.AddMonths(-12*MaxYears)-1, asOf), "start must be within 200 years of the valuation date 2026-11-25, got 1826-11-24"},
		{"horizon far", CheckHorizon("expiry", dates.New(9999, 12, 31), asOf), "expiry must be within 200 years"},
	}
	for _, tt := range tests {
		if tt.want == "" {
			if tt.err != nil {
				t.Errorf("%s: error %v", tt.name, tt.err)
			}
			continue
		}
		var ie *InputError
		if !errors.As(tt.err, &ie) || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("%s: error %v, want an InputError containing %q", tt.name, tt.err, tt.want)
		}
	}
}
