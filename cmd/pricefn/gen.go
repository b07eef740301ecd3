package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pricefn/pricefn/batch"
)

// runGen implements "pricefn gen --type TYPE -n N": a sample batch.
func runGen(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	typ := fs.String("type", "european", "trade kind: "+strings.Join(batch.SampleTypes, ", "))
	n := fs.Int("n", 1000, "number of trades")
	seed := fs.Uint64("seed", 1, "seed of the trade terms")
	id := fs.String("id", "", "batch id (default: none, the engine assigns one)")
	measures := fs.String("measures", "", "comma-separated measures (default npv)")
	out := fs.String("out", "", "write the batch to this file instead of stdout")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pricefn gen [flags]\n\nWrites a sample batch of N trades of one kind, for load tests.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		if err == nil {
			fs.Usage()
		}
		return errUsage
	}
	spec := batch.SampleSpec{Type: *typ, N: *n, Seed: *seed, ID: *id}
	if *measures != "" {
		spec.Measures = strings.Split(*measures, ",")
	}
	data, err := batch.Sample(spec)
	if err != nil {
		return err
	}
	if *out != "" {
		return os.WriteFile(*out, data, 0o644)
	}
	_, err = stdout.Write(data)
	return err
}
