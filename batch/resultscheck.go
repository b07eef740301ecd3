package batch

import (
	"bytes"
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
type ResultsCheck struct {
	want []string
	rc   resultChecker
	// runStart is the offset of the results array's first byte after its
	// '[', 0 until found; checked the offset up to which its results are
	// checked, just past a seam's comma; searched how far seams were
	// looked for; n the results checked.
	runStart, checked, searched, n int
	// whole is set when the document is to be checked whole, at Finish.
	whole bool
}

// NewResultsCheck returns a check of the results of a batch whose trades
// are want (their ids, in order).
func NewResultsCheck(want []string) *ResultsCheck { return &ResultsCheck{want: want} }

// resultsHead is what comes before a results document's results, within
// headRoom bytes of its start.
const (
	resultsHead = `"results":[`
	headRoom    = 4096
)

// Feed checks the results that doc, the document received so far,
// completes. Each call's doc must extend the one before.
func (c *ResultsCheck) Feed(doc []byte) {
	if c.whole {
		return
	}
	if c.runStart == 0 {
		i := bytes.Index(doc[:min(len(doc), headRoom)], []byte(resultsHead))
		switch {
		case i >= 0:
			c.runStart = i + len(resultsHead)
			c.checked = c.runStart
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
	from := max(c.checked, c.searched-2)
	c.searched = len(doc)
	seam := bytes.LastIndex(doc[from:], []byte(",\n{"))
	if seam < 0 {
		return
	}
	seam += from
	if !c.results(doc[:seam], 0) {
		c.whole = true
		return
	}
	c.checked = seam + 1
}

// results checks the results in data[c.checked:], which must end with
// the last one's closing brace, or with end (']') after white space.
func (c *ResultsCheck) results(data []byte, end byte) bool {
	s := scanner{data: data, pos: c.checked}
	for {
		if c.n == len(c.want) {
			return false
		}
		id, err := c.rc.result(&s, c.n)
		if err != nil || !id.is(c.want[c.n]) {
			return false
		}
		c.n++
		switch s.peek() {
		case ',':
			s.pos++
		case end:
			if end != 0 {
				c.checked = s.pos // at the ']'
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
	if !c.whole && c.runStart > 0 && len(doc) <= maxDocument && c.finishRun(doc) {
		return c.rc.failed, nil
	}
	return c.wholeCheck(doc)
}

// wholeCheck checks doc whole: ScanResultsDocument, and the ids.
func (c *ResultsCheck) wholeCheck(doc []byte) (failed int, err error) {
	sc, err := ScanResultsDocument(doc)
	if err != nil {
		return 0, err
	}
	if len(sc.IDs) != len(c.want) {
		return 0, fmt.Errorf("results hold %d trades, the batch sent %d: they are not this batch's", len(sc.IDs), len(c.want))
	}
	for i, id := range sc.IDs {
		if id != c.want[i] {
			return 0, fmt.Errorf("result %d is for trade %q, the batch sent %q there: they are not this batch's", i, id, c.want[i])
		}
	}
	return sc.Failed, nil
}

// finishRun checks the results after the last seam and the document
// around them: doc without its results must be a results document whose
// results are an empty array where they began. It reports whether all
// passed.
func (c *ResultsCheck) finishRun(doc []byte) bool {
	if len(c.want) > c.n && !c.results(doc, ']') {
		return false
	}
	if c.n != len(c.want) {
		return false
	}
	end := c.checked // the ']', or still the run's start if no result
	if c.n == 0 {
		s := scanner{data: doc, pos: c.runStart}
		if s.peek() != ']' {
			return false
		}
		end = s.pos
	}
	rest := append(doc[:c.runStart:c.runStart], doc[end:]...) // a copy: the head and what follows the results
	at := -1
	found, err := scanMember(rest, "results", func(s *scanner) error {
		s.ws()
		at = s.pos
		return s.array(func(int) error { return fmt.Errorf("not empty") })
	})
	return err == nil && found && at == c.runStart-1
}
