package batch

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

// MarshalJSON writes the batch document. The trades, and the curves and
// underlyings that Decode read, are written as the JSON they came in, by
// concatenation: a batch split into chunks (Subset) is not encoded again.
// Market entries set by hand are encoded from their fields.
func (b Batch) MarshalJSON() ([]byte, error) {
	return b.appendJSON(make([]byte, 0, b.sizeHint(0, len(b.Trades))), b.Trades)
}

// AppendJSON appends the batch document to dst, as MarshalJSON writes it,
// without the copy that json.Marshal makes of a MarshalJSON's output to
// check it.
func (b *Batch) AppendJSON(dst []byte) ([]byte, error) {
	return b.appendJSON(slices.Grow(dst, b.sizeHint(0, len(b.Trades))), b.Trades)
}

// AppendChunkJSON appends the JSON of b.Subset(lo, hi) to dst: the chunk
// document that a chunk.requested event carries, built by concatenating
// the bytes Decode validated (trades, curves, underlyings) with no encoder
// in the way. It panics if the range is out of bounds.
func (b *Batch) AppendChunkJSON(dst []byte, lo, hi int) ([]byte, error) {
	c := b.Subset(lo, hi)
	return c.appendJSON(slices.Grow(dst, b.sizeHint(lo, hi)), c.Trades)
}

// sizeHint estimates the bytes of the document of trades [lo, hi).
func (b *Batch) sizeHint(lo, hi int) int {
	n := 256
	for i := lo; i < hi; i++ {
		n += len(b.Trades[i].Raw) + 2
	}
	for _, r := range b.Market.rawCurves {
		n += len(r) + 16
	}
	for _, r := range b.Market.rawUnderlyings {
		n += len(r) + 16
	}
	return n
}

func (b *Batch) appendJSON(dst []byte, trades []Trade) ([]byte, error) {
	dst = append(dst, '{')
	if b.ID != "" {
		dst = append(dst, `"id":`...)
		dst = appendString(dst, b.ID)
		dst = append(dst, ',')
	}
	dst = append(dst, `"valuationDate":`...)
	dst = appendString(dst, b.ValuationDate)
	if len(b.Measures) > 0 {
		dst = append(dst, `,"measures":[`...)
		for i, m := range b.Measures {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, m)
		}
		dst = append(dst, ']')
	}
	if b.Deadline != "" {
		dst = append(dst, `,"deadline":`...)
		dst = appendString(dst, b.Deadline)
	}
	dst = b.Scenarios.appendJSON(dst)
	dst = append(dst, `,"market":{`...)
	var err error
	if dst, err = appendEntries(dst, "curves", b.Market.Curves, b.Market.rawCurves, false); err != nil {
		return nil, err
	}
	if dst, err = appendEntries(dst, "underlyings", b.Market.Underlyings, b.Market.rawUnderlyings, len(b.Market.Curves) > 0); err != nil {
		return nil, err
	}
	if trades == nil {
		return append(dst, `},"trades":null}`...), nil
	}
	dst = append(dst, `},"trades":[`...)
	for i := range trades {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '\n')
		if raw := trades[i].Raw; len(raw) > 0 {
			dst = append(dst, raw...)
		} else {
			dst = append(dst, "null"...)
		}
	}
	return append(dst, "\n]}"...), nil
}

// appendEntries appends the member name of the market section: each entry
// of m by name, as its raw JSON where raw has it.
func appendEntries[V any](dst []byte, name string, m map[string]V, raw map[string][]byte, comma bool) ([]byte, error) {
	if len(m) == 0 {
		return dst, nil
	}
	if comma {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, name...)
	dst = append(dst, `":{`...)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		if r, ok := raw[k]; ok {
			dst = append(dst, r...)
			continue
		}
		enc, err := json.Marshal(m[k])
		if err != nil {
			return nil, fmt.Errorf("batch: marshal %s %q: %w", name, k, err)
		}
		dst = append(dst, enc...)
	}
	return append(dst, '}'), nil
}
