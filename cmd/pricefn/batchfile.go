package main

import (
	"bytes"
	"io"
	"os"
)

// mapMin is the least size of a file that readBatch maps rather than
// reads: below it a read costs next to nothing.
const mapMin = 256 << 10

// readBatchFile is readBatch of the file name.
func readBatchFile(name string) ([]byte, func(), error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return readBatch(f)
}

// readBatch returns the bytes of the batch in f, from its start (standard
// input may be a file too), and a function to call once they, and
// whatever was decoded from them, are no longer used. It leaves f at its
// end, as a read would.
//
// A regular file of mapMin bytes or more is mapped read-only where the
// system can (mapFile) rather than read: its pages are the kernel's page
// cache, so nothing is copied into fresh memory, each page of which costs
// a page fault. For 100,000 Europeans (11 MB) that is 2,800 faults and a
// seventh of pricefn price's CPU. A mapped file must not shrink while it
// is used: the process would end with SIGBUS, as any program that maps its
// input.
func readBatch(f *os.File) ([]byte, func(), error) {
	size := 0
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && int64(int(fi.Size())) == fi.Size() {
		size = int(fi.Size())
		if pos, err := f.Seek(0, io.SeekCurrent); err == nil && pos == 0 && size >= mapMin {
			if data, unmap, ok := mapFile(f, size); ok {
				if _, err := f.Seek(int64(size), io.SeekStart); err != nil {
					unmap()
					return nil, nil, err
				}
				return data, unmap, nil
			}
		}
	}
	var buf bytes.Buffer
	buf.Grow(size + bytes.MinRead) // read at its size, not doubling
	_, err := buf.ReadFrom(f)
	return buf.Bytes(), func() {}, err
}
