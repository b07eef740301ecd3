package batch

import (
	"encoding/binary"
	"math"
	"math/big"
	"math/bits"
	"sync"
)

// The shortest decimal that reads back as a float64, by Ulf Adams' Ryū
// (PLDI 2018, "Ryū: fast float-to-string conversion"): one 64x128-bit
// multiplication by a power of five for the value and each end of its
// rounding interval, then as few digits dropped as keep the result inside.
// strconv's shortest formatting (Dragonbox in Go 1.26) gives the same digits
// at some 2.5 times the cost; a result holds six numbers, and formatting
// them was nearly all of encoding one (bench/README.md).
// TestShortestIsStrconv checks the digits against strconv's on random bit
// patterns and on the edges of the algorithm.

const (
	pow5InvBits = 125 // bits of the tables' inverse powers of five
	pow5Bits    = 125 // bits of the tables' powers of five
)

// ryuTables are the 128-bit powers of five the algorithm multiplies by:
// inv[q] = floor(2^(bitlen(5^q)-1+pow5InvBits) / 5^q) + 1 for a value's
// exponent >= 0, pow[i] = 5^i scaled to pow5Bits bits for an exponent < 0.
// Made once, when first needed, exactly, by math/big.
type ryuTables struct {
	inv [342][2]uint64 // [q] = {low, high}
	pow [326][2]uint64
}

var ryu = sync.OnceValue(func() *ryuTables {
	t := new(ryuTables)
	one := big.NewInt(1)
	mask := new(big.Int).Sub(new(big.Int).Lsh(one, 64), one)
	split := func(v *big.Int) [2]uint64 {
		lo := new(big.Int).And(v, mask).Uint64()
		hi := new(big.Int).Rsh(v, 64).Uint64()
		return [2]uint64{lo, hi}
	}
	pow := big.NewInt(1)
	five := big.NewInt(5)
	for i := range len(t.inv) {
		if i > 0 {
			pow.Mul(pow, five)
		}
		n := pow.BitLen()
		if i < len(t.pow) {
			v := new(big.Int)
			if n >= pow5Bits {
				v.Rsh(pow, uint(n-pow5Bits))
			} else {
				v.Lsh(pow, uint(pow5Bits-n))
			}
			t.pow[i] = split(v)
		}
		inv := new(big.Int).Lsh(one, uint(n-1+pow5InvBits))
		inv.Div(inv, pow)
		inv.Add(inv, one)
		t.inv[i] = split(inv)
	}
	return t
})

// pow5bits is bitlen(5^e) for 0 <= e <= 3528.
func pow5bits(e int) int { return int((uint32(e)*1217359)>>19) + 1 }

// log10Pow2 is floor(log10(2^e)) for 0 <= e <= 1650.
func log10Pow2(e int) int { return int((uint32(e) * 78913) >> 18) }

// log10Pow5 is floor(log10(5^e)) for 0 <= e <= 2620.
func log10Pow5(e int) int { return int((uint32(e) * 732923) >> 20) }

func pow5Factor(v uint64) int {
	n := 0
	for v%5 == 0 {
		v /= 5
		n++
	}
	return n
}

func multipleOfPow5(v uint64, p int) bool { return pow5Factor(v) >= p }

func multipleOfPow2(v uint64, p int) bool { return v&(1<<uint(p)-1) == 0 }

// mulShift64 is the low 64 bits of (m * mul) >> j for the 128-bit mul and
// 64 <= j <= 128 (118 to 125 for a float64).
func mulShift64(m uint64, mul [2]uint64, j int) uint64 {
	hi0, _ := bits.Mul64(m, mul[0])
	hi1, lo1 := bits.Mul64(m, mul[1])
	sum, carry := bits.Add64(lo1, hi0, 0)
	hi1 += carry
	s := uint(j - 64)
	return sum>>s | hi1<<(64-s)
}

// shortest returns the shortest decimal digits d and exponent e, d·10^e,
// that read back as the finite, positive v.
func shortest(v float64) (d uint64, e int) {
	b := math.Float64bits(v)
	mant := b & (1<<52 - 1)
	exp := int(b>>52) & 0x7ff
	var m2 uint64
	var e2 int
	if exp == 0 {
		m2, e2 = mant, 1-1023-52-2
	} else {
		m2, e2 = mant|1<<52, exp-1023-52-2
	}
	even := m2&1 == 0
	mv := 4 * m2
	mmShift := uint64(0)
	if mant != 0 || exp <= 1 {
		mmShift = 1
	}
	t := ryu()
	var vr, vp, vm uint64
	var e10 int
	vmTrailingZeros, vrTrailingZeros := false, false
	if e2 >= 0 {
		q := log10Pow2(e2)
		if e2 > 3 {
			q--
		}
		e10 = q
		k := pow5InvBits + pow5bits(q) - 1
		i := -e2 + q + k
		vr = mulShift64(mv, t.inv[q], i)
		vp = mulShift64(mv+2, t.inv[q], i)
		vm = mulShift64(mv-1-mmShift, t.inv[q], i)
		if q <= 21 {
			switch {
			case mv%5 == 0:
				vrTrailingZeros = multipleOfPow5(mv, q)
			case even:
				vmTrailingZeros = multipleOfPow5(mv-1-mmShift, q)
			case multipleOfPow5(mv+2, q):
				vp--
			}
		}
	} else {
		q := log10Pow5(-e2)
		if -e2 > 1 {
			q--
		}
		e10 = q + e2
		i := -e2 - q
		k := pow5bits(i) - pow5Bits
		j := q - k
		vr = mulShift64(mv, t.pow[i], j)
		vp = mulShift64(mv+2, t.pow[i], j)
		vm = mulShift64(mv-1-mmShift, t.pow[i], j)
		switch {
		case q <= 1:
			vrTrailingZeros = true
			if even {
				vmTrailingZeros = mmShift == 1
			} else {
				vp--
			}
		case q < 63:
			vrTrailingZeros = multipleOfPow2(mv, q)
		}
	}

	removed := 0
	if vmTrailingZeros || vrTrailingZeros {
		// The rare case: an end of the interval, or the value, may be
		// exactly representable; drop digits tracking it.
		last := uint64(0)
		for vp/10 > vm/10 {
			vmTrailingZeros = vmTrailingZeros && vm%10 == 0
			vrTrailingZeros = vrTrailingZeros && last == 0
			last = vr % 10
			vr, vp, vm = vr/10, vp/10, vm/10
			removed++
		}
		if vmTrailingZeros {
			for vm%10 == 0 {
				vrTrailingZeros = vrTrailingZeros && last == 0
				last = vr % 10
				vr, vp, vm = vr/10, vp/10, vm/10
				removed++
			}
		}
		if vrTrailingZeros && last == 5 && vr%2 == 0 {
			last = 4 // an exact half rounds to even
		}
		d = vr
		if (vr == vm && (!even || !vmTrailingZeros)) || last >= 5 {
			d++
		}
		return d, e10 + removed
	}
	// The common case: no trailing zeros to keep track of.
	roundUp := false
	if vp/100 > vm/100 {
		roundUp = vr%100 >= 50
		vr, vp, vm = vr/100, vp/100, vm/100
		removed += 2
	}
	for vp/10 > vm/10 {
		roundUp = vr%10 >= 5
		vr, vp, vm = vr/10, vp/10, vm/10
		removed++
	}
	d = vr
	if vr == vm || roundUp {
		d++
	}
	return d, e10 + removed
}

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
