// Command pricefn is the pricefn command line: it prices batches in process,
// runs the engine locally and talks to a running engine.
//
//	pricefn price [FILE]            price a batch file (or stdin), results to stdout
//
// Run "pricefn help" for every command, "pricefn COMMAND -h" for its flags
// and "pricefn --version" for the build.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/pricefn/pricefn/config"
	"github.com/pricefn/pricefn/functions/launch"
)

// command is one subcommand: it parses its own flags from args.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

// commands returns the subcommands by name.
func commands() map[string]command {
	return map[string]command{
		"price":      {"price a batch file (or stdin) in process and print results JSON", runPrice},
		"dev":        {"run the whole engine (gateway, broker, functions) in one process", serveCommand(launch.Dev, func() flagger { return &config.Dev{} })},
		"ingress":    {"serve the ingress function alone ($PORT, $K_SINK)", serveCommand(launch.Ingress, func() flagger { return &config.Ingress{} })},
		"pricer":     {"serve the pricer function alone ($PORT)", serveCommand(launch.Pricer, func() flagger { return &config.Pricer{} })},
		"aggregator": {"serve the aggregator function alone ($PORT, $K_SINK)", serveCommand(launch.Aggregator, func() flagger { return &config.Aggregator{} })},
		"api":        {"serve the public API alone, on the shared store ($PORT, $K_SINK)", serveCommand(launch.API, func() flagger { return &config.API{} })},
		"broker":     {"run a local broker that routes events with the project's Knative Triggers", runBroker},
		"submit":     {"send a batch to a running engine and print its results", runSubmit},
		"trace":      {"show one batch's timeline per chunk: delivered, priced, recorded, redeliveries", runTrace},
		"gen":        {"write a sample batch of N trades of one kind", runGen},
		"loadgen":    {"send batches at a steady rate to a running engine and report throughput and latency", runLoadgen},
		"plan":       {"replay a workload through Knative's autoscaler to choose its settings", runPlan},
		"version":    {"print the version of pricefn and of the Go it was built with", runVersion},
	}
}

// errUsage marks an error that the usage text explains; exit status 2.
var errUsage = errors.New("usage")

// usageError is a flag value out of range: run prints it, points at -h and
// exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a usageError.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// parseError maps an error of flag.FlagSet.Parse (which has printed why,
// or the usage) to what a command returns: flag.ErrHelp for -h, which
// exits 0, and errUsage otherwise.
func parseError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return flag.ErrHelp
	}
	return errUsage
}

func main() {
	ctx, stop := signalContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// signalled is the cause of a command's context ended by a signal (SIGINT,
// SIGTERM). It is a context.Canceled; run exits 128 + its number when the
// command failed for it, as a shell reports a process the signal killed:
// 130 for Ctrl-C.
type signalled struct{ sig os.Signal }

func (e signalled) Error() string {
	if e.sig == os.Interrupt {
		return "interrupted"
	}
	return "interrupted (" + e.sig.String() + ")"
}

// Is makes a signalled a context.Canceled.
func (e signalled) Is(target error) bool { return target == context.Canceled }

// exitCode is 128 + the signal's number.
func (e signalled) exitCode() int {
	if s, ok := e.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

// interrupted is a command's own account of its stop by a signal: what
// became of its work.
type interrupted struct {
	sig    signalled
	detail string
}

func (e *interrupted) Error() string { return e.sig.Error() + " " + e.detail }
func (e *interrupted) Unwrap() error { return e.sig }

// signalContext is signal.NotifyContext with a signalled cause, which
// names the signal for run and the commands.
func signalContext(parent context.Context, sigs ...os.Signal) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	go func() {
		select {
		case s := <-ch:
			cancel(signalled{s})
		case <-ctx.Done():
		}
	}()
	return ctx, func() { signal.Stop(ch); cancel(nil) }
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		args = append([]string{"version"}, args[1:]...)
	}
	if len(args) == 2 && args[0] == "help" {
		// "pricefn help price" is "pricefn price -h", its usage asked
		// for: on stdout, for a pager.
		if _, ok := cmds[args[1]]; ok {
			stderr = stdout
		}
		args = []string{args[1], "-h"}
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "pricefn: unknown command %q\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	if err := c.run(ctx, args[1:], stdin, stdout, stderr); err != nil {
		var ue *usageError
		var status exitStatus
		var sig signalled
		switch {
		case errors.As(err, &status):
			return int(status)
		case errors.As(context.Cause(ctx), &sig) && errors.Is(err, context.Canceled):
			// Stopped by the signal: said once, in the command's words
			// when it has them (submit's say what became of the batch).
			var in *interrupted
			if !errors.As(err, &in) {
				err = sig
			}
			fmt.Fprintf(stderr, "pricefn %s: %s\n", args[0], printableLines(err.Error()))
			return sig.exitCode()
		case errors.Is(err, flag.ErrHelp):
			return 0 // the usage, asked for, is printed
		case errors.Is(err, errUsage):
			return 2
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "pricefn %s: %v\nRun 'pricefn %s -h' for its flags.\n", args[0], err, args[0])
			return 2
		}
		fmt.Fprintf(stderr, "pricefn %s: %s\n", args[0], printableLines(err.Error()))
		return 1
	}
	return 0
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: pricefn COMMAND [ARGS]\n\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-11s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'pricefn COMMAND -h' for a command's flags, 'pricefn --version' for the build.")
}

// parseArgs parses args with fs, flags anywhere among the operands (so that
// "pricefn submit FILE --url URL" works as the wire spec writes it), and
// returns the operands in order. A lone "-" is an operand (standard input);
// after "--" everything is.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var operands []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, parseError(err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return operands, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(operands, rest...), nil
		}
		operands = append(operands, rest[0])
		args = rest[1:]
	}
}
