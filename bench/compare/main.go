// Command compare writes the trades of "make bench-compare" (one file per
// figure in -dir, the format bench/quantlib/compare.cpp reads), prices
// them with pricefn's engines on one core and prints one line per figure:
// "figure ns_per_trade checksum extra", CPU time per trade, the sum of the
// trades' npvs, and the mean Monte Carlo standard error where there is
// one. bench/compare.sh runs it and QuantLib's side and prints the table.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/engine"
	"github.com/pricefn/pricefn/pricing/instrument"
	"github.com/pricefn/pricefn/pricing/market"
)

// valDate is the valuation date of every trade, as in the C++ program.
var valDate = dates.New(2026, time.November, 25)

func main() {
	dir := flag.String("dir", "", "directory to write the trade files into (required)")
	minSec := flag.Float64("min", 0.3, "least CPU seconds to time each figure")
	only := flag.String("only", "", "time only this figure (european, barrier, american, asian, heston, swap)")
	flag.Parse()
	if *dir == "" {
		flag.Usage()
		os.Exit(2)
	}
	runtime.GOMAXPROCS(1)
	if err := run(*dir, *minSec, *only); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

// cpu returns the CPU time the process has used.
func cpu() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// timePasses runs pass until minSec seconds of CPU have passed and returns
// CPU nanoseconds per trade.
func timePasses(trades int, minSec float64, pass func()) float64 {
	pass() // warm up
	t0 := cpu()
	passes := 0
	for t := t0; passes == 0 || (t-t0).Seconds() < minSec; t = cpu() {
		pass()
		passes++
	}
	return float64(cpu()-t0) / float64(passes*trades)
}

// figure is one row of the table: its trades as lines of the file name,
// and a pricing of every trade.
type figure struct {
	name  string
	lines []string
	// price prices trade i and returns its npv and Monte Carlo standard
	// error.
	price func(i int) (npv, stderr float64)
	// pass, if set, prices every trade as price does, in one loop without
	// a call through a func value a trade: it is what is timed, where that
	// call would be a tenth of the time (the European).
	pass func()
}

func run(dir string, minSec float64, only string) error {
	rng := rand.New(rand.NewPCG(2026, 11))
	figs := []figure{european(rng, 256), barrier(rng, 256), american(rng, 24), asian(rng, 4), heston(rng, 32), swap(rng, 64)}
	timed := 0
	for _, f := range figs {
		if only != "" && f.name != only {
			continue
		}
		timed++
		if err := writeLines(filepath.Join(dir, f.name+".txt"), f.lines); err != nil {
			return err
		}
		var sum, se float64
		for i := range f.lines {
			v, e := f.price(i)
			sum += v
			se += e
		}
		pass := f.pass
		if pass == nil {
			pass = func() {
				for i := range f.lines {
					f.price(i)
				}
			}
		}
		ns := timePasses(len(f.lines), minSec, pass)
		fmt.Printf("%s %.6g %.15g %.6g\n", f.name, ns, sum, se/float64(len(f.lines)))
		if f.name == "european" {
			// The same pricing against QuantLib's formula alone.
			fmt.Printf("%s %.6g %.15g %.6g\n", "european-formula", ns, sum, 0.0)
		}
	}
	if timed == 0 {
		return fmt.Errorf("no figure %q", only)
	}
	return nil
}

func writeLines(path string, lines []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// between returns a number uniform in [lo, hi), rounded to 4 decimals so
// that both programs read the same double.
func between(rng *rand.Rand, lo, hi float64) float64 {
	x := lo + (hi-lo)*rng.Float64()
	return float64(int64(x*1e4+0.5)) / 1e4
}

func rightOf(rng *rand.Rand) (instrument.Right, string) {
	if rng.IntN(2) == 0 {
		return instrument.Call, "call"
	}
	return instrument.Put, "put"
}

// equityMarket is an empty market for one underlying per trade, each on
// its own flat curve (addEquity).
func equityMarket() *pricing.Market {
	return &pricing.Market{ValuationDate: valDate, Curves: map[string]pricing.YieldCurve{}, Underlyings: map[string]pricing.Underlying{}}
}

func addEquity(m *pricing.Market, i int, s, r, q, vol float64) string {
	name := fmt.Sprintf("U%d", i)
	m.Curves[name] = market.NewFlatCurve(r)
	m.Underlyings[name] = pricing.Underlying{Spot: s, DividendYield: q, Vol: vol, Curve: name}
	return name
}

// european: npv and the five greeks by AnalyticEuropean on the
// underlying's market looked up once, into the result in place
// (PriceInto), as a compiled batch prices.
func european(rng *rand.Rand, n int) figure {
	m := equityMarket()
	opts := make([]instrument.European, n)
	ems := make([]*engine.EquityMarket, n)
	var lines []string
	for i := range n {
		right, rs := rightOf(rng)
		k, r, q, vol, days := between(rng, 70, 130), between(rng, -0.01, 0.06), between(rng, 0, 0.04), between(rng, 0.1, 0.5), 30+rng.IntN(1800)
		name := addEquity(m, i, 100, r, q, vol)
		opts[i] = instrument.European{Option: instrument.Option{Underlying: name, Right: right, Strike: k, Expiry: valDate.AddDays(days)}}
		ems[i] = must(engine.BindEquity(m, name))
		lines = append(lines, fmt.Sprintf("%s 100 %v %v %v %v %d", rs, k, r, q, vol, days))
	}
	want := pricing.Of(pricing.NPV) | pricing.Greeks
	var res pricing.Result
	return figure{name: "european", lines: lines, price: func(i int) (float64, float64) {
		res = pricing.Result{}
		if err := (engine.AnalyticEuropean{}).PriceInto(&res, &opts[i], ems[i], want); err != nil {
			panic(err)
		}
		return res.NPV, 0
	}, pass: func() {
		// The same pricing as price, written out: what is timed has no
		// call between the loop and PriceInto.
		for i := range opts {
			res = pricing.Result{}
			if err := (engine.AnalyticEuropean{}).PriceInto(&res, &opts[i], ems[i], want); err != nil {
				panic(err)
			}
		}
	}}
}

// barrier: npv by AnalyticBarrier.
func barrier(rng *rand.Rand, n int) figure {
	m := equityMarket()
	opts := make([]instrument.Barrier, n)
	types := map[string]instrument.BarrierType{"downIn": instrument.DownIn, "downOut": instrument.DownOut, "upIn": instrument.UpIn, "upOut": instrument.UpOut}
	kinds := []string{"downIn", "downOut", "upIn", "upOut"}
	var lines []string
	for i := range n {
		right, rs := rightOf(rng)
		k, r, q, vol, days := between(rng, 70, 130), between(rng, 0, 0.06), between(rng, 0, 0.04), between(rng, 0.1, 0.5), 30+rng.IntN(1800)
		kind := kinds[rng.IntN(4)]
		level := between(rng, 60, 90)
		if kind[0] == 'u' {
			level = between(rng, 110, 140)
		}
		rebate := float64(rng.IntN(4))
		name := addEquity(m, i, 100, r, q, vol)
		opts[i] = instrument.Barrier{Option: instrument.Option{Underlying: name, Right: right, Strike: k, Expiry: valDate.AddDays(days)},
			Type: types[kind], Level: level, Rebate: rebate}
		lines = append(lines, fmt.Sprintf("%s 100 %v %v %v %v %d %s %v %v", rs, k, r, q, vol, days, kind, level, rebate))
	}
	return figure{name: "barrier", lines: lines, price: func(i int) (float64, float64) {
		return must(engine.AnalyticBarrier{}.Price(&opts[i], m, pricing.Of(pricing.NPV))).NPV, 0
	}}
}

// american: npv, delta, gamma and theta by QdFpAmerican (QuantLib's side
// computes the npv alone, with its high-precision scheme).
func american(rng *rand.Rand, n int) figure {
	m := equityMarket()
	opts := make([]instrument.American, n)
	var lines []string
	for i := range n {
		right, rs := rightOf(rng)
		k, r, q, vol, days := between(rng, 80, 120), between(rng, 0, 0.06), between(rng, 0, 0.04), between(rng, 0.15, 0.45), 30+rng.IntN(700)
		name := addEquity(m, i, 100, r, q, vol)
		opts[i] = instrument.American{Option: instrument.Option{Underlying: name, Right: right, Strike: k, Expiry: valDate.AddDays(days)}}
		lines = append(lines, fmt.Sprintf("%s 100 %v %v %v %v %d", rs, k, r, q, vol, days))
	}
	want := pricing.Of(pricing.NPV, pricing.Delta, pricing.Gamma, pricing.Theta)
	return figure{name: "american", lines: lines, price: func(i int) (float64, float64) {
		return must(engine.QdFpAmerican{}.Price(&opts[i], m, want)).NPV, 0
	}}
}

// asian: arithmetic average price by MCArithmeticAsian, 20,000 paths a
// trade, 12 fixings to expiry (QuantLib's side draws as many samples).
func asian(rng *rand.Rand, n int) figure {
	const paths, fixings = 20_000, 12
	m := equityMarket()
	opts := make([]instrument.Asian, n)
	var lines []string
	for i := range n {
		right, rs := rightOf(rng)
		k, r, q, vol, days := between(rng, 90, 110), between(rng, 0, 0.06), between(rng, 0, 0.04), between(rng, 0.15, 0.4), 180+rng.IntN(550)
		name := addEquity(m, i, 100, r, q, vol)
		a := instrument.Asian{Option: instrument.Option{Underlying: name, Right: right, Strike: k, Expiry: valDate.AddDays(days)},
			Averaging: instrument.Arithmetic, Paths: paths}
		for j := 1; j <= fixings; j++ {
			a.Fixings = append(a.Fixings, valDate.AddDays(days*j/fixings))
		}
		opts[i] = a
		lines = append(lines, fmt.Sprintf("%s 100 %v %v %v %v %d %d %d", rs, k, r, q, vol, days, fixings, paths))
	}
	return figure{name: "asian", lines: lines, price: func(i int) (float64, float64) {
		res := must(engine.MCArithmeticAsian{}.Price(&opts[i], m, pricing.Of(pricing.NPV)))
		return res.NPV, res.NPVStdErr
	}}
}

// heston: npv by AnalyticHeston at its default accuracy.
func heston(rng *rand.Rand, n int) figure {
	m := equityMarket()
	opts := make([]instrument.European, n)
	var lines []string
	for i := range n {
		right, rs := rightOf(rng)
		k, r, q, days := between(rng, 70, 130), between(rng, 0, 0.06), between(rng, 0, 0.04), 30+rng.IntN(1800)
		h := pricing.Heston{V0: between(rng, 0.02, 0.09), Kappa: between(rng, 0.5, 3), Theta: between(rng, 0.02, 0.09), Sigma: between(rng, 0.2, 0.8), Rho: between(rng, -0.9, 0)}
		name := addEquity(m, i, 100, r, q, 0.2)
		u := m.Underlyings[name]
		u.Heston = &h
		m.Underlyings[name] = u
		opts[i] = instrument.European{Option: instrument.Option{Underlying: name, Right: right, Strike: k, Expiry: valDate.AddDays(days)}}
		lines = append(lines, fmt.Sprintf("%s 100 %v %v %v %v %v %v %v %v %d", rs, k, r, q, h.V0, h.Kappa, h.Theta, h.Sigma, h.Rho, days))
	}
	return figure{name: "heston", lines: lines, price: func(i int) (float64, float64) {
		return must(engine.AnalyticHeston{}.Price(&opts[i], m, pricing.Of(pricing.NPV))).NPV, 0
	}}
}

// swap: npv and fair rate by DiscountingSwap: annual 30/360 fixed against
// semiannual ACT/360 floating, weekends only, modified following.
func swap(rng *rand.Rand, n int) figure {
	m := equityMarket()
	swaps := make([]instrument.Swap, n)
	var lines []string
	for i := range n {
		rate, fixed, years := between(rng, 0.01, 0.05), between(rng, 0.01, 0.05), 1+rng.IntN(10)
		side, sideName := instrument.PayFixed, "payFixed"
		if rng.IntN(2) == 1 {
			side, sideName = instrument.ReceiveFixed, "receiveFixed"
		}
		name := fmt.Sprintf("C%d", i)
		m.Curves[name] = market.NewFlatCurve(rate)
		start := valDate.AddDays(2)
		swaps[i] = instrument.Swap{Curve: name, Notional: 1e6, FixedRate: fixed, Start: start, Maturity: start.AddMonths(12 * years), Side: side,
			FixedFrequency: dates.Annual, FixedDayCount: dates.Thirty360, FloatFrequency: dates.Semiannual, FloatDayCount: dates.Act360,
			Calendar: dates.WeekendsOnly, Convention: dates.ModifiedFollowing}
		lines = append(lines, fmt.Sprintf("1000000 %v 2 %d %s %v", fixed, years, sideName, rate))
	}
	want := pricing.Of(pricing.NPV, pricing.FairRate)
	return figure{name: "swap", lines: lines, price: func(i int) (float64, float64) {
		return must(engine.DiscountingSwap{}.Price(&swaps[i], m, want)).NPV, 0
	}}
}
