package fsum

import "math"

// Wide is an exact sum of float64 numbers, as Sum, for sums of many terms:
// a fixed-point integer wide enough for every finite double of magnitude
// 2^-256 or more, and for any sum of them, kept in limbs of 32 bits, so
// that adding a number is a few integer additions with no branch on its
// value (Sum's Add walks its partials: some 16 ns, against Wide's 4).
// Smaller numbers (and non-finite ones) go to a Sum beside it, which they
// cannot make overflow. The zero value is the empty sum. A Wide is some 400
// bytes and not safe for concurrent use; a copy shares memory with it
// (copy one by Merge into a zero Wide).
type Wide struct {
	// limb[i] holds a signed count of units of 2^(32i + wideMinExp).
	limb [wideLimbs]int64
	// lo and hi bound the limbs that may not be zero: [lo, hi), none
	// when hi is 0.
	lo, hi int
	// adds bounds the limbs: each is less than adds·2^32 in magnitude (an
	// addition puts less than 2^32 into a limb, a normalised Wide counts
	// one), so that wideNormEvery of them cannot overflow one; normalise
	// then carries.
	adds int
	rest Sum
}

const (
	// wideMinExp is the exponent of the integer's lowest bit: a double
	// m·2^e (m an integer below 2^53) with e below it goes to rest.
	wideMinExp = -308
	// wideMaxShift is the highest position of a double's lowest bit in
	// the integer, that of the largest finite double; its 53 bits, shifted
	// by up to 31 more, take three limbs.
	wideMaxShift = 971 - wideMinExp
	// wideLimbs holds them, and a limb above for the carries of a sum of
	// up to 2^31 numbers.
	wideLimbs     = wideMaxShift/32 + 4
	wideNormEvery = 1 << 30
)

// widePow2[i] is 2^(32i + wideMinExp), the weight of limb i, for the limbs
// a finite double reaches (the top one's weight is not one).
var widePow2 = func() (p [wideLimbs - 1]float64) {
	for i := range p {
		p[i] = math.Ldexp(1, 32*i+wideMinExp)
	}
	return p
}()

// Add adds x to w exactly.
func (w *Wide) Add(x float64) {
	b := math.Float64bits(x)
	be := int(b>>52) & 0x7ff
	// The position of x's lowest mantissa bit in the integer. A zero or
	// subnormal (be 0), a non-finite number (be 0x7ff) and a number below
	// the window fall outside it.
	p := be - 1075 - wideMinExp
	if uint(p) > wideMaxShift || be == 0x7ff {
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
	if w.hi == 0 {
		w.lo, w.hi = j, j+3
	} else {
		w.lo, w.hi = min(w.lo, j), max(w.hi, j+3)
	}
	w.adds++
	if w.adds >= wideNormEvery {
		w.normalise()
	}
}

// normalise carries each limb's excess into the next, leaving every limb
// but the highest in use in [0, 2^32) (the highest holds the sign): the
// same integer.
func (w *Wide) normalise() {
	if w.hi == 0 {
		w.adds = 0
		return
	}
	w.adds = 1
	if w.hi < wideLimbs {
		w.hi++ // room for the carry out of the top
	}
	for i := w.lo; i < w.hi-1; i++ {
		c := w.limb[i] >> 32 // floor division by 2^32
		w.limb[i] -= c << 32
		w.limb[i+1] += c
	}
	for w.hi > w.lo && w.limb[w.hi-1] == 0 {
		w.hi--
	}
	for w.lo < w.hi && w.limb[w.lo] == 0 {
		w.lo++
	}
	if w.lo == w.hi {
		w.lo, w.hi, w.adds = 0, 0, 0
	}
}

// Merge adds the exact value of o to w; o is unchanged.
func (w *Wide) Merge(o *Wide) {
	if w.adds+o.adds >= wideNormEvery {
		// Carry first, so that no limb adds up past int64.
		w.normalise()
		oc := *o // a copy, o itself unchanged
		oc.normalise()
		o = &oc
	}
	if o.hi != 0 {
		for i := o.lo; i < o.hi; i++ {
			w.limb[i] += o.limb[i]
		}
		if w.hi == 0 {
			w.lo, w.hi = o.lo, o.hi
		} else {
			w.lo, w.hi = min(w.lo, o.lo), max(w.hi, o.hi)
		}
		w.adds += o.adds
	}
	w.rest.Merge(&o.rest)
}

// Sum returns w's exact value as a Sum: its partials are few (the integer
// has a 53-bit piece or less for each double-width span of its bits), and
// it rounds and travels as a Sum does. A value beyond float64's range is
// the Sum of that infinity.
func (w *Wide) Sum() Sum {
	s := w.rest.Clone()
	if w.hi == 0 {
		return s
	}
	n := *w
	n.normalise()
	if n.hi == 0 { // an exact zero
		return s
	}
	// As sign and magnitude: the limbs of a negative integer, negated and
	// carried, are those of its magnitude.
	sign := 1.0
	if n.limb[n.hi-1] < 0 {
		sign = -1
		for i := n.lo; i < n.hi; i++ {
			n.limb[i] = -n.limb[i]
		}
		n.normalise()
	}
	top := n.hi - 1
	if top == wideLimbs-1 {
		// Past the largest finite double.
		s.Add(sign * math.Inf(1))
		return s
	}
	// From the top down, each limb a double exactly (below 2^32, times a
	// power of two in range): the partials the Sum keeps merge
	// neighbouring limbs while they fit in 53 bits.
	var mag Sum
	for i := top; i >= n.lo; i-- {
		if l := n.limb[i]; l != 0 {
			mag.Add(sign * float64(l) * widePow2[i])
		}
	}
	s.Merge(&mag)
	return s
}

// Value returns w's exact value rounded once, as Sum.Value.
func (w *Wide) Value() float64 {
	s := w.Sum()
	return s.Value()
}
