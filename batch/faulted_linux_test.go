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

// touchAll reads every page of mem, then writes every page, as a
// collector's scan and then its caller's fill do, and returns the page
// faults they took.
func touchAll(t *testing.T, mem []byte) int64 {
	t.Helper()
	before := minorFaults(t)
	var sum byte
	for off := 0; off < len(mem); off += pageBytes {
		sum += mem[off]
	}
	for off := 0; off < len(mem); off += pageBytes {
		mem[off] = sum + 1
	}
	return minorFaults(t) - before
}

// freshMemory returns size bytes fresh from the system, in 4 KB pages, as a
// large array of the heap comes.
func freshMemory(t *testing.T, size int) []byte {
	t.Helper()
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Madvise(mem, syscall.MADV_NOHUGEPAGE); err != nil && err != syscall.EINVAL {
		t.Fatal(err) // EINVAL: a kernel without huge pages
	}
	return mem
}

// TestWritePagesSparesZeroPages: memory fresh from the system that is read
// before it is written (a collector's scan, a hash set's probe) faults at
// least once a page, twice where the kernel maps its zero page for the
// read (Linux's way, though not this machine's kernel: the control is
// logged). After writePages, reading and writing it fault no more.
func TestWritePagesSparesZeroPages(t *testing.T) {
	const size = 32 << 20
	pages := int64(size / pageBytes)
	c := touchAll(t, freshMemory(t, size))
	t.Logf("reading then writing %d fresh pages: %d faults", pages, c)
	if c < pages*9/10 {
		t.Fatalf("the control: reading then writing %d fresh pages faulted %d times, want one a page or more", pages, c)
	}
	mem := freshMemory(t, size)
	before := minorFaults(t)
	writePages(mem)
	w := minorFaults(t) - before
	if p := touchAll(t, mem); p > pages/10 {
		t.Errorf("after writePages (%d faults), reading then writing %d pages faulted %d times, want almost none", w, pages, p)
	}
	if w > pages+pages/10 {
		t.Errorf("writePages faulted %d times for %d pages, want one a page", w, pages)
	}
}

// TestMakeFaultedSparesZeroPages: after makeFaulted, the collector's scan of
// the array and its fill fault almost never (writePages, above, is what
// sees to it; here, whether an array made plainly faults depends on where
// the heap found its memory, and is logged). In a process of its own,
// whose heap has not yet freed memory for the arrays to reuse.
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
	fill := func(s []*int) int64 {
		before := minorFaults(t)
		runtime.GC() // scans s whole (and whatever else is live)
		x := new(int)
		for i := range s {
			s[i] = x
		}
		return minorFaults(t) - before
	}
	pre := makeFaulted[*int](n)
	p := fill(pre)
	control := make([]*int, n)
	c := fill(control)
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
