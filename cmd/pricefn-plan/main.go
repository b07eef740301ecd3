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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
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
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
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
