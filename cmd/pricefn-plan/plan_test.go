package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pricefn/pricefn/plan"
)

func runPlanArgs(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestPlanBurst: the burst from the command line, as JSON.
func TestPlanBurst(t *testing.T) {
	code, out, errOut := runPlanArgs(t, "--burst", "60", "--cpu", "0.5s", "--annotation", "target=2",
		"--container-concurrency", "4", "--runs", "4", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r plan.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	s := r.Summary
	if s.Requests != 60 || s.PodsCreated.Max != 43 || s.PanicSeconds.Mean < 60 || s.PodSeconds.Mean < 3000 || r.Runs != 4 {
		t.Errorf("summary %+v", s)
	}
	if r.Settings.Target != 1.4 || r.Settings.ContainerConcurrency != 4 {
		t.Errorf("settings %+v", r.Settings)
	}
}

// TestPlanTextAndPlot: text, the pricer's Service file, a mixed workload, a
// trace and an SVG plot.
func TestPlanTextAndPlot(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "t.csv")
	if err := os.WriteFile(trace, []byte("arrival_s,cpu_s\n0,0.5\n1.5,0.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	svg := filepath.Join(dir, "p.svg")
	code, out, errOut := runPlanArgs(t, "--service", "../../knative/services.yaml", "--service-name", "pricefn-pricer",
		"--trace", trace, "--burst", "10@5s", "--steady", "2", "--for", "10s", "--runs", "2", "--plot", svg, "--rows", "10")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"workload: 32 requests", "containerConcurrency 2, scale 0..20", "stable window 6s", "pod-seconds", "timeline"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(svg); err != nil || !bytes.HasPrefix(b, []byte("<svg")) {
		t.Errorf("plot: %v %.40q", err, b)
	}
}

// TestPlanErrors: bad input is refused with a message naming it (Knative's
// own for settings), exit status 1; a missing workload is a usage error.
func TestPlanErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("0,0.5\n1,zero\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--burst", "5", "--annotation", "target=-1"}, 2, "target -1 should be at least 0.01"},
		{[]string{"--burst", "5", "--annotation", "window=1s"}, 2, "expected 6s <= 1s <= 1h0m0s"},
		{[]string{"--burst", "5", "--config", "max-scale-up-rate=1"}, 2, "max-scale-up-rate = 1, must be greater than 1.0"},
		{[]string{"--burst", "5", "--config", "stable-windw=10s"}, 2, `config-autoscaler key "stable-windw": unknown`},
		{[]string{"--burst", "5", "--container-concurrency", "-2"}, 2, "spec.containerConcurrency"},
		{[]string{"--trace", bad}, 1, "bad.csv line 2: cpu_s: \"zero\" is not a number"},
		// A flag value the command cannot take is a usage error, exit 2, as
		// in the rest of pricefn (it was 1).
		{[]string{"--burst", "x"}, 2, `--burst "x": want N[@T]`},
		{[]string{"--burst", "5", "--search", "--goal", "p42=1s"}, 2, `goal "p42=1s"`},
		{[]string{"--burst", "5", "--search", "--grid", "targt=1,2"}, 1, `grid "targt"`},
		{[]string{"--burst", "5", "--cores", "0"}, 2, "--cores 0: must be > 0"},
		{[]string{"--burst", "5", "--rows", "-1"}, 2, "--rows -1: must be >= 0"},
		{[]string{"--burst", "5", "--chunk-trades", "-1"}, 2, "--chunk-trades -1: want 1 or more"}, // the ingress refuses it
		{[]string{"--burst", "5", "--chunk-cost", "0s"}, 2, "--chunk-cost 0s: must be > 0"},
		{[]string{"--burst", "5", "--max-bootstrap-instruments", "-1"}, 2, "--max-bootstrap-instruments -1: want 0 (no bound) or more"},
		{[]string{"--burst", "5", "--cores", "Inf"}, 2, "--cores +Inf: must be > 0 (and finite)"},                  // it replayed for ever
		{[]string{"--burst", "5", "--steady", "NaN"}, 2, "--steady NaN"},                                           // it was dropped
		{[]string{"--burst", "5", "--cores", "1e-300"}, 2, "cores 1e-300: must be finite and at least 0.001 (1m)"}, // it replayed for ever
		{[]string{"--burst", "5", "--runs", "0"}, 2, "--runs 0: must be > 0 (and finite)\nRun 'pricefn plan -h' for its flags."},
		// A flag out of its range, as --runs 0: it said "pricefn plan: plan: runs 1001" and exited 1.
		{[]string{"--burst", "5", "--runs", "1001"}, 2, "--runs 1001: must be at most 1000\nRun 'pricefn plan -h' for its flags."},
		// The report says it; the status did not.
		{[]string{"--burst", "5", "--search", "--goal", "makespan=1ms", "--runs", "1"}, 1, "pricefn plan: no setting meets the goal"},
		{[]string{}, 2, "no workload"},
		// It said "no workload: give --trace, --burst, --steady or --batch".
		{[]string{"--steady", "1e-300", "--for", "10s"}, 2, "--steady 1e-300 --for 10s: fewer than one request (the rate times the duration): raise either"},
		{[]string{"--steady", "0.05", "--for", "10s"}, 2, "--steady 0.05 --for 10s: fewer than one request"},
		// It showed the default 5.
		{[]string{"--burst", "5", "--search", "--top", "0"}, 2, "--top 0: must be > 0"},
		// It was ignored: no plot, exit 0.
		{[]string{"--burst", "5", "--search", "--plot", "p.svg"}, 2, "--plot p.svg: a search has no timeline to plot"},
		// Workloads are counted and bounded before they are made: these ran
		// the machine out of memory, or replayed for hours.
		{[]string{"--steady", "1e12", "--for", "1s"}, 2, "--steady 1e+12 --for 1s: 1000000000000 requests, more than 1000000 in the workload"},
		{[]string{"--burst", "600000", "--burst", "600000"}, 2, `--burst "600000": more than 1000000 requests in the workload`},
		{[]string{"--burst", "5@169h"}, 2, `--burst "5@169h": T must be a duration from 0 to 168h0m0s`},
		{[]string{"--steady", "1", "--from", "168h"}, 2, "--steady 1 --for 1m0s --from 168h0m0s: must end by 168h0m0s"},
	}
	for _, tt := range tests {
		code, _, errOut := runPlanArgs(t, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d %q, want %d and %q", tt.args, code, errOut, tt.code, tt.want)
		}
	}
}

