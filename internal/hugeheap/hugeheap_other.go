//go:build !linux || !(amd64 || arm64)

package hugeheap

// Advise does nothing here: transparent huge pages are Linux's, and
// their size is known here for amd64 and arm64 only.
func Advise(int) {}
