package batch

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
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
	full, ferr := scanResults([]byte(s), &resultChecker{ms: members{full: true}})
	if err != nil || ferr != nil || !reflect.DeepEqual(fast, full) || fast.IDs.Len() != 150 || fast.Failed != 6 {
		t.Fatalf("fast: %d ids, %d failed, %v; full: %d ids, %v", fast.IDs.Len(), fast.Failed, err, full.IDs.Len(), ferr)
	}
	var rc resultChecker
	sc := scanner{data: []byte(s), pos: 1}
	fastOnes := 0
	for i := 0; ; i++ {
		if _, end, ok := rc.shape.fill(sc.data, skipWS(sc.data, sc.pos), nil); ok {
			sc.pos = end
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
	for i := range 10000 {
		b, at := damage(s, i, rng)
		fast, err := scanResults(b, &resultChecker{})
		full, ferr := scanResults(b, &resultChecker{ms: members{full: true}})
		if (err == nil) != (ferr == nil) || (err != nil && err.Error() != ferr.Error()) || !reflect.DeepEqual(fast, full) {
			t.Fatalf("damaged at %d: fast %d ids, %d failed, %v; full %d ids, %d failed, %v", at, fast.IDs.Len(), fast.Failed, err, full.IDs.Len(), full.Failed, ferr)
		}
	}
}

// TestTradeIDsByShape: TradeIDs reading trades by the shape of the one
// before gives what reading each in full gives, on a batch whose trades
// change shape now and then and on it damaged at random.
func TestTradeIDsByShape(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"valuationDate":"2026-11-25","trades":[`)
	for i := range 150 {
		if i > 0 {
			b.WriteString(",\n")
		}
		switch {
		case i%31 == 30:
			fmt.Fprintf(&b, `{"id":"B%d","type":"barrier","barrier":{"level":120,"kind":"up-and-out"},"strike":100}`, i)
		case i%29 == 28:
			fmt.Fprintf(&b, `{ "id": "W%d", "type": "european", "strike": 1e2 }`, i)
		case i%43 == 42:
			fmt.Fprintf(&b, `{"id":"E\u00e9%d","type":"european","strike":-0.5,"flag":true}`, i)
		case i%100 >= 70:
			fmt.Fprintf(&b, `{"type":"fra","id":"F%d","notional":1E6,"rate":0.031}`, i)
		default:
			fmt.Fprintf(&b, `{"id":"E%d","type":"european","underlying":"ACME","right":"put","strike":%d.5,"expiry":"2029-04-25"}`, i, i)
		}
	}
	b.WriteString("]}")
	s := b.String()
	l, err := tradeIDs([]byte(s), true)
	wl, werr := tradeIDs([]byte(s), false)
	ids, want := l.Strings(), wl.Strings()
	if err != nil || werr != nil || !reflect.DeepEqual(ids, want) || len(ids) != 150 || ids[99] != "F99" {
		t.Fatalf("by shape: %d ids, %v; in full: %d ids, %v", len(ids), err, len(want), werr)
	}
	rng := rand.New(rand.NewPCG(13, 14))
	for i := range 10000 {
		d, at := damage(s, i, rng)
		l, err := tradeIDs(d, true)
		wl, werr := tradeIDs(d, false)
		ids, want := l.Strings(), wl.Strings()
		if (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) || !reflect.DeepEqual(ids, want) {
			t.Fatalf("damaged at %d: by shape %d ids, %v; in full %d ids, %v", at, len(ids), err, len(want), werr)
		}
	}
}

// FuzzLayout: an object that the shape of the flat object before it reads
// (layout.fill) is one allMembers reads too, as the same members, to the
// same end. The input is the two objects, the second after a comma.
func FuzzLayout(f *testing.F) {
	for _, s := range []string{
		`{"id":"T1","type":"european","strike":1.5},{"id":"T2","type":"european","strike":-2e3}`,
		`{"id":"T1","npv":1},{"id":"T\u00e9","npv":1}`,
		`{"id":"T1","npv":1},{"id":"T2","npv":01}`,
		`{"id":"T1","npv":1},{"id":"T2","npv":1.}`,
		`{"id":"T1","npv":1},{"id":"T2","npv":"1"}`,
		`{"id":"T1","npv":1},{"id":"T2","npv":1,"npv":2}`,
		`{"id":"T1","npv":1},{"id":"T2","npv":1 }`,
		`{"a":"x","b":2},{"a":"x","b":2}`,
		"{\"a\":\"x\"},{\"a\":\"\x01\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var first members
		s := scanner{data: data}
		if s.peek() != '{' {
			return
		}
		first.reset(&s)
		if !s.flatMembers(&first) {
			return
		}
		var shape layout
		shape.learn(&first)
		if s.peek() != ',' {
			return
		}
		s.pos++
		at := skipWS(data, s.pos)
		list, end, ok := shape.fill(data, at, nil)
		if !ok {
			return
		}
		var all members
		as := scanner{data: data, pos: at}
		if err := as.allMembers(&all, 1); err != nil {
			t.Fatalf("%q: the shape read it, allMembers refused: %v", data, err)
		}
		if end != as.pos || !slices.Equal(list, all.list) {
			t.Fatalf("%q: the shape read %v to %d, allMembers %v to %d", data, list, end, all.list, as.pos)
		}
	})
}

// TestNames: a set of names keeps each once, in the order first added,
// as a list and past 16 names with a map beside it.
func TestNames(t *testing.T) {
	for _, n := range []int{1, 3, 16, 17, 40} {
		var set names
		var want []string
		for round := range 3 {
			for i := range n {
				name := fmt.Sprintf("U%d", (i*7)%n)
				if round == 0 {
					want = append(want, name)
				}
				set.add(name)
				set.add(name)
			}
		}
		set.add("")
		want = append(want, "")
		if !reflect.DeepEqual(set.list, want) || (set.set != nil) != (n+1 > 16) {
			t.Errorf("%d names: %q (map %v), want %q", n, set.list, set.set != nil, want)
		}
	}
}

// TestShapes: one members reading a run of objects learns from the second
// flat object on; objects of two alternating shapes are read by them
// (a mixed batch), and objects of eight shapes in turn stop the trying
// after some misses, each read in full as it was.
func TestShapes(t *testing.T) {
	run := func(kinds, n int) *members {
		var b strings.Builder
		b.WriteByte('[')
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":"T%d","k%d":%d}`, i, i%kinds, i)
		}
		b.WriteByte(']')
		var ms members
		s := scanner{data: []byte(b.String())}
		err := s.array(func(i int) error {
			if err := s.members(&ms, 1); err != nil {
				return err
			}
			if len(ms.list) != 2 || string(ms.key(&ms.list[1])) != fmt.Sprintf("k%d", i%kinds) || ms.value(&ms.list[0]).text() != fmt.Sprintf("T%d", i) {
				return fmt.Errorf("object %d read as %v", i, ms.list)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return &ms
	}
	if ms := run(1, 1); ms.shapes.n != 0 {
		t.Errorf("one object: %d shapes learned, want none", ms.shapes.n)
	}
	if ms := run(2, 200); ms.shapes.hit < 195 || ms.shapes.off() {
		t.Errorf("two shapes alternating: %d of 200 read by shape, off %v", ms.shapes.hit, ms.shapes.off())
	}
	if ms := run(8, 200); !ms.shapes.off() || ms.shapes.wrong > 20 {
		t.Errorf("eight shapes in turn: off %v after %d misses, want off after some 16", ms.shapes.off(), ms.shapes.wrong)
	}
	// Off, they are tried again after a rest: eight shapes, then one.
	var b strings.Builder
	b.WriteByte('[')
	for i := range 1000 {
		if i > 0 {
			b.WriteByte(',')
		}
		k := 0
		if i < 100 {
			k = i % 8
		}
		fmt.Fprintf(&b, `{"id":"T%d","k%d":%d}`, i, k, i)
	}
	b.WriteByte(']')
	var ms members
	s := scanner{data: []byte(b.String())}
	if err := s.array(func(int) error { return s.members(&ms, 1) }); err != nil {
		t.Fatal(err)
	}
	if ms.shapes.off() || ms.shapes.hit < 1000-100-shapesRest-10 {
		t.Errorf("eight shapes then one: off %v, %d read by shape", ms.shapes.off(), ms.shapes.hit)
	}
}

// damage returns s with one byte changed (i%3 == 0), inserted (1) or
// dropped (2) at a random place, and that place.
func damage(s string, i int, rng *rand.Rand) ([]byte, int) {
	const alphabet = "{}[],:\"\n -+.eE019\\ux"
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
	return b, at
}
