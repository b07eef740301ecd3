package batch

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/pricefn/pricefn/pricing"
)

// Results is the results document: one result per trade, in input order.
type Results struct {
	BatchID string        `json:"batchId"`
	Results []TradeResult `json:"results"`
	// Scenarios and Risk are a scenario run's results (wire format
	// section 1c), nil without scenarios.
	Scenarios []ScenarioResult `json:"scenarios,omitempty"`
	Risk      *RiskResult      `json:"risk,omitempty"`
}

// TradeResult is one trade's outcome: its measures or its error.
type TradeResult struct {
	ID    string
	Error string
	pricing.Result
	// ScenarioNPV is the trade's npv in each scenario, NaN where it
	// failed, under scenarioDetail "trades" (wire format section 1c).
	ScenarioNPV []float64
}

// MarshalJSON writes {"id": ..., then the set measures in measure order} or
// {"id": ..., "error": ...}. Floats are written in the shortest form that
// reads back to the same bits.
func (r TradeResult) MarshalJSON() ([]byte, error) {
	return r.appendJSON(make([]byte, 0, 160))
}

func (r *TradeResult) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = appendString(b, r.ID)
	if r.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, r.Error)
		return append(b, '}'), nil
	}
	// The set measures in measure order: bit m of Set is measure m.
	for set := r.Set; set != 0; set &= set - 1 {
		m := pricing.Measure(bits.TrailingZeros32(uint32(set)))
		if m == pricing.Cashflows {
			cf, err := json.Marshal(r.Cashflows)
			if err != nil {
				return nil, err
			}
			b = append(b, `,"cashflows":`...)
			b = append(b, cf...)
			continue
		}
		v, ok := r.Value(m)
		if !ok {
			continue
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("batch: trade %s: %s is not finite", r.ID, m)
		}
		b = append(b, ',', '"')
		b = append(b, m.String()...)
		b = append(b, '"', ':')
		b = appendFloat(b, v)
	}
	b = appendScenarioNPV(b, r.ScenarioNPV)
	return append(b, '}'), nil
}

// UnmarshalJSON reads a result written by MarshalJSON, in one pass of
// the batch codec's scanner (the aggregator reads every result of every
// chunk). Unknown keys are errors, so that a misspelt measure is not
// silently lost, and so are repeated keys.
func (r *TradeResult) UnmarshalJSON(data []byte) error {
	*r = TradeResult{}
	s := scanner{data: data}
	var seen pricing.Measures
	var sawID, sawError, sawScenarios bool
	err := s.object(func(key []byte) error {
		v, err := s.value(1)
		if err != nil {
			return err
		}
		switch k := string(key); k {
		case "id", "error":
			saw := &sawID
			dst := &r.ID
			if k == "error" {
				saw, dst = &sawError, &r.Error
			}
			if *saw {
				return &duplicateKeyError{k}
			}
			*saw = true
			return v.str("result "+k, dst)
		case "scenarioNpv":
			if sawScenarios {
				return &duplicateKeyError{k}
			}
			sawScenarios = true
			npv, err := parseScenarioNPV(v.raw)
			r.ScenarioNPV = npv
			return err
		default:
			m, err := pricing.ParseMeasure(k)
			if err != nil {
				return fmt.Errorf("result key %q: %w", k, err)
			}
			if seen.Has(m) {
				return &duplicateKeyError{k}
			}
			seen = seen.With(m)
			if m == pricing.Cashflows {
				if err := json.Unmarshal(v.raw, &r.Cashflows); err != nil {
					return fmt.Errorf("result cashflows: %w", err)
				}
				r.Set = r.Set.With(m)
				return nil
			}
			f, err := v.float("result " + k)
			if err != nil {
				return err
			}
			r.SetValue(m, f)
			return nil
		}
	})
	if err == nil && s.peek() != 0 {
		err = errors.New("unexpected data after the result")
	}
	if err != nil {
		var se *scanError
		if errors.As(err, &se) {
			return fmt.Errorf("batch: result: malformed JSON at byte %d: %s", se.off, se.msg)
		}
		return fmt.Errorf("batch: %w", err)
	}
	return nil
}

// MarshalJSON writes the document with one result per line, so that large
// result sets stay readable and diffable.
func (rs Results) MarshalJSON() ([]byte, error) {
	b := appendResultsHead(make([]byte, 0, ResultsSize(rs.Results)), rs.BatchID)
	b, err := AppendResults(b, rs.Results)
	if err != nil {
		return nil, err
	}
	b = append(b, "\n]"...)
	if b, err = appendScenarios(b, rs.Scenarios, rs.Risk); err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// appendResultsHead appends the start of a results document: the batch
// id, left out for a batch without one, and the opening of the results.
func appendResultsHead(b []byte, id string) []byte {
	if id == "" {
		return append(b, `{"results":[`...)
	}
	b = append(b, `{"batchId":`...)
	b = appendString(b, id)
	return append(b, `,"results":[`...)
}

// ResultsSize estimates the bytes of the results document of rs from its
// first result, so that the document is written into one allocation.
func ResultsSize(rs []TradeResult) int {
	if len(rs) == 0 {
		return 64
	}
	first, _ := rs[0].appendJSON(make([]byte, 0, 256))
	// 1/8 more for longer ids and numbers, the separators and the frame.
	return 64 + len(rs)*(len(first)+2)*9/8
}
