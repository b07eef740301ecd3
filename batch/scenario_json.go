package batch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// jsonMember is one member of a JSON object: its key and raw value.
type jsonMember struct {
	key string
	val json.RawMessage
}

// jsonKind names the JSON kind of raw, for messages.
func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// jsonObject returns the members of the JSON object raw, sorted by key
// (so that of several faults the same one is named first), or nil for
// null. Keys are matched exactly, and one given twice is an error. The
// values are parts of raw, read by the batch scanner (encoding/json's map
// of raw messages made 10,000 scenarios take 160 ms to decode).
func jsonObject(raw []byte) ([]jsonMember, error) {
	switch jsonKind(raw) {
	case "null":
		return nil, nil
	case "object":
	default:
		return nil, fmt.Errorf("must be an object, got JSON %s", jsonKind(raw))
	}
	s := scanner{data: raw, lax: true} // each object's own keys checked here
	var ms members
	if err := s.members(&ms, 1); err != nil {
		return nil, jsonError(err)
	}
	if s.peek() != 0 {
		return nil, jsonError(s.errorf("invalid character %s after object", quoteChar(raw[s.pos])))
	}
	out := make([]jsonMember, len(ms.list))
	for i := range ms.list {
		m := &ms.list[i]
		out[i] = jsonMember{string(ms.key(m)), ms.value(m).raw}
	}
	slices.SortFunc(out, func(a, b jsonMember) int { return strings.Compare(a.key, b.key) })
	return out, nil
}

// jsonArray returns the elements of the JSON array raw (parts of it), or
// nil for null.
func jsonArray(raw []byte) ([]json.RawMessage, error) {
	switch jsonKind(raw) {
	case "null":
		return nil, nil
	case "array":
	default:
		return nil, fmt.Errorf("must be a list, got JSON %s", jsonKind(raw))
	}
	s := scanner{data: raw, lax: true} // each element's keys checked as it is read
	out := []json.RawMessage{}
	err := s.array(func(int) error {
		v, err := s.value(1)
		out = append(out, v.raw)
		return err
	})
	if err == nil && s.peek() != 0 {
		err = s.errorf("invalid character %s after array", quoteChar(raw[s.pos]))
	}
	if err != nil {
		return nil, jsonError(err)
	}
	return out, nil
}

// jsonError words a fault of the JSON's syntax.
func jsonError(err error) error {
	var se *scanError
	if errors.As(err, &se) {
		return fmt.Errorf("malformed JSON: %s", se.msg)
	}
	return err
}

// jsonString reads a JSON string into *dst, or nil for null.
func jsonString(raw []byte, dst **string) error {
	switch jsonKind(raw) {
	case "null":
		*dst = nil
		return nil
	case "string":
	default:
		return fmt.Errorf("must be a string, got JSON %s", jsonKind(raw))
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("malformed JSON: %w", err)
	}
	*dst = &s
	return nil
}

// jsonNumber reads a JSON number that float64 holds.
func jsonNumber(raw []byte) (float64, error) {
	if k := jsonKind(raw); k != "number" {
		return 0, fmt.Errorf("must be a number, got JSON %s", k)
	}
	num := bytes.TrimSpace(raw)
	s := scanner{data: num}
	text := string(num)
	v, err := strconv.ParseFloat(text, 64)
	switch {
	case s.skipNumber() != nil || s.pos != len(num):
		return 0, fmt.Errorf("must be a number, got JSON number %s", text)
	case err != nil || math.IsInf(v, 0):
		return 0, fmt.Errorf("must be a number within a double's range (a magnitude up to 1.8e308), got JSON number %s", text)
	}
	return v, nil
}

// appendJSON appends the members of r to a batch document being written:
// `,"scenarios":[...]`, `,"risk":{...}` and `,"scenarioDetail":...` for
// those set. Scenarios are written from their fields (names sorted), so
// that a chunk's subset (ChunkOf) is written as what it holds.
func (r *ScenarioRun) appendJSON(dst []byte) []byte {
	if r.List != nil {
		dst = append(dst, `,"scenarios":[`...)
		for i := range r.List {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '\n')
			dst = r.List[i].appendJSON(dst)
		}
		dst = append(dst, "\n]"...)
	}
	if r.Risk != nil {
		dst = append(dst, `,"risk":{`...)
		dst = appendConfidences(dst, "var", r.Risk.VaR, false)
		dst = appendConfidences(dst, "es", r.Risk.ES, r.Risk.VaR != nil)
		dst = append(dst, '}')
	}
	if r.Detail != "" {
		dst = append(dst, `,"scenarioDetail":`...)
		dst = appendString(dst, r.Detail)
	}
	return dst
}

func appendConfidences(dst []byte, name string, cs []Confidence, comma bool) []byte {
	if cs == nil {
		return dst
	}
	if comma {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, name...)
	dst = append(dst, `":[`...)
	for i, c := range cs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, c.Text...)
	}
	return append(dst, ']')
}

// appendJSON writes the scenario as the wire format gives it.
func (sc *Scenario) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, sc.ID)
	if sc.Curves != nil {
		dst = append(dst, `,"curves":{`...)
		for i, name := range sortedKeys(sc.Curves) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, name)
			dst = append(dst, `:{"parallel":`...)
			dst = appendFloat(dst, sc.Curves[name].Parallel)
			dst = append(dst, '}')
		}
		dst = append(dst, '}')
	}
	if sc.Underlyings != nil {
		dst = append(dst, `,"underlyings":{`...)
		for i, name := range sortedKeys(sc.Underlyings) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, name)
			dst = append(dst, ':', '{')
			u := sc.Underlyings[name]
			n := 0
			for _, f := range []struct {
				name string
				v    *float64
			}{{"spotRel", u.SpotRel}, {"spotAbs", u.SpotAbs}, {"volAbs", u.VolAbs}, {"volRel", u.VolRel}, {"dividendYieldAbs", u.DividendYieldAbs}} {
				if f.v == nil {
					continue
				}
				if n > 0 {
					dst = append(dst, ',')
				}
				n++
				dst = appendString(dst, f.name)
				dst = append(dst, ':')
				dst = appendFloat(dst, *f.v)
			}
			dst = append(dst, '}')
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// MarshalJSON writes {"var": [...], "es": [...]}, each confidence as the
// batch wrote it.
func (r RiskSpec) MarshalJSON() ([]byte, error) {
	b := append([]byte(nil), '{')
	b = appendConfidences(b, "var", r.VaR, false)
	b = appendConfidences(b, "es", r.ES, r.VaR != nil)
	return append(b, '}'), nil
}

// UnmarshalJSON reads a risk request as a batch's risk field is read.
func (r *RiskSpec) UnmarshalJSON(data []byte) error {
	var run ScenarioRun
	if err := run.decodeRisk(data); err != nil {
		return err
	}
	if run.Risk == nil {
		*r = RiskSpec{}
		return nil
	}
	*r = *run.Risk
	return nil
}
