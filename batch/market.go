package batch

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/market"
)

// CurveData is one yield curve as the wire format gives it: exactly one of
// a flat rate, zero-rate pillars or bootstrap instruments. Rates are
// continuously compounded, Actual/365 Fixed. Zero rates are linear in time
// between pillars, flat before the first and, beyond the last, continue at
// the instantaneous forward rate of the last pillar, as QuantLib's
// ZeroCurve extrapolates (market.ZeroCurve).
type CurveData struct {
	Rate      *float64        `json:"rate,omitempty"`
	Zeros     []ZeroPillar    `json:"zeros,omitempty"`
	Bootstrap json.RawMessage `json:"bootstrap,omitempty"`
}

func (c *CurveData) setField(k string, v value) (bool, error) {
	switch k {
	case "rate":
		return true, v.num("rate", &c.Rate)
	case "bootstrap":
		if v.kind != kindNull {
			c.Bootstrap = json.RawMessage(v.raw)
		}
		return true, nil
	case "zeros":
		if v.kind == kindNull {
			c.Zeros = nil
			return true, nil
		}
		zs := []ZeroPillar{}
		err := v.elements("zeros", func(i int, e value) error {
			field := fmt.Sprintf("zeros[%d]", i)
			var z ZeroPillar
			err := e.decodeObject(&z)
			var te *typeError
			switch {
			case errors.As(err, &te):
				te.field = joinPath(field, te.field)
			case err != nil:
				return &nestedError{field, err}
			}
			zs = append(zs, z)
			return err
		})
		if err == nil {
			c.Zeros = zs
		}
		return true, err
	}
	return false, nil
}

// ZeroPillar is one point of a zero-rate curve; both fields are required.
type ZeroPillar struct {
	Date string   `json:"date"`
	Rate *float64 `json:"rate"`
}

func (z *ZeroPillar) setField(k string, v value) (bool, error) {
	switch k {
	case "date":
		return true, v.str("date", &z.Date)
	case "rate":
		return true, v.num("rate", &z.Rate)
	}
	return false, nil
}

// buildCurve turns one wire curve into a pricing curve. field is its JSON
// path, for messages. A bootstrapped curve comes from cache, built there
// once (a nil cache builds it), with the estimated cost of its build,
// failed or not (buildCostNS); any other curve's cost is 0.
func buildCurve(field string, c CurveData, asOf dates.Date, cache *CurveCache, scope string) (pricing.YieldCurve, float64, error) {
	forms := 0
	if c.Rate != nil {
		forms++
	}
	if c.Zeros != nil {
		forms++
	}
	if c.Bootstrap != nil {
		forms++
	}
	if forms != 1 {
		return nil, 0, batchErr(field, "must give exactly one of rate, zeros or bootstrap")
	}
	switch {
	case c.Rate != nil:
		if err := pricing.CheckRate("rate", *c.Rate); err != nil {
			return nil, 0, fieldErr(field, err)
		}
		return market.NewFlatCurve(*c.Rate), 0, nil
	case c.Zeros != nil:
		if len(c.Zeros) == 0 {
			return nil, 0, batchErr(field+".zeros", "must list at least one pillar")
		}
		times := make([]float64, len(c.Zeros))
		rates := make([]float64, len(c.Zeros))
		for i, z := range c.Zeros {
			if z.Date == "" {
				// Absent or null: not the date "", which no one gave.
				return nil, 0, batchErr(fmt.Sprintf("%s.zeros[%d].date", field, i), "is required (YYYY-MM-DD)")
			}
			d, err := dates.Parse(z.Date)
			if err != nil {
				return nil, 0, batchErr(fmt.Sprintf("%s.zeros[%d].date", field, i), "%q is not a YYYY-MM-DD date", pricing.Shown(z.Date))
			}
			if d < asOf || d == asOf && i > 0 {
				// The first pillar may be the valuation date (r(0), as
				// QuantLib's ZeroCurve has its first node).
				return nil, 0, batchErr(fmt.Sprintf("%s.zeros[%d].date", field, i), "must be after the valuation date %s (the first pillar may be on it), got %s", asOf, d)
			}
			if err := pricing.CheckHorizon("date", d, asOf); err != nil {
				return nil, 0, fieldErr(fmt.Sprintf("%s.zeros[%d]", field, i), err)
			}
			if i > 0 && d <= mustParse(c.Zeros[i-1].Date) {
				return nil, 0, batchErr(fmt.Sprintf("%s.zeros[%d].date", field, i), "must be after the previous pillar's %s, got %s", c.Zeros[i-1].Date, d)
			}
			if z.Rate == nil {
				return nil, 0, batchErr(fmt.Sprintf("%s.zeros[%d].rate", field, i), "is required")
			}
			if err := pricing.CheckRate("rate", *z.Rate); err != nil {
				return nil, 0, fieldErr(fmt.Sprintf("%s.zeros[%d]", field, i), err)
			}
			times[i] = dates.YearFraction365(asOf, d)
			rates[i] = *z.Rate
		}
		zc, err := market.NewZeroCurve(times, rates)
		if err != nil {
			return nil, 0, &Error{Field: field + ".zeros", Reason: err.Error(), Err: err}
		}
		return zc, 0, nil
	}
	return cache.bootstrap(scope, field+".bootstrap", c.Bootstrap, asOf)
}

