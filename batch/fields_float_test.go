package batch

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestPlainDecimalMatchesStrconv checks plainDecimal, value.float's fast
// path, against strconv.ParseFloat to the bit: random decimals of every
// length and point position (taken or refused by the fast path), and the
// edges (zeros, signs, 15 and 16 digits, exponents, which it refuses).
func TestPlainDecimalMatchesStrconv(t *testing.T) {
	check := func(num string) {
		t.Helper()
		if !json.Valid([]byte(num)) {
			return // not a JSON number: the scanner refuses it first
		}
		want, err := strconv.ParseFloat(num, 64)
		got, ok := plainDecimal([]byte(num))
		if !ok {
			if !strings.ContainsAny(num, "eE") && err == nil && len(strings.Trim(num, "-.")) <= 15 {
				t.Errorf("plainDecimal(%q) refused a plain decimal of at most 15 digits", num)
			}
			return
		}
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("plainDecimal(%q) = %v (%#x), strconv %v (%#x, %v)", num, got, math.Float64bits(got), want, math.Float64bits(want), err)
		}
	}
	for _, num := range []string{
		"0", "-0", "0.0", "-0.0", "0.000000000000000", "1", "-1", "9", "0.1", "0.3", "-0.7",
		"100", "191.383082", "0.05", "1.5e3", "1E-2", "123456789012345", "1234567890123456",
		"999999999999999", "9999999999999999", "0.000000000000001", "0.0000000000000001",
		"9007199254740993", "4.35", "2.675", "1.005", "123456.789012345",
	} {
		check(num)
	}
	r := rand.New(rand.NewPCG(1, 2))
	var b []byte
	for range 2_000_000 {
		b = b[:0]
		if r.IntN(4) == 0 {
			b = append(b, '-')
		}
		n := 1 + r.IntN(17)
		point := r.IntN(n + 1)
		for k := range n {
			if k == point && k > 0 {
				b = append(b, '.')
			}
			c := byte('0' + r.IntN(10))
			if k == 0 && n > 1 && point != 1 {
				c = byte('1' + r.IntN(9)) // no leading zero but 0.x
			}
			if k == 0 && point == 1 && r.IntN(2) == 0 {
				c = '0'
			}
			b = append(b, c)
		}
		check(string(b))
	}
}
