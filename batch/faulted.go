package batch

import "unsafe"

// makeFaulted makes a []T of n zero values and writes a zero byte to every
// page of its array, for a caller about to fill it over some
// milliseconds. An array of more than a few pages comes fresh from the
// operating system, mapped to nothing. Left so, the garbage collector's
// first scan of it (it reads a pointerful array whole) or a
// read-before-write of the caller's own (a hash set's probe) maps each
// page to the kernel's shared zero page, and the caller's write to that
// page then faults again to copy it, and flushes the page from the other
// cores' TLBs: two faults and an interrupt of every core a page, where
// writing first costs one fault. (Some kernels, this machine's among
// them, map a page of its own for the read: one fault a page either way,
// the collector's or makeFaulted's.) TestWritePagesSparesZeroPages and
// TestMakeFaultedSparesZeroPages: no faults after makeFaulted, 8,200 for
// 32 MB of pointers without it, on this machine.
// The ids' hash set of a decode and the compiled trades are such arrays,
// sized exactly; a decode's []Trade is not faulted in: its room is an
// estimate, up to twice what a batch of long trades uses, and written
// pages would all be resident. pricefn price on 100,000 Europeans faulted
// 22,900-23,800 times before, 21,000-21,300 with these and the slabs
// (slab.go).
//
// The writes go through a byte view of the array: they store zeros where
// zeros are, so they change no pointer the collector could miss, and a
// typed clear would first read the array whole for the write barrier
// while a collection runs (which a large allocation often starts).
func makeFaulted[T any](n int) []T {
	s := make([]T, n) // all zeros: what the writes below store
	size := uintptr(n) * unsafe.Sizeof(*new(T))
	if size == 0 {
		return s
	}
	writePages(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), size))
	return s
}

// writePages writes a zero byte to every page of mem, which must hold
// zeros.
func writePages(mem []byte) {
	for off := 0; off < len(mem); off += pageBytes {
		mem[off] = 0
	}
	if len(mem) > 0 {
		mem[len(mem)-1] = 0
	}
}

// pageBytes is the smallest page size of the platforms Go runs on: where
// pages are larger, some writes fault nothing.
const pageBytes = 4096
