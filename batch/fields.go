package batch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unsafe"

	"github.com/pricefn/pricefn/pricing"
)

// fieldSetter is a wire form that Decode fills member by member: setField
// reads v into the field named key and reports whether it knows the name.
// Each wire form's setField lists its own fields and hands the rest to the
// forms it embeds.
type fieldSetter interface {
	setField(key string, v value) (bool, error)
}

// setMembers reads ms into w strictly: a name w does not know is an error.
// It skips member i where bit i of skip is set: a trade's members that
// its header read and every trade's wire form knows (common).
func setMembers(w fieldSetter, ms *members, skip uint64) error {
	for i := range ms.list {
		if skip>>i&1 != 0 {
			continue
		}
		m := &ms.list[i]
		ok, err := w.setField(ms.keyText(m), ms.value(m))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("unknown field %q", pricing.Shown(string(ms.key(m))))
		}
	}
	return nil
}

// nestedError is a fault within the object at field, below the one being
// read: fieldError names it on its path ("market.curves.Z.zeros[0]:
// unknown field"), not in the reason ("market.curves.Z: zeros[0]: ...").
type nestedError struct {
	field string
	err   error
}

func (e *nestedError) Error() string { return e.field + ": " + e.err.Error() }
func (e *nestedError) Unwrap() error { return e.err }

// typeError is a value of the wrong JSON kind for its field: "strike must
// be a number, got JSON string".
type typeError struct {
	field, want, got string
}

func (e *typeError) Error() string {
	return e.field + " must be " + e.want + ", got JSON " + e.got
}

// interner shares the strings a batch repeats (types, rights, names,
// dates), so that 100,000 trades do not hold 100,000 copies of "call": a
// direct-mapped cache of recent strings, cheaper than a map. It also holds,
// in blocks, the strings it makes and the optional numbers the wire forms
// point to. One decoder uses it, on one goroutine.
type interner struct {
	slots [1 << 12]internSlot
	// floats holds the optional numbers the wire forms point to
	// (value.num): one allocation for hundreds of them, not one each.
	floats slab[float64]
	// texts holds the strings made of the document: ids and the
	// strings not yet in slots.
	texts texts
}

// text returns body as a string from in's blocks of bytes (texts); a nil
// interner allocates it.
func (in *interner) text(body []byte) string {
	if in == nil {
		return string(body)
	}
	return in.texts.text(body)
}

// texts makes strings of a document's bytes in blocks: one allocation for
// hundreds of strings (trade ids), not one each. A block's bytes are never
// written again once a string holds them: a full block is left to its
// strings, and appending within its room writes past every one. The
// blocks start small and double up to textBlock, so that a batch of a few
// trades, whose ids a store may keep for an hour, holds little more than
// their bytes. The zero value is ready.
type texts struct {
	block []byte
}

// textBlock is the largest block of texts, textFirst the first.
const (
	textBlock = 8 << 10
	textFirst = 64
)

// text returns body as a string held in the current block.
func (tx *texts) text(body []byte) string {
	if len(body) == 0 || len(body) > textBlock/16 {
		return string(body)
	}
	if cap(tx.block)-len(tx.block) < len(body) {
		tx.block = make([]byte, 0, max(min(2*cap(tx.block), textBlock), textFirst, len(body)))
	}
	n := len(tx.block)
	tx.block = append(tx.block, body...)
	return unsafe.String(&tx.block[n], len(body))
}

// float returns a pointer to f, kept in in's slab of numbers.
func (in *interner) float(f float64) *float64 {
	p := in.floats.new()
	*p = f
	return p
}

// internSlot is one string of an interner's cache with the two words
// str hashes it by: for a string of up to 16 bytes they are all its bytes,
// and comparing them (and the length) compares the strings without
// reading them again.
type internSlot struct {
	a, b uint64
	s    string
}

func newInterner() *interner { return &interner{} }

