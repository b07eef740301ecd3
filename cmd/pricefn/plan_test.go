package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
