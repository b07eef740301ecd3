package host

import "unicode/utf8"

// Clip returns s cut to at most n bytes, on a character boundary, with
// "..." after it when it was cut: what a message or a record quotes of a
// value it is given (a header, a parameter, a broker's report), whose
// length the sender chose.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// s[i] is the first byte left out: back off from a character it
	// splits (at most UTFMax-1 bytes, whatever s holds).
	i := n
	for j := 0; j < utf8.UTFMax-1 && i > 0 && !utf8.RuneStart(s[i]); j++ {
		i--
	}
	return s[:i] + "..."
}

// Short is s clipped to 200 bytes: a value quoted in an error message.
func Short(s string) string { return Clip(s, 200) }
