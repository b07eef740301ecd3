package engine

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/instrument"
)

// flatAsianMC returns the simulation input of an average-price option on a
// flat curve with the given fixing times and expiry tt.
func flatAsianMC(call bool, s, k, r, q, vol, tt float64, times []float64) *asianMC {
	df := math.Exp(-r * tt)
	lf := flatLogFwd(times, r, q)
	return &asianMC{
		call: call, s: s, k: k, vol: vol, df: df, times: times, logFwd: lf,
		geo: geometricAsian(call, s, k, vol, q, 0, tt, df, times, lf, false).npv,
	}
}

// TestArithmeticAsianLiterature checks simulateAsian against Levy's values
// as QuantLib's asianoptions.cpp tests its MC engine (testdata/ref_asian.csv,
// tolerance 0.02). Those cases fix at time 0 (the spot) and some fix twice
// on one date: the simulation takes both.
func TestArithmeticAsianLiterature(t *testing.T) {
	n := 0
	for i, row := range readRefTable(t, "ref_asian.csv") {
		if row.str("test_case") != "testMCDiscreteArithmeticAveragePrice" {
			continue
		}
		n++
		p := flatAsianMC(row.isCall(), row.num("spot"), row.num("strike"), row.num("r"), row.num("q"), row.num("vol"), row.num("t"), row.nums("fixing_times"))
		est := simulateAsian(p, min(20_000, 1_000_000/len(p.times)), rand.NewPCG(uint64(i), 1))
		want, tol := row.num("expected"), row.num("tolerance")
		if !withinAbsOrRel(est.cv.mean, want, tol, 0) {
			t.Errorf("line %d, %d fixings: npv %.6g ± %.2g, Levy %.6g (tol %g)", row.line, len(p.times), est.cv.mean, est.cv.stdErr, want, tol)
		}
	}
	if n != 30 {
		t.Errorf("%d rows, want 30", n)
	}
}

// TestArithmeticAsianTwoFixingsExact checks simulateAsian where the
// arithmetic option has a closed form: fixings at 0 and T average the known
// spot with S_T, so the option is half a European on S_T struck at 2K - S.
// (Strikes stay where the payoff is no rare event: there, as for any Monte
// Carlo, the sample standard error is no guide.)
func TestArithmeticAsianTwoFixingsExact(t *testing.T) {
	const s, r, q, tt = 100.0, 0.03, 0.01, 1.5
	for i, k := range []float64{90, 100, 115} {
		for _, vol := range []float64{0.1, 0.4, 1.2} {
			for _, call := range []bool{true, false} {
				p := flatAsianMC(call, s, k, r, q, vol, tt, []float64{0, tt})
				est := simulateAsian(p, 50_000, rand.NewPCG(uint64(i), 2))
				exact := 0.5 * blackScholes(call, s, 2*k-s, r, q, vol, tt, false).npv
				if math.Abs(est.cv.mean-exact) > 4*est.cv.stdErr {
					t.Errorf("K=%v vol=%v call=%v: npv %.6f ± %.2g, exact %.6f", k, vol, call, est.cv.mean, est.cv.stdErr, exact)
				}
			}
		}
	}
}

// mcCases are arithmetic Asian options for the statistical checks: calls
// and puts, in and out of the money, low to high vol, 1 to 52 fixings.
func mcCases() []*asianMC {
	var out []*asianMC
	for _, n := range []int{1, 4, 12, 52} {
		for _, vol := range []float64{0.01, 0.3, 1.0} {
			for _, k := range []float64{80, 100, 125} {
				for _, call := range []bool{true, false} {
					times := make([]float64, n)
					for i := range times {
						times[i] = float64(i+1) / float64(n)
					}
					out = append(out, flatAsianMC(call, 100, k, 0.04, 0.02, vol, 1, times))
				}
			}
		}
	}
	return out
}

