package batch

import "unsafe"

// faultIn writes a zero byte to every page of the array of s, which the
// caller has just made (so all zeros) and is about to fill over some
// milliseconds. An array of more than a few pages comes fresh from the
// operating system, mapped to nothing. Left so, the garbage collector's
// first scan of it (it reads a pointerful array whole) or a
// read-before-write of the caller's own (a hash set's probe) maps each
// page to the kernel's shared zero page, and the caller's write to that
// page then faults again to copy it, and flushes the page from the other
// cores' TLBs: two faults and an interrupt of every core a page, where
// writing first costs one fault (TestFaultInSparesZeroPages: 16,600
// faults for a fresh 32 MB array scanned then filled, 38 after faultIn).
// Decoding a batch's trades, its ids' hash set and compiling it make three
// such arrays; pricefn price on 100,000 Europeans faulted 23,300 times,
// now 20,400-21,800 (a collection that starts at the allocation of the
// trades may still scan some of their pages first).
//
// The writes go through a byte view of the array: they store zeros where
// zeros are, so they change no pointer the collector could miss, and a
// typed clear would first read the array whole for the write barrier
// while a collection runs (which a large allocation often starts).
func faultIn[T any](s []T) []T {
	n := uintptr(cap(s)) * unsafe.Sizeof(*new(T))
	if n == 0 {
		return s
	}
	mem := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s[:cap(s)]))), n)
	for off := uintptr(0); off < n; off += pageBytes {
		mem[off] = 0
	}
	mem[n-1] = 0
	return s
}

// pageBytes is the smallest page size of the platforms Go runs on: where
// pages are larger, some writes fault nothing.
const pageBytes = 4096
