//go:build !linux || !(amd64 || arm64)

package hugeheap

// Advise does nothing here: transparent huge pages are Linux's, and
// their 2 MB size (4 KB base pages) is assumed for amd64 and arm64 only.
func Advise(int) {}
