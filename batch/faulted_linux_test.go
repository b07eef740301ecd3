//go:build linux && !race

// (Under the race detector every write also writes its shadow memory,
// itself fresh: the faults counted here would be the detector's.)

package batch

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
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
// without makeFaulted is the control, logged: whether it faults depends on
// the kernel and the runtime (Go 1.26.8 on this machine's kernel faults
// once a page, in the scan, or not at all where the heap reuses memory),
// not on makeFaulted. In a process of its own, whose heap has not yet
// freed memory for the arrays to reuse.
func TestMakeFaultedSparesZeroPages(t *testing.T) {
	if os.Getenv("BATCH_TEST_FAULTED_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMakeFaultedSparesZeroPages$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "BATCH_TEST_FAULTED_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestMakeFaultedSparesZeroPages") {
			t.Errorf("in a process of its own: %v\n%s", err, out)
		}
		t.Logf("%s", out)
		return
	}
	const n = 4 << 20 // 32 MB of pointers
	pages := int64(n * 8 / pageBytes)
	control, pre := make([]*int, n), makeFaulted[*int](n)
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
	if p > pages/10 {
		t.Errorf("after makeFaulted, scanning and filling %d pages faulted %d times, want almost none", pages, p)
	}
	for i := range pre {
		if pre[i] == nil || pre[i] != pre[0] || control[i] != control[0] {
			t.Fatalf("element %d lost its value", i)
		}
	}
}
