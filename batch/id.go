package batch

import (
	"regexp"
	"time"

	"github.com/pricefn/pricefn/pricing"
)

// A batch's own id and deadline are checked where it is decoded, so that
// pricefn price and the pipeline give the same batch the same verdict.
const (
	// MaxBatchID is the longest batch id, in bytes.
	MaxBatchID = 128
	// MinDeadline and MaxDeadline bound a batch's own deadline (the
	// deadlines are swept once a second: a shorter one would not be kept).
	MinDeadline = time.Second
	MaxDeadline = 24 * time.Hour
)

// validBatchID is what a batch id may look like: it travels in URLs,
// event ids and extension values. Its length is checked apart: a bounded
// repeat would compile to a copy of the class per byte.
var validBatchID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]*$`)

// CheckBatchID returns an error unless id is a valid batch id: 1 to
// MaxBatchID letters, digits, '.', '_', ':' or '-', starting with a
// letter or digit.
func CheckBatchID(id string) error {
	if len(id) > MaxBatchID || !validBatchID.MatchString(id) {
		return batchErr("id", "batch id %q: want 1 to %d letters, digits, '.', '_', ':' or '-', starting with a letter or digit", pricing.Shown(id), MaxBatchID)
	}
	return nil
}

// ParseDeadline reads a batch's own deadline, a Go duration from
// MinDeadline to MaxDeadline ("90s").
func ParseDeadline(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < MinDeadline || d > MaxDeadline {
		return 0, batchErr("deadline", "%q: want a Go duration between %s and %s, such as \"90s\"", pricing.Shown(s), MinDeadline, MaxDeadline)
	}
	return d, nil
}