// str returns body as a string, the cached copy where there is one.
func (in *interner) str(body []byte) string {
	n := len(body)
	if n > 32 {
		return string(body)
	}
	// A hash of the first and last eight bytes (all of them up to 16):
	// enough to tell dates and names apart, at two multiplications.
	var a, b uint64
	if n >= 8 {
		a, b = binary.LittleEndian.Uint64(body), binary.LittleEndian.Uint64(body[n-8:])
	} else {
		for _, c := range body {
			a = a<<8 | uint64(c)
		}
	}
	h := (a*0x9e3779b97f4a7c15 ^ b*0xc2b2ae3d27d4eb4f ^ uint64(n)) * 0x165667b19e3779f9
	slot := &in.slots[h>>(64-12)]
	if slot.a == a && slot.b == b && len(slot.s) == n && (n <= 16 || slot.s == string(body)) {
		return slot.s
	}
	*slot = internSlot{a: a, b: b, s: in.text(body)}
	return slot.s
}

// text returns the string v holds, shared through v.in when it is plain.
func (v value) text() string {
	switch {
	case !v.plain:
		return unquote(v.raw)
	case v.in != nil:
		return v.in.str(v.raw[1 : len(v.raw)-1])
	}
	return string(v.raw[1 : len(v.raw)-1])
}

// is reports whether the string value v is s, without making a string of
// v when it needs no unescaping.
func (v value) is(s []byte) bool {
	if v.plain {
		return string(v.raw[1:len(v.raw)-1]) == string(s)
	}
	return unquote(v.raw) == string(s)
}

// str reads a string field; null leaves it as it is.
func (v value) str(field string, dst *string) error {
	switch v.kind {
	case kindString:
		*dst = v.text()
	case kindNull:
	default:
		return &typeError{field, "a string", v.kindName()}
	}
	return nil
}

// float returns the number v holds.
func (v value) float(field string) (float64, error) {
	if v.kind != kindNumber {
		return 0, &typeError{field, "a number", v.kindName()}
	}
	if f, ok := plainDecimal(v.raw); ok {
		return f, nil
	}
	f, err := strconv.ParseFloat(string(v.raw), 64)
	if err != nil || math.IsInf(f, 0) {
		// A literal the scanner passed fails here only past a double's
		// range (1e400; 1e-400 is 0): "must be a number" alone read as
		// if it were not one. The literal is cut as pricing.Shown cuts a
		// bad value: 100,000 digits came back in full in each result.
		return 0, &typeError{field, "a number within a double's range (a magnitude up to 1.8e308)", "number " + pricing.Shown(string(v.raw))}
	}
	return f, nil
}

// plainDecimal is strconv.ParseFloat(string(num), 64) for a JSON number
// (checked by the scanner) written as a decimal without an exponent, of
// at most 15 digits, and reports false
// for any other. Such a number is a whole number below 2^53, exact in a
// double, divided by a power of ten exact in a double: the one rounding
// of that division is the correctly rounded value strconv returns
// (Clinger's fast path, which strconv takes too, after its more general
// reading of the digits).
func plainDecimal(num []byte) (float64, bool) {
	i, neg := 0, false
	if len(num) > 0 && num[0] == '-' {
		i, neg = 1, true
	}
	var mant uint64
	digits, frac := 0, 0
	for ; i < len(num) && isDigit(num[i]); i++ {
		mant = 10*mant + uint64(num[i]-'0')
		digits++
	}
	if i < len(num) && num[i] == '.' {
		for i++; i < len(num) && isDigit(num[i]); i++ {
			mant = 10*mant + uint64(num[i]-'0')
			digits++
			frac++
		}
	}
	if i != len(num) || digits == 0 || digits > 15 {
		return 0, false
	}
	f := float64(mant)
	if neg {
		f = -f
	}
	if frac > 0 {
		f /= exactPow10[frac]
	}
	return f, true
}