// TestSimulateAsianAgainstGeometric checks the paths and the control
// variate against the geometric closed form: the simulated geometric
// option lies within 4 standard errors of it; since the arithmetic average
// is at least the geometric one on every path (AM-GM), the arithmetic call
// is worth at least the geometric call and the put at most the geometric
// put, up to rounding; and by no more than df·(E[A] - E[G]) within 4
// standard errors. With one fixing the two options are one, up to rounding.
func TestSimulateAsianAgainstGeometric(t *testing.T) {
	for i, p := range mcCases() {
		est := simulateAsian(p, 20_000, rand.NewPCG(uint64(i), 3))
		round := 1e-13 * math.Max(p.geo, 1) // rounding of a path's two averages
		if math.Abs(est.geo.mean-p.geo) > 4*est.geo.stdErr+round {
			t.Errorf("%d fixings vol %v K %v call=%v: simulated geometric %.6g ± %.2g, closed form %.6g", len(p.times), p.vol, p.k, p.call, est.geo.mean, est.geo.stdErr, p.geo)
		}
		var meanA float64 // E[A] = mean forward
		for _, lf := range p.logFwd {
			meanA += p.s * math.Exp(lf) / float64(len(p.times))
		}
		gap := p.df * (meanA - geometricMean(p))
		if p.call {
			if est.cv.mean < p.geo-round || est.cv.mean > p.geo+gap+4*est.cv.stdErr+round {
				t.Errorf("%d fixings vol %v K %v call: arithmetic %.8g outside [%.8g, %.8g]", len(p.times), p.vol, p.k, est.cv.mean, p.geo, p.geo+gap)
			}
		} else if est.cv.mean > p.geo+round || est.cv.mean < p.geo-gap-4*est.cv.stdErr-round {
			t.Errorf("%d fixings vol %v K %v put: arithmetic %.8g outside [%.8g, %.8g]", len(p.times), p.vol, p.k, est.cv.mean, p.geo-gap, p.geo)
		}
		if len(p.times) == 1 && (math.Abs(est.cv.mean-p.geo) > round || est.cv.stdErr > round) {
			t.Errorf("one fixing vol %v K %v call=%v: %.17g ± %g, want the geometric %.17g", p.vol, p.k, p.call, est.cv.mean, est.cv.stdErr, p.geo)
		}
	}
}

// geometricMean returns E[G], the expected geometric average of p's fixings.
func geometricMean(p *asianMC) float64 {
	n := float64(len(p.times))
	var mean, minSum float64
	for i, t := range p.times {
		mean += (p.logFwd[i] - 0.5*p.vol*p.vol*t) / n
		minSum += t * float64(2*(len(p.times)-i)-1)
	}
	return p.s * math.Exp(mean+0.5*p.vol*p.vol*minSum/(n*n))
}

// quantLibArithmetic are cases priced by QuantLib 1.29's
// MCDiscreteArithmeticAPEngine (Debian python3 bindings; pseudo-random,
// control variate, 400,000 samples, seed 42; flat Actual365Fixed curves,
// valuation date 2026-11-25), with its error estimate.
var quantLibArithmetic = []struct {
	right                   instrument.Right
	spot, strike, r, q, vol float64
	fixings                 []int
	npv, stdErr             float64
}{
	{instrument.Call, 100, 100, 0.05, 0.02, 0.25, []int{30, 60, 90, 120, 150, 180}, 4.891248421436005, 0.0003831354179204398},
	{instrument.Put, 100, 110, -0.01, 0.0, 0.8, []int{30, 60, 91, 121, 152, 182, 212, 243, 273, 304, 334, 365}, 26.224448793008115, 0.00449067147800748},
	{instrument.Call, 100, 60, 0.03, 0.0, 1.5, []int{91, 182, 273, 365}, 53.86902609587138, 0.08420202247292558},
}

