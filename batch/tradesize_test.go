package batch

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestQuantityFromRaw checks that a trade's quantity, kept as its place in
// the trade's Raw, reads back as the number's text wherever it stands in
// the trade and however it is written, in a batch, in a plan (read on two
// cores) and in a trade alone.
func TestQuantityFromRaw(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	number := func() string {
		s := strconv.Itoa(r.IntN(2000) - 1000)
		switch r.IntN(4) {
		case 1:
			s += "." + strconv.Itoa(r.IntN(100000))
		case 2:
			s += "e" + strconv.Itoa(r.IntN(40)-20)
		case 3:
			s += ".5E+" + strconv.Itoa(r.IntN(400))
		}
		return s
	}
	const n = 10000 // past parallelMin, for a plan's second core
	var doc strings.Builder
	doc.WriteString(`{"valuationDate": "2026-11-25", "market": {"curves": {"USD": {"rate": 0.05}}, "underlyings": {"ACME": {"spot": 100, "vol": 0.25, "curve": "USD"}}}, "trades": [`)
	nums := make([]string, n)
	for i := range n {
		nums[i] = number()
		fields := []string{
			fmt.Sprintf(`"id": "T%d"`, i), `"type": "european"`, `"underlying": "ACME"`, `"right": "call"`,
			`"strike": 100`, `"expiry": "2027-11-25"`, `"quantity":` + strings.Repeat(" ", r.IntN(3)) + nums[i],
		}
		r.Shuffle(len(fields), func(a, b int) { fields[a], fields[b] = fields[b], fields[a] })
		if i > 0 {
			doc.WriteString(",\n")
		}
		doc.WriteString("{" + strings.Join(fields, ", ") + "}")
	}
	doc.WriteString("]}")
	b, err := DecodeBytes([]byte(doc.String()))
	if err != nil {
		t.Fatal(err)
	}
	p, err := DecodePlan([]byte(doc.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.String()) < parallelMin || len(p.Trades) != n {
		t.Fatalf("%d bytes, %d trades planned", len(doc.String()), len(p.Trades))
	}
	for i, tr := range p.Trades {
		if got := tr.quantity.num(tr.Raw); got != nums[i] {
			t.Fatalf("trade %d planned: quantity %q, want %q", i, got, nums[i])
		}
	}
	for i, tr := range b.Trades {
		if got := tr.quantity.num(tr.Raw); !tr.quantity.set || got != nums[i] {
			t.Fatalf("trade %d: quantity %q (set %v), want %q", i, got, tr.quantity.set, nums[i])
		}
		var one Trade
		if err := one.UnmarshalJSON(tr.Raw); err != nil {
			t.Fatal(err)
		}
		if got := one.quantity.num(one.Raw); got != nums[i] {
			t.Fatalf("trade %d alone: quantity %q, want %q", i, got, nums[i])
		}
	}
	rs := compileAndPrice(t, b)
	for i, res := range rs {
		v, err := strconv.ParseFloat(nums[i], 64)
		if err != nil || v > 1e15 || v < -1e15 {
			if want := "got " + nums[i]; !strings.HasSuffix(res.Error, want) {
				t.Errorf("trade %d: error %q, want it to end %q", i, res.Error, want)
			}
		} else if res.Error != "" {
			t.Errorf("trade %d (quantity %s): %s", i, nums[i], res.Error)
		}
	}
}

// TestDropTermsKeepsFaults checks that a trade whose own fields failed it
// still tells that fault, not that its terms were dropped, after
// Batch.DropTerms: the fault is kept where the terms would be.
func TestDropTermsKeepsFaults(t *testing.T) {
	doc := `{"valuationDate": "2026-11-25", "market": {"curves": {"USD": {"rate": 0.05}}, "underlyings": {"ACME": {"spot": 100, "vol": 0.25, "curve": "USD"}}}, "trades": [
		{"id": "A", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25", "strik": 1},
		{"id": "B", "type": 7},
		{"id": "C"},
		{"id": "D", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25"}]}`
	want := []string{`trade A: unknown field "strik"`, "trade B: type must be a string, got JSON number (valid: ", "trade C: type is required (valid: ", "trade D: its terms were dropped"}
	b, err := DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	b.DropTerms()
	rs := compileAndPrice(t, b)
	for i, res := range rs {
		if !strings.HasPrefix(res.Error, want[i]) {
			t.Errorf("trade %s: error %q, want it to start %q", res.ID, res.Error, want[i])
		}
	}
}

// TestRegistryTermsAreNoFaults checks that no trade type's decoded form is
// an error: a Trade keeps the one or the other in one field (Trade.fault).
func TestRegistryTermsAreNoFaults(t *testing.T) {
	for name, tt := range tradeTypes {
		s := scanner{data: []byte(`{}`)}
		var ms members
		if err := s.members(&ms, 0); err != nil {
			t.Fatal(err)
		}
		w, err := tt.decode(&ms, 0, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, ok := w.(error); ok {
			t.Errorf("%s: its decoded form %T is an error", name, w)
		}
	}
}

// TestOptionUnderlyingFromHeader checks that an option's underlying, which
// its wire form takes from the trade's header (Trade.Underlying), is read
// as it was when the wire form held it again: missing, null, empty, not a
// string, or written with escapes.
func TestOptionUnderlyingFromHeader(t *testing.T) {
	terms := map[string]string{
		"european": `"right": "call", "strike": 100, "expiry": "2027-11-25"`,
		"american": `"right": "put", "strike": 100, "expiry": "2027-11-25"`,
		"barrier":  `"right": "call", "strike": 100, "expiry": "2027-11-25", "barrierType": "upOut", "barrier": 120`,
		"asian":    `"right": "call", "strike": 100, "expiry": "2027-11-25", "averaging": "geometric", "fixings": ["2027-05-25"]`,
	}
	cases := []struct{ underlying, want string }{
		{``, "underlying is required (the name of an underlying)"},
		{`"underlying": null, `, "underlying is required (the name of an underlying)"},
		{`"underlying": "", `, "underlying is required (the name of an underlying)"},
		{`"underlying": 5, `, "underlying must be a string, got JSON number"},
		{`"underlying": "AC\u004dE", `, ""},
	}
	for typ, rest := range terms {
		for _, c := range cases {
			doc := `{"valuationDate": "2026-11-25", "market": {"curves": {"USD": {"rate": 0.05}}, "underlyings": {"ACME": {"spot": 100, "vol": 0.25, "curve": "USD"}}}, "trades": [` +
				`{"id": "T", "type": "` + typ + `", ` + c.underlying + rest + `}]}`
			b, err := DecodeBytes([]byte(doc))
			if err != nil {
				t.Fatalf("%s %s: %v", typ, c.underlying, err)
			}
			rs := compileAndPrice(t, b)
			if got := strings.TrimPrefix(rs[0].Error, "trade T: "); !strings.HasPrefix(got, c.want) || (c.want == "") != (got == "") {
				t.Errorf("%s %s: error %q, want %q", typ, c.underlying, got, c.want)
			}
		}
	}
}

// compileAndPrice compiles b and prices its trades.
func compileAndPrice(t *testing.T, b *Batch) []TradeResult {
	t.Helper()
	job, err := Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := job.Price(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}
