package pricing

import "fmt"

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
	return fmt.Sprintf("%s %s, got %v", e.Field, e.Reason, e.Value)
}

// Invalid returns an *InputError for field with the given value and reason,
// e.g. Invalid("strike", -5.0, "must be > 0").
func Invalid(field string, value any, reason string) error {
	return &InputError{Field: field, Value: value, Reason: reason}
}
