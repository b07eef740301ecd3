package engine

import (
	"errors"
	"math"
	"testing"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/instrument"
)

var csvBarrierTypes = map[string]instrument.BarrierType{
	"DownIn": instrument.DownIn, "DownOut": instrument.DownOut, "UpIn": instrument.UpIn, "UpOut": instrument.UpOut,
}

// TestBarrierLiterature checks barrierValue against the European cases of
// QuantLib's barrieroption.cpp (testdata/ref_barrier.csv: Haug's table,
// El Babsiri & Noel, Beaglehole-Dybvig-Zhou) at each row's tolerance, and
// against QuantLib 1.29's values of the same cases to 1e-12. The American
// rows are for another engine.
func TestBarrierLiterature(t *testing.T) {
	n := 0
	for _, row := range readRefTable(t, "ref_barrier.csv") {
		if row.str("exercise") != "European" {
			continue
		}
		n++
		typ, ok := csvBarrierTypes[row.str("barrier_type")]
		if !ok {
			t.Fatalf("line %d: barrier type %q", row.line, row.str("barrier_type"))
		}
		got, err := barrierValue(typ, row.isCall(), row.num("spot"), row.num("strike"), row.num("barrier"), row.num("rebate"),
			row.num("r"), row.num("q"), row.num("vol"), row.num("t_eff"))
		if err != nil {
			t.Errorf("line %d: %v", row.line, err)
			continue
		}
		if want, tol := row.num("expected"), row.num("tolerance"); !withinAbsOrRel(got, want, tol, 0) {
			t.Errorf("line %d %s %s: npv %.10g, literature %.10g (tol %g)", row.line, row.str("barrier_type"), row.str("option_type"), got, want, tol)
		}
		if ql := row.num("ql129_value"); !withinAbsOrRel(got, ql, 1e-12, 1e-12) {
			t.Errorf("line %d %s %s: npv %.16g, QuantLib 1.29 %.16g", row.line, row.str("barrier_type"), row.str("option_type"), got, ql)
		}
	}
	if n < 80 {
		t.Errorf("only %d European rows", n)
	}
}

// quantLibBarrier are edge cases priced by QuantLib 1.29's
// AnalyticBarrierEngine (Debian python3 bindings; flat Actual365Fixed
// curves, valuation date 2026-11-25): negative rates, vol 2% to 120%,
// three days to 25 years, spot at the barrier.
var quantLibBarrier = []struct {
	typ                        instrument.BarrierType
	right                      instrument.Right
	spot, strike, barrier, reb float64
	r, q, vol                  float64
	days                       int
	npv                        float64
}{
	{instrument.DownOut, instrument.Call, 100, 90, 95, 2.0, -0.01, 0.0, 0.3, 180, 7.362428890958776},
	{instrument.DownIn, instrument.Put, 100, 110, 80, 1.0, -0.005, 0.01, 1.2, 365, 53.277919367628925},
	{instrument.UpOut, instrument.Call, 100, 90, 130, 1.5, 0.03, 0.01, 0.02, 91, 10.421635013734402},
	{instrument.UpIn, instrument.Put, 100, 105, 101, 0.5, 0.04, 0.0, 0.25, 3, 2.8124490430696545},
	{instrument.UpOut, instrument.Put, 100, 120, 125, 3.0, 0.05, 0.02, 0.4, 3650, 13.694710978773404},
	{instrument.DownOut, instrument.Put, 100, 80, 70, 0.0, 0.02, 0.05, 0.8, 730, 0.005328249246527861},
	{instrument.DownIn, instrument.Call, 100, 60, 99.9, 0.0, 0.01, 0.0, 0.15, 30, 39.20847391060122},
	{instrument.UpIn, instrument.Call, 100, 100, 100, 2.0, 0.03, 0.01, 0.25, 365, 10.762394626337134},
	{instrument.DownOut, instrument.Call, 100, 100, 100, 2.0, 0.03, 0.01, 0.25, 365, 2.0},
	// Low vols and long expiries, where the reflected terms, (H/S)^(2μ)
	// times N(·), reach 1e8 and cancel: QuantLib's N, 0.5·(1+erf(x/√2)),
	// sets the last digits, and an erfc-based N missed it by up to 1.5e-5.
	{instrument.DownIn, instrument.Call, 1911.683205, 604.851277, 610.067523, 0.0, -0.013293, 0.040787, 0.092275, 2742, 0.043316098254130964},
	{instrument.DownOut, instrument.Put, 1273.78455, 3435.193992, 1026.353892, 46.082599, -0.009393, 0.051937, 0.040937, 1582, 548.093700655205},
	{instrument.UpOut, instrument.Call, 310.278567, 99.281946, 558.723297, 0.0, 0.025078, 0.0, 0.043158, 9122, 78.7012635435605},
	{instrument.DownIn, instrument.Put, 128.965019, 128.965019, 82.296551, 13.859618, -0.015875, 0.076366, 0.073629, 2279, 58.430878685357605},
	{instrument.UpIn, instrument.Call, 1616.147672, 484.844302, 3382.965331, 0.0, 0.082036, 0.0, 0.096559, 7938, 1530.9538845753368},
}

