package main

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// printable returns s, text a server sent (an error's message, a dead
// chunk's reason, a state), ready for a terminal: its control characters
// (C0, DEL, C1), the Unicode controls of the text's direction and its
// invalid bytes are escaped as strconv.Quote writes them (\x1b, \n,
// \u202e, \xff), so that it cannot move the cursor, recolour the screen,
// retitle the window or fake a line. Other text, ordinary Unicode
// included, is kept as it is. Every CLI output of a server's text goes
// through it.
func printable(s string) string {
	i := strings.IndexFunc(s, needsEscape)
	if i < 0 && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[0])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[0])&0xf, 16))
		case needsEscape(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[:n])
		}
		s = s[n:]
	}
	return b.String()
}

// needsEscape reports whether printable escapes r: a control character,
// or one that reorders the text shown after it (bidirectional embeddings,
// overrides and isolates, the marks).
func needsEscape(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

// printableLines is printable for a message of several lines, such as an
// error joined by errors.Join: its own line breaks are kept.
func printableLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = printable(l)
	}
	return strings.Join(lines, "\n")
}
