// Package fsum adds float64 numbers exactly: a Sum holds the exact value
// of the numbers added to it as a short list of non-overlapping float64
// partials (Shewchuk's algorithm, as Python's math.fsum), and Value rounds
// it once, correctly. Two Sums merge exactly, so a total built from parts
// summed apart, in any order and in any grouping, is the same to the last
// bit: what a portfolio sum split over many processes needs.
package fsum

import (
	"fmt"
	"math"
)

// Sum is an exact sum of float64 numbers. The zero value is the empty sum,
// 0. A Sum is not safe for concurrent use; copy it with Clone.
type Sum struct {
	// p holds the exact sum of the finite numbers added, as partials
	// that do not overlap, in increasing order of magnitude.
	p []float64
	// special is the float64 sum of the non-finite numbers added, and of
	// the infinity of an exact sum that overflows; 0 when there are none.
	special float64
}

// Add adds x to s exactly.
func (s *Sum) Add(x float64) {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		s.special += x
		return
	}
	p := s.p
	i := 0
	for _, y := range p {
		if math.Abs(x) < math.Abs(y) {
			x, y = y, x
		}
		hi := x + y
		if math.IsInf(hi, 0) {
			// The exact sum leaves float64: like an overflow in a
			// floating-point sum, it is that infinity.
			s.special += hi
			s.p = p[:0]
			return
		}
		lo := y - (hi - x)
		if lo != 0 {
			p[i] = lo
			i++
		}
		x = hi
	}
	s.p = append(p[:i], x)
}

// Merge adds the exact value of o to s; o is unchanged.
func (s *Sum) Merge(o *Sum) {
	for _, x := range o.p {
		s.Add(x)
	}
	if o.special != 0 { // NaN included
		s.special += o.special
	}
}

// Value returns the exact sum rounded to the nearest float64, ties to
// even, as math.fsum: the same for the same numbers added in any order. An
// empty or exactly zero sum is +0. A sum with non-finite terms (or whose
// exact value overflows) is their float64 sum: +Inf, -Inf or NaN.
func (s *Sum) Value() float64 {
	if s.special != 0 { // NaN included
		return s.special
	}
	p := s.p
	n := len(p)
	if n == 0 {
		return 0
	}
	// Add the partials from the largest down, stopping at the first
	// inexact step: below it the partials only decide a tie.
	n--
	hi := p[n]
	var lo float64
	for n > 0 {
		x := hi
		n--
		y := p[n]
		hi = x + y
		yr := hi - x
		lo = y - yr
		if lo != 0 {
			break
		}
	}
	// Round half-way cases by the sign of the rest, as math.fsum: hi+lo
	// is a tie only when lo is exactly half an ulp of hi.
	if n > 0 && ((lo < 0 && p[n-1] < 0) || (lo > 0 && p[n-1] > 0)) {
		y := lo * 2
		x := hi + y
		if yr := x - hi; y == yr {
			hi = x
		}
	}
	return hi + 0 // +0, never -0
}

// Partials returns the partials of s: numbers whose exact sum is the
// exact value of s (and, for a sum with non-finite terms, that float64
// sum last). Adding them to an empty Sum, in any order, gives a Sum of
// the same value: it is how a Sum travels (see FromPartials).
func (s *Sum) Partials() []float64 {
	return s.AppendPartials(nil)
}

// AppendPartials appends the partials of s (Partials) to dst.
func (s *Sum) AppendPartials(dst []float64) []float64 {
	dst = append(dst, s.p...)
	if s.special != 0 { // NaN included
		dst = append(dst, s.special)
	}
	return dst
}

// FromPartials returns the Sum of xs, as Partials gave them. It is Add of
// each, which checks nothing: any list of numbers is a valid sum.
func FromPartials(xs []float64) Sum {
	var s Sum
	for _, x := range xs {
		s.Add(x)
	}
	return s
}

// Clone returns a copy of s that shares no memory with it.
func (s *Sum) Clone() Sum {
	return Sum{p: append([]float64(nil), s.p...), special: s.special}
}

// Reset empties s, keeping its memory.
func (s *Sum) Reset() {
	s.p, s.special = s.p[:0], 0
}

// String formats the rounded value and the partials, for tests and logs.
func (s *Sum) String() string {
	return fmt.Sprintf("%v %v", s.Value(), s.Partials())
}