func TestAnalyticBarrierQuantLib(t *testing.T) {
	for _, c := range quantLibBarrier {
		o := instrument.Barrier{
			Option: instrument.Option{Underlying: "X", Right: c.right, Strike: c.strike, Expiry: refValDate.AddDays(c.days)},
			Type:   c.typ, Level: c.barrier, Rebate: c.reb,
		}
		res, err := AnalyticBarrier{}.Price(&o, equityMarket(c.spot, c.r, c.q, c.vol), pricing.Of(pricing.NPV))
		if err != nil {
			t.Errorf("%+v: %v", c, err)
			continue
		}
		if res.Set != setNPV {
			t.Errorf("%+v: Set = %b, want npv only", c, res.Set)
		}
		if !withinAbsOrRel(res.NPV, c.npv, 1e-12, 1e-11) {
			t.Errorf("%v %v K=%v H=%v R=%v r=%v vol=%v days=%d: npv %.16g, QuantLib %.16g", c.typ, c.right, c.strike, c.barrier, c.reb, c.r, c.vol, c.days, res.NPV, c.npv)
		}
	}
}

// TestBarrierInOutParity checks knock-in + knock-out = vanilla without
// rebate, for strikes on both sides of the barrier.
func TestBarrierInOutParity(t *testing.T) {
	const s, r, q = 100.0, 0.03, 0.01
	for _, vol := range []float64{0.05, 0.25, 1.0} {
		for _, tt := range []float64{0.02, 1, 10} {
			for _, k := range []float64{70, 90, 100, 110, 130} {
				for _, call := range []bool{true, false} {
					vanilla := blackScholes(call, s, k, r, q, vol, tt, false).npv
					for _, h := range []float64{80, 95, 100} {
						in, err1 := barrierValue(instrument.DownIn, call, s, k, h, 0, r, q, vol, tt)
						out, err2 := barrierValue(instrument.DownOut, call, s, k, h, 0, r, q, vol, tt)
						if err1 != nil || err2 != nil {
							t.Fatal(err1, err2)
						}
						if !withinAbsOrRel(in+out, vanilla, 1e-10, 1e-10) {
							t.Errorf("down H=%v K=%v call=%v vol=%v T=%v: in %.12g + out %.12g = %.12g, vanilla %.12g", h, k, call, vol, tt, in, out, in+out, vanilla)
						}
					}
					for _, h := range []float64{100, 105, 120} {
						in, err1 := barrierValue(instrument.UpIn, call, s, k, h, 0, r, q, vol, tt)
						out, err2 := barrierValue(instrument.UpOut, call, s, k, h, 0, r, q, vol, tt)
						if err1 != nil || err2 != nil {
							t.Fatal(err1, err2)
						}
						if !withinAbsOrRel(in+out, vanilla, 1e-10, 1e-10) {
							t.Errorf("up H=%v K=%v call=%v vol=%v T=%v: in %.12g + out %.12g = %.12g, vanilla %.12g", h, k, call, vol, tt, in, out, in+out, vanilla)
						}
					}
				}
			}
		}
	}
}

