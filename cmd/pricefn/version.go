package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// runVersion implements "pricefn version" (and "pricefn --version"): the
// module's version as the build recorded it, its commit when known, and
// the Go that built it.
func runVersion(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pricefn version\n\nPrints the version of pricefn (its module version, and the commit when the\nbuild recorded one) and of the Go it was built with.")
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		if err == nil {
			fs.Usage()
		}
		return parseError(err)
	}
	info, _ := debug.ReadBuildInfo()
	_, err := fmt.Fprintln(stdout, versionLine(info, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH))
	return err
}

// versionLine describes a build: "pricefn VERSION [(commit REV[, modified])], GO PLATFORM".
// A build without module information (info nil) is "(unknown)"; a
// checkout built with go build is "(devel)" unless Go stamped a version.
func versionLine(info *debug.BuildInfo, goVersion, platform string) string {
	v := "(unknown)"
	var rev, modified string
	if info != nil {
		if info.Main.Version != "" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if modified == "true" {
			rev += ", modified"
		}
		v += " (commit " + rev + ")"
	}
	return fmt.Sprintf("pricefn %s, %s %s", v, goVersion, platform)
}
