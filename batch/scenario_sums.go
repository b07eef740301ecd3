package batch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/pricefn/pricefn/pricing/fsum"
)

// ScenarioPartials are the exact sums of some trades of a batch valued in
// a block of its scenarios: what a scenario chunk's pricer returns instead
// of per-trade vectors, and what the aggregator combines. Sums are exact
// (package fsum), so that partials combined in any grouping and order give
// the same totals to the last bit.
type ScenarioPartials struct {
	// Offset is the index in the batch of the first scenario of the
	// block; Of counts the batch's scenarios.
	Offset, Of int
	// Risk is the batch's risk request, for the aggregator; nil for none.
	Risk *RiskSpec
	// Scenarios holds one entry per scenario of the block, in order.
	Scenarios []ScenarioSums
	// Busy is the CPU time the workers spent on the block (seconds of
	// one core), for the pricer's metrics; not on the wire.
	Busy time.Duration
}

// ScenarioSums are the sums of some trades in one scenario (wire format
// section 1c): over the trades priced in the base market and in the
// scenario, NPV sums their scenario npvs and PnL their scenario npv less
// base npv, ByUnderlying that P&L by the trades' underlying (trades
// without one, rates trades, are in PnL only); Failed counts the trades
// that failed in the scenario or in the base, left out of the sums.
type ScenarioSums struct {
	ID           string
	NPV, PnL     fsum.Sum
	ByUnderlying map[string]*fsum.Sum
	Failed       int
}

// merge adds o's sums to s's.
func (s *ScenarioSums) merge(o *ScenarioSums) {
	s.NPV.Merge(&o.NPV)
	s.PnL.Merge(&o.PnL)
	for u, v := range o.ByUnderlying {
		if s.ByUnderlying == nil {
			s.ByUnderlying = map[string]*fsum.Sum{}
		}
		if s.ByUnderlying[u] == nil {
			s.ByUnderlying[u] = &fsum.Sum{}
		}
		s.ByUnderlying[u].Merge(v)
	}
	s.Failed += o.Failed
}

// partialsWire is ScenarioPartials on the wire: each sum as its partials.
type partialsWire struct {
	Offset    int        `json:"offset"`
	Of        int        `json:"of"`
	Risk      *RiskSpec  `json:"risk,omitempty"`
	Scenarios []sumsWire `json:"scenarios"`
}

type sumsWire struct {
	ID           string               `json:"id"`
	NPV          []float64            `json:"npv"`
	PnL          []float64            `json:"pnl"`
	ByUnderlying map[string][]float64 `json:"byUnderlying,omitempty"`
	Failed       int                  `json:"failed"`
}

