package batch

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/pricefn/pricefn/pricing"
)

// MaxScenarios bounds the scenarios of one batch (wire format section 1c).
const MaxScenarios = 10_000

// MaxScenarioDetail bounds trades x scenarios of a batch that asks for
// scenarioDetail "trades": each of those npvs is in its results document
// (some 20 bytes each).
const MaxScenarioDetail = 10_000_000

// The bounds on scenario shifts: beyond them a shift is no market move but
// a typo, and a batch error naming it. A shift within them that makes a
// market invalid (a negative spot or vol) fails the trades that use that
// market in that scenario only.
const (
	// MaxRelShift bounds |spotRel| and |volRel| (10 is +1000%).
	MaxRelShift = 10.0
)

// ScenarioRun is what a batch asks of scenarios (wire format section 1c):
// the shifted markets to revalue the portfolio in, the risk statistics to
// compute from the revaluations, and whether each trade's result lists its
// npv in every scenario. The zero value asks for nothing.
type ScenarioRun struct {
	// List holds the scenarios, in input order.
	List []Scenario
	// Risk holds the VaR and ES confidences; nil asks for none.
	Risk *RiskSpec
	// Detail is the batch's scenarioDetail: "trades" gives each trade's
	// result its scenarioNpv; "" none.
	Detail string
}

// DetailTrades is the scenarioDetail that gives each trade's result its
// npv in every scenario.
const DetailTrades = "trades"

// Scenario is one market scenario: shifts of curves and underlyings by
// name, "*" for every curve (underlying) without an entry of its own.
type Scenario struct {
	ID          string
	Curves      map[string]CurveShift
	Underlyings map[string]UnderlyingShift
}

// CurveShift is the shift of one curve: every continuously compounded
// Act/365F zero rate moves by Parallel (0.0001 is +1bp).
type CurveShift struct {
	Parallel float64
}

// UnderlyingShift is the shift of one underlying; nil fields move
// nothing. At most one of SpotRel (spot x (1 + x)) and SpotAbs (spot + x),
// and one of VolAbs (vol + x) and VolRel (vol x (1 + x)), are set;
// DividendYieldAbs adds to the dividend yield. Vol shifts move the Black
// vol only, not a Heston model.
type UnderlyingShift struct {
	SpotRel, SpotAbs, VolAbs, VolRel, DividendYieldAbs *float64
}

// RiskSpec lists the confidences of the VaR and ES a batch asks for.
type RiskSpec struct {
	VaR, ES []Confidence
}

// Confidence is a VaR or ES confidence level a: 0 < a < 1 with at most 6
// decimals, kept as written (it keys the result) and as the integer
// a x 10^6, from which the tail size k is computed exactly.
type Confidence struct {
	// Text is the JSON number as the batch wrote it ("0.99").
	Text string
	// Micro is a x 10^6, an integer in (0, 10^6).
	Micro int64
}

// TailSize returns k = ceil(n (1 - a)), the number of scenarios in the
// tail at confidence c among n, in integer arithmetic (wire format section
// 1c): for n = 1000 and a = 0.99 it is 10, where float64 would give 11.
func (c Confidence) TailSize(n int) int {
	const million = 1_000_000
	return int((int64(n)*(million-c.Micro) + million - 1) / million)
}

// parseConfidence reads a confidence from the text of a JSON number.
func parseConfidence(text string) (Confidence, error) {
	r, ok := new(big.Rat).SetString(text)
	if !ok {
		return Confidence{}, fmt.Errorf("must be a number, got %s", text)
	}
	r.Mul(r, big.NewRat(1_000_000, 1))
	if !r.IsInt() {
		return Confidence{}, fmt.Errorf("must have at most 6 decimals, got %s", text)
	}
	if r.Sign() <= 0 || r.Cmp(big.NewRat(1_000_000, 1)) >= 0 {
		return Confidence{}, fmt.Errorf("must be strictly between 0 and 1, got %s", text)
	}
	return Confidence{Text: text, Micro: r.Num().Int64()}, nil
}

