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
	b, err := batch.DecodeBytes(data)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	// Bounded as ingress bounds it by default: a batch whose trades use
	// too many bootstrap instruments to build fails here too, unless told.
	opt := batch.Options{Workers: *workers, Engines: batch.Engines{MaxBootstrapInstruments: *maxBootstrap}}
	if *out == "" {
		// Priced and encoded in blocks on every core, written as they are
		// done: the results are never all in memory.
		if err := batch.PriceTo(ctx, b, opt, stdout); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	// --out: written beside it and renamed once complete, so that the file
	// never holds a part of the results.
	err = writeOutput(*out, func(w io.Writer) error {
		return batch.PriceTo(ctx, b, opt, w)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