// MarshalJSON writes the partials: each sum as the list of its exact
// partials, which read back to the same sum.
func (p ScenarioPartials) MarshalJSON() ([]byte, error) {
	w := partialsWire{Offset: p.Offset, Of: p.Of, Risk: p.Risk, Scenarios: make([]sumsWire, len(p.Scenarios))}
	for i := range p.Scenarios {
		s := &p.Scenarios[i]
		sw := sumsWire{ID: s.ID, NPV: s.NPV.Partials(), PnL: s.PnL.Partials(), Failed: s.Failed}
		if len(s.ByUnderlying) > 0 {
			sw.ByUnderlying = make(map[string][]float64, len(s.ByUnderlying))
			for u, v := range s.ByUnderlying {
				sw.ByUnderlying[u] = v.Partials()
			}
		}
		w.Scenarios[i] = sw
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads partials strictly: unknown fields, a block outside
// its batch's scenarios and negative counts are errors.
func (p *ScenarioPartials) UnmarshalJSON(data []byte) error {
	var w partialsWire
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return fmt.Errorf("batch: scenario partials: %w", err)
	}
	if w.Offset < 0 || w.Of > MaxScenarios || w.Offset+len(w.Scenarios) > w.Of {
		return fmt.Errorf("batch: scenario partials: scenarios [%d, %d) of %d", w.Offset, w.Offset+len(w.Scenarios), w.Of)
	}
	out := ScenarioPartials{Offset: w.Offset, Of: w.Of, Risk: w.Risk, Scenarios: make([]ScenarioSums, len(w.Scenarios))}
	for i, sw := range w.Scenarios {
		if sw.Failed < 0 {
			return fmt.Errorf("batch: scenario partials: scenario %d: failed %d", w.Offset+i, sw.Failed)
		}
		s := ScenarioSums{ID: sw.ID, NPV: fsum.FromPartials(sw.NPV), PnL: fsum.FromPartials(sw.PnL), Failed: sw.Failed}
		if len(sw.ByUnderlying) > 0 {
			s.ByUnderlying = make(map[string]*fsum.Sum, len(sw.ByUnderlying))
			for u, v := range sw.ByUnderlying {
				sum := fsum.FromPartials(v)
				s.ByUnderlying[u] = &sum
			}
		}
		out.Scenarios[i] = s
	}
	*p = out
	return nil
}

// IDs returns partials of p's scenarios with nothing in their sums: what
// is known of a chunk whose sums do not stand (its block's trades were not
// priced in the base market).
func (p *ScenarioPartials) IDs() *ScenarioPartials {
	out := &ScenarioPartials{Offset: p.Offset, Of: p.Of, Risk: p.Risk, Scenarios: make([]ScenarioSums, len(p.Scenarios))}
	for k := range p.Scenarios {
		out.Scenarios[k].ID = p.Scenarios[k].ID
	}
	return out
}

// ScenarioTotals combines the partials of a batch's chunks into its
// scenario results. The sums are exact, so the totals do not depend on the
// order in which partials are added nor on how the work was split.
type ScenarioTotals struct {
	risk *RiskSpec
	sums []ScenarioSums
}

// NewScenarioTotals returns the empty totals of a batch of n scenarios
// whose risk request is risk (nil for none).
func NewScenarioTotals(n int, risk *RiskSpec) *ScenarioTotals {
	return &ScenarioTotals{risk: risk, sums: make([]ScenarioSums, n)}
}

// Len returns the number of scenarios.
func (t *ScenarioTotals) Len() int { return len(t.sums) }

// Add adds a chunk's partials. Partials of another batch (another
// scenario count, or an id that differs from one already seen at the
// same index) are an error.
func (t *ScenarioTotals) Add(p *ScenarioPartials) error {
	if p.Of != len(t.sums) || p.Offset < 0 || p.Offset+len(p.Scenarios) > len(t.sums) {
		return fmt.Errorf("batch: scenario partials for scenarios [%d, %d) of %d, want %d scenarios", p.Offset, p.Offset+len(p.Scenarios), p.Of, len(t.sums))
	}
	for k := range p.Scenarios {
		s := &t.sums[p.Offset+k]
		in := &p.Scenarios[k]
		if s.ID != "" && in.ID != s.ID {
			return fmt.Errorf("batch: scenario %d is %q in one chunk and %q in another", p.Offset+k, s.ID, in.ID)
		}
		s.ID = in.ID
		s.merge(in)
	}
	return nil
}

// AddFailed counts trades that no partial covers in scenarios [lo, hi)
// (their chunk died) as failed there.
func (t *ScenarioTotals) AddFailed(lo, hi, trades int) {
	for s := max(lo, 0); s < min(hi, len(t.sums)); s++ {
		t.sums[s].Failed += trades
	}
}

// ScenarioResult is one scenario's entry in the results document (wire
// format section 1c), its sums rounded once.
type ScenarioResult struct {
	// ID is the scenario's id; "" when no chunk of it arrived (a batch
	// that ended partial), written null.
	ID           string
	NPV, PnL     float64
	ByUnderlying map[string]float64
	Failed       int
}

// RiskResult holds the batch's VaR and ES, each keyed by its confidence
// as the batch wrote it, in the batch's order.
type RiskResult struct {
	VaR, ES []RiskValue
}

// RiskValue is one VaR or ES: a loss, in currency.
type RiskValue struct {
	Confidence string
	Value      float64
}

// Results returns each scenario's result, in input order, and the risk
// statistics over their P&Ls (nil when none was asked for).
func (t *ScenarioTotals) Results() ([]ScenarioResult, *RiskResult) {
	out := make([]ScenarioResult, len(t.sums))
	pnls := make([]float64, len(t.sums))
	for i := range t.sums {
		s := &t.sums[i]
		r := ScenarioResult{ID: s.ID, NPV: s.NPV.Value(), PnL: s.PnL.Value(), Failed: s.Failed, ByUnderlying: map[string]float64{}}
		for u, v := range s.ByUnderlying {
			r.ByUnderlying[u] = v.Value()
		}
		out[i] = r
		pnls[i] = r.PnL
	}
	return out, riskOf(t.risk, pnls)
}

// riskOf computes the VaR and ES of spec from the scenario P&Ls
// (historical simulation, scenarios equally weighted, losses -pnl): with
// k = ceil(N (1 - a)), VaR at a is -(the k-th smallest pnl) and ES at a
// -(the mean of the k smallest), their sum exact and rounded once.
func riskOf(spec *RiskSpec, pnls []float64) *RiskResult {
	if spec == nil {
		return nil
	}
	sorted := slices.Clone(pnls)
	slices.Sort(sorted)
	out := &RiskResult{}
	for _, c := range spec.VaR {
		k := c.TailSize(len(sorted))
		v := math.NaN()
		if k >= 1 && k <= len(sorted) {
			v = -sorted[k-1] + 0
		}
		out.VaR = append(out.VaR, RiskValue{c.Text, v})
	}
	for _, c := range spec.ES {
		k := c.TailSize(len(sorted))
		v := math.NaN()
		if k >= 1 && k <= len(sorted) {
			var s fsum.Sum
			for _, x := range sorted[:k] {
				s.Add(x)
			}
			v = -(s.Value() / float64(k)) + 0
		}
		out.ES = append(out.ES, RiskValue{c.Text, v})
	}
	return out
}

// appendScenarios appends the scenario members of a results document:
// `,"scenarios":[` one scenario a line `]` and `,"risk":{...}` when set.
// Results.MarshalJSON and the aggregator's results stream write them
// alike, so that both documents are the same bytes.
func appendScenarios(b []byte, scs []ScenarioResult, risk *RiskResult) ([]byte, error) {
	if scs == nil && risk == nil {
		return b, nil
	}
	b = append(b, `,"scenarios":[`...)
	for i := range scs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '\n')
		var err error
		if b, err = scs[i].appendJSON(b); err != nil {
			return nil, err
		}
	}
	b = append(b, "\n]"...)
	if risk == nil {
		return b, nil
	}
	b = append(b, `,"risk":`...)
	return risk.appendJSON(b)
}

