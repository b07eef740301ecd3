package batch

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// resultsDoc is a results document of n results laid out as ResultsWriter
// writes it, every seventh with an error.
func resultsDoc(n int) ([]byte, []string) {
	var b strings.Builder
	ids := make([]string, n)
	b.WriteString(`{"batchId":"b1","results":[`)
	for i := range n {
		ids[i] = fmt.Sprintf("T%d", i)
		if i > 0 {
			b.WriteByte(',')
		}
		if i%7 == 3 {
			fmt.Fprintf(&b, "\n{\"id\":%q,\"error\":\"no market for X\"}", ids[i])
		} else {
			fmt.Fprintf(&b, "\n{\"id\":%q,\"npv\":%d.25,\"delta\":-0.5}", ids[i], i)
		}
	}
	b.WriteString("\n]}\n")
	return []byte(b.String()), ids
}

// feedAll feeds doc to a new check in pieces of random sizes and finishes.
func feedAll(doc []byte, want []string, rng *rand.Rand) (*ResultsCheck, int, error) {
	c := NewResultsCheck(NewIDs(want))
	for n := 0; n < len(doc); {
		n = min(len(doc), n+1+rng.IntN(200))
		c.Feed(doc[:n])
	}
	failed, err := c.Finish(doc)
	return c, failed, err
}

// feedWindows feeds doc to a new check in pieces of random sizes, as a
// reader that keeps only what the check still needs (FeedFrom, Needed)
// does, and finishes with FinishFrom, or with Finish of the whole document
// when it asks for it. It returns the most bytes it held.
func feedWindows(doc []byte, want []string, rng *rand.Rand) (c *ResultsCheck, failed, held int, err error) {
	c = NewResultsCheck(NewIDs(want))
	base := 0
	for n := 0; n < len(doc); {
		n = min(len(doc), n+1+rng.IntN(200))
		base = max(base, c.Needed()) // the bytes before are dropped
		held = max(held, n-base)
		c.FeedFrom(doc[base:n], base)
	}
	base = max(base, c.Needed())
	failed, err = c.FinishFrom(doc[base:], base)
	if errors.Is(err, ErrNeedWhole) {
		failed, err = c.Finish(doc)
	}
	return c, failed, held, err
}

// TestResultsCheckStreams: a document as ResultsWriter lays it out is
// checked as it arrives (everything but the last result before Finish),
// with the whole check's answer.
func TestResultsCheckStreams(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 2, 50, 3000} {
		doc, ids := resultsDoc(n)
		c := NewResultsCheck(NewIDs(ids))
		for k := 0; k < len(doc); {
			k = min(len(doc), k+1+rng.IntN(300))
			c.Feed(doc[:k])
		}
		if c.whole || (n > 1 && c.n != n-1) {
			t.Errorf("%d results: fed whole, %d checked before Finish (whole %v), want %d", n, c.n, c.whole, max(n-1, 0))
		}
		failed, err := c.Finish(doc)
		wantFailed := (n + 3) / 7
		if err != nil || failed != wantFailed || c.whole {
			t.Errorf("%d results: failed %d, %v (whole %v); want %d, no error", n, failed, err, c.whole, wantFailed)
		}
		// A window at a time: what is held is a piece and a result.
		c, failed, held, err := feedWindows(doc, ids, rng)
		if err != nil || failed != wantFailed || c.whole || (n > 50 && held > 400) {
			t.Errorf("%d results a window at a time: failed %d, %v (whole %v), %d bytes held at most; want %d, no error, 400 bytes at most",
				n, failed, err, c.whole, held, wantFailed)
		}
	}
}

// TestResultsCheckAgrees: on documents that are not this batch's results,
// or not laid out as ResultsWriter writes them, the streamed check gives
// the whole check's answer (ScanResultsDocument's and the ids').
func TestResultsCheckAgrees(t *testing.T) {
	doc, ids := resultsDoc(40)
	s := string(doc)
	cases := map[string]string{
		"canonical":        s,
		"pretty":           strings.ReplaceAll(s, ",\n{", ", \n  {"),
		"space in head":    strings.Replace(s, `"results":[`, `"results": [`, 1),
		"results second":   strings.Replace(strings.Replace(s, `{"batchId":"b1",`, `{`, 1), "\n]}", "\n],\"batchId\":\"b1\"}", 1),
		"id changed":       strings.Replace(s, `"T20"`, `"T99"`, 1),
		"result dropped":   strings.Replace(s, "\n{\"id\":\"T21\",\"npv\":21.25,\"delta\":-0.5},", "", 1),
		"last dropped":     strings.Replace(s, ",\n{\"id\":\"T39\",\"npv\":39.25,\"delta\":-0.5}", "", 1),
		"result added":     strings.Replace(s, "\n]}", ",\n{\"id\":\"T40\",\"npv\":1}\n]}", 1),
		"bad value":        strings.Replace(s, `"npv":10.25`, `"npv":"10.25"`, 1),
		"bad json":         strings.Replace(s, `"npv":11.25`, `"npv":11.25,`, 1),
		"unknown key":      strings.Replace(s, `"delta":-0.5}`, `"delta":-0.5,"x":1}`, 1),
		"results twice":    strings.Replace(s, "\n]}", "\n],\"results\":[]}", 1),
		"trailing":         s + "{}",
		"head in a string": strings.Replace(s, `"batchId":"b1"`, `"batchId":"\"results\":["`, 1),
		"nested seam":      strings.Replace(s, `"delta":-0.5}`, "\"cashflows\":[\n{\"a\":1},\n{\"b\":2}]}", 1),
		"not closed":       strings.TrimSuffix(s, "]}\n"),
		"empty":            "",
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for name, d := range cases {
		_, failed, err := feedAll([]byte(d), ids, rng)
		wfailed, werr := NewResultsCheck(NewIDs(ids)).wholeCheck([]byte(d))
		if (err == nil) != (werr == nil) || failed != wfailed || (err != nil && err.Error() != werr.Error()) {
			t.Errorf("%s: streamed %d, %v; whole %d, %v", name, failed, err, wfailed, werr)
		}
		_, failed, _, err = feedWindows([]byte(d), ids, rng)
		if (err == nil) != (werr == nil) || failed != wfailed || (err != nil && err.Error() != werr.Error()) {
			t.Errorf("%s: a window at a time %d, %v; whole %d, %v", name, failed, err, wfailed, werr)
		}
	}
	// Random damage: a byte changed, a newline or a seam inserted.
	for i := range 3000 {
		b := []byte(s)
		at := rng.IntN(len(b))
		switch i % 3 {
		case 0:
			b[at] = "{}[],:\"\n 0a\\"[rng.IntN(12)]
		case 1:
			b = append(b[:at], append([]byte("\n"), b[at:]...)...)
		default:
			b = append(b[:at], append([]byte(",\n{"), b[at:]...)...)
		}
		_, failed, err := feedAll(b, ids, rng)
		wfailed, werr := NewResultsCheck(NewIDs(ids)).wholeCheck(b)
		if (err == nil) != (werr == nil) || failed != wfailed {
			t.Fatalf("%q: streamed %d, %v; whole %d, %v", b, failed, err, wfailed, werr)
		}
		_, failed, _, err = feedWindows(b, ids, rng)
		if (err == nil) != (werr == nil) || failed != wfailed {
			t.Fatalf("%q: a window at a time %d, %v; whole %d, %v", b, failed, err, wfailed, werr)
		}
	}
}
