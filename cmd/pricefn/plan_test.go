package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPlanRunsItsProgram: "pricefn plan" runs pricefn-plan with its
// arguments and streams and exits as it does (0, 2 for a usage error, 1
// for a failure); without it, it says where to get it.
func TestPlanRunsItsProgram(t *testing.T) {
	prog := filepath.Join(t.TempDir(), planProgram)
	if out, err := exec.Command("go", "build", "-o", prog, "github.com/pricefn/pricefn/cmd/pricefn-plan").CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", planProgram, err, out)
	}
	t.Setenv("PRICEFN_PLAN", prog)
	code, stdout, stderr := runCmd(t, "plan", "--burst", "8", "--cpu", "0.1s", "--runs", "1", "--json")
	var r struct {
		Runs     int `json:"runs"`
		Timeline []struct {
			Pods float64 `json:"pods"`
		} `json:"timeline"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &r) != nil || r.Runs != 1 || len(r.Timeline) == 0 {
		t.Fatalf("plan --json: exit %d, runs %d, %d samples; stderr %q", code, r.Runs, len(r.Timeline), stderr)
	}
	if code, stdout, stderr := runCmd(t, "plan", "-h"); code != 0 || stdout != "" || !strings.HasPrefix(stderr, "usage: pricefn plan") {
		t.Errorf("plan -h: exit %d, stdout %q, stderr %.60q", code, stdout, stderr)
	}
	if code, _, stderr := runCmd(t, "plan", "--no-such-flag"); code != 2 || !strings.Contains(stderr, "no-such-flag") {
		t.Errorf("plan --no-such-flag: exit %d, stderr %.80q", code, stderr)
	}
	if code, _, stderr := runCmd(t, "plan", "--trace", "/nonexistent.csv"); code != 1 || !strings.HasPrefix(stderr, "pricefn plan: open /nonexistent.csv") {
		t.Errorf("plan --trace /nonexistent.csv: exit %d, stderr %q", code, stderr)
	}

	t.Setenv("PRICEFN_PLAN", "")
	t.Setenv("PATH", t.TempDir())
	code, _, stderr = runCmd(t, "plan", "--burst", "8")
	if code != 1 || !strings.Contains(stderr, "pricefn plan: needs the program pricefn-plan, beside pricefn or on PATH (make build") {
		t.Errorf("without pricefn-plan: exit %d, stderr %q", code, stderr)
	}
}

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
// killed (it was, with SIGKILL).
func TestPlanSignals(t *testing.T) {
	fakePlan(t, "kill -TERM $$")
	if code, _, stderr := runCmd(t, "plan"); code != 128+int(syscall.SIGTERM) || stderr != "" {
		t.Errorf("pricefn-plan ended by SIGTERM: exit %d, stderr %q; want %d and nothing said", code, stderr, 128+int(syscall.SIGTERM))
	}

	fakePlan(t, "trap 'echo interrupted >&2; exit 7' INT\necho started\nwhile :; do sleep 0.02; done")
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
		if c != 7 || stderr.String() != "interrupted\n" {
			t.Errorf("interrupted: exit %d, stderr %q; want 7, what pricefn-plan said", c, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("pricefn plan did not end within 10 s of an interrupt")
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
