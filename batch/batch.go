// Package batch is the wire model of pricefn (shared/spec/wire-format.md
// sections 1 and 2): it decodes a batch of trades and market data strictly,
// compiles it into pricing instruments and market data, prices it in
// parallel and encodes the results. Batch-level faults reject the whole batch
// (*Error); trade-level faults become that trade's error result.
package batch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
}

// MarketData is the market section of a batch.
type MarketData struct {
	Curves      map[string]CurveData      `json:"curves,omitempty"`
	Underlyings map[string]UnderlyingData `json:"underlyings,omitempty"`
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
}

// tradeHeader is what Decode reads of every trade before its type's own
// decoder: the fields every type shares and every field that a registry
// entry may declare as a market reference.
type tradeHeader struct {
	ID            *string       `json:"id"`
	Type          string        `json:"type"`
	Underlying    string        `json:"underlying"`
	Curve         string        `json:"curve"`
	ForecastCurve string        `json:"forecastCurve"`
	Quantity      quantityField `json:"quantity"`
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
// is not a number does not fail the batch, only that trade (Compile).
type quantityField struct {
	set  bool   // given and not null
	num  string // the JSON text of a number
	kind string // the JSON kind of anything else ("string", "object", ...)
}

// UnmarshalJSON keeps the value's text or kind; it never fails.
func (q *quantityField) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*q = quantityField{}
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		*q = quantityField{set: true, num: string(b)}
	default:
		*q = quantityField{set: true, kind: jsonValueKind(b)}
	}
	return nil
}

// jsonValueKind names the kind of the JSON value b, as encoding/json's
// errors do.
func jsonValueKind(b []byte) string {
	switch b[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	}
	return "number"
}

// MarshalJSON writes the trade's raw JSON.
func (t Trade) MarshalJSON() ([]byte, error) {
	if len(t.Raw) == 0 {
		return []byte("null"), nil
	}
	return t.Raw, nil
}

// UnmarshalJSON keeps the raw JSON and reads the shared fields.
func (t *Trade) UnmarshalJSON(b []byte) error {
	var h tradeHeader
	if err := json.Unmarshal(b, &h); err != nil {
		return err
	}
	*t = Trade{Type: h.Type, Raw: append(json.RawMessage(nil), b...), quantity: h.Quantity}
	if h.ID != nil {
		t.ID = *h.ID
	}
	// A trade of an unknown type names nothing: it fails alone (Compile).
	if tt, ok := tradeTypes[h.Type]; ok {
		for _, r := range tt.refs() {
			name, _ := h.ref(r.field)
			switch {
			case name == "":
			case r.kind == underlyingRef:
				t.Underlying = name
			default:
				t.Curves = append(t.Curves, name)
			}
		}
	}
	return nil
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

// Decode reads one batch document strictly: unknown fields are errors, and
// so is anything after the document. It checks the batch's shape (ids
// present and unique, trade types named); Compile checks the rest.
func Decode(r io.Reader) (*Batch, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var b Batch
	if err := dec.Decode((*batchFields)(&b)); err != nil {
		return nil, jsonError(err)
	}
	if dec.More() {
		return nil, batchErr("", "unexpected data after the batch document")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, batchErr("", "unexpected data after the batch document")
	}
	if err := b.checkShape(); err != nil {
		return nil, err
	}
	return &b, nil
}

// DecodeBytes is Decode for a document in memory.
func DecodeBytes(data []byte) (*Batch, error) { return Decode(bytes.NewReader(data)) }

// batchFields is Batch without its methods, for encoding/json to fill.
type batchFields Batch

// UnmarshalJSON decodes a batch embedded in another document (a chunk
// event's data) as strictly as Decode does: unknown fields and a bad shape
// are errors.
func (b *Batch) UnmarshalJSON(data []byte) error {
	nb, err := DecodeBytes(data)
	if err != nil {
		return err
	}
	*b = *nb
	return nil
}

// checkShape checks what Decode promises: a valuation date is given, trades
// are objects with unique non-empty ids and a type.
func (b *Batch) checkShape() error {
	if b.ValuationDate == "" {
		return batchErr("valuationDate", "is required (YYYY-MM-DD)")
	}
	if b.Trades == nil {
		return batchErr("trades", "is required (a list of trades)")
	}
	if len(b.Trades) > MaxTrades {
		return batchErr("trades", "has %d trades, more than the limit of %d", len(b.Trades), MaxTrades)
	}
	seen := make(map[string]int, len(b.Trades))
	for i, t := range b.Trades {
		field := fmt.Sprintf("trades[%d]", i)
		if len(t.Raw) == 0 || t.Raw[0] != '{' {
			return batchErr(field, "must be an object")
		}
		if t.ID == "" {
			return batchErr(field+".id", "is required (a non-empty string)")
		}
		if j, dup := seen[t.ID]; dup {
			return batchErr(field+".id", "duplicate trade id %q (also trades[%d])", t.ID, j)
		}
		seen[t.ID] = i
		if t.Type == "" {
			return batchErr(field+".type", "is required for trade %q", t.ID)
		}
	}
	return nil
}

// jsonError turns an encoding/json error into a batch Error with the field
// path and offending value where json gives them.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return &Error{Reason: fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, syn), Err: err}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(document)"
		}
		return &Error{Field: field, Reason: fmt.Sprintf("must be %s, got JSON %s", jsonKind(typ.Type.Kind().String()), typ.Value), Err: err}
	case errors.Is(err, io.EOF):
		return &Error{Reason: "empty document, want a batch JSON object", Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Reason: "malformed JSON: unexpected end of document", Err: err}
	}
	return &Error{Reason: err.Error(), Err: err}
}

func jsonKind(k string) string {
	switch k {
	case "float64", "float32":
		return "a number"
	case "int", "int64", "int32", "uint", "uint64", "uint32":
		return "a whole number"
	case "string":
		return "a string"
	case "slice":
		return "a list"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	}
	return k
}
