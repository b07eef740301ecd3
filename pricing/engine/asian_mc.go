package engine

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/instrument"
)

// DefaultAsianPaths is the number of Monte Carlo paths MCArithmeticAsian
// simulates for a trade that names none, when the engine's own Paths is 0.
const DefaultAsianPaths = 250_000

// MCArithmeticAsian prices fixed-strike, discretely monitored arithmetic
// average-price options by Monte Carlo, as QuantLib's
// MCDiscreteArithmeticAPEngine with controlVariate=true: the geometric
// average-price option, priced in closed form by AnalyticGeometricAsian's
// formula, is the control variate with coefficient 1. Paths step exactly,
// log-normally, from fixing date to fixing date, and come in antithetic
// pairs. The random numbers are seeded from the trade's own terms, so a
// trade prices to the same bits every time. Market conventions are
// AnalyticEuropean's. The zero value is ready to use and safe for
// concurrent use.
type MCArithmeticAsian struct {
	// Paths is the number of paths for a trade that names none; 0 means
	// DefaultAsianPaths.
	Paths int
}

// setMC is the measure set a Monte Carlo price fills: npv and its standard error.
const setMC = setNPV | pricing.Measures(1)<<pricing.NPVStdErr

// Price returns the npv of one unit of o, floored at 0 as QuantLib does,
// and npvStdErr, the standard error of the estimate. It simulates o.Paths
// paths, or e.Paths, or DefaultAsianPaths, rounded up to an even number and
// at least 4.
func (e MCArithmeticAsian) Price(o *instrument.Asian, m *pricing.Market, want pricing.Measures) (pricing.Result, error) {
	a, err := loadAsian(o, instrument.Arithmetic, m)
	if err != nil {
		return pricing.Result{}, err
	}
	if o.Paths < 0 {
		return pricing.Result{}, pricing.Invalid("paths", o.Paths, "must be >= 0 (0 for the default)")
	}
	paths := o.Paths
	if paths == 0 {
		paths = e.Paths
	}
	if paths <= 0 {
		paths = DefaultAsianPaths
	}
	if paths > instrument.MaxPaths {
		return pricing.Result{}, pricing.Invalid("paths", paths, fmt.Sprintf("must be at most %d", instrument.MaxPaths))
	}
	call := o.Right == instrument.Call
	df := math.Exp(-a.r * a.t)
	p := asianMC{
		call: call, s: a.spot, k: o.Strike, vol: a.vol, df: df,
		times: a.times, logFwd: a.logFwd,
		geo: geometricAsian(call, a.spot, o.Strike, a.vol, a.q, 0, a.t, df, a.times, a.logFwd, false).npv,
	}
	seed := asianSeed(o, paths)
	est := simulateAsian(&p, max((paths+1)/2, 2), rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	if v, se := est.cv.mean, est.cv.stdErr; math.IsNaN(v) || math.IsInf(v, 0) || math.IsNaN(se) || math.IsInf(se, 0) {
		return pricing.Result{}, pricing.Invalid("market.underlyings."+o.Underlying+".vol", a.vol, "is too high for the simulation: path values overflow")
	}
	return pricing.Result{Set: setMC, NPV: max(est.cv.mean, 0), NPVStdErr: est.cv.stdErr}, nil
}

// asianSeed hashes (FNV-1a) the terms of o and the path count into a seed.
func asianSeed(o *instrument.Asian, paths int) uint64 {
	h := fnv.New64a()
	b := make([]byte, 0, 64+8*len(o.Fixings))
	b = append(b, o.Underlying...)
	b = append(b, 0, byte(o.Right))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(o.Strike))
	b = binary.LittleEndian.AppendUint32(b, uint32(o.Expiry))
	b = binary.LittleEndian.AppendUint64(b, uint64(paths))
	for _, f := range o.Fixings {
		b = binary.LittleEndian.AppendUint32(b, uint32(f))
	}
	h.Write(b)
	return h.Sum64()
}

// asianMC is one arithmetic average-price option to simulate.
type asianMC struct {
	call   bool
	s, k   float64 // spot and strike
	vol    float64 // Black volatility
	df     float64 // discount factor from expiry
	times  []float64
	logFwd []float64 // ln(F(t)/s) at each fixing time
	geo    float64   // closed-form value of the geometric option
}

// mcEstimate is a Monte Carlo mean and its standard error.
type mcEstimate struct {
	mean, stdErr float64
}

// asianEstimates are two estimates from the same paths: the price, with the
// geometric control variate, and the geometric option alone, which checks
// the paths against its closed form.
type asianEstimates struct {
	cv, geo mcEstimate
}

// mcStep is one fixing of a path: E[ln(S_i/s)], the standard deviation of
// the log-increment since the previous fixing, and exp(2·E[ln(S_i/s)]).
type mcStep struct {
	mean, sd, refl float64
}

// simulateAsian prices p on pairs antithetic pairs of paths drawn from src.
// Each path is exact: ln S moves by its mean and a Gaussian of the right
// variance from fixing to fixing. The antithetic path mirrors the Gaussians,
// so its fixings are s·exp(2·mean_i)/(S_i/s) and cost no exponential.
// pairs must be >= 2.
func simulateAsian(p *asianMC, pairs int, src rand.Source) asianEstimates {
	n := len(p.times)
	steps := make([]mcStep, n)
	var meanSum, prev float64
	for i, t := range p.times {
		m := p.logFwd[i] - 0.5*p.vol*p.vol*t
		steps[i] = mcStep{mean: m, sd: p.vol * math.Sqrt(t-prev), refl: math.Exp(2 * m)}
		meanSum += m
		prev = t
	}
	rng := rand.New(src)
	invN := 1 / float64(n)
	meanLogG := meanSum * invN
	s, k := p.s, p.k
	payoff := func(avg float64) float64 {
		if p.call {
			return max(avg-k, 0)
		}
		return max(k-avg, 0)
	}
	var cv, ge moments
	for range pairs {
		var w, wSum, up, down float64
		for i := range steps {
			st := &steps[i]
			w += st.sd * rng.NormFloat64()
			e := math.Exp(st.mean + w)
			up += e
			down += st.refl / e
			wSum += w
		}
		a1, a2 := payoff(s*up*invN), payoff(s*down*invN)
		g1 := payoff(s * math.Exp(meanLogG+wSum*invN))
		g2 := payoff(s * math.Exp(meanLogG-wSum*invN))
		cv.add(0.5 * (a1 - g1 + a2 - g2))
		ge.add(0.5 * (g1 + g2))
	}
	cvEst := cv.estimate(p.df)
	cvEst.mean += p.geo
	return asianEstimates{cv: cvEst, geo: ge.estimate(p.df)}
}

// moments accumulates the count, sum and sum of squares of samples.
type moments struct {
	n, sum, sumSq float64
}

// add accumulates the sample x.
func (m *moments) add(x float64) {
	m.n++
	m.sum += x
	m.sumSq += x * x
}

// estimate returns scale times the sample mean and its standard error.
func (m *moments) estimate(scale float64) mcEstimate {
	mean := m.sum / m.n
	variance := max(m.sumSq-m.sum*mean, 0) / (m.n - 1)
	return mcEstimate{mean: scale * mean, stdErr: scale * math.Sqrt(variance/m.n)}
}
