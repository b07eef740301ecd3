package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// planProgram is the program that implements "pricefn plan" (cmd/pricefn-plan):
// Knative's autoscaler code, kept out of pricefn, whose every command (and
// every function's cold start) would otherwise pay for its package
// initialisation.
const planProgram = "pricefn-plan"

// runPlan implements "pricefn plan" by running pricefn-plan with the same
// arguments and streams, and exiting as it does. When ctx ends (pricefn
// was interrupted or told to stop) pricefn-plan is interrupted, and ends
// as it chooses (a terminal's Ctrl-C reaches it anyway), within
// planWaitDelay or killed.
func runPlan(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	path, err := findPlanProgram()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	// Interrupted, not killed; killed if it has not ended planWaitDelay
	// later (or cannot be interrupted: Windows).
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = planWaitDelay
	err = cmd.Run()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		if ee.ExitCode() > 0 {
			return exitStatus(ee.ExitCode()) // it has said why
		}
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			// Ended by a signal (SIGPIPE: its reader left): the status a
			// shell reports for it.
			return exitStatus(128 + int(ws.Signal()))
		}
	}
	return err
}

// planWaitDelay is how long an interrupted pricefn-plan has to end.
const planWaitDelay = 5 * time.Second

// findPlanProgram returns the path of pricefn-plan: $PRICEFN_PLAN when set,
// else the one beside this program, else the one on PATH.
func findPlanProgram() (string, error) {
	if p := os.Getenv("PRICEFN_PLAN"); p != "" {
		return p, nil
	}
	if self, err := os.Executable(); err == nil {
		if p, ok := besideProgram(self); ok {
			return p, nil
		}
	}
	if p, err := exec.LookPath(planProgram); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("needs the program %s, beside pricefn or on PATH (make build makes bin/%s; or go install github.com/pricefn/pricefn/cmd/%s)",
		planProgram, planProgram, planProgram)
}

// besideProgram returns the pricefn-plan in the directory of the program
// self, once its symbolic links are followed (a pricefn linked into
// ~/bin from where it was built finds the pricefn-plan built with it).
func besideProgram(self string) (string, bool) {
	self, err := filepath.EvalSymlinks(self)
	if err != nil {
		return "", false
	}
	name := planProgram
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	p := filepath.Join(filepath.Dir(self), name)
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
		return p, true
	}
	return "", false
}

// exitStatus is an exit status that run returns as it is, with nothing
// printed.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
