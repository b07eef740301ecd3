package batch

// slab hands out new values of T from arrays made a block at a time, each
// written before use (makeFaulted): one allocation for up to slabMax trades'
// wire forms, or compiled forms, instead of one each. An array stays
// alive while any of its values is referenced, so a slab serves values
// that live and die together: one batch's trades, or one block's
// (rewind).
type slab[T any] struct {
	arrays    [][]T // made so far, filled in turn
	cur, next int   // arrays[cur][next:] is free
}

// slabMax is the longest array of a slab. The arrays start at one value
// and double, so that a batch of a few trades (Trade.UnmarshalJSON reads
// one) makes little more than it uses.
const slabMax = 256

// new returns a pointer to a zero T.
func (s *slab[T]) new() *T {
	if s.cur < len(s.arrays) && s.next == len(s.arrays[s.cur]) {
		s.cur, s.next = s.cur+1, 0
	}
	if s.cur == len(s.arrays) {
		size := 1
		if n := len(s.arrays); n > 0 {
			size = min(2*len(s.arrays[n-1]), slabMax)
		}
		s.arrays = append(s.arrays, makeFaulted[T](size))
	}
	p := &s.arrays[s.cur][s.next]
	s.next++
	return p
}

// drop zeroes the value new returned last and makes it free again: for
// a value its caller could not fill (a trade whose terms are bad).
func (s *slab[T]) drop() {
	s.next--
	var zero T
	s.arrays[s.cur][s.next] = zero
}

// rewind zeroes every value handed out and makes it free again: for
// values no one uses any more (a priced block's compiled trades), whose
// memory, warm in the cache, then serves the next ones.
func (s *slab[T]) rewind() {
	for i := range min(s.cur+1, len(s.arrays)) {
		used := s.arrays[i]
		if i == s.cur {
			used = used[:s.next]
		}
		clear(used)
	}
	s.cur, s.next = 0, 0
}

// slabs holds one goroutine's slabs, one a type of value (a trade type's
// wire form, its compiled form). The zero value is empty and ready; a nil
// *slabs gives each value its own allocation.
type slabs struct {
	list []any // of *slab[T], the last used first
}

// newIn returns a pointer to a zero T from s's slab of T.
func newIn[T any](s *slabs) *T {
	if s == nil {
		return new(T)
	}
	for i, x := range s.list {
		if sl, ok := x.(*slab[T]); ok {
			if i > 0 { // a batch of mixed types: keep the last used first
				s.list[0], s.list[i] = s.list[i], s.list[0]
			}
			return sl.new()
		}
	}
	sl := new(slab[T])
	s.list = append(s.list, sl)
	last := len(s.list) - 1
	s.list[0], s.list[last] = s.list[last], s.list[0]
	return sl.new()
}

// dropLast gives back the value newIn[T] returned last from s, zeroed
// (slab.drop); s must be the one it came from, and not nil.
func dropLast[T any](s *slabs) {
	s.list[0].(*slab[T]).drop()
}

// rewind rewinds every slab of s: every value it handed out is zeroed and
// serves again. Nothing may use those values after.
func (s *slabs) rewind() {
	for _, x := range s.list {
		x.(interface{ rewind() }).rewind()
	}
}