// TestMCArithmeticAsianQuantLib checks the engine with its default path
// count against QuantLib by the reference batches' rule: within 4 combined
// standard errors, with a standard error at most twice QuantLib's.
func TestMCArithmeticAsianQuantLib(t *testing.T) {
	for _, c := range quantLibArithmetic {
		o := asianOn(c.right, c.strike, instrument.Arithmetic, c.fixings)
		res, err := MCArithmeticAsian{}.Price(&o, equityMarket(c.spot, c.r, c.q, c.vol), pricing.Of(pricing.NPV))
		if err != nil {
			t.Fatal(err)
		}
		if res.Set != setMC {
			t.Errorf("Set = %b, want npv and npvStdErr", res.Set)
		}
		if d := math.Abs(res.NPV - c.npv); d > 4*math.Hypot(res.NPVStdErr, c.stdErr) || res.NPVStdErr > 2*c.stdErr {
			t.Errorf("%v K=%v vol=%v: npv %.6f ± %.2g, QuantLib %.6f ± %.2g", c.right, c.strike, c.vol, res.NPV, res.NPVStdErr, c.npv, c.stdErr)
		}
	}
}

func TestMCArithmeticAsianOneFixingIsEuropean(t *testing.T) {
	m := equityMarket(100, 0.03, 0.01, 0.35)
	for _, right := range []instrument.Right{instrument.Call, instrument.Put} {
		o := asianOn(right, 105, instrument.Arithmetic, []int{200})
		res, err := MCArithmeticAsian{}.Price(&o, m, pricing.Of(pricing.NPV))
		if err != nil {
			t.Fatal(err)
		}
		e := blackScholes(right == instrument.Call, 100, 105, 0.03, 0.01, 0.35, 200.0/365, false)
		if !withinAbsOrRel(res.NPV, e.npv, 1e-12, 1e-12) || res.NPVStdErr > 1e-13 {
			t.Errorf("%v: npv %.15g ± %g, European %.15g", right, res.NPV, res.NPVStdErr, e.npv)
		}
	}
}

// TestMCArithmeticAsianDeterministic checks that a trade prices to the
// same bits every time, whatever else was priced before, and that its
// random numbers depend on its terms.
func TestMCArithmeticAsianDeterministic(t *testing.T) {
	days := []int{30, 60, 90, 120}
	price := func(strike float64, paths int) pricing.Result {
		o := asianOn(instrument.Call, strike, instrument.Arithmetic, days)
		o.Paths = paths
		res, err := MCArithmeticAsian{}.Price(&o, equityMarket(100, 0.03, 0.01, 0.3), pricing.Of(pricing.NPV))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a := price(100, 10_000)
	price(90, 10_000)
	b := price(100, 10_000)
	if math.Float64bits(a.NPV) != math.Float64bits(b.NPV) || math.Float64bits(a.NPVStdErr) != math.Float64bits(b.NPVStdErr) {
		t.Errorf("same trade: %v ± %v, then %v ± %v", a.NPV, a.NPVStdErr, b.NPV, b.NPVStdErr)
	}
	if c := price(100, 10_002); c.NPV == a.NPV {
		t.Errorf("10,002 paths gave the same npv as 10,000: %v", c.NPV)
	}

	base := asianOn(instrument.Call, 100, instrument.Arithmetic, days)
	seed := asianSeed(&base, 1000)
	for name, change := range map[string]func(o *instrument.Asian){
		"underlying": func(o *instrument.Asian) { o.Underlying = "Y" },
		"right":      func(o *instrument.Asian) { o.Right = instrument.Put },
		"strike":     func(o *instrument.Asian) { o.Strike = math.Nextafter(100, 200) },
		"expiry":     func(o *instrument.Asian) { o.Expiry++ },
		"fixing":     func(o *instrument.Asian) { o.Fixings = append(o.Fixings[:1:1], o.Fixings[2:]...) },
	} {
		o := asianOn(instrument.Call, 100, instrument.Arithmetic, days)
		change(&o)
		if asianSeed(&o, 1000) == seed {
			t.Errorf("changing %s keeps the seed", name)
		}
	}
	if asianSeed(&base, 1001) == seed {
		t.Errorf("changing paths keeps the seed")
	}
}

// TestMCArithmeticAsianConcurrent checks that one engine value prices from
// many goroutines at once, each trade to its own bits (run with -race).
func TestMCArithmeticAsianConcurrent(t *testing.T) {
	m := equityMarket(100, 0.03, 0.01, 0.3)
	e := MCArithmeticAsian{Paths: 2000}
	trades := make([]instrument.Asian, 8)
	want := make([]float64, len(trades))
	for i := range trades {
		trades[i] = asianOn(instrument.Right(i%2), 90+float64(i)*3, instrument.Arithmetic, []int{30, 60, 90})
		res, err := e.Price(&trades[i], m, pricing.Of(pricing.NPV))
		if err != nil {
			t.Fatal(err)
		}
		want[i] = res.NPV
	}
	got := make([]float64, len(trades))
	var wg sync.WaitGroup
	for i := range trades {
		wg.Go(func() {
			res, _ := e.Price(&trades[i], m, pricing.Of(pricing.NPV))
			got[i] = res.NPV
		})
	}
	wg.Wait()
	for i := range trades {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Errorf("trade %d: concurrent %v, alone %v", i, got[i], want[i])
		}
	}
}

