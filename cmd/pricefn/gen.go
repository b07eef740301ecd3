package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/pricing"
)

// maxGenTrades bounds gen -n: the batch is built in memory, about 160
// bytes a trade.
const maxGenTrades = 10_000_000

// runGen implements "pricefn gen --type TYPE -n N": a sample batch.
func runGen(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	typ := fs.String("type", "european", "trade kind: "+strings.Join(batch.SampleTypes, ", "))
	n := fs.Int("n", 1000, fmt.Sprintf("number of trades, 0 to %d", maxGenTrades))
	seed := fs.Uint64("seed", 1, "seed of the trade terms")
	id := fs.String("id", "", "batch id (default: none, the engine assigns one)")
	measures := fs.String("measures", "", "comma-separated measures, e.g. npv,delta (default npv)")
	scenarios := fs.Int("scenarios", 0, fmt.Sprintf("add this many scenarios (random daily moves of every curve and underlying, 0 to %d) and ask for VaR 99%% and ES 97.5%%", batch.MaxScenarios))
	out := outputFlag(fs, "write the batch to this `file` instead of stdout")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pricefn gen [flags]\n\nWrites a sample batch of N trades of one kind, for load tests, with\nscenarios for a risk run if asked.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		if err == nil {
			fs.Usage()
		}
		return parseError(err)
	}
	if !slices.Contains(batch.SampleTypes, *typ) {
		return usagef("--type %q: want one of %s", *typ, strings.Join(batch.SampleTypes, ", "))
	}
	if *n < 0 || *n > maxGenTrades {
		return usagef("-n %d: want 0 to %d trades", *n, maxGenTrades)
	}
	if *scenarios < 0 || *scenarios > batch.MaxScenarios {
		return usagef("--scenarios %d: want 0 to %d scenarios", *scenarios, batch.MaxScenarios)
	}
	if *id != "" {
		if err := batch.CheckBatchID(*id); err != nil {
			return usagef("--id: %v", err)
		}
	}
	spec := batch.SampleSpec{Type: *typ, N: *n, Seed: *seed, ID: *id, Scenarios: *scenarios}
	if *measures != "" {
		ms, err := parseMeasures(*measures)
		if err != nil {
			return usagef("--measures %q: %v", *measures, err)
		}
		spec.Measures = ms
	}
	if *out != "" {
		if err := checkOutput(*out); err != nil {
			return err
		}
	}
	// Stopped by an interrupt: a sample of millions of trades takes
	// seconds, and was made and written whole, exit 0, whatever the
	// interrupt.
	data, err := batch.SampleContext(ctx, spec)
	if err != nil {
		return err
	}
	write := func(w io.Writer) error { return writeChunks(ctx, w, data) }
	if *out != "" {
		// Beside it and renamed once whole, as price's --out: an
		// interrupted or failed write leaves no part of a batch.
		return writeOutput(*out, write)
	}
	return write(stdout)
}

// writeChunks writes data to w a megabyte at a time, stopping with ctx's
// cause once ctx ends.
func writeChunks(ctx context.Context, w io.Writer, data []byte) error {
	const chunk = 1 << 20
	for len(data) > 0 {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		n := min(chunk, len(data))
		if _, err := w.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// parseMeasures reads a comma-separated list of measure names with the
// pricing package's parser and returns their wire names, each once.
func parseMeasures(s string) ([]string, error) {
	var names []string
	for _, name := range strings.Split(s, ",") {
		// A flag's repeat is asked for once (a batch's is refused).
		if name = strings.TrimSpace(name); !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	// What a batch may ask for (npvStdErr comes with npv, unasked).
	if _, err := batch.ParseMeasures(names); err != nil {
		return nil, err
	}
	var out []string
	for _, name := range names {
		m, err := pricing.ParseMeasure(name)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, m.String()) {
			out = append(out, m.String())
		}
	}
	return out, nil
}
