//go:build unix

package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakePlan writes a shell script standing for pricefn-plan and has
// "pricefn plan" run it.
func fakePlan(t *testing.T, script string) {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Fatalf("needs sh: %v", err)
	}
	p := filepath.Join(t.TempDir(), planProgram)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PRICEFN_PLAN", p)
}

// TestPlanSignals: pricefn-plan ended by a signal ends "pricefn plan" with
// the status a shell reports (128 + the signal); an interrupt of pricefn
// reaches pricefn-plan as an interrupt, which it may handle: it is not
// killed at once (it was, with SIGKILL), only if it has not ended
// planWaitDelay later.
func TestPlanSignals(t *testing.T) {
	fakePlan(t, "kill -TERM $$")
	if code, _, stderr := runCmd(t, "plan"); code != 128+int(syscall.SIGTERM) || stderr != "" {
		t.Errorf("pricefn-plan ended by SIGTERM: exit %d, stderr %q; want %d and nothing said", code, stderr, 128+int(syscall.SIGTERM))
	}

	for _, c := range []struct {
		name, script string
		code         int
		stderr       string
	}{
		{"handled", "trap 'echo interrupted >&2; exit 7' INT", 7, "interrupted\n"},
		{"ignored, then killed", "trap '' INT", 128 + int(syscall.SIGKILL), ""},
	} {
		t.Run(c.name, func(t *testing.T) { interruptPlan(t, c.script, c.code, c.stderr) })
	}
}

// interruptPlan runs "pricefn plan" with pricefn-plan the shell script
// script, which loops, interrupts it once started, and checks its end.
func interruptPlan(t *testing.T, script string, wantCode int, wantStderr string) {
	fakePlan(t, script+"\necho started\nwhile :; do sleep 0.02; done")
	ctx, cancel := context.WithCancel(t.Context())
	r, w := io.Pipe()
	var stderr strings.Builder
	code := make(chan int, 1)
	go func() { code <- run(ctx, []string{"plan"}, strings.NewReader(""), w, &stderr); w.Close() }()
	if line, err := bufio.NewReader(r).ReadString('\n'); err != nil || line != "started\n" {
		t.Fatalf("pricefn-plan did not start: %q %v", line, err)
	}
	go io.Copy(io.Discard, r)
	cancel()
	select {
	case c := <-code:
		if c != wantCode || stderr.String() != wantStderr {
			t.Errorf("interrupted: exit %d, stderr %q; want %d, %q", c, stderr.String(), wantCode, wantStderr)
		}
	case <-time.After(planWaitDelay + 10*time.Second):
		t.Fatalf("pricefn plan did not end within %s of an interrupt", planWaitDelay+10*time.Second)
	}
}

// TestPlanBesidePricefn: pricefn finds the pricefn-plan in its own
// directory, through a symbolic link to pricefn too.
func TestPlanBesidePricefn(t *testing.T) {
	bin, elsewhere := t.TempDir(), t.TempDir()
	self := filepath.Join(bin, "pricefn")
	for _, p := range []string{self, filepath.Join(bin, planProgram)} {
		if err := os.WriteFile(p, nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(elsewhere, "pricefn")
	if err := os.Symlink(self, link); err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{self, link} {
		if p, ok := besideProgram(from); !ok || p != filepath.Join(bin, planProgram) {
			t.Errorf("from %s: %q %v, want %s", from, p, ok, filepath.Join(bin, planProgram))
		}
	}
	if p, ok := besideProgram(filepath.Join(elsewhere, "other")); ok {
		t.Errorf("beside a program with no pricefn-plan: found %q", p)
	}
}
