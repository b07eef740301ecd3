package market

import (
	"fmt"
	"math"
	"sort"
)

// ZeroCurve interpolates continuously compounded Actual/365 Fixed zero rates
// linearly in time between pillars, as QuantLib's InterpolatedZeroCurve<Linear>
// with extrapolation enabled, built on the valuation date (at the first
// pillar's rate) and the pillars:
//   - before the first pillar the zero rate is the first pillar's, so the
//     instantaneous forward rate is flat there too;
//   - beyond the last pillar the instantaneous forward rate stays flat at
//     its value at the last pillar, f = z_n + t_n·z'(t_n) with z' the slope
//     of the last segment, so z(t) = (z_n·t_n + f·(t - t_n)) / t. This is
//     QuantLib's extrapolation; it is not a flat zero rate unless the last
//     segment is flat.
type ZeroCurve struct {
	times []float64
	rates []float64
	// lastFwd is the instantaneous forward rate at the last pillar, which
	// continues beyond it.
	lastFwd float64
}

// NewZeroCurve returns the curve through the pillars (times[i], rates[i]).
// Times must be strictly increasing and > 0 (the first may be 0: the rate
// at the valuation date), rates finite; at least one pillar.
func NewZeroCurve(times, rates []float64) (*ZeroCurve, error) {
	if len(times) == 0 || len(times) != len(rates) {
		return nil, fmt.Errorf("market: zero curve needs as many rates as times and at least one, got %d times and %d rates", len(times), len(rates))
	}
	for i, t := range times {
		if math.IsNaN(t) || math.IsInf(t, 0) || t < 0 || t == 0 && i > 0 {
			return nil, fmt.Errorf("market: zero curve pillar %d: time must be > 0 (the first may be 0), got %v", i, t)
		}
		if i > 0 && t <= times[i-1] {
			return nil, fmt.Errorf("market: zero curve pillar %d: times must increase, got %v after %v", i, t, times[i-1])
		}
		if r := rates[i]; math.IsNaN(r) || math.IsInf(r, 0) {
			return nil, fmt.Errorf("market: zero curve pillar %d: rate must be finite, got %v", i, r)
		}
	}
	c := &ZeroCurve{times: append([]float64(nil), times...), rates: append([]float64(nil), rates...)}
	n := len(times)
	c.lastFwd = rates[n-1]
	if n > 1 { // with one pillar the curve is flat from time 0
		slope := (rates[n-1] - rates[n-2]) / (times[n-1] - times[n-2])
		c.lastFwd += times[n-1] * slope
	}
	return c, nil
}

// ZeroRate returns the zero rate to time t, in Actual/365 Fixed years.
func (c *ZeroCurve) ZeroRate(t float64) float64 {
	n := len(c.times)
	if t <= c.times[0] {
		return c.rates[0]
	}
	if tn := c.times[n-1]; t > tn {
		zn := c.rates[n-1]
		return (zn*tn + c.lastFwd*(t-tn)) / t
	}
	i := sort.SearchFloat64s(c.times, t) // times[i-1] < t <= times[i]
	t0, t1 := c.times[i-1], c.times[i]
	r0, r1 := c.rates[i-1], c.rates[i]
	return r0 + (r1-r0)*(t-t0)/(t1-t0)
}

// Discount returns exp(-z(t) t).
func (c *ZeroCurve) Discount(t float64) float64 { return math.Exp(-c.ZeroRate(t) * t) }

// PillarRates returns the zero rates at the curve's pillars, in order; the
// caller must not change them.
func (c *ZeroCurve) PillarRates() []float64 { return c.rates }
