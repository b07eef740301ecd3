//go:build linux && !race

// (Under the race detector every write also writes its shadow memory,
// itself fresh: the faults counted here would be the detector's.)

package batch

import (
	"runtime"
	"syscall"
	"testing"
)

// minorFaults returns the process's page faults served without I/O so far.
func minorFaults(t *testing.T) int64 {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return ru.Minflt
}

// TestMakeFaultedSparesZeroPages: a fresh pointerful array that the collector
// scans before it is written costs two faults a page (the scan maps the
// zero page, the write copies it) unless makeFaulted wrote it first; after
// makeFaulted, neither the scan nor the writes fault again. The array made
// without makeFaulted is the control: the memory must be fresh from the
// system for the test to mean anything (memory the heap reuses is cleared
// by the allocator, faulting in there), and the control's faults show it
// is. Where they do not (a run after another, -count), the arrays are made
// again larger, held, until the heap has to take fresh memory.
func TestMakeFaultedSparesZeroPages(t *testing.T) {
	var held [][]*int
	defer runtime.KeepAlive(held)
	for n := 4 << 20; n <= 32<<20; n *= 2 { // 32 MB of pointers, then more
		pages := int64(n * 8 / pageBytes)
		control, pre := make([]*int, n), makeFaulted[*int](n)
		held = append(held, control, pre)
		fill := func(s []*int) int64 {
			before := minorFaults(t)
			runtime.GC() // scans s whole
			x := new(int)
			for i := range s {
				s[i] = x
			}
			return minorFaults(t) - before
		}
		c, p := fill(control), fill(pre)
		t.Logf("scanning and filling %d pages: %d faults made plainly, %d after makeFaulted", pages, c, p)
		if c < pages {
			continue // reused memory: not fresh
		}
		if p > pages/10 {
			t.Errorf("after makeFaulted, scanning and filling %d pages faulted %d times, want almost none", pages, p)
		}
		for i := range pre {
			if pre[i] == nil || pre[i] != pre[0] || control[i] != control[0] {
				t.Fatalf("element %d lost its value", i)
			}
		}
		return
	}
	t.Fatal("no array made came fresh from the system: the test shows nothing")
}
