package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/pricefn/pricefn/batch"
)

// runPrice implements "pricefn price [FILE]".
func runPrice(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("price", flag.ContinueOnError)
	fs.SetOutput(stderr)
	workers := fs.Int("workers", 0, "trades priced at once (0: one per core)")
	out := fs.String("out", "", "write results to this file instead of stdout")
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
	in := stdin
	name := "stdin"
	if len(files) == 1 && files[0] != "-" {
		f, err := os.Open(files[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in, name = f, files[0]
	}
	b, err := batch.Decode(bufio.NewReaderSize(in, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	rs, err := batch.Price(ctx, b, batch.Options{Workers: *workers})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	data, err := rs.MarshalJSON() // direct: json.Marshal would compact the one-result-per-line layout
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if *out != "" {
		return os.WriteFile(*out, data, 0o644)
	}
	_, err = stdout.Write(data)
	return err
}
