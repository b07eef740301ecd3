package hugeheap

import (
	"runtime"
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
// much of the work: pricefn price on 100,000 Europeans took 9,400 faults
// and 310 ms of CPU, with Advise 1,700 faults and 180-215 ms; pricefn dev
// took 5,000-15,000 faults a 100,000-trade batch, with Advise under 100.
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
func Advise(n int) {
	n = min(n, maxHugeHeap)
	if n < 4*hugePage {
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
