package batch

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
	"unicode/utf8"
	"unsafe"

	"github.com/pricefn/pricefn/pricing"
)

// scanner reads a JSON document (RFC 8259) in one pass, validating as it
// goes: strings, numbers and literals are checked to the grammar, nested
// values are checked as they are skipped, and a value is kept as the span
// of the document it occupies. It is the lexer of Decode: encoding/json
// and its faster rivals scan every trade several times (bench/README.md),
// and none of them rejects duplicate keys.
type scanner struct {
	data []byte
	pos  int
	in   *interner // shares the strings values hold; nil shares none
	// lax leaves a duplicate key in an object skipObject skips to the
	// reader that walks that object and names its path: the scenarios
	// and risk, read object by object (scenario_json.go).
	lax bool
}

// maxDepth bounds the nesting of arrays and objects, as encoding/json's.
const maxDepth = 10000

// scanError is a fault of the document's syntax at byte off.
type scanError struct {
	off int
	msg string
	eof bool // the document ended inside a value
	// valid words a fault of JSON that is valid but no batch (a key
	// given twice, nesting past maxDepth), with its byte; empty for a
	// fault of the syntax.
	valid string
}

func (e *scanError) Error() string { return e.msg }

// JSON value kinds, by the byte a value starts with.
const (
	kindString = '"'
	kindNumber = '0'
	kindObject = '{'
	kindArray  = '['
	kindBool   = 't'
	kindNull   = 'n'
)

// value is one JSON value: its kind and its bytes in the document (a
// string with its quotes).
type value struct {
	kind  byte
	plain bool // a string without escapes or bytes beyond ASCII
	raw   []byte
	in    *interner
}

// kindName names v's kind as encoding/json's errors do.
func (v value) kindName() string {
	switch v.kind {
	case kindString:
		return "string"
	case kindObject:
		return "object"
	case kindArray:
		return "array"
	case kindBool:
		return "bool"
	case kindNull:
		return "null"
	}
	return "number"
}

func (s *scanner) errorf(format string, args ...any) *scanError {
	return &scanError{off: s.pos, msg: fmt.Sprintf(format, args...)}
}

func (s *scanner) eof() *scanError {
	return &scanError{off: s.pos, msg: "unexpected end of JSON input", eof: true}
}

// ws skips white space.
func (s *scanner) ws() { s.pos = skipWS(s.data, s.pos) }

