package batch

import "testing"

// TestWholeNumbers checks the reader of integer fields (settlementDays,
// paths): a JSON number with an integral value is that integer however it
// is written; a fraction, a value beyond int and a non-number are errors.
func TestWholeNumbers(t *testing.T) {
	for _, c := range []struct {
		raw  string
		kind byte
		want int
		err  string // "" for none
	}{
		{"2", kindNumber, 2, ""},
		{"2.0", kindNumber, 2, ""},
		{"2e0", kindNumber, 2, ""},
		{"20E-1", kindNumber, 2, ""},
		{"-3.000", kindNumber, -3, ""},
		{"-0.0", kindNumber, 0, ""},
		{"1.0e5", kindNumber, 100000, ""},
		{"2.5", kindNumber, 0, "settlementDays must be a whole number, got JSON number 2.5"},
		{"1e-300", kindNumber, 0, "settlementDays must be a whole number, got JSON number 1e-300"},
		{"1e19", kindNumber, 0, "settlementDays must be a whole number of at most 18 digits, got JSON number 1e19"},
		{"1e400", kindNumber, 0, "settlementDays must be a whole number of at most 18 digits, got JSON number 1e400"},
		{"9223372036854775808", kindNumber, 0, "settlementDays must be a whole number of at most 18 digits, got JSON number 9223372036854775808"},
		{`"2"`, kindString, 0, "settlementDays must be a whole number, got JSON string"},
	} {
		n, err := value{kind: c.kind, raw: []byte(c.raw)}.whole("settlementDays")
		switch {
		case c.err == "" && (err != nil || n != c.want):
			t.Errorf("%s: got %d, %v; want %d", c.raw, n, err, c.want)
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("%s: error %v, want %q", c.raw, err, c.err)
		}
	}
}
