package host_test

import (
	"strings"
	"testing"

	"github.com/pricefn/pricefn/functions/host"
)

// TestClip: a value is cut to its bound on a character boundary, "..."
// marking the cut; one within the bound is kept as it is.
func TestClip(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven byte", 10, "eleven byt..."},
		{"abcdefghé", 9, "abcdefgh..."},                // é is two bytes: not split
		{"abc€", 4, "abc..."},                          // € is three
		{strings.Repeat("\x80", 20), 5, "\x80\x80..."}, // no character start: backs off at most 3 bytes
	} {
		if got := host.Clip(c.s, c.n); got != c.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}
