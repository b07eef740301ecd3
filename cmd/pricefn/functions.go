package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"

	"github.com/pricefn/pricefn/config"
	"github.com/pricefn/pricefn/functions/launch"
)

// flagger is the configuration of a served piece: it defines its flags.
type flagger interface {
	Flags(fs *flag.FlagSet, env config.Env)
}

// serveCommand adapts a launch function (pricefn ingress, pricer,
// aggregator, dev) to a command: it reads the real environment. cfg
// returns an empty configuration of the piece, whose flags tell a help
// request (-h, exit 0) from a bad flag (exit 2): launch reports both as
// launch.ErrUsage after printing the usage.
func serveCommand(run func(ctx context.Context, args []string, env config.Env, stderr io.Writer) error, cfg func() flagger) func(context.Context, []string, io.Reader, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, _ io.Reader, _, stderr io.Writer) error {
		err := run(ctx, args, os.Getenv, stderr)
		if errors.Is(err, flag.ErrHelp) || (errors.Is(err, launch.ErrUsage) && asksHelp(cfg(), args)) {
			return flag.ErrHelp
		}
		if errors.Is(err, launch.ErrUsage) {
			return errUsage
		}
		return err
	}
}

// asksHelp reports whether parsing args with c's flags stops at -h or
// -help, as the flag package does, rather than at a bad flag.
func asksHelp(c flagger, args []string) bool {
	fs := flag.NewFlagSet("help", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.Flags(fs, config.Map(nil))
	return errors.Is(fs.Parse(args), flag.ErrHelp)
}