// TestPlanSearch: --search on the burst finds a several-fold cut at p99 <= 10 s.
func TestPlanSearch(t *testing.T) {
	code, out, errOut := runPlanArgs(t, "--burst", "60", "--annotation", "target=2", "--container-concurrency", "4",
		"--search", "--goal", "p99=10s", "--runs", "2", "--grid", "target=2", "--grid", "target-utilization-percentage=70",
		"--grid", "container-concurrency=4", "--grid", "window=6s,60s", "--grid", "panic-threshold-percentage=200",
		"--grid", "scale-down-delay=0s", "--grid", "max-scale=0,10", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res plan.SearchResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Tried != 4 || len(res.Best) == 0 || res.Ratio(res.Best[0]) < 3 {
		t.Errorf("tried %d, best %+v", res.Tried, res.Best)
	}
}

// TestPlanInterrupted: a replay stopped by a signal says so and exits as a
// shell reports the signal (130 for Ctrl-C, 143 for SIGTERM), where it said
// "context canceled" and exited 1, a failure's status.
func TestPlanInterrupted(t *testing.T) {
	for _, c := range []struct {
		sig  syscall.Signal
		code int
		says string
	}{
		{syscall.SIGINT, 130, "pricefn plan: interrupted\n"},
		{syscall.SIGTERM, 143, "pricefn plan: interrupted (terminated)\n"},
	} {
		ctx, cancel := context.WithCancelCause(context.Background())
		time.AfterFunc(200*time.Millisecond, func() { cancel(signalled{c.sig}) })
		var out, errOut bytes.Buffer
		code := run(ctx, []string{"--steady", "100", "--for", "10m", "--runs", "200"}, strings.NewReader(""), &out, &errOut)
		if code != c.code || errOut.String() != c.says {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", c.sig, code, errOut.String(), c.code, c.says)
		}
	}
}

// TestPlanBatchCountsInWords: --batch says how the batch was split in
// words that agree with the counts: a batch of one chunk was "in 1
// chunks".
func TestPlanBatchCountsInWords(t *testing.T) {
	code, _, errOut := runPlanArgs(t, "--batch", "../../examples/european.json", "--runs", "1", "--json")
	if want := "batch ../../examples/european.json: 3 trades in 1 chunk, "; code != 0 || !strings.HasPrefix(errOut, want) {
		t.Errorf("exit %d, stderr %q; want it to start %q", code, errOut, want)
	}
}