// appendJSON writes {"var": {confidence: value, ...}, "es": {...}}, each
// list that the batch asked for, in its order.
func (r *RiskResult) appendJSON(b []byte) ([]byte, error) {
	b = append(b, '{')
	var err error
	if b, err = appendRiskValues(b, "var", r.VaR, false); err != nil {
		return nil, err
	}
	if b, err = appendRiskValues(b, "es", r.ES, r.VaR != nil); err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

func appendRiskValues(b []byte, name string, vs []RiskValue, comma bool) ([]byte, error) {
	if vs == nil {
		return b, nil
	}
	if comma {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `":{`...)
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v.Confidence)
		b = append(b, ':')
		if math.IsNaN(v.Value) || math.IsInf(v.Value, 0) {
			return nil, fmt.Errorf("batch: risk %s at %s is not finite", name, v.Confidence)
		}
		b = appendFloat(b, v.Value)
	}
	return append(b, '}'), nil
}

// appendJSON writes {"id", "npv", "pnl", "byUnderlying" (names sorted),
// "failed"}.
func (r *ScenarioResult) appendJSON(b []byte) ([]byte, error) {
	if math.IsNaN(r.NPV+r.PnL) || math.IsInf(r.NPV+r.PnL, 0) {
		return nil, fmt.Errorf("batch: scenario %q: sums are not finite", r.ID)
	}
	b = append(b, `{"id":`...)
	if r.ID == "" {
		b = append(b, "null"...)
	} else {
		b = appendString(b, r.ID)
	}
	b = append(b, `,"npv":`...)
	b = appendFloat(b, r.NPV)
	b = append(b, `,"pnl":`...)
	b = appendFloat(b, r.PnL)
	b = append(b, `,"byUnderlying":{`...)
	for i, u := range sortedKeys(r.ByUnderlying) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, u)
		b = append(b, ':')
		v := r.ByUnderlying[u]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("batch: scenario %q: P&L of %s is not finite", r.ID, u)
		}
		b = appendFloat(b, v)
	}
	b = append(b, `},"failed":`...)
	b = appendInt(b, r.Failed)
	return append(b, '}'), nil
}

