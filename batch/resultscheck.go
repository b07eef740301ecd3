package batch

import (
	"bytes"
	"errors"
	"fmt"
)

// ResultsCheck checks a results document while it arrives: that it is
// what ScanResultsDocument accepts, with one result per trade of a batch,
// in the batch's order. A client fetching the results of a large batch
// feeds it what it has received so far (Feed), and most of the document
// is checked by the time the last byte arrives (Finish).
//
// It reads the results where ResultsWriter lays them out: each on a line
// of its own. A newline is never inside a JSON string, so ",\n{" is a
// seam between two results, and the results before the last seam
// received can be checked without the rest. Whatever does not fit that
// layout (or fails) is left to Finish, which then checks the whole
// document as ScanResultsDocument does: the answer never depends on the
// layout, only the time it takes.
//
// A client that keeps the document elsewhere (in a file) need not hold it
// in memory: FeedFrom and FinishFrom take it a window at a time, and
// Needed says which bytes a window must still hold.
type ResultsCheck struct {
	want IDs
	rc   resultChecker
	// runStart is the offset of the results array's first byte after its
	// '[', 0 until found; checked the offset up to which its results are
	// checked, just past a seam's comma; searched how far seams were
	// looked for; n the results checked.
	runStart, checked, searched, n int
	// whole is set when the document is to be checked whole, at Finish.
	whole bool
	// head is a copy of the document up to runStart, for FinishFrom.
	head []byte
}

// ErrNeedWhole is FinishFrom's answer when the check needs the whole
// document: Finish it.
var ErrNeedWhole = errors.New("batch: the results check needs the whole document")

// NewResultsCheck returns a check of the results of a batch whose trades
// are want (their ids, in order).
func NewResultsCheck(want IDs) *ResultsCheck { return &ResultsCheck{want: want} }

// resultsHead is what comes before a results document's results, within
// headRoom bytes of its start.
const (
	resultsHead = `"results":[`
	headRoom    = 4096
)

// Feed checks the results that doc, the document received so far,
// completes. Each call's doc must extend the one before.
func (c *ResultsCheck) Feed(doc []byte) { c.FeedFrom(doc, 0) }

// FeedFrom is Feed of the document received so far without its first base
// bytes, which earlier calls had: doc[0] is the document's byte at offset
// base. base must not pass Needed.
func (c *ResultsCheck) FeedFrom(doc []byte, base int) {
	if c.whole {
		return
	}
	if c.runStart == 0 {
		if base > 0 {
			c.whole = true
			return
		}
		i := bytes.Index(doc[:min(len(doc), headRoom)], []byte(resultsHead))
		switch {
		case i >= 0:
			c.runStart = i + len(resultsHead)
			c.checked = c.runStart
			c.head = bytes.Clone(doc[:c.runStart])
		case len(doc) >= headRoom:
			c.whole = true
			return
		default:
			return
		}
	}
	// Only the bytes new since the last search (and two before them, a
	// seam may straddle) are searched: a document without seams is not
	// read again at every Feed.
	from := max(c.checked, c.searched-2, base)
	c.searched = base + len(doc)
	seam := bytes.LastIndex(doc[from-base:], []byte(",\n{"))
	if seam < 0 {
		return
	}
	seam += from
	if !c.results(doc[:seam-base], base, 0) {
		c.whole = true
		return
	}
	c.checked = seam + 1
}

// Whole reports whether the check is left to Finish of the whole
// document: it is not laid out as ResultsWriter lays it out, or it fails.
func (c *ResultsCheck) Whole() bool { return c.whole }

// Needed returns the offset of the first byte of the document that the
// check still needs: FeedFrom and FinishFrom may be given the document
// from there on. It is 0 while the check may need the whole document.
func (c *ResultsCheck) Needed() int {
	if c.whole {
		return 0
	}
	return c.checked
}

// results checks the results in data[c.checked-base:] (data begins at the
// document's offset base), which must end with the last one's closing
// brace, or with end (']') after white space.
func (c *ResultsCheck) results(data []byte, base int, end byte) bool {
	s := scanner{data: data, pos: c.checked - base}
	for {
		if c.n == c.want.Len() {
			return false
		}
		id, err := c.rc.result(&s, c.n)
		if err != nil || !id.is(c.want.bytes(c.n)) {
			return false
		}
		c.n++
		switch s.peek() {
		case ',':
			s.pos++
		case end:
			if end != 0 {
				c.checked = base + s.pos // at the ']'
			}
			return true
		default:
			return false
		}
	}
}

// Finish checks what is left of the whole document doc and returns the
// number of results with an error, or why doc is not the batch's results.
func (c *ResultsCheck) Finish(doc []byte) (failed int, err error) {
	if !c.whole && c.runStart > 0 && len(doc) <= maxDocument && c.finishRun(doc, 0) {
		return c.rc.failed, nil
	}
	return c.wholeCheck(doc)
}

// FinishFrom is Finish of the whole document without its first base bytes
// (doc[0] is its byte at offset base; base at most Needed). Where that is
// not enough (the document does not pass, or does not have the layout),
// it returns ErrNeedWhole: Finish the whole document then, which says why.
func (c *ResultsCheck) FinishFrom(doc []byte, base int) (failed int, err error) {
	if base == 0 {
		return c.Finish(doc)
	}
	if size := base + len(doc); size > maxDocument { // as the whole check says
		return 0, resultsTooLarge(size)
	}
	if !c.whole && c.runStart > 0 && base <= c.checked && c.finishRun(doc, base) {
		return c.rc.failed, nil
	}
	c.whole = true
	return 0, ErrNeedWhole
}

// wholeCheck checks doc whole: ScanResultsDocument, and the ids.
func (c *ResultsCheck) wholeCheck(doc []byte) (failed int, err error) {
	sc, err := ScanResultsDocument(doc)
	if err != nil {
		return 0, err
	}
	if sc.IDs.Len() != c.want.Len() {
		return 0, fmt.Errorf("results hold %d trades, the batch sent %d: they are not this batch's", sc.IDs.Len(), c.want.Len())
	}
	for i := range sc.IDs.Len() {
		if !bytes.Equal(sc.IDs.bytes(i), c.want.bytes(i)) {
			return 0, fmt.Errorf("result %d is for trade %q, the batch sent %q there: they are not this batch's", i, sc.IDs.At(i), c.want.At(i))
		}
	}
	return sc.Failed, nil
}

// finishRun checks the results after the last seam and the document
// around them (doc begins at the document's offset base): the document
// without its results must be a results document whose results are an
// empty array where they began. It reports whether all passed.
func (c *ResultsCheck) finishRun(doc []byte, base int) bool {
	if c.want.Len() > c.n && !c.results(doc, base, ']') {
		return false
	}
	if c.n != c.want.Len() {
		return false
	}
	end := c.checked // the ']', or still the run's start if no result
	if c.n == 0 {
		s := scanner{data: doc, pos: c.runStart - base}
		if s.peek() != ']' {
			return false
		}
		end = base + s.pos
	}
	rest := append(c.head[:c.runStart:c.runStart], doc[end-base:]...) // a copy: the head and what follows the results
	at := -1
	found, err := scanMember(rest, "results", func(s *scanner) error {
		s.ws()
		at = s.pos
		return s.array(func(int) error { return fmt.Errorf("not empty") })
	})
	return err == nil && found && at == c.runStart-1
}
