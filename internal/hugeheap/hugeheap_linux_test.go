package hugeheap

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// vmFlags returns the VmFlags of the mapping of /proc/self/smaps that
// holds addr.
func vmFlags(t *testing.T, addr uintptr) []string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		var lo, hi uintptr
		if n, _ := fmt.Sscanf(line, "%x-%x ", &lo, &hi); n == 2 {
			in = lo <= addr && addr < hi
		} else if flags, ok := strings.CutPrefix(line, "VmFlags:"); ok && in {
			return strings.Fields(flags)
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
	return nil
}

// TestAdviseHugeHeap: after Advise, the heap's next large
// allocation is in memory advised for huge pages (VmFlags "hg"); before, it
// was not. In a process of its own: the advice outlives the test.
func TestAdviseHugeHeap(t *testing.T) {
	if os.Getenv("HUGEHEAP_TEST_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAdviseHugeHeap$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "HUGEHEAP_TEST_CHILD=1")
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "--- PASS: TestAdviseHugeHeap") {
			t.Errorf("in a process of its own: %v\n%s", err, out)
		}
		return
	}
	// Past the first 2 MB, which may be before the first aligned huge page.
	before := make([]byte, 32<<20)
	if flags := vmFlags(t, uintptr(unsafe.Pointer(&before[hugePage]))); slices.Contains(flags, "hg") {
		t.Fatalf("the heap is advised for huge pages before Advise: %v", flags)
	}
	Advise(64 << 20)
	after := make([]byte, 32<<20)
	if flags := vmFlags(t, uintptr(unsafe.Pointer(&after[hugePage]))); !slices.Contains(flags, "hg") {
		t.Errorf("a 32 MB allocation after Advise(64 MB) is not advised for huge pages: VmFlags %v", flags)
	}
	runtime.KeepAlive(before) // not freed: the next allocation would take its place
}
