package batch

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/market"
)

// CurveData is one yield curve as the wire format gives it: exactly one of
// a flat rate, zero-rate pillars or bootstrap instruments.
type CurveData struct {
	Rate      *float64        `json:"rate,omitempty"`
	Zeros     []ZeroPillar    `json:"zeros,omitempty"`
	Bootstrap json.RawMessage `json:"bootstrap,omitempty"`
}

// ZeroPillar is one point of a zero-rate curve.
type ZeroPillar struct {
	Date string  `json:"date"`
	Rate float64 `json:"rate"`
}

// buildCurve turns one wire curve into a pricing curve. field is its JSON
// path, for messages.
func buildCurve(field string, c CurveData, asOf dates.Date) (pricing.YieldCurve, error) {
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
		return nil, batchErr(field, "must give exactly one of rate, zeros or bootstrap")
	}
	switch {
	case c.Rate != nil:
		if math.IsNaN(*c.Rate) || math.IsInf(*c.Rate, 0) {
			return nil, batchErr(field+".rate", "must be a finite number, got %v", *c.Rate)
		}
		return market.NewFlatCurve(*c.Rate), nil
	case c.Zeros != nil:
		if len(c.Zeros) == 0 {
			return nil, batchErr(field+".zeros", "must list at least one pillar")
		}
		times := make([]float64, len(c.Zeros))
		rates := make([]float64, len(c.Zeros))
		for i, z := range c.Zeros {
			d, err := dates.Parse(z.Date)
			if err != nil {
				return nil, batchErr(fmt.Sprintf("%s.zeros[%d].date", field, i), "%q is not a YYYY-MM-DD date", z.Date)
			}
			if d <= asOf {
				return nil, batchErr(fmt.Sprintf("%s.zeros[%d].date", field, i), "must be after the valuation date %s, got %s", asOf, d)
			}
			if i > 0 && d <= mustParse(c.Zeros[i-1].Date) {
				return nil, batchErr(fmt.Sprintf("%s.zeros[%d].date", field, i), "must be after the previous pillar's %s, got %s", c.Zeros[i-1].Date, d)
			}
			times[i] = dates.YearFraction365(asOf, d)
			rates[i] = z.Rate
		}
		zc, err := market.NewZeroCurve(times, rates)
		if err != nil {
			return nil, &Error{Field: field + ".zeros", Reason: err.Error(), Err: err}
		}
		return zc, nil
	}
	return buildBootstrapCurve(field+".bootstrap", c.Bootstrap, asOf)
}

// mustParse parses a date already checked by the caller.
func mustParse(s string) dates.Date {
	d, _ := dates.Parse(s)
	return d
}

// buildUnderlying checks one wire underlying.
func buildUnderlying(field string, u UnderlyingData) (pricing.Underlying, error) {
	if u.Spot == nil {
		return pricing.Underlying{}, batchErr(field+".spot", "is required")
	}
	if u.Vol == nil {
		return pricing.Underlying{}, batchErr(field+".vol", "is required")
	}
	if u.Curve == "" {
		return pricing.Underlying{}, batchErr(field+".curve", "is required (the name of a curve)")
	}
	switch s, v, q := *u.Spot, *u.Vol, u.DividendYield; {
	case !(s > 0) || math.IsInf(s, 0):
		return pricing.Underlying{}, batchErr(field+".spot", "must be > 0, got %v", s)
	case !(v > 0) || math.IsInf(v, 0):
		return pricing.Underlying{}, batchErr(field+".vol", "must be > 0, got %v", v)
	case math.IsNaN(q) || math.IsInf(q, 0):
		return pricing.Underlying{}, batchErr(field+".dividendYield", "must be a finite number, got %v", q)
	}
	return pricing.Underlying{Spot: *u.Spot, DividendYield: u.DividendYield, Vol: *u.Vol, Curve: u.Curve}, nil
}
