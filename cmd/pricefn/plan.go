package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// planProgram is the program that implements "pricefn plan" (cmd/pricefn-plan):
// Knative's autoscaler code, kept out of pricefn, whose every command (and
// every function's cold start) would otherwise pay for its package
// initialisation.
const planProgram = "pricefn-plan"

// runPlan implements "pricefn plan" by running pricefn-plan with the same
// arguments and streams, and exiting as it does.
func runPlan(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	path, err := findPlanProgram()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	err = cmd.Run()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		if ee.ExitCode() > 0 {
			return exitStatus(ee.ExitCode()) // it has said why
		}
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGPIPE {
			return exitStatus(128 + int(syscall.SIGPIPE)) // its reader left, as a shell reports it
		}
	}
	return err
}

// findPlanProgram returns the path of pricefn-plan: $PRICEFN_PLAN when set,
// else the one beside this program, else the one on PATH.
func findPlanProgram() (string, error) {
	if p := os.Getenv("PRICEFN_PLAN"); p != "" {
		return p, nil
	}
	if self, err := os.Executable(); err == nil {
		if self, err = filepath.EvalSymlinks(self); err == nil {
			p := filepath.Join(filepath.Dir(self), planProgram)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return p, nil
			}
		}
	}
	if p, err := exec.LookPath(planProgram); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("needs the program %s, beside pricefn or on PATH (make build makes bin/%s; or go install github.com/pricefn/pricefn/cmd/%s)",
		planProgram, planProgram, planProgram)
}

// exitStatus is an exit status that run returns as it is, with nothing
// printed.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
