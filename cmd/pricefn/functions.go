package main

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/pricefn/pricefn/config"
	"github.com/pricefn/pricefn/functions/launch"
)

// serveCommand adapts a launch function (pricefn ingress, pricer,
// aggregator, dev) to a command: it reads the real environment.
func serveCommand(run func(ctx context.Context, args []string, env config.Env, stderr io.Writer) error) func(context.Context, []string, io.Reader, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, _ io.Reader, _, stderr io.Writer) error {
		err := run(ctx, args, os.Getenv, stderr)
		if errors.Is(err, launch.ErrUsage) {
			return errUsage
		}
		return err
	}
}
