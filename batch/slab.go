package batch

// slab hands out new values of T from arrays made a block at a time, each
// written before use (makeFaulted): one allocation for up to slabMax trades'
// wire forms, or compiled forms, instead of one each. An array stays
// alive while any of its values is referenced, so a slab serves values
// that live and die together: one batch's trades.
type slab[T any] struct {
	free []T
	size int // the last array's length: doubled up to slabMax
}

// slabMax is the longest array of a slab. The arrays start at one value
// and double, so that a batch of a few trades (Trade.UnmarshalJSON reads
// one) makes little more than it uses.
const slabMax = 256

// new returns a pointer to a zero T.
func (s *slab[T]) new() *T {
	if len(s.free) == 0 {
		s.size = min(max(2*s.size, 1), slabMax)
		s.free = makeFaulted[T](s.size)
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
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
