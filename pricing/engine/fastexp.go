package engine

import "math"

// expTableBits is 2^(j/128), j = 0..127, as the bits of the nearest
// doubles (exact to within half an ulp).
var expTableBits = func() (t [128]uint64) {
	for j := range t {
		t[j] = math.Float64bits(math.Exp2(float64(j) / 128))
	}
	return t
}()

// The constants of fastExp: 128/ln 2, and ln 2/128 split in a high part
// exact in 32 bits and the rest, so that k·ln2/128 is subtracted without
// rounding for the k fastExp meets.
const (
	expInvLn2N = 184.66496523378731 // 128/ln 2
	expLn2NHi  = 0.00541521234663378
	expLn2NLo  = 1.4907929134926466e-12 // ln 2/128 - expLn2NHi
	expShift   = 0x1.8p52               // adding it rounds to an integer
)

// fastExp returns e^x within 2 ulp of math.Exp (TestFastExp), about twice
// as fast: it
// writes x = k·ln2/128 + r with |r| <= ln2/256, takes 2^(k/128) from a
// table and e^r from its Taylor polynomial to degree 5 (error below 1e-18
// on that range). Outside |x| < 700, and for NaN, it is math.Exp.
func fastExp(x float64) float64 {
	if !expInRange(x) {
		return math.Exp(x)
	}
	return expPoly(expReduce(x))
}

// expInRange reports whether fastExp computes e^x itself: |x| < 700.
func expInRange(x float64) bool { return x > -700 && x < 700 }

// fastExp is split in two functions small enough for Go to inline (its
// budget is 80), so that a formula which calls it on every trade
// (blackScholes) computes it in place, its operands in registers: the call
// cost a fifth of the formula. A caller inlines it as
//
//	if expInRange(x) { y = expPoly(expReduce(x)) } else { y = math.Exp(x) }

// expReduce writes x (|x| < 700) as k·ln2/128 + r with |r| <= ln2/256 and
// returns 2^(k/128), from the table, and r.
func expReduce(x float64) (scale, r float64) {
	kf := x*expInvLn2N + expShift
	k := int64(int32(math.Float64bits(kf))) // kf as a two's complement 32-bit integer
	kf -= expShift
	return math.Float64frombits(expTableBits[k&127] + uint64(k>>7)<<52), x - kf*expLn2NHi - kf*expLn2NLo
}

// expPoly returns scale·e^r by e^r's Taylor polynomial to degree 5.
func expPoly(scale, r float64) float64 {
	r2 := r * r
	return scale + scale*(r+r2*(0.5+r*(1.0/6))+r2*r2*(1.0/24+r*(1.0/120)))
}

// logTable holds, for j = -46..53 (index j+46), 1/c and ln c for
// c = 1 + j/128, 1/c rounded to a double and ln c the logarithm of its
// inverse, so that ln x = ln(x/c) + ln c holds with x/c = x·(1/c).
var logTable = func() (t [100]struct{ invc, logc float64 }) {
	for i := range t {
		c := 1 + float64(i-46)/128
		t[i].invc = 1 / c
		t[i].logc = -math.Log(t[i].invc)
	}
	return t
}()

// fastLog returns ln x for finite x > 0 within 1e-16 absolute and 2 ulp
// relative where |ln x| >= 1e-3 (TestFastLog), about twice as fast as
// math.Log, which has no assembly on amd64 and a division on its critical
// path: it writes x = 2^k·m with m in [0.71, 1.42), takes c = 1 + j/128
// nearest m, and sums k·ln 2, ln c and ln(m/c) by its Taylor polynomial to
// degree 7 (|m/c - 1| < 1/256: error below 1e-19). Other x (0, negative,
// infinite, NaN, subnormal) are math.Log's.
func fastLog(x float64) float64 {
	if !logInRange(x) {
		return math.Log(x)
	}
	return logPoly(logReduce(x))
}

// logInRange reports whether fastLog computes ln x itself: x a positive
// normal double.
func logInRange(x float64) bool {
	return math.Float64bits(x)-0x0010000000000000 < 0x7ff0000000000000-0x0010000000000000
}

// logReduce writes x (logInRange) as 2^k·m with m in [1/√2, √2) and
// returns m, k and the index i = j+46 in logTable of the c = 1 + j/128
// nearest m; fastLog in two inlinable parts, as fastExp.
//
// i is (m-1)·128 + 46.5 truncated, which a double holds exactly for every
// such m: it is m·128 - 81.5, and with v = m·2^53, an integer below 2^53
// made of m's mantissa and the last bit of its exponent, it is
// (v - 163·2^45) >> 46. Integer operations on the bits give it sooner
// than arithmetic on m and a conversion, which the logarithm waited for
// (TestLogIndex).
func logReduce(x float64) (m, k float64, i int) {
	bits := math.Float64bits(x)
	ki := int64(bits>>52) - 1023
	f := bits & (1<<52 - 1)
	// half is 1 where the mantissa is √2 or more: m is then half of it, and
	// k one more. The subtraction's sign rather than a branch, which a
	// book of strikes on both sides of the spot would mispredict.
	half := (0x6a09e667f3bcd - f) >> 63 // √2's mantissa less f
	v := (f | 1<<52) << 1 >> half
	return math.Float64frombits(f | (1023-half)<<52), float64(ki + int64(half)), int((v - 163<<45) >> 46)
}

// logPoly returns k·ln 2 + ln m: ln c for the c = 1 + j/128 nearest m
// from the table (its index i from logReduce), and ln(m/c) by its Taylor
// polynomial.
func logPoly(m, k float64, i int) float64 {
	e := &logTable[i]
	r := math.FMA(m, e.invc, -1)
	r2 := r * r
	p := r2 * (-0.5 + r*(1.0/3) + r2*(-0.25+r*(0.2)) + r2*r2*(-1.0/6+r*(1.0/7)))
	const ln2Hi, ln2Lo = 6.93147180369123816490e-01, 1.90821492927058770002e-10
	return k*ln2Hi + e.logc + (r + p + k*ln2Lo)
}
