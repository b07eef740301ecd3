// Command pricefn-plan is "pricefn plan": it replays a workload through
// Knative's own autoscaler to choose a function's autoscaling settings.
// pricefn runs it for "pricefn plan" (the pricefn-plan beside pricefn, or on
// PATH). It is a program of its own because Knative's code brings
// Kubernetes' with it, whose package initialisation would otherwise cost
// every pricefn command, and every function's cold start, some 25 ms of
// CPU, and their image 30 MB.
//
//	pricefn plan --burst 60 --cpu 0.5s --annotation target=2
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/pricefn/pricefn/plan"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		if s, ok := (<-sigs).(syscall.Signal); ok {
			cancel(signalled{s})
		}
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	signal.Stop(sigs)
	cancel(nil)
	os.Exit(code)
}

// signalled is the cause of run's context ended by a signal (SIGINT,
// SIGTERM): run then exits 128 + its number, as a shell reports a process
// the signal killed (130 for Ctrl-C), as pricefn's other commands do.
type signalled struct{ sig syscall.Signal }

func (e signalled) Error() string {
	if e.sig == syscall.SIGINT {
		return "interrupted"
	}
	return "interrupted (" + e.sig.String() + ")"
}

// errUsage marks an error that the usage text explains; exit status 2.
var errUsage = errors.New("usage")

// flagError is a flag's value the command cannot take: exit status 2,
// as the rest of pricefn's usage errors.
type flagError struct{ msg string }

func (e *flagError) Error() string { return e.msg }

func flagErrorf(format string, args ...any) error {
	return &flagError{fmt.Sprintf(format, args...)}
}

// parseError maps an error of flag.FlagSet.Parse (which has printed why,
// or the usage) to flag.ErrHelp for -h, which exits 0, and errUsage.
func parseError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return flag.ErrHelp
	}
	return errUsage
}

// run executes "pricefn plan ARGS" and returns the exit status: 0, 1 for a
// failure, 2 for a usage error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := runPlan(ctx, args, stdin, stdout, stderr)
	var sig signalled
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, context.Canceled) && errors.As(context.Cause(ctx), &sig):
		// Stopped by the signal, not failed: "context canceled" said
		// nothing of it, and the status was a failure's.
		fmt.Fprintf(stderr, "pricefn plan: %v\n", sig)
		return 128 + int(sig.sig)
	}
	var fe *flagError
	var se *plan.SettingsError
	if errors.As(err, &fe) || errors.As(err, &se) {
		fmt.Fprintf(stderr, "pricefn plan: %v\nRun 'pricefn plan -h' for its flags.\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "pricefn plan: %v\n", err)
	return 1
}