// TestMCArithmeticAsianPaths checks the path count: the trade's, else the
// engine's, else DefaultAsianPaths; the standard error falls as 1/sqrt(paths).
func TestMCArithmeticAsianPaths(t *testing.T) {
	m := equityMarket(100, 0.03, 0.01, 0.3)
	o := asianOn(instrument.Put, 100, instrument.Arithmetic, []int{91, 182, 273, 365})
	se := func(e MCArithmeticAsian, paths int) float64 {
		o.Paths = paths
		res, err := e.Price(&o, m, pricing.Of(pricing.NPV))
		if err != nil {
			t.Fatal(err)
		}
		return res.NPVStdErr
	}
	small, large := se(MCArithmeticAsian{}, 10_000), se(MCArithmeticAsian{}, 160_000)
	if r := small / large; r < 3.6 || r > 4.4 {
		t.Errorf("standard error 10,000 paths / 160,000 paths = %.3f, want about 4", r)
	}
	if got := se(MCArithmeticAsian{Paths: 10_000}, 0); got != small {
		t.Errorf("engine Paths 10,000: standard error %v, want %v", got, small)
	}
	if got, want := se(MCArithmeticAsian{}, 0), se(MCArithmeticAsian{}, DefaultAsianPaths); got != want {
		t.Errorf("default paths: standard error %v, want %v", got, want)
	}
	if got := se(MCArithmeticAsian{}, 1); !(got > 0) || math.IsInf(got, 0) {
		t.Errorf("one path: standard error %v, want finite > 0 (eight paths run)", got)
	}
	o.Paths = instrument.MaxPaths + 1
	_, err := MCArithmeticAsian{}.Price(&o, m, pricing.Of(pricing.NPV))
	var in *pricing.InputError
	if !errors.As(err, &in) || in.Field != "paths" {
		t.Errorf("too many paths: error %v, want an InputError on paths", err)
	}
	// Paths times fixings over MaxPathSteps: refused at once, not an
	// hour of a pricer's core (10M paths, 260 fixings; the default paths
	// on a century of daily fixings).
	for _, c := range []struct{ paths, fixings int }{{instrument.MaxPaths, 260}, {0, 36_500}} {
		days := make([]int, c.fixings)
		for i := range days {
			days[i] = 1 + i
		}
		o := asianOn(instrument.Put, 100, instrument.Arithmetic, days)
		o.Paths = c.paths
		if c.paths == 0 && float64(DefaultAsianPaths)*float64(c.fixings) <= instrument.MaxPathSteps {
			t.Fatalf("default paths %d on %d fixings are within the bound: the case tests nothing", DefaultAsianPaths, c.fixings)
		}
		_, err := MCArithmeticAsian{}.Price(&o, m, pricing.Of(pricing.NPV))
		if !errors.As(err, &in) || in.Field != "paths" || !strings.Contains(err.Error(), "fixings") {
			t.Errorf("%d paths on %d fixings: error %v, want an InputError on paths naming the fixings", c.paths, c.fixings, err)
		}
	}
}

