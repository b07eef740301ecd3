// Command aggregator serves the aggregator function alone, as its Knative container runs
// it: it listens on $PORT (default 8080), sends the events it emits to
// $K_SINK, serves /healthz, /readyz and /metrics, and on SIGTERM finishes
// its in-flight requests before it exits. "pricefn aggregator" runs the same code.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pricefn/pricefn/functions/launch"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := launch.Aggregator(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	switch {
	case errors.Is(err, launch.ErrUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "aggregator:", err)
		os.Exit(1)
	}
}