// skipWS returns the index of the first byte of d from i on that is not
// white space (len(d) when there is none).
func skipWS(d []byte, i int) int {
	for i < len(d) {
		switch d[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// peek skips white space and returns the next byte, 0 at the end (and
// 0x7f for a NUL byte, which is no more valid there than DEL).
func (s *scanner) peek() byte {
	s.ws()
	if s.pos >= len(s.data) {
		return 0
	}
	if c := s.data[s.pos]; c != 0 {
		return c
	}
	return 0x7f
}

// expect consumes byte c after white space.
func (s *scanner) expect(c byte, context string) error {
	switch s.peek() {
	case c:
		s.pos++
		return nil
	case 0:
		return s.eof()
	}
	return s.errorf("invalid character %s %s", quoteChar(s.data[s.pos]), context)
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := fmt.Sprintf("%q", rune(c))
	return "'" + s[1:len(s)-1] + "'"
}

// value reads the next value, whatever its kind, checking nested values
// to depth.
func (s *scanner) value(depth int) (value, error) {
	v, err := s.anyValue(depth)
	v.in = s.in
	return v, err
}

func (s *scanner) anyValue(depth int) (value, error) {
	start := s.pos
	switch c := s.peek(); {
	case c == '"':
		start = s.pos
		plain, err := s.scanString()
		return value{kind: kindString, plain: plain, raw: s.data[start:s.pos]}, err
	case c == '-' || c >= '0' && c <= '9':
		start = s.pos
		err := s.skipNumber()
		return value{kind: kindNumber, raw: s.data[start:s.pos]}, err
	case c == '{' || c == '[':
		if depth >= maxDepth {
			e := s.errorf("exceeded max depth")
			e.valid = fmt.Sprintf("nests arrays and objects more than %d deep (at byte %d)", maxDepth, s.pos)
			return value{}, e
		}
		start = s.pos
		var err error
		if c == '{' {
			err = s.skipObject(depth + 1)
		} else {
			err = s.skipArray(depth + 1)
		}
		return value{kind: c, raw: s.data[start:s.pos]}, err
	case c == 't':
		return s.literal("true", kindBool)
	case c == 'f':
		return s.literal("false", kindBool)
	case c == 'n':
		return s.literal("null", kindNull)
	case c == 0:
		return value{}, s.eof()
	default:
		return value{}, s.errorf("invalid character %s looking for beginning of value", quoteChar(s.data[s.pos]))
	}
}

func (s *scanner) literal(lit string, kind byte) (value, error) {
	start := s.pos
	for i := 0; i < len(lit); i++ {
		if s.pos >= len(s.data) {
			return value{}, s.eof()
		}
		if s.data[s.pos] != lit[i] {
			return value{}, s.errorf("invalid character %s in literal %s (expecting %s)", quoteChar(s.data[s.pos]), lit, quoteChar(lit[i]))
		}
		s.pos++
	}
	return value{kind: kind, raw: s.data[start:s.pos]}, nil
}

// plainByte[c] is true for the bytes a string holds as they are: not a
// quote, a backslash, a control character or a byte of a multi-byte
// UTF-8 sequence.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainEnd returns the index of the first byte of d from i on that is not
// plain (plainByte), eight bytes at a time: a string's end is usually
// found in its first word or two (ids, dates, names).
func plainEnd(d []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(d); i += 8 {
		x := binary.LittleEndian.Uint64(d[i:])
		// The bytes that are not plain get their high bit in m: below
		// 0x20, a quote, a backslash (each a zero byte found by the
		// borrow of subtracting one from every byte), or 0x80 and above.
		// A borrow can mark a byte above a marked one, never below: the
		// lowest marked byte is the first that is not plain.
		q, b := x^(ones*'"'), x^(ones*'\\')
		m := ((x-ones*0x20)&^x | (q-ones)&^q | (b-ones)&^b | x) & highs
		if m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(d) && plainByte[d[i]] {
		i++
	}
	return i
}

// scanString checks the string at s.pos and moves past it. It reports
// whether the string is plain: no escapes and nothing beyond ASCII, so
// that its bytes are its value.
func (s *scanner) scanString() (plain bool, err error) {
	d := s.data
	i := plainEnd(d, s.pos+1) // past the opening quote
	if i < len(d) && d[i] == '"' {
		s.pos = i + 1
		return true, nil
	}
	s.pos = i
	for s.pos < len(d) {
		c := d[s.pos]
		switch {
		case c == '"':
			s.pos++
			return false, nil
		case c == '\\':
			if s.pos+1 >= len(d) {
				s.pos = len(d)
				return false, s.eof()
			}
			switch d[s.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos += 2
			case 'u':
				s.pos += 2
				for range 4 {
					if s.pos >= len(d) {
						return false, s.eof()
					}
					if !isHex(d[s.pos]) {
						return false, s.errorf("invalid character %s in \\u hexadecimal character escape", quoteChar(d[s.pos]))
					}
					s.pos++
				}
			default:
				s.pos++
				return false, s.errorf("invalid character %s in string escape code", quoteChar(d[s.pos]))
			}
		case c < 0x20:
			return false, s.errorf("invalid character %s in string literal", quoteChar(c))
		default:
			s.pos++
		}
	}
	return false, s.eof()
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipNumber checks the number at s.pos to JSON's grammar and moves past
// it.
func (s *scanner) skipNumber() error {
	end, fault := numberEnd(s.data, s.pos)
	s.pos = end
	switch {
	case fault == "":
		return nil
	case end >= len(s.data):
		return s.eof()
	}
	return s.errorf(fault, quoteChar(s.data[end]))
}

// numberEnd reads the number at d[i:] to JSON's grammar and returns where
// it ends, or where it breaks the grammar and a format of the fault for
// the byte there. (It walks a local index, which stays in a register: a
// third of a result's scan is its numbers.)
func numberEnd(d []byte, i int) (end int, fault string) {
	if d[i] == '-' {
		i++
		if i >= len(d) {
			return i, "unexpected end"
		}
	}
	// Most numbers of a results document have a short whole part: when
	// it and the point are in the first eight bytes, the word that says
	// where the whole part ends says where the fraction's digits end too,
	// or that they go on.
	pointed := false
	if i+8 <= len(d) && isDigit(d[i]) {
		m := nonDigits(binary.LittleEndian.Uint64(d[i:]))
		p := bits.TrailingZeros64(m) / 8 // the first byte not a digit
		if p < 7 && d[i+p] == '.' && (d[i] != '0' || p == 1) {
			m &^= 0xff << (8 * p)
			switch q := bits.TrailingZeros64(m) / 8; { // the next
			case q == 8:
				i, pointed = digitsEnd(d, i+8), true
			case q > p+1: // a digit after the point
				i, pointed = i+q, true
			}
		}
	}
	if !pointed {
		switch {
		case d[i] == '0':
			i++
		case isDigit(d[i]):
			i = digitsEnd(d, i+1)
		default:
			return i, "invalid character %s in numeric literal"
		}
		if i < len(d) && d[i] == '.' {
			i++
			if i >= len(d) || !isDigit(d[i]) {
				return i, "invalid character %s after decimal point in numeric literal"
			}
			i = digitsEnd(d, i+1)
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			return i, "invalid character %s in exponent of numeric literal"
		}
		for i++; i < len(d) && isDigit(d[i]); i++ {
		}
	}
	return i, ""
}

// digitsEnd returns the index of the first byte of d from i on that is not
// a decimal digit: eight bytes at a time while they all are (a result's
// numbers run to 17 digits).
func digitsEnd(d []byte, i int) int {
	for ; i+8 <= len(d); i += 8 {
		if m := nonDigits(binary.LittleEndian.Uint64(d[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(d) && isDigit(d[i]) {
		i++
	}
	return i
}

// nonDigits returns bits in the bytes of x, eight bytes read
// little-endian, that are not decimal digits: the first of them (the
// lowest) is where the digits end. A byte is a digit, 0x30-0x39, when its
// high nibble is 3 and adding 6 does not carry it past 3. (Adding 6
// carries into the next byte only from a byte of 0xfa or more, itself not
// a digit: no byte before the first non-digit is misjudged, nor any after
// it up to the next one when it is not such a byte.)
func nonDigits(x uint64) uint64 {
	return (x&0xf0f0f0f0f0f0f0f0 ^ 0x3030303030303030) | ((x+0x0606060606060606)&0xf0f0f0f0f0f0f0f0 ^ 0x3030303030303030)
}

// skipObject checks the object at s.pos, duplicate keys included, and
// moves past it.
func (s *scanner) skipObject(depth int) error {
	start := s.pos
	var small [16][]byte // the keys of most objects, without an allocation
	keys := small[:0]
	err := s.object(func(key []byte) error {
		if s.lax {
			_, err := s.value(depth)
			return err
		}
		for _, k := range keys {
			if string(k) == string(key) {
				msg := (&duplicateKeyError{string(key)}).Error()
				return &scanError{off: start, msg: msg, valid: fmt.Sprintf("%s (in the object at byte %d)", msg, start)}
			}
		}
		keys = append(keys, key)
		_, err := s.value(depth)
		return err
	})
	return err
}

// duplicateKeyError is an object that gives a key twice.
type duplicateKeyError struct{ key string }

func (e *duplicateKeyError) Error() string {
	return fmt.Sprintf("duplicate key %q", pricing.Shown(e.key))
}

// members reads the object at s.pos into ms: its members in order, their
// values checked to depth. A key given twice is a *duplicateKeyError. ms
// holds offsets into the document, no pointers: filling it costs the
// garbage collector nothing.
//
// An object laid out as a flat object before it (ms.shapes: the same
// keys in the same order, values of the same kinds, no white space
// within) is read in one pass over the bytes expected.
func (s *scanner) members(ms *members, depth int) error {
	ms.reset(s)
	if s.peek() != '{' {
		return s.allMembers(ms, depth)
	}
	list, end, ok := ms.shapes.fill(s.data, s.pos, ms.list)
	if ms.list = list; ok {
		s.pos = end
		return nil
	}
	if s.flatMembers(ms) {
		if !ms.full {
			ms.shapes.learn(ms)
		}
		return nil
	}
	return s.allMembers(ms, depth)
}

// allMembers is members for any object, its faults worded.
func (s *scanner) allMembers(ms *members, depth int) error {
	ms.reset(s)
	if err := s.expect('{', "looking for beginning of object"); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		if c := s.peek(); c != '"' {
			if c == 0 {
				return s.eof()
			}
			return s.errorf("invalid character %s looking for beginning of object key string", quoteChar(s.data[s.pos]))
		}
		m := member{k0: int32(s.pos + 1)}
		plain, err := s.scanString()
		if err != nil {
			return err
		}
		m.k1 = int32(s.pos - 1)
		if !plain {
			// An escaped key: its text goes to the arena.
			key := unquote(s.data[m.k0-1 : m.k1+1])
			m.k0, m.k1, m.keyInArena = int32(len(ms.arena)), int32(len(ms.arena)+len(key)), true
			ms.arena = append(ms.arena, key...)
		}
		key := ms.key(&m)
		for i := range ms.list {
			if string(ms.key(&ms.list[i])) == string(key) {
				return &duplicateKeyError{string(key)}
			}
		}
		if err := s.expect(':', "after object key"); err != nil {
			return err
		}
		v, err := s.anyValue(depth)
		if err != nil {
			return err
		}
		m.v0, m.kind, m.plain = int32(s.pos-len(v.raw)), v.kind, v.plain
		m.v1 = int32(s.pos)
		ms.list = append(ms.list, m)
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		case 0:
			return s.eof()
		default:
			return s.errorf("invalid character %s after object key:value pair", quoteChar(s.data[s.pos]))
		}
	}
}

// flatMembers is members for the objects most documents are made of (a
// trade, a result): plain keys, and values that are plain strings,
// numbers or literals, with any white space, read in one loop over a
// local index. On anything else (an escape, a byte beyond ASCII, a nested
// value, a fault, a key given twice) it reports false, s.pos unchanged,
// and members reads the object in full, faults worded.
func (s *scanner) flatMembers(ms *members) bool {
	d := s.data
	list := ms.list[:0]
	var seen uint64
	i := skipWS(d, s.pos+1) // past '{'
	if i < len(d) && d[i] == '}' {
		s.pos = i + 1
		return true
	}
	for {
		if i >= len(d) || d[i] != '"' {
			return false
		}
		k0 := i + 1
		i = plainEnd(d, k0)
		if i >= len(d) || d[i] != '"' {
			return false
		}
		// A key given twice: the keys are compared only when one of the
		// same length and ends was met (a bit of seen each).
		key := d[k0:i]
		h := uint(len(key)) * 7
		if len(key) > 0 {
			h += uint(key[0]) + uint(key[len(key)-1])
		}
		if bit := uint64(1) << (h & 63); seen&bit == 0 {
			seen |= bit
		} else {
			for x := range list {
				if m := &list[x]; string(d[m.k0:m.k1]) == string(key) {
					return false
				}
			}
		}
		// The member is written in place (layout.fill says why); a list
		// grown is kept for the full read when this one gives up.
		if len(list) == cap(list) {
			list = append(list, member{})
			ms.list = list[:0]
		} else {
			list = list[:len(list)+1]
			list[len(list)-1] = member{}
		}
		m := &list[len(list)-1]
		m.k0, m.k1 = int32(k0), int32(i)
		if i = skipWS(d, i+1); i >= len(d) || d[i] != ':' {
			return false
		}
		if i = skipWS(d, i+1); i >= len(d) {
			return false
		}
		m.v0 = int32(i)
		switch c := d[i]; {
		case c == '"':
			i = plainEnd(d, i+1)
			if i >= len(d) || d[i] != '"' {
				return false
			}
			i++
			m.kind, m.plain = kindString, true
		case c == '-' || isDigit(c):
			var fault string
			if i, fault = numberEnd(d, i); fault != "" {
				return false
			}
			m.kind = kindNumber
		case c == 't' && bytes.HasPrefix(d[i:], []byte("true")):
			i += len("true")
			m.kind = kindBool
		case c == 'f' && bytes.HasPrefix(d[i:], []byte("false")):
			i += len("false")
			m.kind = kindBool
		case c == 'n' && bytes.HasPrefix(d[i:], []byte("null")):
			i += len("null")
			m.kind = kindNull
		default:
			return false
		}
		m.v1 = int32(i)
		if i = skipWS(d, i); i >= len(d) {
			return false
		}
		switch d[i] {
		case ',':
			i = skipWS(d, i+1)
		case '}':
			s.pos, ms.list = i+1, list
			return true
		default:
			return false
		}
	}
}

// member is one member of an object that members read: where its key and
// value lie in the document (the key in the arena when it had escapes).
type member struct {
	k0, k1, v0, v1 int32
	kind           byte
	plain          bool
	keyInArena     bool
}

// members is the members of one object: the list, and the document and
// arena its offsets point into. A decoder reuses one for every trade.
type members struct {
	data  []byte
	in    *interner
	arena []byte
	list  []member
	// shapes are the last flat objects' (layout); full reads every object
	// in full, never by its shape (the tests' reference).
	shapes shapes
	full   bool
}

func (ms *members) reset(s *scanner) {
	ms.data, ms.in, ms.arena, ms.list = s.data, s.in, ms.arena[:0], ms.list[:0]
}

// key returns m's key, unescaped.
func (ms *members) key(m *member) []byte {
	if m.keyInArena {
		return ms.arena[m.k0:m.k1]
	}
	return ms.data[m.k0:m.k1]
}

// keyText returns m's key as a string that shares its bytes, which must
// not be kept: a setField compares it and passes it on, no more. Passed as
// a string (two words, not three), a key and a value go to setField in
// registers; with a slice the value went on the stack, built in one
// place and copied to another in wider loads than it was written in,
// which stalled.
func (ms *members) keyText(m *member) string {
	k := ms.key(m)
	return unsafe.String(unsafe.SliceData(k), len(k))
}

// value returns m's value.
func (ms *members) value(m *member) value {
	return value{kind: m.kind, plain: m.plain, raw: ms.data[m.v0:m.v1], in: ms.in}
}

// skipArray checks the array at s.pos and moves past it.
func (s *scanner) skipArray(depth int) error {
	return s.array(func(int) error {
		_, err := s.value(depth)
		return err
	})
}

// object reads the object at s.pos: for each member it reads the key and
// calls f, which must read the member's value. Keys are unescaped.
func (s *scanner) object(f func(key []byte) error) error {
	if err := s.expect('{', "looking for beginning of object"); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		if c := s.peek(); c != '"' {
			if c == 0 {
				return s.eof()
			}
			return s.errorf("invalid character %s looking for beginning of object key string", quoteChar(s.data[s.pos]))
		}
		key, err := s.key()
		if err != nil {
			return err
		}
		if err := s.expect(':', "after object key"); err != nil {
			return err
		}
		if err := f(key); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		case 0:
			return s.eof()
		default:
			return s.errorf("invalid character %s after object key:value pair", quoteChar(s.data[s.pos]))
		}
	}
}

// array reads the array at s.pos, calling f with each element's index; f
// must read the element.
func (s *scanner) array(f func(i int) error) error {
	if err := s.expect('[', "looking for beginning of array"); err != nil {
		return err
	}
	if s.peek() == ']' {
		s.pos++
		return nil
	}
	for i := 0; ; i++ {
		if err := f(i); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		case 0:
			return s.eof()
		default:
			return s.errorf("invalid character %s after array element", quoteChar(s.data[s.pos]))
		}
	}
}

// key reads an object key at s.pos, unescaped.
func (s *scanner) key() ([]byte, error) {
	start := s.pos
	plain, err := s.scanString()
	if err != nil {
		return nil, err
	}
	if plain {
		return s.data[start+1 : s.pos-1], nil
	}
	return []byte(unquote(s.data[start:s.pos])), nil
}

// plainString reports whether the string body b needs no unescaping: no
// backslash and nothing beyond ASCII.
func plainString(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// unquote returns the string of a checked JSON string literal (quotes
// included), as encoding/json reads it: invalid UTF-8 and lone
// surrogates become U+FFFD.
func unquote(lit []byte) string {
	body := lit[1 : len(lit)-1]
	if plainString(body) {
		return string(body)
	}
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body)
	}
	var out string
	if err := json.Unmarshal(lit, &out); err != nil {
		// The scanner checked the literal: encoding/json reads it.
		panic(fmt.Sprintf("batch: unquote %s: %v", lit, err))
	}
	return out
}
