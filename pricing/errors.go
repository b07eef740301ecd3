package pricing

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// UnknownError reports a reference to market data that the market lacks.
type UnknownError struct {
	Kind string // "curve" or "underlying"
	Name string
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("pricing: unknown %s %q", e.Kind, e.Name)
}

// InputError reports a contract or market field whose value an engine
// cannot price. Field is the name as the wire format spells it.
type InputError struct {
	Field  string
	Value  any
	Reason string
}

func (e *InputError) Error() string {
	return fmt.Sprintf("%s %s, got %s", e.Field, e.Reason, Shown(e.Value))
}

// maxShown bounds how much of a bad value an error repeats: a 100,000-byte
// field would otherwise come back in full in its trade's result.
const maxShown = 200

// Quoted is a string value that errors show in Go's quotes, as %q does.
type Quoted string

// String is q quoted, whole.
func (q Quoted) String() string { return strconv.Quote(string(q)) }

// Shown is v as an error shows it, cut to 200 bytes (at a character's
// start), then its length. A Quoted value is cut first, then quoted, so
// that its quotes close and the length is its own:
// "XXXX... (100000 bytes)".
func Shown(v any) string {
	if q, ok := v.(Quoted); ok {
		return strconv.Quote(Shown(string(q)))
	}
	s := fmt.Sprint(v)
	if len(s) <= maxShown {
		return s
	}
	cut := maxShown
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes)", s[:cut], len(s))
}

// Invalid returns an *InputError for field with the given value and reason,
// e.g. Invalid("strike", -5.0, "must be > 0").
func Invalid(field string, value any, reason string) error {
	return &InputError{Field: field, Value: value, Reason: reason}
}

// MarketError reports market data that an engine cannot price with: Field
// of the curve or underlying Name, as the wire format names the field
// within that item ("vol", "heston.kappa"), or empty for the item as a
// whole (a curve whose discount factors are not finite). Engines return it
// rather than an *InputError so that the caller, which knows where the item
// sits in its own document, can name the full path.
type MarketError struct {
	Kind   string // "curve" or "underlying"
	Name   string
	Field  string
	Value  any
	Reason string
}

func (e *MarketError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s %s %s, got %s", e.Kind, e.Name, e.Reason, Shown(e.Value))
	}
	return fmt.Sprintf("%s %s: %s %s, got %s", e.Kind, e.Name, e.Field, e.Reason, Shown(e.Value))
}

// UnderlyingInvalid returns a *MarketError on field of the underlying name.
func UnderlyingInvalid(name, field string, value any, reason string) error {
	return &MarketError{Kind: "underlying", Name: name, Field: field, Value: value, Reason: reason}
}

// CurveInvalid returns a *MarketError on the curve name as a whole.
func CurveInvalid(name string, value any, reason string) error {
	return &MarketError{Kind: "curve", Name: name, Value: value, Reason: reason}
}
