//go:build unix

package main

import (
	"os"
	"syscall"
)

// mapFile maps size bytes of f read-only into memory; ok is false if it
// cannot, and the file is then read.
func mapFile(f *os.File, size int) (data []byte, unmap func(), ok bool) {
	data, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil, false
	}
	return data, func() { _ = syscall.Munmap(data) }, true
}
