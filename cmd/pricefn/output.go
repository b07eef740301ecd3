package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// outputFlag defines the flag -out, the file a command writes instead of
// the standard output, and returns its value: "" for the standard output,
// which "-" names too, as a "-" operand names the standard input (it
// wrote a file named "-").
func outputFlag(fs *flag.FlagSet, usage string) *string {
	out := new(string)
	fs.Func("out", usage+` ("-": stdout)`, func(s string) error {
		if s == "-" {
			s = ""
		}
		*out = s
		return nil
	})
	return out
}

// writeOutput writes path by write, beside it first and renamed over it
// once write returns nil, so that the file never holds a part of what
// write writes, nor what it wrote before failing (the old file stays). A
// symbolic link is written through (its target replaced); a path that is
// not a regular file (/dev/stdout, a pipe) is written directly. A file
// replaced keeps its permissions; a new one is 0644.
func writeOutput(path string, write func(io.Writer) error) error {
	target := path
	if t, err := filepath.EvalSymlinks(path); err == nil {
		target = t
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(target); err == nil {
		if !fi.Mode().IsRegular() {
			f, err := os.OpenFile(target, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			err = write(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			return err
		}
		mode = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), mode)
	}
	if err == nil {
		err = os.Rename(f.Name(), target)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// checkOutput says, before any work, whether writeOutput can write path:
// not a directory, and beside it a new file can be made (the directory
// exists and takes it). pricefn submit used to send and price a batch and
// only then fail to write its results.
func checkOutput(path string) error {
	target := path
	if t, err := filepath.EvalSymlinks(path); err == nil {
		target = t
	}
	if fi, err := os.Stat(target); err == nil {
		if fi.IsDir() {
			return fmt.Errorf("--out %s: is a directory: name a file", path)
		}
		if !fi.Mode().IsRegular() {
			return nil // written directly
		}
	}
	dir := filepath.Dir(target)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("--out %s: no directory %s to write it in", path, dir)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(target)+".*")
	if err != nil {
		return fmt.Errorf("--out %s: cannot write in %s: %w", path, dir, errors.Unwrap(err))
	}
	f.Close()
	return os.Remove(f.Name())
}

// resultsHeld reports whether submit holds the whole results document in
// memory, given --out (empty without it): to print it, or to write it to a
// path that is not a regular file (/dev/stdout, a pipe), which writeOutput
// writes directly once the document has arrived. A regular file, or a new
// one, is written beside it as they arrive, a window at a time.
func resultsHeld(out string) bool {
	return out == "" || !writtenBeside(out)
}

// writtenBeside reports whether writeOutput writes path beside it first:
// path is a regular file, or none yet.
func writtenBeside(path string) bool {
	target := path
	if t, err := filepath.EvalSymlinks(path); err == nil {
		target = t
	}
	fi, err := os.Stat(target)
	return err != nil || fi.Mode().IsRegular()
}
