package batch

import "math"

// IDs are a batch's trade ids, in order, held as their bytes back to back:
// no pointer for the collector to follow. A client holds its batch's ids
// while the batch is priced and checks the results against them
// (ResultsCheck); held as strings, 100,000 of them were 1.6 MB of pointers
// that the collector marked, and that growing the list copied behind its
// write barrier.
type IDs struct {
	text []byte
	ends []int32 // where each id's bytes end in text
}

// NewIDs returns ids as IDs. It panics if their bytes come to 2 GiB or
// more (a document's ids come to less: it is at most 2 GiB).
func NewIDs(ids []string) IDs {
	var l IDs
	for _, id := range ids {
		l.text = append(l.text, id...)
		l.end()
	}
	return l
}

// add appends id.
func (l *IDs) add(id []byte) {
	l.text = append(l.text, id...)
	l.end()
}

// end ends the id whose bytes were appended to l.text last.
func (l *IDs) end() {
	if len(l.text) > math.MaxInt32 {
		panic("batch: trade ids of 2 GiB or more")
	}
	l.ends = append(l.ends, int32(len(l.text)))
}

// Len returns the number of ids.
func (l IDs) Len() int { return len(l.ends) }

// At returns id i.
func (l IDs) At(i int) string { return string(l.bytes(i)) }

// Is reports whether id i is id.
func (l IDs) Is(i int, id string) bool { return string(l.bytes(i)) == id }

// Strings returns the ids as strings.
func (l IDs) Strings() []string {
	s := make([]string, l.Len())
	for i := range s {
		s[i] = l.At(i)
	}
	return s
}

// bytes returns id i's bytes, which the caller must not change.
func (l IDs) bytes(i int) []byte {
	start := int32(0)
	if i > 0 {
		start = l.ends[i-1]
	}
	return l.text[start:l.ends[i]:l.ends[i]]
}
