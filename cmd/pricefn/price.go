package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/internal/hugeheap"
)

// runPrice implements "pricefn price [FILE]".
func runPrice(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("price", flag.ContinueOnError)
	fs.SetOutput(stderr)
	workers := fs.Int("workers", 0, "trades priced at once (0: one per core)")
	out := outputFlag(fs, "write results to this `file` instead of stdout")
	maxBootstrap := fs.Int("max-bootstrap-instruments", batch.DefaultMaxBootstrapInstruments, "most bootstrap instruments the curves of the batch's trades may list in all, as ingress's bound; 0 no bound")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pricefn price [flags] [FILE]\n\nPrices a batch (wire format section 1) in process and writes the results\n(section 2) as JSON. FILE defaults to standard input.\n\nflags:")
		fs.PrintDefaults()
	}
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(files) > 1 {
		fs.Usage()
		return errUsage
	}
	if *workers < 0 {
		return usagef("--workers %d: want 0 (one per core) or more", *workers)
	}
	if *maxBootstrap < 0 {
		return usagef("--max-bootstrap-instruments %d: want 0 (no bound) or more", *maxBootstrap)
	}
	if *out != "" {
		if err := checkOutput(*out); err != nil {
			return err
		}
	}
	name := "stdin"
	var data []byte
	release := func() {}
	if len(files) == 1 && files[0] != "-" {
		name = files[0]
		if data, release, err = readBatchFile(name); err != nil {
			return err // it names the file
		}
	} else {
		if f, ok := stdin.(*os.File); ok {
			data, release, err = readBatch(f) // a file, maybe
		} else {
			data, err = io.ReadAll(stdin)
		}
		if err != nil {
			return fmt.Errorf("reading stdin: %w", err)
		}
	}
	defer release() // once priced: the batch keeps parts of data
	// A decoded trade and its result take some 6 times its JSON's bytes.
	hugeheap.Advise(6 * len(data))
	// Bounded as ingress bounds it by default: a batch whose trades use
	// too many bootstrap instruments to build fails here too, unless told.
	opt := batch.Options{Workers: *workers, Engines: batch.Engines{MaxBootstrapInstruments: *maxBootstrap}}
	if *out != "" && writtenBeside(*out) {
		return priceToFile(ctx, name, data, opt, *out)
	}
	b, err := batch.DecodeBytes(data)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if *out == "" {
		// Priced and encoded in blocks on every core, written as they are
		// done: the results are never all in memory.
		if err := batch.PriceTo(ctx, b, opt, stdout); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	// A path that is not a regular file (/dev/stdout, a pipe), written
	// directly.
	err = writeOutput(*out, func(w io.Writer) error {
		return batch.PriceTo(ctx, b, opt, w)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// priceToFile prices the batch data (read from name) into out, a path
// written beside and renamed once complete, so that it never holds a part
// of the results. The file beside, until then its own, is first written
// by batch.StreamPriceTo, which reads, prices and writes the batch a block
// of trades at a time; if that stops (a fault of the batch, which it does
// not word, or a batch it does not stream), the file is emptied and the
// batch read and priced whole, which finds and words the first fault, as
// without a stream; unless ctx has ended, which is then the error.
func priceToFile(ctx context.Context, name string, data []byte, opt batch.Options, out string) error {
	var decodeErr error // the batch's fault, worded
	called := false
	err := writeOutput(out, func(w io.Writer) error {
		called = true
		if f, ok := w.(*os.File); ok && regularFile(f) {
			if batch.StreamPriceTo(ctx, data, opt, f) {
				return nil
			}
			if err := context.Cause(ctx); err != nil {
				// Stopped (Ctrl-C): not read again whole to word a
				// fault further on, which took a second of a 1M-trade
				// batch after the signal.
				return err
			}
			if err := emptyFile(f); err != nil {
				return err
			}
		}
		b, err := batch.DecodeBytes(data)
		if err != nil {
			decodeErr = fmt.Errorf("%s: %w", name, err)
			return decodeErr
		}
		return batch.PriceTo(ctx, b, opt, w)
	})
	switch {
	case err == nil:
		return nil
	case !called:
		// No file to write (a directory that took one when checked takes
		// none now): a batch that cannot be read says so first, as when it
		// was read before the file was made.
		if _, derr := batch.DecodeBytes(data); derr != nil {
			return fmt.Errorf("%s: %w", name, derr)
		}
	case err == decodeErr:
		return err
	}
	return fmt.Errorf("%s: %w", name, err)
}

// regularFile reports whether f is a regular file, one that emptyFile can
// take back what was written to.
func regularFile(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular()
}

// emptyFile truncates f and moves its offset back to its start.
func emptyFile(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.Seek(0, io.SeekStart)
	return err
}
