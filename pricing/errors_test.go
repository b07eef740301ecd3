package pricing

import (
	"strings"
	"testing"
)

// TestErrorsCutLongValues: an error repeats a bad value up to maxShown
// bytes, then its length, whole runes only; a 100,000-byte field came
// back in full in its trade's result (5 MB of results for 50 trades).
func TestErrorsCutLongValues(t *testing.T) {
	long := `"` + strings.Repeat("x", 100_000) + `"`
	runes := strings.Repeat("é", 150) // 300 bytes, two a rune
	for _, c := range []struct {
		err  error
		want string
	}{
		{Invalid("right", "call?", "must be call or put"), `right must be call or put, got call?`},
		{Invalid("right", long, "must be call or put"), `right must be call or put, got "` + strings.Repeat("x", 199) + `... (100002 bytes)`},
		{Invalid("name", runes, "is unknown"), `name is unknown, got ` + strings.Repeat("é", 100) + `... (300 bytes)`},
		{UnderlyingInvalid("ACME", "vol", long, "must be > 0"), `underlying ACME: vol must be > 0, got "` + strings.Repeat("x", 199) + `... (100002 bytes)`},
		{CurveInvalid("USD", long, "is not finite"), `curve USD is not finite, got "` + strings.Repeat("x", 199) + `... (100002 bytes)`},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("error %.80q..., want %.80q...", got, c.want)
		}
	}
}
