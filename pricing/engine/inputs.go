package engine

import (
	"fmt"
	"math"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/instrument"
)

// zeroRater is the optional capability of a curve that knows its zero rates
// (market.FlatCurve and market.ZeroCurve do): it spares the engines a
// logarithm of the discount factor.
type zeroRater interface {
	ZeroRate(t float64) float64
}

// shortRateTime is the horizon, in years, at which zeroRate measures the
// short rate when asked for t = 0, as QuantLib's YieldTermStructure::zeroRate.
const shortRateTime = 1e-4

// zeroRate returns the continuously compounded Act/365F zero rate of c to t,
// -ln(c.Discount(t))/t; t = 0 gives the rate to shortRateTime.
func zeroRate(c pricing.YieldCurve, t float64) float64 {
	if z, ok := c.(zeroRater); ok {
		return z.ZeroRate(t)
	}
	if t == 0 {
		t = shortRateTime
	}
	return -math.Log(c.Discount(t)) / t
}

// equity is the Black-Scholes-Merton market of one option: what every
// engine of this package reads from pricing.Market.
type equity struct {
	spot  float64 // underlying price
	q     float64 // continuous dividend yield
	vol   float64 // flat Black volatility, per 1.00
	t     float64 // Act/365F years from the valuation date to expiry, > 0
	r     float64 // continuously compounded Act/365F zero rate to expiry
	curve pricing.YieldCurve
	// curveName names curve in the market, for messages.
	curveName string
}

// loadEquity reads the market of option o from m and checks what the
// Black-Scholes-Merton maths needs of it. The option's own terms must have
// been validated against m.ValuationDate.
func loadEquity(o *instrument.Option, m *pricing.Market) (equity, error) {
	u, c, err := m.Underlying(o.Underlying)
	if err != nil {
		return equity{}, err
	}
	if err := checkUnderlying(o.Underlying, u); err != nil {
		return equity{}, err
	}
	t := m.YearFraction(o.Expiry)
	r := zeroRate(c, t)
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return equity{}, pricing.CurveInvalid(u.Curve, r, fmt.Sprintf("must give a finite zero rate to expiry %s", o.Expiry))
	}
	return equity{spot: u.Spot, q: u.DividendYield, vol: u.Vol, t: t, r: r, curve: c, curveName: u.Curve}, nil
}

// checkUnderlying checks the market data of the underlying called name
// against the limits of package pricing. It allocates only to report a
// fault, a *pricing.MarketError on the underlying's field.
func checkUnderlying(name string, u pricing.Underlying) error {
	err := pricing.CheckAmount("spot", u.Spot)
	if err == nil {
		err = pricing.CheckVol("vol", u.Vol)
	}
	if err == nil {
		err = pricing.CheckRate("dividendYield", u.DividendYield)
	}
	if ie, ok := err.(*pricing.InputError); ok {
		return pricing.UnderlyingInvalid(name, ie.Field, ie.Value, ie.Reason)
	}
	return err
}

// asian is the market of one Asian option: its equity market and, per
// fixing, the time and the log-forward of the underlying.
type asian struct {
	equity
	times  []float64 // Act/365F years from the valuation date to each fixing
	logFwd []float64 // ln(F(t)/S) = -ln DF(t) - q·t at each fixing time t
}

// loadAsian checks o, which must average as avg, against m's valuation
// date and reads its market. It checks the fixings itself as it reads them,
// as instrument.Asian.Validate would but without formatting a field name
// per fixing.
func loadAsian(o *instrument.Asian, avg instrument.Averaging, m *pricing.Market) (asian, error) {
	if o.Averaging != avg {
		return asian{}, pricing.Invalid("averaging", o.Averaging, "must be "+avg.String()+" for this engine")
	}
	if err := o.Option.Validate(m.ValuationDate); err != nil {
		return asian{}, err
	}
	if len(o.Fixings) == 0 {
		return asian{}, pricing.Invalid("fixings", "[]", "must list at least one date")
	}
	in, err := loadEquity(&o.Option, m)
	if err != nil {
		return asian{}, err
	}
	a := asian{equity: in, times: make([]float64, len(o.Fixings)), logFwd: make([]float64, len(o.Fixings))}
	prev := m.ValuationDate
	for i, d := range o.Fixings {
		if d <= prev || d > o.Expiry {
			return asian{}, pricing.Invalid(fmt.Sprintf("fixings[%d]", i), d, fmt.Sprintf("must be after the valuation date %s and the previous fixing, and not after expiry %s", m.ValuationDate, o.Expiry))
		}
		prev = d
		t := m.YearFraction(d)
		a.times[i] = t
		a.logFwd[i] = (zeroRate(in.curve, t) - in.q) * t
		if math.IsNaN(a.logFwd[i]) || math.IsInf(a.logFwd[i], 0) {
			return asian{}, pricing.CurveInvalid(in.curveName, a.logFwd[i], fmt.Sprintf("must give a finite zero rate to fixing %s", d))
		}
	}
	return a, nil
}
