//go:build linux && (amd64 || arm64)

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

// TestAdviseHugeHeap: after Advise, the heap's next large allocation is in
// memory advised for huge pages (VmFlags "hg"); before, it was not; with
// GODEBUG=disablethp=1, or a kernel without transparent huge pages, it is
// not. Each in a process of its own: the advice outlives the test.
func TestAdviseHugeHeap(t *testing.T) {
	if mode := os.Getenv("HUGEHEAP_TEST_CHILD"); mode != "" {
		adviseChild(t, mode == "advised")
		return
	}
	_, err := os.Stat("/sys/kernel/mm/transparent_hugepage")
	thp := err == nil
	t.Logf("transparent huge pages in this kernel: %v", thp)
	for _, c := range []struct {
		godebug string
		advised bool
	}{
		{"", thp},
		{"disablethp=1", false},
		{"disablethp=1,madvdontneed=1,disablethp=0", thp},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAdviseHugeHeap$", "-test.count=1", "-test.v")
		mode := "plain"
		if c.advised {
			mode = "advised"
		}
		cmd.Env = append(os.Environ(), "HUGEHEAP_TEST_CHILD="+mode, "GODEBUG="+c.godebug)
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "--- PASS: TestAdviseHugeHeap") {
			t.Errorf("GODEBUG=%s, want advised %v, in a process of its own: %v\n%s", c.godebug, c.advised, err, out)
		}
	}
}

// adviseChild is TestAdviseHugeHeap in its own process: Advise, and the
// next allocation advised or not, as want says.
func adviseChild(t *testing.T, want bool) {
	// Past the first 2 MB, which may be before the first aligned huge page.
	before := make([]byte, 32<<20)
	if flags := vmFlags(t, uintptr(unsafe.Pointer(&before[hugePage]))); slices.Contains(flags, "hg") {
		t.Fatalf("the heap is advised for huge pages before Advise: %v", flags)
	}
	Advise(64 << 20)
	after := make([]byte, 32<<20)
	if flags := vmFlags(t, uintptr(unsafe.Pointer(&after[hugePage]))); slices.Contains(flags, "hg") != want {
		t.Errorf("a 32 MB allocation after Advise(64 MB): VmFlags %v, want advised for huge pages (hg) %v", flags, want)
	}
	runtime.KeepAlive(before) // not freed: the next allocation would take its place
}

// TestThpDisabled: GODEBUG's disablethp, its last setting winning.
func TestThpDisabled(t *testing.T) {
	for godebug, want := range map[string]bool{
		"": false, "disablethp=1": true, "disablethp=0": false, "madvdontneed=1,disablethp=1": true,
		"disablethp=1,disablethp=0": false, "xdisablethp=1": false, "disablethp=10": false,
	} {
		if got := thpDisabled(godebug); got != want {
			t.Errorf("GODEBUG=%q: %v, want %v", godebug, got, want)
		}
	}
}
