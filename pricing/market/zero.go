package market

import (
	"fmt"
	"math"
	"sort"
)

// ZeroCurve interpolates continuously compounded Actual/365 Fixed zero rates
// linearly in time between pillars, flat beyond the first and last, so that
// the rate at time 0 is the first pillar's (QuantLib's ZeroCurve with Linear
// interpolation and flat extrapolation).
type ZeroCurve struct {
	times []float64
	rates []float64
}

// NewZeroCurve returns the curve through the pillars (times[i], rates[i]).
// Times must be strictly increasing and > 0, rates finite; at least one pillar.
func NewZeroCurve(times, rates []float64) (*ZeroCurve, error) {
	if len(times) == 0 || len(times) != len(rates) {
		return nil, fmt.Errorf("market: zero curve needs as many rates as times and at least one, got %d times and %d rates", len(times), len(rates))
	}
	for i, t := range times {
		if math.IsNaN(t) || math.IsInf(t, 0) || t <= 0 {
			return nil, fmt.Errorf("market: zero curve pillar %d: time must be > 0, got %v", i, t)
		}
		if i > 0 && t <= times[i-1] {
			return nil, fmt.Errorf("market: zero curve pillar %d: times must increase, got %v after %v", i, t, times[i-1])
		}
		if r := rates[i]; math.IsNaN(r) || math.IsInf(r, 0) {
			return nil, fmt.Errorf("market: zero curve pillar %d: rate must be finite, got %v", i, r)
		}
	}
	return &ZeroCurve{times: append([]float64(nil), times...), rates: append([]float64(nil), rates...)}, nil
}

// ZeroRate returns the interpolated zero rate to time t.
func (c *ZeroCurve) ZeroRate(t float64) float64 {
	n := len(c.times)
	if t <= c.times[0] {
		return c.rates[0]
	}
	if t >= c.times[n-1] {
		return c.rates[n-1]
	}
	i := sort.SearchFloat64s(c.times, t) // times[i-1] < t <= times[i]
	t0, t1 := c.times[i-1], c.times[i]
	r0, r1 := c.rates[i-1], c.rates[i]
	return r0 + (r1-r0)*(t-t0)/(t1-t0)
}

// Discount returns exp(-z(t) t).
func (c *ZeroCurve) Discount(t float64) float64 { return math.Exp(-c.ZeroRate(t) * t) }