// mustParse parses a date already checked by the caller.
func mustParse(s string) dates.Date {
	d, _ := dates.Parse(s)
	return d
}

// underlyingFaults are the faults of an underlying's model data, each of
// which fails only the trades that price on that model: vol those on its
// Black vol, heston its Heston trades (wire-format.md section 1b: a Heston
// trade does not use vol, nor an implied volatility the underlying's).
type underlyingFaults struct {
	vol, heston *Error
}

// buildUnderlying checks one wire underlying. A fault in its spot, curve or
// dividend yield, which every trade on it uses, is the error; one in its
// vol or its Heston model is in faults, the underlying returned without
// that model: a NaN vol, which every engine that reads it refuses, and a
// nil Heston.
func buildUnderlying(field string, u UnderlyingData) (pricing.Underlying, underlyingFaults, error) {
	var faults underlyingFaults
	if u.Spot == nil {
		return pricing.Underlying{}, faults, batchErr(field+".spot", "is required")
	}
	if u.Curve == "" {
		return pricing.Underlying{}, faults, batchErr(field+".curve", "is required (the name of a curve)")
	}
	if err := pricing.CheckAmount("spot", *u.Spot); err != nil {
		return pricing.Underlying{}, faults, fieldErr(field, err)
	}
	if err := pricing.CheckRate("dividendYield", u.DividendYield); err != nil {
		return pricing.Underlying{}, faults, fieldErr(field, err)
	}
	out := pricing.Underlying{Spot: *u.Spot, DividendYield: u.DividendYield, Vol: math.NaN(), Curve: u.Curve}
	if u.Vol == nil {
		faults.vol = batchErr(field+".vol", "is required")
	} else if err := pricing.CheckVol("vol", *u.Vol); err != nil {
		faults.vol = fieldErr(field, err)
	} else {
		out.Vol = *u.Vol
	}
	if h := u.Heston; h != nil {
		p := &pricing.Heston{}
		for _, f := range []struct {
			name string
			v    *float64
			dst  *float64
		}{{"v0", h.V0, &p.V0}, {"kappa", h.Kappa, &p.Kappa}, {"theta", h.Theta, &p.Theta}, {"sigma", h.Sigma, &p.Sigma}, {"rho", h.Rho, &p.Rho}} {
			if f.v == nil {
				faults.heston = batchErr(field+".heston."+f.name, "is required")
				p = nil
				break
			}
			*f.dst = *f.v
		}
		out.Heston = p
	}
	return out, faults, nil
}

// fieldErr turns err, a *pricing.InputError on a field of the object at
// path, into a batch *Error on the field's full path.
func fieldErr(path string, err error) *Error {
	var ie *pricing.InputError
	if errors.As(err, &ie) {
		return &Error{Field: path + "." + ie.Field, Reason: fmt.Sprintf("%s, got %v", ie.Reason, ie.Value), Err: err}
	}
	return &Error{Field: path, Reason: err.Error(), Err: err}
}
