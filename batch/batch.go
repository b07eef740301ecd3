// Package batch is the wire model of pricefn (shared/spec/wire-format.md
// sections 1 and 2): it decodes a batch of trades and market data strictly,
// compiles it into pricing instruments and market data, prices it in
// parallel and encodes the results. Batch-level faults reject the whole batch
// (*Error); trade-level faults become that trade's error result.
package batch

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Batch is the document a client submits: market data and trades.
// Trades keep their raw JSON, so that a chunk of a batch re-encodes each
// trade exactly as the client sent it.
type Batch struct {
	ID            string   `json:"id,omitempty"`
	ValuationDate string   `json:"valuationDate"`
	Measures      []string `json:"measures,omitempty"`
	// Deadline is how long the pipeline may take over the batch, a Go
	// duration ("90s"); past it the batch ends partial. Empty means the
	// engine's default.
	Deadline string     `json:"deadline,omitempty"`
	Market   MarketData `json:"market"`
	Trades   []Trade    `json:"trades"`
	// Scenarios holds the batch's scenarios, risk and scenarioDetail
	// (wire format section 1c), read and written as top-level fields.
	Scenarios ScenarioRun `json:"-"`
	// array is the array of Trades when newTrades made it, for Release.
	array []Trade
}

// MarketData is the market section of a batch.
type MarketData struct {
	Curves      map[string]CurveData      `json:"curves,omitempty"`
	Underlyings map[string]UnderlyingData `json:"underlyings,omitempty"`
	// rawCurves and rawUnderlyings hold each entry's JSON as Decode read
	// it, for chunks built by concatenation (Batch.ChunkJSON).
	rawCurves, rawUnderlyings map[string][]byte
}

// UnderlyingData is one underlying as the wire format gives it.
type UnderlyingData struct {
	Spot          *float64 `json:"spot"`
	DividendYield float64  `json:"dividendYield,omitempty"`
	Vol           *float64 `json:"vol"`
	Curve         string   `json:"curve"`
	// Heston is the underlying's Heston model, for european trades with
	// "model": "heston" (wire-format.md section 1b).
	Heston *HestonData `json:"heston,omitempty"`
}

func (u *UnderlyingData) setField(k string, v value) (bool, error) {
	switch k {
	case "spot":
		return true, v.num("spot", &u.Spot)
	case "dividendYield":
		return true, v.numv("dividendYield", &u.DividendYield)
	case "vol":
		return true, v.num("vol", &u.Vol)
	case "curve":
		return true, v.str("curve", &u.Curve)
	case "heston":
		if v.kind == kindNull {
			u.Heston = nil
			return true, nil
		}
		h := &HestonData{}
		err := v.decodeObject(h)
		var te *typeError
		switch {
		case errors.As(err, &te):
			te.field = joinPath("heston", te.field)
		case err != nil:
			err = &nestedError{"heston", err}
		}
		u.Heston = h
		return true, err
	}
	return false, nil
}

// HestonData is an underlying's Heston model as the wire format gives it:
// v0, kappa, theta, sigma and rho, all required. Their values are checked
// by the Heston engine, so that a bad one fails only the trades priced
// under it.
type HestonData struct {
	V0    *float64 `json:"v0"`
	Kappa *float64 `json:"kappa"`
	Theta *float64 `json:"theta"`
	Sigma *float64 `json:"sigma"`
	Rho   *float64 `json:"rho"`
}

func (h *HestonData) setField(k string, v value) (bool, error) {
	switch k {
	case "v0":
		return true, v.num("v0", &h.V0)
	case "kappa":
		return true, v.num("kappa", &h.Kappa)
	case "theta":
		return true, v.num("theta", &h.Theta)
	case "sigma":
		return true, v.num("sigma", &h.Sigma)
	case "rho":
		return true, v.num("rho", &h.Rho)
	}
	return false, nil
}

// Trade is one trade: its raw JSON and the fields every trade type shares,
// read from it when the batch is decoded.
type Trade struct {
	ID   string
	Type string
	// Underlying and Curves are the market data the trade names, in the
	// fields its type's registry entry declares as references.
	Underlying string
	Curves     []string
	Raw        json.RawMessage
	// quantity is the trade's quantity as the header read it.
	quantity quantityField
	// terms is the trade decoded by its type's decoder (Decode), or the
	// fault of its own fields that fails it alone (Compile), an error (no
	// type's decoded form is one): one field, not two, in an array of
	// 100,000 trades that is fresh memory (fault).
	terms any
}

// fault returns the fault of the trade's own fields that fails it alone,
// or nil.
func (t *Trade) fault() error {
	err, _ := t.terms.(error)
	return err
}

// tradeHeader is what Decode reads of every trade before its type's own
// decoder: the fields every type shares and every field that a registry
// entry may declare as a market reference.
type tradeHeader struct {
	Type          string
	Underlying    string
	Curve         string
	ForecastCurve string
	Quantity      quantityField
}

// ref returns the header's value of the reference field, and whether the
// header reads that field at all.
func (h *tradeHeader) ref(field string) (string, bool) {
	switch field {
	case "underlying":
		return h.Underlying, true
	case "curve":
		return h.Curve, true
	case "forecastCurve":
		return h.ForecastCurve, true
	}
	return "", false
}

// quantityField is a trade's quantity as the header reads it: a value that
// is not a number does not fail the batch, only that trade (Compile). A
// number is kept as its place in the trade's Raw, not as a string: 8
// bytes where 24 were, in every Trade.
type quantityField struct {
	off  uint32 // where a number starts in the trade's Raw
	set  bool   // given and not null
	kind byte   // the JSON kind of anything else (kindString, ...), 0 for a number
}

// num returns the JSON text of the number q is, in raw, the trade's Raw.
func (q quantityField) num(raw []byte) string {
	end, _ := numberEnd(raw, int(q.off)) // read whole by Decode
	return string(raw[q.off:end])
}

// MarshalJSON writes the trade's raw JSON.
func (t Trade) MarshalJSON() ([]byte, error) {
	if len(t.Raw) == 0 {
		return []byte("null"), nil
	}
	return t.Raw, nil
}

// Error is a fault of the batch as a whole: it cannot be priced at all.
// Field is the JSON path of the fault ("market.curves.USD.rate",
// "trades[3].id") or empty when the document itself is unreadable.
type Error struct {
	Field  string
	Reason string
	Err    error
}

func (e *Error) Error() string {
	if e.Field == "" {
		return "batch: " + e.Reason
	}
	return "batch: " + e.Field + ": " + e.Reason
}

func (e *Error) Unwrap() error { return e.Err }

func batchErr(field, format string, args ...any) *Error {
	return &Error{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// IsBatchError reports whether err rejects a whole batch (a client fault,
// 400 over HTTP) rather than an internal failure.
func IsBatchError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// MaxTrades bounds the trades of one batch.
const MaxTrades = 5_000_000

// batchFields is Batch without its methods, for encoding/json to write.
type batchFields Batch