// TestMCArithmeticAsianOverflow checks that paths that overflow give an
// error, not a NaN.
func TestMCArithmeticAsianOverflow(t *testing.T) {
	o := asianOn(instrument.Call, 100, instrument.Arithmetic, []int{3650, 36500})
	o.Paths = 1000
	_, err := MCArithmeticAsian{}.Price(&o, equityMarket(100, 0.05, 0, 20), pricing.Of(pricing.NPV))
	if errorField(err) != "market.underlyings.X.vol" {
		t.Errorf("error %v, want a MarketError on the vol", err)
	}
}

// BenchmarkAsianArithmetic prices one 12-fixing arithmetic Asian option
// with DefaultAsianPaths paths per iteration.
func BenchmarkAsianArithmetic(b *testing.B) {
	m := equityMarket(100, 0.03, 0.01, 0.25)
	o := asianOn(instrument.Call, 100, instrument.Arithmetic, []int{30, 61, 91, 122, 152, 183, 213, 244, 274, 305, 335, 365})
	want := pricing.Of(pricing.NPV)
	for b.Loop() {
		if _, err := (MCArithmeticAsian{}).Price(&o, m, want); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMCArithmeticAsianLastFixingBeforeExpiry checks a put whose last
// fixing is five weeks before its expiry, 26 years out, against QuantLib
// 1.29's MCDiscreteArithmeticAPEngine without control variate (2,000,000
// samples, seed 5): 169.2934 ± 0.0427. With its control variate QuantLib
// gives 167.61 ± 0.037, 40 standard errors lower, because it discounts the
// simulated geometric payoff from the last fixing and its closed form from
// expiry (see MCArithmeticAsian); the geometric value is 179.247.
func TestMCArithmeticAsianLastFixingBeforeExpiry(t *testing.T) {
	o := instrument.Asian{
		Option:    instrument.Option{Underlying: "X", Right: instrument.Put, Strike: 2336.801863, Expiry: dates.New(2052, 11, 7)},
		Averaging: instrument.Arithmetic,
		Fixings:   []dates.Date{dates.New(2039, 3, 22), dates.New(2040, 12, 7), dates.New(2044, 6, 14), dates.New(2052, 10, 1)},
	}
	m := equityMarket(834.22227, 0.094414, 0, 0.8)
	res, err := MCArithmeticAsian{}.Price(&o, m, pricing.Of(pricing.NPV))
	if err != nil {
		t.Fatal(err)
	}
	const ql, qlSE = 169.29343181857087, 0.042670252178366855
	if d := math.Abs(res.NPV - ql); d > 4*math.Hypot(res.NPVStdErr, qlSE) || res.NPVStdErr > 2*qlSE {
		t.Errorf("npv %.6f ± %.2g, QuantLib without control variate %.6f ± %.2g", res.NPV, res.NPVStdErr, ql, qlSE)
	}
	geo, err := AnalyticGeometricAsian{}.Price(&instrument.Asian{Option: o.Option, Averaging: instrument.Geometric, Fixings: o.Fixings}, m, pricing.Of(pricing.NPV))
	if err != nil {
		t.Fatal(err)
	}
	if want := 179.24701273506747; !withinAbsOrRel(geo.NPV, want, 1e-10, 1e-12) {
		t.Errorf("geometric npv %.15g, QuantLib %.15g", geo.NPV, want)
	}
}