// decodeField reads the top-level batch field key ("scenarios", "risk" or
// "scenarioDetail") from its raw JSON, strictly: unknown fields, keys
// given twice, values of the wrong kind and bad values are *Errors naming
// the field ("scenarios[3].underlyings.X.spotRel").
func (r *ScenarioRun) decodeField(key string, raw []byte) error {
	switch key {
	case "scenarios":
		return r.decodeScenarios(raw)
	case "risk":
		return r.decodeRisk(raw)
	case "scenarioDetail":
		var s *string
		if err := jsonString(raw, &s); err != nil {
			return batchErr(key, "%v", err)
		}
		if s != nil && *s != DetailTrades && *s != "" {
			return batchErr(key, "must be %q, or \"\" or absent for the sums alone, got %q", DetailTrades, pricing.Shown(*s))
		}
		if s != nil {
			r.Detail = *s
		}
		return nil
	}
	return batchErr("", "unknown field %q", pricing.Shown(key))
}

func (r *ScenarioRun) decodeScenarios(raw []byte) error {
	elems, err := jsonArray(raw)
	if err != nil {
		return batchErr("scenarios", "%v", err)
	}
	if elems == nil {
		r.List = nil
		return nil
	}
	if len(elems) > MaxScenarios {
		return batchErr("scenarios", "has %d scenarios, more than the limit of %d", len(elems), MaxScenarios)
	}
	list := make([]Scenario, len(elems))
	ids := make(map[string]int, len(elems))
	for i, e := range elems {
		path := "scenarios[" + strconv.Itoa(i) + "]"
		if err := list[i].decode(path, e); err != nil {
			return err
		}
		if j, dup := ids[list[i].ID]; dup {
			return batchErr(path+".id", "duplicate scenario id %q (also scenarios[%d])", list[i].ID, j)
		}
		ids[list[i].ID] = i
	}
	r.List = list
	return nil
}

// decode reads one scenario, the JSON object raw at path.
func (sc *Scenario) decode(path string, raw []byte) error {
	ms, err := jsonObject(raw)
	if err != nil {
		return batchErr(path, "%v", err)
	}
	if ms == nil {
		return batchErr(path, "must be an object, got JSON null")
	}
	var hasID bool
	for _, m := range ms {
		field := path + "." + pricing.Shown(m.key)
		switch m.key {
		case "id":
			var s *string
			if err := jsonString(m.val, &s); err != nil {
				return batchErr(field, "%v", err)
			}
			if s != nil {
				sc.ID, hasID = *s, true
			}
		case "curves":
			err = decodeNamed(field, m.val, &sc.Curves, func(f string, e []jsonMember) (CurveShift, error) {
				var c CurveShift
				for _, m := range e {
					switch m.key {
					case "parallel":
						v, err := shiftValue(f+".parallel", m.val, pricing.MaxRate)
						if err != nil {
							return c, err
						}
						if v != nil {
							c.Parallel = *v
						}
					default:
						return c, batchErr(f, "unknown field %q (a curve shift has parallel)", pricing.Shown(m.key))
					}
				}
				return c, nil
			})
		case "underlyings":
			err = decodeNamed(field, m.val, &sc.Underlyings, decodeUnderlyingShift)
		default:
			return batchErr(path, "unknown field %q (a scenario has id, curves and underlyings)", pricing.Shown(m.key))
		}
		if err != nil {
			return err
		}
	}
	if !hasID || sc.ID == "" {
		return batchErr(path+".id", "is required (a non-empty string)")
	}
	if len(sc.ID) > MaxTradeID {
		// As a trade's: it comes back in the results and the console.
		return batchErr(path+".id", "is %d bytes, more than the %d a scenario id may have", len(sc.ID), MaxTradeID)
	}
	return nil
}

