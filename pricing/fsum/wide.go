package fsum

import "math"

// Wide is an exact sum of float64 numbers, as Sum, for sums of many terms:
// a fixed-point integer wide enough for every double between 2^-308 and
// 2^289 in magnitude, kept in limbs of 32 bits, so that adding a number is a
// few integer additions, with no branch on its value (Sum's Add walks its
// partials: some 16 ns, against Wide's 3). Numbers outside that window
// (subnormal, tiny, huge, non-finite) go to a Sum beside it. The zero value
// is the empty sum. A Wide is some 200 bytes and not safe for concurrent
// use; a copy shares memory with it (copy one by Merge into a zero Wide).
type Wide struct {
	// limb[i] holds a signed count of units of 2^(32i + wideMinExp). Each
	// addition puts less than 2^32 into a limb, so wideNormEvery of them
	// cannot overflow one; normalise then carries.
	limb [wideLimbs]int64
	adds int
	rest Sum
}

const (
	wideLimbs = 20
	// wideMinExp is the exponent of the integer's lowest bit: a double
	// m·2^e (m an integer below 2^53) with e below it goes to rest.
	wideMinExp = -308
	// wideMaxShift is the highest position of a double's lowest bit in
	// the integer: its 53 bits, shifted by up to 31 more, take three
	// limbs, the last one below the top.
	wideMaxShift  = 32 * (wideLimbs - 3)
	wideNormEvery = 1 << 30
)

// Add adds x to w exactly.
func (w *Wide) Add(x float64) {
	b := math.Float64bits(x)
	be := int(b>>52) & 0x7ff
	// The position of x's lowest mantissa bit in the integer. A zero or
	// subnormal (be 0) and a non-finite number (be 0x7ff) fall outside the
	// window, as do numbers too small or too large for it.
	p := be - 1075 - wideMinExp
	if uint(p) > wideMaxShift {
		if x != 0 {
			w.rest.Add(x)
		}
		return
	}
	m := b&(1<<52-1) | 1<<52
	s := uint(p) & 31
	lo := m << s
	hi := m >> (64 - s) // 0 when s is 0
	// The three pieces, negated for a negative x without a branch: neg is
	// 0 or -1, and (v^neg)-neg is v or -v.
	neg := int64(b) >> 63
	j := p >> 5
	l := w.limb[j : j+3 : j+3]
	l[0] += (int64(lo&0xffffffff) ^ neg) - neg
	l[1] += (int64(lo>>32) ^ neg) - neg
	l[2] += (int64(hi) ^ neg) - neg
	w.adds++
	if w.adds == wideNormEvery {
		w.normalise()
	}
}

// normalise carries each limb's excess into the next, leaving every limb
// but the last in [0, 2^32): the same integer.
func (w *Wide) normalise() {
	for i := range wideLimbs - 1 {
		c := w.limb[i] >> 32 // floor division by 2^32
		w.limb[i] -= c << 32
		w.limb[i+1] += c
	}
	w.adds = 0
}

// Merge adds the exact value of o to w; o is unchanged.
func (w *Wide) Merge(o *Wide) {
	if w.adds+o.adds >= wideNormEvery {
		w.normalise()
		oc := *o // a copy, o itself unchanged
		oc.normalise()
		o = &oc
	}
	for i := range w.limb {
		w.limb[i] += o.limb[i]
	}
	w.adds += o.adds
	w.rest.Merge(&o.rest)
}

// Sum returns w's exact value as a Sum: its partials are few (one or two a
// limb that is not zero, merged), and it rounds and travels as a Sum does.
func (w *Wide) Sum() Sum {
	n := *w
	n.normalise()
	s := w.rest.Clone()
	for i, l := range n.limb {
		if l != 0 {
			// Exact: below 2^32 (the top limb below 2^20 for any sum of
			// fewer than 2^31 terms), times a power of two in range.
			s.Add(math.Ldexp(float64(l), 32*i+wideMinExp))
		}
	}
	return s
}

// Value returns w's exact value rounded once, as Sum.Value.
func (w *Wide) Value() float64 {
	s := w.Sum()
	return s.Value()
}
