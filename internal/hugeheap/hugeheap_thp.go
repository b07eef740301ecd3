//go:build linux && (amd64 || arm64)

package hugeheap

import (
	"os"
	"runtime"
	"strings"
	"syscall"
	"unsafe"
)

// hugePage is the size of a transparent huge page on amd64 and arm64 (4 KB
// base pages).
const hugePage = 2 << 20

// maxHugeHeap bounds what Advise allocates.
const maxHugeHeap = 1 << 30

// Advise asks the kernel to back about the next n bytes the Go heap takes
// from the system with transparent huge pages, where the system leaves them
// to the program's choice (/sys/kernel/mm/transparent_hugepage/enabled
// "madvise", Debian's default, under which Go's heap gets none). A process
// that builds a large heap otherwise takes a page fault for every 4 KB it
// first touches, or touches again after the heap gave it back to the
// system. Where a fault is dear (a virtual machine: this one's) that is
// much of the work: pricefn price on 100,000 Europeans (its batch file
// mapped) took 9,400 faults and 310 ms of CPU, with Advise 1,700 faults
// and 180-215 ms; pricefn dev took 5,000-15,000 faults a 100,000-trade
// batch, with Advise under 100.
//
// It allocates n bytes (at most 1 GiB), which the heap maps from the
// system and nothing touches, advises their aligned middle MADV_HUGEPAGE
// and frees them at once (a collection, of a heap that holds little
// yet): the heap's page allocator hands out the lowest free addresses
// first, so the next allocations take that memory, and their first touch
// of each 2 MB faults in a huge page; memory the heap gives back keeps the
// advice. Where it does not apply (n under 8 MB; advice refused, as by a
// kernel without huge pages) nothing changes but the speed. Call it early,
// before the heap holds much.
//
// GODEBUG=disablethp=1, the runtime's own switch for a heap kept out of
// huge pages, turns Advise off: where memory is fragmented the kernel may
// stall a first touch to compact it (defrag "madvise"), and its
// khugepaged may fill in pages the heap gave back (golang/go#61718,
// #64332).
func Advise(n int) {
	n = min(n, maxHugeHeap)
	if n < 4*hugePage || thpDisabled(os.Getenv("GODEBUG")) {
		return
	}
	b := make([]byte, n)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	off := int((start+hugePage-1)&^(hugePage-1) - start)
	end := int((start+uintptr(n))&^(hugePage-1) - start)
	_ = syscall.Madvise(b[off:end], syscall.MADV_HUGEPAGE)
	runtime.KeepAlive(b)
	b = nil
	runtime.GC()
}

// thpDisabled reports whether the GODEBUG setting godebug sets disablethp
// to 1 (its last setting wins, as the runtime reads it).
func thpDisabled(godebug string) bool {
	disabled := false
	for kv := range strings.SplitSeq(godebug, ",") {
		if v, ok := strings.CutPrefix(kv, "disablethp="); ok {
			disabled = v == "1"
		}
	}
	return disabled
}