// TestBarrierLimits checks the barrier far from spot (the option is the
// vanilla or nothing) and at spot (knocked at once).
func TestBarrierLimits(t *testing.T) {
	const s, k, r, q, vol, tt, rb = 100.0, 100.0, 0.04, 0.01, 0.3, 0.5, 2.5
	df := math.Exp(-r * tt)
	for _, call := range []bool{true, false} {
		vanilla := blackScholes(call, s, k, r, q, vol, tt, false).npv
		cases := []struct {
			typ  instrument.BarrierType
			h    float64
			want float64
		}{
			{instrument.DownOut, 1e-3, vanilla}, // never hit: the vanilla
			{instrument.UpOut, 1e5, vanilla},
			{instrument.DownIn, 1e-3, rb * df}, // never knocks in: rebate at expiry
			{instrument.UpIn, 1e5, rb * df},
			{instrument.DownOut, s, rb}, // knocked out now: rebate now
			{instrument.UpOut, s, rb},
			{instrument.DownIn, s, vanilla}, // knocked in now: the vanilla
			{instrument.UpIn, s, vanilla},
		}
		for _, c := range cases {
			got, err := barrierValue(c.typ, call, s, k, c.h, rb, r, q, vol, tt)
			if err != nil {
				t.Fatal(err)
			}
			if !withinAbsOrRel(got, c.want, 1e-10, 1e-10) {
				t.Errorf("%v H=%v call=%v: npv %.12g, want %.12g", c.typ, c.h, call, got, c.want)
			}
		}
	}
}

func TestAnalyticBarrierCrossed(t *testing.T) {
	for _, c := range []struct {
		typ instrument.BarrierType
		h   float64
	}{
		{instrument.DownIn, 100.5}, {instrument.DownOut, 120}, {instrument.UpIn, 99.5}, {instrument.UpOut, 80},
	} {
		o := instrument.Barrier{Option: instrument.Option{Underlying: "X", Right: instrument.Call, Strike: 100, Expiry: refValDate.AddDays(365)}, Type: c.typ, Level: c.h}
		_, err := AnalyticBarrier{}.Price(&o, equityMarket(100, 0.05, 0, 0.2), pricing.Of(pricing.NPV))
		var in *pricing.InputError
		if !errors.As(err, &in) || in.Field != "barrier" {
			t.Errorf("%v H=%v with spot 100: error %v, want an InputError on barrier", c.typ, c.h, err)
		} else {
			t.Logf("%v: %v", c.typ, err)
		}
	}
}

// TestAnalyticBarrierHitIfCrossed: with HitIfCrossed, spot beyond the
// barrier is a hit now, and the value joins the closed form's at the
// barrier (touched): a knock-out its rebate, a knock-in the vanilla.
func TestAnalyticBarrierHitIfCrossed(t *testing.T) {
	for _, typ := range []instrument.BarrierType{instrument.DownIn, instrument.DownOut, instrument.UpIn, instrument.UpOut} {
		for _, right := range []instrument.Right{instrument.Call, instrument.Put} {
			h := 90.0
			if !typ.IsDown() {
				h = 110
			}
			o := instrument.Barrier{Option: instrument.Option{Underlying: "X", Right: right, Strike: 100, Expiry: refValDate.AddDays(365)}, Type: typ, Level: h, Rebate: 1.5}
			price := func(e AnalyticBarrier, spot float64) float64 {
				r, err := e.Price(&o, equityMarket(spot, 0.05, 0.02, 0.25), pricing.Of(pricing.NPV))
				if err != nil {
					t.Fatalf("%v %v spot %v: %v", typ, right, spot, err)
				}
				return r.NPV
			}
			touched := price(AnalyticBarrier{}, h) // the closed form at the barrier
			beyond := h * (1 - 1e-12)
			if !typ.IsDown() {
				beyond = h * (1 + 1e-12)
			}
			if got := price(AnalyticBarrier{HitIfCrossed: true}, beyond); math.Abs(got-touched) > 1e-9 {
				t.Errorf("%v %v: %v just beyond the barrier, %v at it", typ, right, got, touched)
			}
			far := h * 0.7
			if !typ.IsDown() {
				far = h * 1.3
			}
			want := o.Rebate
			if typ.IsIn() {
				want = blackScholes(right == instrument.Call, far, 100, 0.05, 0.02, 0.25, 1, false).npv
			}
			if got := price(AnalyticBarrier{HitIfCrossed: true}, far); math.Abs(got-want) > 1e-12*max(1, want) {
				t.Errorf("%v %v at spot %v: %v, want %v", typ, right, far, got, want)
			}
		}
	}
}

