package batch

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/pricefn/pricefn/pricing/dates"
)

// scanValid reports whether the scanner reads data as one JSON value and
// nothing after it, and whether it refused a duplicate key.
func scanValid(data []byte) (ok, dup bool) {
	s := scanner{data: data}
	_, err := s.value(0)
	if err == nil && s.peek() != 0 {
		return false, false
	}
	var se *scanError
	if errors.As(err, &se) && len(se.msg) > 9 && se.msg[:9] == "duplicate" {
		return false, true
	}
	return err == nil, false
}

// FuzzScannerMatchesEncodingJSON: the scanner accepts exactly what
// encoding/json accepts, less documents that give a key twice.
func FuzzScannerMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[1,2.5e-3,-0,true,false,null,"x\u00e9\n"]`, `{"a":{"b":[{}]}}`, `"\ud800"`, "\"\xff\"", `01`, `1.`, `-`, `[1,]`, `{"a" 1}`, `{"a":1,"a":2}`, ` {} `, `{}x`, `"\x"`, "\"a\tb\"", `1e+`, `[`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ok, dup := scanValid(data)
		if dup {
			return
		}
		if want := json.Valid(data); ok != want {
			t.Fatalf("scanner valid = %v, encoding/json %v: %q", ok, want, data)
		}
	})
}

// TestUnquoteMatchesEncodingJSON: strings read as encoding/json reads them.
func TestUnquoteMatchesEncodingJSON(t *testing.T) {
	for _, lit := range []string{`"plain"`, `"caf\u00e9"`, "\"caf\xc3\xa9\"", "\"bad\xff utf8\"", `"\ud83d\ude00 and \ud800 alone"`, `"tab\tand\\slash\/"`} {
		s := scanner{data: []byte(lit)}
		v, err := s.value(0)
		if err != nil {
			t.Fatalf("%s: %v", lit, err)
		}
		var want string
		if err := json.Unmarshal([]byte(lit), &want); err != nil {
			t.Fatal(err)
		}
		if got := v.text(); got != want {
			t.Errorf("%s: got %q, want %q", lit, got, want)
		}
	}
}

// TestParseDateMatchesDates: the fast path of parseDate agrees with
// dates.Parse on every date of two centuries and on malformed ones.
func TestParseDateMatchesDates(t *testing.T) {
	check := func(s string) {
		got, err1 := parseDate(s)
		want, err2 := dates.Parse(s)
		if got != want || (err1 == nil) != (err2 == nil) {
			t.Fatalf("%q: parseDate %v (%v), dates.Parse %v (%v)", s, got, err1, want, err2)
		}
	}
	for d := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2150; d = d.AddDate(0, 0, 1) {
		check(d.Format(time.DateOnly))
	}
	for _, s := range []string{"2027-02-29", "2028-02-29", "2027-02-30", "2027-13-01", "2027-00-10", "2027-01-00", "2027-1-01", "20270101", "2027-01-0a", "+027-01-01", "0000-01-01", "9999-12-31", ""} {
		check(s)
	}
}

// TestInternerSharesStrings: a repeated value is one string, and a
// collision never returns another string.
func TestInternerSharesStrings(t *testing.T) {
	in := newInterner()
	a := in.str([]byte("2027-11-25"))
	b := in.str([]byte("2027-11-25"))
	if a != b || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Fatal("the same bytes twice are not one string")
	}
	for i := range 5000 {
		s := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format(time.DateOnly)
		if got := in.str([]byte(s)); got != s {
			t.Fatalf("interned %q as %q", s, got)
		}
	}
}

// TestInternerComparesEveryByte: the cache compares a string of up to 16
// bytes by the words it hashes, longer ones by their bytes; strings of
// every length up to 40, of two letters (many share their first and last
// eight bytes, and their slots), come back as themselves.
func TestInternerComparesEveryByte(t *testing.T) {
	in := newInterner()
	r := rand.New(rand.NewPCG(3, 4))
	for range 200_000 {
		b := make([]byte, r.IntN(41))
		for k := range b {
			b[k] = "ab"[r.IntN(2)]
		}
		if got := in.str(b); got != string(b) {
			t.Fatalf("interned %q as %q", b, got)
		}
	}
	if got := in.str([]byte{}); got != "" {
		t.Fatalf("interned \"\" as %q", got)
	}
	if got := in.str([]byte{0}); got != "\x00" {
		t.Fatalf("interned \"\\x00\" as %q", got)
	}
}

// FuzzFlatMembers: the one-loop reading of a flat object agrees with the
// full one wherever it answers (the same members, where the object ends),
// and never answers for an object the full one refuses.
func FuzzFlatMembers(f *testing.F) {
	for _, s := range []string{`{"a":1}`, ` { "id" : "T1" , "npv": -1.5e-3, "ok": true, "no": false, "x": null } `, `{}`, `{"a":1,"a":2}`, `{"a":"\u00e9"}`, "{\"a\":\"\xc3\xa9\"}", `{"a":[1]}`, `{"a":01}`, `{"a":1.}`, `{"a":1,}`, `{"a" 1}`, `{"a":tru}`, `{"a":truex}`, `{"ab":1,"ba":2,"aab":3}`, `{"a":12345678901234567,"b":1.2345678901234567e+300}`, `{"a`, `{"a":"b`, "{\"a\":1\x00}", `{"":1,"":2}`, `{"":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var flat, all members
		fs := scanner{data: data}
		if fs.peek() != '{' {
			return
		}
		flat.reset(&fs)
		ok := fs.flatMembers(&flat)
		as := scanner{data: data}
		err := as.allMembers(&all, 1)
		switch {
		case !ok:
			if fs.pos != skipWS(data, 0) {
				t.Fatalf("%q: flatMembers refused and moved to %d", data, fs.pos)
			}
		case err != nil:
			t.Fatalf("%q: flatMembers read it, allMembers refused: %v", data, err)
		case fs.pos != as.pos || !slices.Equal(flat.list, all.list):
			t.Fatalf("%q: flatMembers %v to %d, allMembers %v to %d", data, flat.list, fs.pos, all.list, as.pos)
		}
	})
}