func appendInt(b []byte, n int) []byte { return fmt.Appendf(b, "%d", n) }

// MarshalJSON writes the scenario's entry as a results document has it.
func (r ScenarioResult) MarshalJSON() ([]byte, error) { return r.appendJSON(nil) }

// UnmarshalJSON reads a scenario entry; a null id reads as "".
func (r *ScenarioResult) UnmarshalJSON(data []byte) error {
	var w struct {
		ID           *string            `json:"id"`
		NPV          float64            `json:"npv"`
		PnL          float64            `json:"pnl"`
		ByUnderlying map[string]float64 `json:"byUnderlying"`
		Failed       int                `json:"failed"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return fmt.Errorf("batch: scenario result: %w", err)
	}
	*r = ScenarioResult{NPV: w.NPV, PnL: w.PnL, ByUnderlying: w.ByUnderlying, Failed: w.Failed}
	if w.ID != nil {
		r.ID = *w.ID
	}
	return nil
}

// MarshalJSON writes {"var": {confidence: value, ...}, "es": {...}}, the
// confidences in the batch's order.
func (r RiskResult) MarshalJSON() ([]byte, error) { return r.appendJSON(nil) }

// UnmarshalJSON reads a risk object, keeping the confidences' order.
func (r *RiskResult) UnmarshalJSON(data []byte) error {
	ms, err := jsonObject(data)
	if err != nil {
		return fmt.Errorf("batch: risk: %w", err)
	}
	*r = RiskResult{}
	for _, m := range ms {
		var dst *[]RiskValue
		switch m.key {
		case "var":
			dst = &r.VaR
		case "es":
			dst = &r.ES
		default:
			return fmt.Errorf("batch: risk: unknown field %q", m.key)
		}
		vs, err := jsonObject(m.val)
		if err != nil {
			return fmt.Errorf("batch: risk.%s: %w", m.key, err)
		}
		*dst = []RiskValue{}
		for _, v := range vs {
			f, err := jsonNumber(v.val)
			if err != nil {
				return fmt.Errorf("batch: risk.%s.%s: %w", m.key, v.key, err)
			}
			*dst = append(*dst, RiskValue{v.key, f})
		}
	}
	return nil
}

// errNoScenarios is the error of scenario pricing asked of a job without
// scenarios.
var errNoScenarios = errors.New("batch: the batch has no scenarios")

// appendScenarioNPV appends a trade result's `,"scenarioNpv":[...]`, null
// where the trade failed; nothing for no scenarios.
func appendScenarioNPV(b []byte, vs []float64) []byte {
	if vs == nil {
		return b
	}
	b = append(b, `,"scenarioNpv":[`...)
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			b = append(b, "null"...)
			continue
		}
		b = appendFloat(b, v)
	}
	return append(b, ']')
}

// parseScenarioNPV reads a result's scenarioNpv: numbers, null (NaN) where
// the trade failed.
func parseScenarioNPV(raw []byte) ([]float64, error) {
	var ps []*float64
	if err := json.Unmarshal(raw, &ps); err != nil {
		return nil, fmt.Errorf("batch: result scenarioNpv: %w", err)
	}
	out := make([]float64, len(ps))
	for i, p := range ps {
		out[i] = math.NaN()
		if p != nil {
			out[i] = *p
		}
	}
	return out, nil
}

// SetScenarios makes Close end the document with the scenario members, as
// Results.MarshalJSON writes them after the results: scs in input order
// and risk (nil for none).
func (rw *ResultsWriter) SetScenarios(scs []ScenarioResult, risk *RiskResult) error {
	tail, err := appendScenarios(nil, scs, risk)
	if err != nil {
		return err
	}
	rw.tail = tail
	return nil
}
