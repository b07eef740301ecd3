package main

import (
	"io"
	"os"
	"path/filepath"
)

// writeOutput writes path by write, beside it first and renamed over it
// once write returns nil, so that the file never holds a part of what
// write writes, nor what it wrote before failing (the old file stays).
// A file replaced keeps its permissions; a new one is 0644.
func writeOutput(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	mode := os.FileMode(0o644)
	if fi, serr := os.Stat(path); serr == nil && fi.Mode().IsRegular() {
		mode = fi.Mode().Perm()
	}
	if err == nil {
		err = os.Chmod(f.Name(), mode)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
