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

// TestFaultInSparesZeroPages: a fresh pointerful array that the collector
// scans before it is written costs two faults a page (the scan maps the
// zero page, the write copies it) unless faultIn wrote it first; after
// faultIn, neither the scan nor the writes fault again.
func TestFaultInSparesZeroPages(t *testing.T) {
	const n = 4 << 20 // 32 MB of pointers: fresh from the OS, 8,192 pages
	for _, pre := range []bool{false, true} {
		s := make([]*int, n)
		if pre {
			faultIn(s)
		}
		before := minorFaults(t)
		runtime.GC() // scans s whole
		x := new(int)
		for i := range s {
			s[i] = x
		}
		faults := minorFaults(t) - before
		pages := int64(n * 8 / pageBytes)
		t.Logf("faultIn %v: %d faults scanning and filling %d pages", pre, faults, pages)
		if pre && faults > pages/10 {
			t.Errorf("after faultIn, scanning and filling %d pages faulted %d times, want almost none", pages, faults)
		}
		for i := range s {
			if s[i] != x {
				t.Fatalf("s[%d] lost its value", i)
			}
		}
		runtime.KeepAlive(s)
	}
}
