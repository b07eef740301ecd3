package batch

import (
	"bytes"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// largeBatch is a batch of n Europeans laid out as pricefn gen writes it
// (a trade a line), with trade i replaced by edit(i) where edit gives one;
// on one line if oneLine.
func largeBatch(n int, oneLine bool, edit func(i int) string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"valuationDate":"2026-11-25","measures":["npv","delta"],"market":{"curves":{"USD":{"rate":0.05}},` +
		`"underlyings":{"ACME":{"spot":100,"vol":0.25,"curve":"USD"}}},"trades":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if oneLine {
			b.WriteByte(' ') // no seam, at the same offsets
		} else {
			b.WriteByte('\n')
		}
		if s := edit(i); s != "" {
			b.WriteString(s)
			continue
		}
		fmt.Fprintf(&b, `{"id":"E%d","type":"european","underlying":"ACME","right":"call","strike":%d.5,"expiry":"2028-04-25"}`, i, 50+i%100)
	}
	b.WriteString("\n]}")
	return b.Bytes()
}

// TestDecodePlanParallel: DecodePlan reads a large batch's trades on two
// cores and returns what it returns on one (the same document without
// seams), batch faults in either half and across them worded alike; a
// seam that is not a trade's start (inside a trade, after the list) is
// not taken.
func TestDecodePlanParallel(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	const n = 20000
	none := func(int) string { return "" }
	nested := func(i int) string {
		if i < n/2-50 || i > n/2+50 {
			return ""
		}
		// A trade whose terms hold ",\n{" (a swap's legs, say): seams
		// inside it are not trades' starts.
		return fmt.Sprintf(`{"id":"E%d","type":"european","underlying":"ACME","right":"call","strike":1,"expiry":"2028-04-25","x":[{"a":1},`+"\n"+`{"b":2}]}`, i)
	}
	cases := map[string]func(int) string{
		"clean":  none,
		"nested": nested,
		"bad trade in the second half": func(i int) string {
			if i == n*3/4 {
				return `{"id":"E1x","type":"european","strike":}`
			}
			return ""
		},
		"no id in the second half": func(i int) string {
			if i == n*3/4 {
				return `{"type":"european","underlying":"ACME"}`
			}
			return ""
		},
		"no id in both halves": func(i int) string {
			if i == n/4 || i == n*3/4 {
				return `{"type":"european","underlying":"ACME"}`
			}
			return ""
		},
		"id of the first half again in the second": func(i int) string {
			if i == n*3/4 {
				return `{"id":"E7","type":"european","underlying":"ACME","right":"put","strike":1,"expiry":"2028-04-25"}`
			}
			return ""
		},
		"not an object in the second half": func(i int) string {
			if i == n*3/4 {
				return `17`
			}
			return ""
		},
	}
	for name, edit := range cases {
		doc := largeBatch(n, false, edit)
		if len(doc) < 2*parallelMin {
			t.Fatalf("%s: %d bytes, too small to be read on two cores", name, len(doc))
		}
		got, err := DecodePlan(doc)
		want, werr := DecodePlan(largeBatch(n, true, edit))
		if (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
			t.Errorf("%s: on two cores %v, on one %v", name, err, werr)
			continue
		}
		if err != nil {
			continue
		}
		if len(got.Trades) != n || len(want.Trades) != n {
			t.Fatalf("%s: %d and %d trades, want %d", name, len(got.Trades), len(want.Trades), n)
		}
		for i := range got.Trades {
			g, w := got.Trades[i], want.Trades[i]
			if g.ID != w.ID || g.Type != w.Type || g.Underlying != w.Underlying || !reflect.DeepEqual(g.Curves, w.Curves) ||
				!bytes.Equal(g.Raw, w.Raw) || g.quantity != w.quantity || !reflect.DeepEqual(g.terms, w.terms) {
				t.Fatalf("%s: trade %d on two cores %+v, on one %+v", name, i, g, w)
			}
		}
	}
	// The clean batch is read on two cores: its seam is taken.
	doc := largeBatch(n, false, none)
	d := decoder{s: scanner{data: doc, pos: bytes.Index(doc, []byte(`"trades":[`)) + len(`"trades":`)}, plan: true}
	h := d.readSecondHalf()
	if h == nil {
		t.Fatal("no seam found in a batch of a trade a line")
	}
	if rest, ok := h.take(h.seam, 0); !ok || len(rest) < n/3 || doc[h.end] != ']' {
		t.Errorf("second half: %d trades, taken %v, ends at %q", len(rest), ok, doc[h.end])
	}
	// One seam inside a trade: not a trade's start, nothing taken.
	doc = largeBatch(n, false, nested)
	d = decoder{s: scanner{data: doc, pos: bytes.Index(doc, []byte(`"trades":[`)) + len(`"trades":`)}, plan: true}
	if h := d.readSecondHalf(); h != nil && strings.Contains(string(doc[h.seam-40:h.seam]), `"x":[`) {
		if _, ok := h.take(h.seam+1, 0); ok {
			t.Error("a seam taken at another offset than its own")
		}
		h.wait()
	}
}