// TestAnalyticBarrierNegativeRateRebate checks the one case the closed form
// cannot price: a knock-out rebate when μ² + 2r/σ² < 0.
func TestAnalyticBarrierNegativeRateRebate(t *testing.T) {
	// r = -5%, q = -5%, vol = 20%: μ = -0.5, μ² + 2r/σ² = 0.25 - 2.5 < 0.
	m := equityMarket(100, -0.05, -0.05, 0.2)
	o := instrument.Barrier{Option: instrument.Option{Underlying: "X", Right: instrument.Put, Strike: 100, Expiry: refValDate.AddDays(365)}, Type: instrument.UpOut, Level: 120, Rebate: 1}
	_, err := AnalyticBarrier{}.Price(&o, m, pricing.Of(pricing.NPV))
	var in *pricing.InputError
	if !errors.As(err, &in) || in.Field != "rebate" {
		t.Errorf("error %v, want an InputError on rebate", err)
	}
	// Without a rebate, or for a knock-in, the same market prices.
	o.Rebate = 0
	if res, err := (AnalyticBarrier{}).Price(&o, m, pricing.Of(pricing.NPV)); err != nil || math.IsNaN(res.NPV) {
		t.Errorf("no rebate: %v, %v", res.NPV, err)
	}
	o.Rebate, o.Type = 1, instrument.UpIn
	if res, err := (AnalyticBarrier{}).Price(&o, m, pricing.Of(pricing.NPV)); err != nil || math.IsNaN(res.NPV) {
		t.Errorf("knock-in rebate: %v, %v", res.NPV, err)
	}
}