// decodeUnderlyingShift reads the shift of one underlying, the members e
// of the object at field f.
func decodeUnderlyingShift(f string, e []jsonMember) (UnderlyingShift, error) {
	var u UnderlyingShift
	for _, m := range e {
		var dst **float64
		limit := MaxRelShift
		switch m.key {
		case "spotRel":
			dst = &u.SpotRel
		case "spotAbs":
			dst, limit = &u.SpotAbs, pricing.MaxAmount
		case "volAbs":
			dst, limit = &u.VolAbs, pricing.MaxVol
		case "volRel":
			dst = &u.VolRel
		case "dividendYieldAbs":
			dst, limit = &u.DividendYieldAbs, pricing.MaxRate
		default:
			return u, batchErr(f, "unknown field %q (an underlying shift has spotRel, spotAbs, volAbs, volRel and dividendYieldAbs)", pricing.Shown(m.key))
		}
		v, err := shiftValue(f+"."+m.key, m.val, limit)
		if err != nil {
			return u, err
		}
		*dst = v
	}
	if u.SpotRel != nil && u.SpotAbs != nil {
		return u, batchErr(f, "gives both spotRel and spotAbs: at most one spot shift")
	}
	if u.VolAbs != nil && u.VolRel != nil {
		return u, batchErr(f, "gives both volAbs and volRel: at most one vol shift")
	}
	return u, nil
}

// shiftValue reads a shift: a number with |x| <= limit, or null (none).
func shiftValue(field string, raw []byte, limit float64) (*float64, error) {
	if string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	v, err := jsonNumber(raw)
	if err != nil {
		return nil, batchErr(field, "%v", err)
	}
	if math.Abs(v) > limit {
		return nil, batchErr(field, "must be between %g and %g, got %v", -limit, limit, v)
	}
	return &v, nil
}

// decodeNamed reads an object of named shifts at field into *dst, each
// entry an object read by entry; null is none.
func decodeNamed[T any](field string, raw []byte, dst *map[string]T, entry func(f string, e []jsonMember) (T, error)) error {
	ms, err := jsonObject(raw)
	if err != nil {
		return batchErr(field, "%v", err)
	}
	if ms == nil {
		*dst = nil
		return nil
	}
	out := make(map[string]T, len(ms))
	for _, m := range ms {
		f := field + "." + pricing.Shown(m.key)
		e, err := jsonObject(m.val)
		if err != nil {
			return batchErr(f, "%v", err)
		}
		if e == nil {
			return batchErr(f, "must be an object, got JSON null")
		}
		if out[m.key], err = entry(f, e); err != nil {
			return err
		}
	}
	*dst = out
	return nil
}

func (r *ScenarioRun) decodeRisk(raw []byte) error {
	ms, err := jsonObject(raw)
	if err != nil {
		return batchErr("risk", "%v", err)
	}
	if ms == nil {
		r.Risk = nil
		return nil
	}
	spec := &RiskSpec{}
	for _, m := range ms {
		var dst *[]Confidence
		switch m.key {
		case "var":
			dst = &spec.VaR
		case "es":
			dst = &spec.ES
		default:
			return batchErr("risk", "unknown field %q (risk has var and es)", pricing.Shown(m.key))
		}
		elems, err := jsonArray(m.val)
		if err != nil {
			return batchErr("risk."+m.key, "%v", err)
		}
		seen := map[int64]int{} // by value: 0.5 and 0.50 are one confidence
		for i, e := range elems {
			f := fmt.Sprintf("risk.%s[%d]", m.key, i)
			text := string(bytes.TrimSpace(e))
			if _, err := jsonNumber(e); err != nil {
				return batchErr(f, "%v", err)
			}
			c, err := parseConfidence(text)
			if err != nil {
				return batchErr(f, "%v", err)
			}
			if j, dup := seen[c.Micro]; dup {
				return batchErr(f, "confidence %s given twice (also risk.%s[%d])", text, m.key, j)
			}
			seen[c.Micro] = i
			*dst = append(*dst, c)
		}
	}
	r.Risk = spec
	return nil
}

// only returns sc with the shifts of the curves and underlyings that m
// has, and the "*" entries: the scenario as a chunk carrying part of the
// market applies it, to the same effect.
func (sc *Scenario) only(m *MarketData) Scenario {
	out := Scenario{ID: sc.ID}
	if sc.Curves != nil {
		out.Curves = map[string]CurveShift{}
		for name, s := range sc.Curves {
			if _, ok := m.Curves[name]; ok || name == "*" {
				out.Curves[name] = s
			}
		}
	}
	if sc.Underlyings != nil {
		out.Underlyings = map[string]UnderlyingShift{}
		for name, s := range sc.Underlyings {
			if _, ok := m.Underlyings[name]; ok || name == "*" {
				out.Underlyings[name] = s
			}
		}
	}
	return out
}
