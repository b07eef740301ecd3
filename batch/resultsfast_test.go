package batch

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// fastResults is a results array whose results change layout now and then:
// Europeans with every greek, FRAs with fewer measures, results with an
// error, with cashflows, with white space, with an escaped id or key.
func fastResults(n int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
		switch {
		case i%41 == 40:
			fmt.Fprintf(&b, `{"id":"S%d","npv":1.5,"cashflows":[{"date":"2027-01-04","amount":2}]}`, i)
		case i%23 == 22:
			fmt.Fprintf(&b, `{"id":"X%d","error":"no market for X"}`, i)
		case i%37 == 36:
			fmt.Fprintf(&b, `{ "id" : "W%d", "npv" : -0.5e-3 }`, i)
		case i%53 == 52:
			fmt.Fprintf(&b, `{"id":"E\u00e9%d","n\u0070v":2}`, i)
		case i%100 >= 70:
			fmt.Fprintf(&b, `{"id":"F%d","npv":%d.125,"pv01":-1E-2,"fairRate":0.031}`, i, i)
		default:
			fmt.Fprintf(&b, `{"id":"E%d","npv":%d.25,"delta":-0.5,"gamma":0.0123,"vega":12,"theta":-1.5e0,"rho":3.25}`, i, i)
		}
	}
	b.WriteString("\n]")
	return b.String()
}

// TestFastResultsAgree: the checker's fast reading of a result laid out
// as the one before gives what reading every result in full gives (the
// scan's ids, failures and run, or the same error) on results whose
// layout changes, and on them damaged at random: a byte changed, a byte
// inserted, a byte dropped. It must also take the fast way most of the
// time, or it tests nothing.
func TestFastResultsAgree(t *testing.T) {
	s := fastResults(150)
	fast, err := scanResults([]byte(s), &resultChecker{})
	full, ferr := scanResults([]byte(s), &resultChecker{full: true})
	if err != nil || ferr != nil || !reflect.DeepEqual(fast, full) || len(fast.IDs) != 150 || fast.Failed != 6 {
		t.Fatalf("fast: %d ids, %d failed, %v; full: %d ids, %v", len(fast.IDs), fast.Failed, err, len(full.IDs), ferr)
	}
	var rc resultChecker
	sc := scanner{data: []byte(s), pos: 1}
	fastOnes := 0
	for i := 0; ; i++ {
		if _, ok := rc.fast(&sc); ok {
			fastOnes++
		} else if _, err := rc.result(&sc, i); err != nil {
			t.Fatal(err)
		}
		if sc.peek() != ',' {
			break
		}
		sc.pos++
	}
	if fastOnes < 100 {
		t.Errorf("%d of 150 results read the fast way, want most", fastOnes)
	}

	rng := rand.New(rand.NewPCG(11, 12))
	const alphabet = "{}[],:\"\n -+.eE019\\ux"
	for i := range 10000 {
		b := []byte(s)
		at := rng.IntN(len(b))
		c := alphabet[rng.IntN(len(alphabet))]
		switch i % 3 {
		case 0:
			b[at] = c
		case 1:
			b = append(b[:at], append([]byte{c}, b[at:]...)...)
		default:
			b = append(b[:at], b[at+1:]...)
		}
		fast, err := scanResults(b, &resultChecker{})
		full, ferr := scanResults(b, &resultChecker{full: true})
		if (err == nil) != (ferr == nil) || (err != nil && err.Error() != ferr.Error()) || !reflect.DeepEqual(fast, full) {
			t.Fatalf("damaged at %d: fast %d ids, %d failed, %v; full %d ids, %d failed, %v", at, len(fast.IDs), fast.Failed, err, len(full.IDs), full.Failed, ferr)
		}
	}
}