// exactPow10 are the powers of ten plainDecimal divides by, each exact in
// a double.
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// num reads an optional number field; null leaves it nil.
func (v value) num(field string, dst **float64) error {
	if v.kind == kindNull {
		*dst = nil
		return nil
	}
	f, err := v.float(field)
	if err != nil {
		return err
	}
	if v.in != nil {
		*dst = v.in.float(f)
		return nil
	}
	p := new(float64) // not &f, which would move f to the heap on both paths
	*p = f
	*dst = p
	return nil
}

// numv reads a number field; null leaves it as it is.
func (v value) numv(field string, dst *float64) error {
	if v.kind == kindNull {
		return nil
	}
	f, err := v.float(field)
	if err == nil {
		*dst = f
	}
	return err
}

// whole returns the whole number v holds: any JSON number whose value is
// an integer in int's range, however written (2, 2.0, 2e0, 20e-1).
func (v value) whole(field string) (int, error) {
	if v.kind != kindNumber {
		return 0, &typeError{field, "a whole number", v.kindName()}
	}
	if n, err := strconv.ParseInt(string(v.raw), 10, 0); err == nil {
		return int(n), nil
	}
	// JSON has one number type: 2.0 is the integer 2. Bounds are powers of
	// two, exact in float64: [-2^63, 2^63) on 64-bit ints.
	f, err := strconv.ParseFloat(string(v.raw), 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange), f != math.Trunc(f):
		return 0, &typeError{field, "a whole number", "number " + pricing.Shown(string(v.raw))}
	case errors.Is(err, strconv.ErrRange), f < math.MinInt || f >= -float64(math.MinInt):
		// Whole, but no int holds it: it was called "not a whole number".
		return 0, &typeError{field, "a whole number of at most 18 digits", "number " + pricing.Shown(string(v.raw))}
	}
	return int(f), nil
}

// int reads a whole-number field; null leaves it as it is.
func (v value) int(field string, dst *int) error {
	if v.kind == kindNull {
		return nil
	}
	n, err := v.whole(field)
	if err == nil {
		*dst = n
	}
	return err
}

// intp reads an optional whole-number field; null leaves it nil.
func (v value) intp(field string, dst **int) error {
	if v.kind == kindNull {
		*dst = nil
		return nil
	}
	n, err := v.whole(field)
	if err != nil {
		return err
	}
	*dst = &n
	return nil
}

// elements calls f with each element of the array v; null has none.
func (v value) elements(field string, f func(i int, e value) error) error {
	switch v.kind {
	case kindNull:
		return nil
	case kindArray:
	default:
		return &typeError{field, "a list", v.kindName()}
	}
	s := scanner{data: v.raw, in: v.in}
	return s.array(func(i int) error {
		e, err := s.value(0)
		if err != nil {
			return err
		}
		return f(i, e)
	})
}

// strs reads a list of strings; null leaves it nil.
func (v value) strs(field string, dst *[]string) error {
	if v.kind == kindNull {
		*dst = nil
		return nil
	}
	out := []string{}
	err := v.elements(field, func(i int, e value) error {
		var s string
		if e.kind == kindNull {
			// An element is no optional field: null is not absent there
			// (measures [null] read as the measure "").
			return &typeError{fmt.Sprintf("%s[%d]", field, i), "a string", e.kindName()}
		}
		if err := e.str(fmt.Sprintf("%s[%d]", field, i), &s); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	if err == nil {
		*dst = out
	}
	return err
}

// decodeObject reads the object v into w strictly: duplicate keys and
// names w does not know are errors; a value that is not an object is a
// *typeError on field "".
func (v value) decodeObject(w fieldSetter) error {
	if v.kind != kindObject {
		return &typeError{"", "an object", v.kindName()}
	}
	s := scanner{data: v.raw, in: v.in}
	var ms members
	if err := s.members(&ms, 0); err != nil {
		return err
	}
	return setMembers(w, &ms, 0)
}
