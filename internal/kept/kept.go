// Package kept keeps memory to reuse: buffers and arrays that a server
// fills again for each request or batch. Unlike a sync.Pool's, what a List
// keeps outlives garbage collections (a process handling megabytes a
// request collects every few requests, and memory made anew is cleared and
// faulted in page by page); unlike a plain free list, it gives memory back
// once unused for a while.
package kept

import (
	"slices"
	"sync"
	"time"
)

// List is a bounded list of things to reuse: at most Max bytes of them (as
// Size counts a thing's room), each dropped once unused for Keep. The zero
// value keeps nothing; a List is safe for concurrent use.
type List[T any] struct {
	Max  int
	Keep time.Duration
	Size func(T) int

	mu    sync.Mutex
	free  []entry[T]
	bytes int
	timer *time.Timer // drops the things unused for Keep, while any is kept
}

type entry[T any] struct {
	v    T
	size int
	used time.Time
}

// Take takes out the smallest kept thing with room for size bytes; when
// none has it, the largest kept if orLargest, else none. ok reports
// whether it took one.
func (l *List[T]) Take(size int, orLargest bool) (v T, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	best, largest := -1, -1
	for i, e := range l.free {
		if e.size >= size && (best < 0 || e.size < l.free[best].size) {
			best = i
		}
		if largest < 0 || e.size > l.free[largest].size {
			largest = i
		}
	}
	if best < 0 && orLargest {
		best = largest
	}
	if best < 0 {
		return v, false
	}
	e := l.free[best]
	l.free = slices.Delete(l.free, best, best+1)
	l.bytes -= e.size
	return e.v, true
}

// Put keeps v for a later Take, when the list has room for it.
func (l *List[T]) Put(v T) {
	size := l.Size(v)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bytes+size > l.Max {
		return
	}
	l.free = append(l.free, entry[T]{v, size, time.Now()})
	l.bytes += size
	if l.timer == nil {
		l.timer = time.AfterFunc(l.Keep, l.trim)
	}
}

// Kept returns how many things and bytes the list keeps.
func (l *List[T]) Kept() (things, bytes int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.free), l.bytes
}

// trim drops the things unused for Keep: an idle process gives their
// memory back.
func (l *List[T]) trim() {
	l.mu.Lock()
	defer l.mu.Unlock()
	cutoff := time.Now().Add(-l.Keep)
	kept := l.free[:0]
	for _, e := range l.free {
		if e.used.After(cutoff) {
			kept = append(kept, e)
		} else {
			l.bytes -= e.size
		}
	}
	clear(l.free[len(kept):])
	l.free = kept
	l.timer = nil
	if len(l.free) > 0 {
		l.timer = time.AfterFunc(l.Keep, l.trim)
	}
}
