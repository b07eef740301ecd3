// Command aggregator serves the aggregator function alone, as its Knative container runs
// it: it listens on $PORT (default 8080), sends the events it emits to
// $K_SINK, serves /healthz, /readyz and /metrics, and on SIGTERM finishes
// its in-flight requests before it exits. "pricefn aggregator" runs the same code.
package main

import (
	"os"

	"github.com/pricefn/pricefn/functions/launch"
)

func main() {
	os.Exit(launch.Main("aggregator", launch.Aggregator, os.Args[1:], os.Getenv, os.Stderr))
}
