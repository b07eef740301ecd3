package batch

import (
	"encoding/binary"
	"math"
)

// appendFloat appends v as encoding/json writes a float64: the shortest
// digits that read back as v, without an exponent from 1e-6 to 1e21, else
// as d.ddde±x (e-7, not e-07); but 0 for -0, and null for a NaN or an
// infinity, which JSON has no number for (the results' encoder refuses
// them before).
func appendFloat(b []byte, v float64) []byte {
	switch {
	case v == 0:
		return append(b, '0') // never "-0"
	case math.IsNaN(v) || math.IsInf(v, 0):
		return append(b, "null"...)
	}
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	d, e := shortest(v)
	var buf [24]byte
	i := len(buf)
	// Eight digits at a time (put8), the last first.
	for d >= 1e8 {
		q := d / 1e8
		put8(buf[i-8:i], uint32(d-q*1e8))
		i -= 8
		d = q
	}
	r := uint32(d)
	for r >= 100 {
		q := r / 100
		p := (r - 100*q) * 2
		i -= 2
		buf[i], buf[i+1] = digitPairs[p], digitPairs[p+1]
		r = q
	}
	if r >= 10 {
		i -= 2
		buf[i], buf[i+1] = digitPairs[2*r], digitPairs[2*r+1]
	} else {
		i--
		buf[i] = byte('0' + r)
	}
	digits := buf[i:]
	x := e + len(digits) - 1 // the exponent of the first digit
	switch {
	case v < 1e-6 || v >= 1e21:
		b = append(b, digits[0])
		if len(digits) > 1 {
			b = append(b, '.')
			b = append(b, digits[1:]...)
		}
		b = append(b, 'e')
		if x < 0 {
			b = append(b, '-')
			x = -x
		} else {
			b = append(b, '+')
		}
		if x >= 100 {
			b = append(b, byte('0'+x/100))
			x %= 100
			b = append(b, byte('0'+x/10), byte('0'+x%10))
		} else if x >= 10 || b[len(b)-1] == '+' {
			b = append(b, byte('0'+x/10), byte('0'+x%10))
		} else {
			b = append(b, byte('0'+x))
		}
		return b
	case x < 0:
		b = append(b, '0', '.')
		for range -x - 1 {
			b = append(b, '0')
		}
		return append(b, digits...)
	case len(digits) <= x+1:
		b = append(b, digits...)
		for range x + 1 - len(digits) {
			b = append(b, '0')
		}
		return b
	}
	b = append(b, digits[:x+1]...)
	b = append(b, '.')
	return append(b, digits[x+1:]...)
}

// put8 writes the eight decimal digits of r < 1e8 to dst, all eight
// worked out at once in the lanes of one 64-bit word: the two halves of
// four digits in 32-bit lanes, their pairs in 16-bit lanes (the quotient
// by 100 as a multiplication and a shift, exact below 10,000), their
// digits in bytes (by 10: exact below 100), the first digit in the lowest
// byte, then one store.
func put8(dst []byte, r uint32) {
	hi := r / 10000
	v := uint64(hi) | uint64(r-hi*10000)<<32
	q := (v * 10486 >> 20) & 0x0000007f_0000007f
	v = q | (v-q*100)<<16
	q = (v * 103 >> 10) & 0x000f_000f_000f_000f
	v = q | (v-q*10)<<8
	binary.LittleEndian.PutUint64(dst, v|0x3030_3030_3030_3030)
}

// digitPairs holds "00" to "99".
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"