// BenchmarkBarrier prices one barrier option per iteration, market look-up
// included, cycling through the eight kinds with rebates.
func BenchmarkBarrier(b *testing.B) {
	m := equityMarket(100, 0.03, 0.01, 0.25)
	var trades []instrument.Barrier
	for _, typ := range []instrument.BarrierType{instrument.DownIn, instrument.DownOut, instrument.UpIn, instrument.UpOut} {
		h := 85.0
		if !typ.IsDown() {
			h = 115
		}
		for _, right := range []instrument.Right{instrument.Call, instrument.Put} {
			for _, k := range []float64{80, 120} {
				trades = append(trades, instrument.Barrier{
					Option: instrument.Option{Underlying: "X", Right: right, Strike: k, Expiry: refValDate.AddDays(365)},
					Type:   typ, Level: h, Rebate: 1,
				})
			}
		}
	}
	want := pricing.Of(pricing.NPV)
	i := 0
	for b.Loop() {
		if _, err := (AnalyticBarrier{}).Price(&trades[i%len(trades)], m, want); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// TestAnalyticBarrierLowVol checks barriers at a vol so low that
// (H/S)^(2μ) overflows (μ = 12,499.5): the path is all but the forward
// 100·e^{0.05t}, which reaches a barrier of 103 at t = ln(1.03)/0.05 and
// never one of 120, so each option is worth its deterministic limit. They
// were errors that blamed the vol.
func TestAnalyticBarrierLowVol(t *testing.T) {
	const s, k, r = 100.0, 90.0, 0.05
	vanilla := s - k*math.Exp(-r)
	for _, c := range []struct {
		typ  instrument.BarrierType
		h    float64
		want float64
	}{
		{instrument.UpOut, 120, vanilla},     // never hit: the call
		{instrument.UpOut, 103, s / 103},     // hit at t: the rebate, discounted by e^{-rt} = S/H
		{instrument.UpIn, 103, vanilla},      // hit: the call
		{instrument.UpIn, 120, math.Exp(-r)}, // never hit: the rebate at expiry
	} {
		o := instrument.Barrier{Option: instrument.Option{Underlying: "X", Right: instrument.Call, Strike: k, Expiry: refValDate.AddDays(365)}, Type: c.typ, Level: c.h, Rebate: 1}
		got, err := AnalyticBarrier{}.Price(&o, equityMarket(s, r, 0, 0.002), pricing.Of(pricing.NPV))
		if err != nil {
			t.Errorf("%s H=%v: %v", c.typ, c.h, err)
			continue
		}
		if !withinAbsOrRel(got.NPV, c.want, 1e-12, 1e-12) {
			t.Errorf("%s H=%v: npv %.16g, want %.16g", c.typ, c.h, got.NPV, c.want)
		}
	}
}

// TestAnalyticBarrierFarBarrier checks a down barrier so far below spot
// that (H/S)^(μ-λ) of the knock-out rebate overflows: the barrier is never
// reached, so a knock-out is the vanilla option (its rebate worth
// nothing) and a knock-in is its rebate paid at expiry. They were errors
// that blamed the vol.
func TestAnalyticBarrierFarBarrier(t *testing.T) {
	const s, k, r, q, vol = 100.0, 100.0, 0.05, 0.0, 0.25
	m := equityMarket(s, r, q, vol)
	df := math.Exp(-r * 365 / 365.0)
	for _, h := range []float64{1e-310, 5e-324} {
		for _, right := range []instrument.Right{instrument.Put, instrument.Call} {
			vanilla := blackScholes(right == instrument.Call, s, k, r, q, vol, 1, false).npv
			for _, c := range []struct {
				typ  instrument.BarrierType
				want float64
			}{{instrument.DownOut, vanilla}, {instrument.DownIn, df}} {
				o := instrument.Barrier{Option: instrument.Option{Underlying: "X", Right: right, Strike: k, Expiry: refValDate.AddDays(365)}, Type: c.typ, Level: h, Rebate: 1}
				got, err := AnalyticBarrier{}.Price(&o, m, pricing.Of(pricing.NPV))
				if err != nil {
					t.Errorf("%s %s H=%g: %v", c.typ, right, h, err)
					continue
				}
				if !withinAbsOrRel(got.NPV, c.want, 1e-12, 1e-12) {
					t.Errorf("%s %s H=%g: npv %.16g, want %.16g", c.typ, right, h, got.NPV, c.want)
				}
			}
		}
	}
}

// TestAnalyticBarrierQuantLibDigits checks barriers whose closed form
// cancels large terms (spot near the barrier, the strike far from it)
// to the last bit of QuantLib 1.29's AnalyticBarrierEngine: the reflected
// terms multiply a discounted spot or strike by a power of H/S and then
// by a probability, in QuantLib's order. Multiplying the power by the
// probability first moved these by 2e-12 (9% of the first) and 3e-11.
func TestAnalyticBarrierQuantLibDigits(t *testing.T) {
	for _, c := range []struct {
		typ                     instrument.BarrierType
		s, k, h, reb, r, q, vol float64
		days                    int
		want                    float64
	}{
		{instrument.DownIn, 100000, 100000, 99000, 0, 0.3, 0.11, 0.05, 1420, 1.9099388737231493e-11},
		{instrument.UpOut, 100000, 200000, 100010, 0.01, 0, -0.01, 0.2, 1267, 32.75269066073812},
	} {
		o := instrument.Barrier{Option: instrument.Option{Underlying: "X", Right: instrument.Put, Strike: c.k, Expiry: refValDate.AddDays(c.days)}, Type: c.typ, Level: c.h, Rebate: c.reb}
		got, err := AnalyticBarrier{}.Price(&o, equityMarket(c.s, c.r, c.q, c.vol), pricing.Of(pricing.NPV))
		if err != nil {
			t.Errorf("%s put S=%v H=%v: %v", c.typ, c.s, c.h, err)
			continue
		}
		if got.NPV != c.want {
			t.Errorf("%s put S=%v H=%v: npv %.17g, QuantLib %.17g", c.typ, c.s, c.h, got.NPV, c.want)
		}
	}
}

// TestAnalyticBarrierLowVolNearBarrier checks a put whose barrier lies 1%
// above spot at a vol of 0.2% and a drift of 20%: (H/S)^(2μ) overflows,
// as (1.01)^99,999, while the probability it multiplies, N(-44.7), is 0
// as QuantLib computes it; their product is worth some 1.4. The values
// are the closed form evaluated to 400 digits (mpmath). With the product
// taken as 0 the knock-out was 1.53 and the knock-in 95.76.
func TestAnalyticBarrierLowVolNearBarrier(t *testing.T) {
	for _, c := range []struct {
		typ  instrument.BarrierType
		reb  float64
		want float64
	}{
		{instrument.UpOut, 0.01, 1.4453952012646075},
		{instrument.UpOut, 0, 1.4356883018427692},
		{instrument.UpIn, 0, 95.849961685544165},
	} {
		o := instrument.Barrier{Option: instrument.Option{Underlying: "X", Right: instrument.Put, Strike: 200, Expiry: refValDate.AddDays(20)}, Type: c.typ, Level: 101, Rebate: c.reb}
		got, err := AnalyticBarrier{}.Price(&o, equityMarket(100, 0.3, 0.1, 0.002), pricing.Of(pricing.NPV))
		if err != nil {
			t.Errorf("%s rebate %v: %v", c.typ, c.reb, err)
			continue
		}
		if !withinAbsOrRel(got.NPV, c.want, 1e-10, 1e-10) {
			t.Errorf("%s rebate %v: npv %.16g, want %.16g", c.typ, c.reb, got.NPV, c.want)
		}
	}
}
