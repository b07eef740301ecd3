package dates

import (
	"fmt"
	"strings"
)

// UnknownNameError reports a wire name that names no day count, calendar,
// business-day convention or frequency. Valid lists the names accepted.
type UnknownNameError struct {
	Kind  string // "day count", "calendar", "convention" or "frequency"
	Name  string
	Valid []string
}

func (e *UnknownNameError) Error() string {
	return fmt.Sprintf("dates: unknown %s %q (valid: %s)", e.Kind, e.Name, strings.Join(e.Valid, ", "))
}

// parseName returns the index i with names[i] == s, or an *UnknownNameError.
// names[0] is the invalid zero value's placeholder and never matches.
func parseName(kind, s string, names []string) (int, error) {
	for i := 1; i < len(names); i++ {
		if names[i] == s {
			return i, nil
		}
	}
	return 0, &UnknownNameError{Kind: kind, Name: s, Valid: append([]string(nil), names[1:]...)}
}

// nameOf returns names[i], or a placeholder for an out-of-range value.
func nameOf(kind string, i int, names []string) string {
	if i > 0 && i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("invalid %s (%d)", kind, i)
}