// TestDigitsEnd checks the eight-at-a-time digit run against a byte loop,
// on runs of every length followed by every byte (0xfa-0xff among them,
// whose carry would spill into the next byte's test).
func TestDigitsEnd(t *testing.T) {
	for n := range 20 {
		for c := range 256 {
			for pad := range 9 {
				d := append(append(bytes.Repeat([]byte("7"), n), byte(c)), bytes.Repeat([]byte{byte(c)}, pad)...)
				want := 0
				for want < len(d) && d[want] >= '0' && d[want] <= '9' {
					want++
				}
				if got := digitsEnd(d, 0); got != want {
					t.Fatalf("digitsEnd(%q) = %d, want %d", d, got, want)
				}
			}
		}
	}
}

// TestNumberEnd checks numberEnd, whose numbers with a short whole part
// take their point and fraction from the word that holds them, against a
// byte-at-a-time reading of JSON's grammar: on random runs of the bytes
// numbers hold (and a few they do not, 0xfa-0xff among them), read from
// every place, and on every whole part of up to nine digits followed by a
// point and fractions of every length, ended by every byte.
func TestNumberEnd(t *testing.T) {
	check := func(d []byte, i int) {
		t.Helper()
		end, fault := numberEnd(d, i)
		wend, wfault := numberEndBytes(d, i)
		if end != wend || fault != wfault {
			t.Fatalf("numberEnd(%q, %d) = %d, %q; want %d, %q", d, i, end, fault, wend, wfault)
		}
	}
	const alphabet = "0123456789012345678900000.....-+eE \x00\xfa\xff,}"
	rng := rand.New(rand.NewPCG(15, 16))
	for range 300_000 {
		d := make([]byte, 1+rng.IntN(30))
		for k := range d {
			d[k] = alphabet[rng.IntN(len(alphabet))]
		}
		for i := range d {
			if d[i] == '-' || isDigit(d[i]) {
				check(d, i)
			}
		}
	}
	for whole := 1; whole <= 9; whole++ {
		for _, lead := range []byte("01-") {
			for frac := range 20 {
				for c := range 256 {
					d := append([]byte{lead}, bytes.Repeat([]byte("5"), whole-1)...)
					d = append(append(d, '.'), bytes.Repeat([]byte("3"), frac)...)
					for pad := range 3 {
						check(append(d, bytes.Repeat([]byte{byte(c)}, pad)...), 0)
					}
				}
			}
		}
	}
}

// numberEndBytes is numberEnd a byte at a time, the tests' reference.
func numberEndBytes(d []byte, i int) (end int, fault string) {
	digits := func(i int) int {
		for i < len(d) && isDigit(d[i]) {
			i++
		}
		return i
	}
	if d[i] == '-' {
		i++
		if i >= len(d) {
			return i, "unexpected end"
		}
	}
	switch {
	case d[i] == '0':
		i++
	case isDigit(d[i]):
		i = digits(i + 1)
	default:
		return i, "invalid character %s in numeric literal"
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || !isDigit(d[i]) {
			return i, "invalid character %s after decimal point in numeric literal"
		}
		i = digits(i + 1)
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			return i, "invalid character %s in exponent of numeric literal"
		}
		i = digits(i + 1)
	}
	return i, ""
}

// TestPlainEnd checks the eight-at-a-time plain run against plainByte, on
// runs of every length followed by every byte, and on random strings
// mostly of plain bytes.
func TestPlainEnd(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for range 200_000 {
		d := make([]byte, rng.IntN(25))
		for k := range d {
			d[k] = byte('a' + rng.IntN(26))
			if rng.IntN(6) == 0 {
				d[k] = byte(rng.IntN(256))
			}
		}
		want := 0
		for want < len(d) && plainByte[d[want]] {
			want++
		}
		if got := plainEnd(d, 0); got != want {
			t.Fatalf("plainEnd(%q) = %d, want %d", d, got, want)
		}
	}
	for n := range 20 {
		for c := range 256 {
			for pad := range 9 {
				d := append(append(bytes.Repeat([]byte("a"), n), byte(c)), bytes.Repeat([]byte{byte(c)}, pad)...)
				want := 0
				for want < len(d) && plainByte[d[want]] {
					want++
				}
				if got := plainEnd(d, 0); got != want {
					t.Fatalf("plainEnd(%q) = %d, want %d", d, got, want)
				}
			}
		}
	}
}
