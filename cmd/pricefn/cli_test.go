package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pricefn/pricefn/batch"
)

// TestVersion: --version, -version and the version command print the
// module version and the Go that built it, exit 0.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"-version"}, {"version"}} {
		code, stdout, stderr := runCmd(t, args...)
		if code != 0 || !strings.HasPrefix(stdout, "pricefn ") || !strings.Contains(stdout, runtime.Version()) || stderr != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	for _, c := range []struct {
		info *debug.BuildInfo
		want string
	}{
		{nil, "pricefn (unknown), go1.26.1 linux/amd64"},
		{&debug.BuildInfo{Main: debug.Module{Path: "github.com/pricefn/pricefn", Version: "v1.4.0"}}, "pricefn v1.4.0, go1.26.1 linux/amd64"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "4dba1c1a2b3c4d5e6f708192a3b4c5d6e7f80912"}, {Key: "vcs.modified", Value: "true"}}},
			"pricefn (devel) (commit 4dba1c1a2b3c, modified), go1.26.1 linux/amd64"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260101000000-4dba1c1a2b3c"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "4dba1c1"}, {Key: "vcs.modified", Value: "false"}}},
			"pricefn v0.0.0-20260101000000-4dba1c1a2b3c (commit 4dba1c1), go1.26.1 linux/amd64"},
	} {
		if got := versionLine(c.info, "go1.26.1", "linux/amd64"); got != c.want {
			t.Errorf("versionLine: %q, want %q", got, c.want)
		}
	}
}

// TestHelpExitsZero: -h on every command prints its usage once, with each
// default once, and exits 0; a bad flag still exits 2.
func TestHelpExitsZero(t *testing.T) {
	for name := range commands() {
		if name == "plan" {
			continue // another program's (TestPlanRunsItsProgram)
		}
		// "pricefn help price" is "pricefn price -h" (it printed the
		// command list).
		for _, h := range [][]string{{name, "-h"}, {name, "--help"}, {"help", name}} {
			code, stdout, stderr := runCmd(t, h...)
			if h[0] == "help" { // asked for: on stdout, for a pager
				stdout, stderr = stderr, stdout
			}
			if code != 0 || stdout != "" || strings.Count(stderr, "usage: pricefn "+name) != 1 {
				t.Errorf("%s %s: exit %d, stdout %q, stderr %q", name, h, code, stdout, stderr)
			}
			for _, line := range strings.Split(stderr, "\n") {
				if strings.Count(line, "(default") > 1 {
					t.Errorf("%s %s: a default twice: %q", name, h, strings.TrimSpace(line))
				}
			}
		}
		if code, _, _ := runCmd(t, name, "--no-such-flag"); code != 2 {
			t.Errorf("%s --no-such-flag: exit %d, want 2", name, code)
		}
	}
	// -h after other flags is still help; a bad flag before it is not.
	if code, _, _ := runCmd(t, "dev", "--addr", ":0", "-h"); code != 0 {
		t.Errorf("dev --addr :0 -h: exit %d, want 0", code)
	}
	if code, _, _ := runCmd(t, "dev", "--bogus", "-h"); code != 2 {
		t.Errorf("dev --bogus -h: exit %d, want 2", code)
	}
	if code, _, stderr := runCmd(t, "help", "nosuch"); code != 2 || !strings.Contains(stderr, `unknown command "nosuch"`) {
		t.Errorf("help nosuch: exit %d %q, want 2 and unknown command", code, stderr)
	}
}

// TestGenRejectsBadValues: out-of-range or unknown values are usage
// errors (exit 2) naming the flag and the value, and nothing is written.
func TestGenRejectsBadValues(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-n", "-5"}, "pricefn gen: -n -5: want 0 to 10000000 trades"},
		{[]string{"-n", "20000000"}, "-n 20000000: want 0 to 10000000 trades"},
		{[]string{"--measures", "npv,bogus"}, `pricefn gen: --measures "npv,bogus": batch: measures[1]: unknown measure "bogus" (valid: npv, delta`},
		{[]string{"--measures", "npv,npvStdErr"}, `pricefn gen: --measures "npv,npvStdErr": batch: measures[1]: unknown measure "npvStdErr" (valid: npv, delta`}, // a batch does not ask for it
		{[]string{"--measures", "npv,"}, `--measures "npv,": batch: measures[1]: unknown measure ""`},
		{[]string{"--type", "exotic"}, `pricefn gen: --type "exotic": want one of european, european-put`},
		{[]string{"--scenarios", "-1"}, "pricefn gen: --scenarios -1: want 0 to 10000 scenarios"},
		{[]string{"--scenarios", "10001"}, "--scenarios 10001: want 0 to 10000 scenarios"},
		// Written as it was, for the engine to refuse.
		{[]string{"--id", "bad id"}, `pricefn gen: --id: batch: id: batch id "bad id": want 1 to 128 letters`},
	} {
		code, stdout, stderr := runCmd(t, append([]string{"gen"}, c.args...)...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, c.want) || !strings.Contains(stderr, "Run 'pricefn gen -h'") {
			t.Errorf("gen %v: exit %d, stdout %.80q, stderr %q; want exit 2 and %q", c.args, code, stdout, stderr, c.want)
		}
	}
	// Measures are read by the pricing package's parser: spaces around a
	// name are trimmed and a repeated one is asked for once.
	code, stdout, stderr := runCmd(t, "gen", "-n", "1", "--measures", "npv, delta,npv")
	if code != 0 || !strings.Contains(stdout, `"measures":["npv","delta"]`) {
		t.Errorf("gen --measures 'npv, delta,npv': exit %d, stderr %q, batch %.200s", code, stderr, stdout)
	}
}

// TestGenInterrupted: Ctrl-C while gen makes a large sample ends it at
// once, exit 130, with neither a file (--out) nor a part of the batch on
// stdout. gen ignored it: it made and wrote the whole batch (a million
// trades, seconds; ten million, 1.1 GB) and exited 0.
func TestGenInterrupted(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "big.json")
	for _, args := range [][]string{{"gen", "-n", "2000000", "--out", file}, {"gen", "-n", "2000000"}} {
		ctx, cancel := context.WithCancelCause(t.Context())
		timer := time.AfterFunc(100*time.Millisecond, func() { cancel(signalled{os.Interrupt}) })
		var stdout, stderr bytes.Buffer
		code := run(ctx, args, strings.NewReader(""), &stdout, &stderr)
		timer.Stop()
		cancel(nil)
		if code != 130 || stderr.String() != "pricefn gen: interrupted\n" || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q, %d bytes on stdout; want 130, %q, none", args, code, stderr.String(), stdout.Len(), "pricefn gen: interrupted\n")
		}
		// The sample stops too: made aside and left running, it went on
		// for seconds, and hundreds of megabytes, after gen returned.
		var stacks strings.Builder
		if err := pprof.Lookup("goroutine").WriteTo(&stacks, 1); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stacks.String(), "runGen") {
			t.Errorf("%v: the sample is still being made after gen returned:\n%s", args, stacks.String())
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left in --out's directory: %v, want none", entries)
	}
}

// TestGenScenarios: gen --scenarios writes a risk run that prices: one
// result per scenario, ordered, VaR and ES at the asked confidences, and
// the same trades as without scenarios.
func TestGenScenarios(t *testing.T) {
	dir := t.TempDir()
	plain, risk := filepath.Join(dir, "plain.json"), filepath.Join(dir, "risk.json")
	if code, _, stderr := runCmd(t, "gen", "-n", "20", "--out", plain); code != 0 {
		t.Fatalf("gen: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCmd(t, "gen", "-n", "20", "--scenarios", "250", "--out", risk); code != 0 {
		t.Fatalf("gen --scenarios: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runCmd(t, "price", risk)
	if code != 0 {
		t.Fatalf("price: exit %d: %s", code, stderr)
	}
	var rs struct {
		Results   []json.RawMessage `json:"results"`
		Scenarios []struct {
			ID  string  `json:"id"`
			PnL float64 `json:"pnl"`
		} `json:"scenarios"`
		Risk struct {
			VaR map[string]float64 `json:"var"`
			ES  map[string]float64 `json:"es"`
		} `json:"risk"`
	}
	if err := json.Unmarshal([]byte(stdout), &rs); err != nil {
		t.Fatal(err)
	}
	if len(rs.Results) != 20 || len(rs.Scenarios) != 250 || rs.Scenarios[0].ID != "s00001" || rs.Scenarios[249].ID != "s00250" {
		t.Fatalf("%d results, %d scenarios (%+v ...)", len(rs.Results), len(rs.Scenarios), rs.Scenarios[:1])
	}
	moved := 0
	for _, s := range rs.Scenarios {
		if s.PnL != 0 {
			moved++
		}
	}
	if v, e := rs.Risk.VaR["0.99"], rs.Risk.ES["0.975"]; moved < 240 || !(v > 0) || !(e >= v*0.9) {
		t.Errorf("%d scenarios moved the portfolio; VaR99 %v, ES97.5 %v", moved, v, e)
	}
	_, base, _ := runCmd(t, "price", plain)
	var b struct {
		Results []json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal([]byte(base), &b); err != nil || string(b.Results[7]) != string(rs.Results[7]) {
		t.Errorf("the trades differ with scenarios: %s vs %s (%v)", b.Results[7], rs.Results[7], err)
	}
}

// TestPriceRejectsNegativeWorkers: --workers -1 is a usage error.
func TestPriceRejectsNegativeWorkers(t *testing.T) {
	code, _, stderr := runCmd(t, "price", "--workers", "-1", "x.json")
	if code != 2 || !strings.Contains(stderr, "--workers -1: want 0 (one per core) or more") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestSeedPutSample: the seed's own trade, which /valQuery?metric=OptionPV
// prices, is the put K=40, S=36, r=6%, vol=20%, q=0, one year: npv
// 3.844308 (the seed's figure, rounded to 6 decimals).
func TestSeedPutSample(t *testing.T) {
	file := filepath.Join(t.TempDir(), "seed.json")
	if code, _, stderr := runCmd(t, "gen", "--type", batch.SampleSeedPut, "-n", "3", "--out", file); code != 0 {
		t.Fatalf("gen: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runCmd(t, "price", file)
	if code != 0 {
		t.Fatalf("price: exit %d: %s", code, stderr)
	}
	var rs struct {
		Results []struct {
			ID  string  `json:"id"`
			NPV float64 `json:"npv"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(stdout), &rs); err != nil || len(rs.Results) != 3 {
		t.Fatalf("results %v: %s", err, stdout)
	}
	for _, r := range rs.Results {
		if math.Abs(r.NPV-3.844308) > 5e-7 {
			t.Errorf("%s: npv %.9f, want 3.844308 within 5e-7", r.ID, r.NPV)
		}
	}
}

// TestGenRatesOptions: gen makes swaptions and caps and floors, and
// every one prices, with a vega, alone and under a risk run's scenarios.
func TestGenRatesOptions(t *testing.T) {
	for _, typ := range []string{"swaption", "capfloor"} {
		for _, scenarios := range []string{"0", "20"} {
			file := filepath.Join(t.TempDir(), typ+".json")
			if code, _, stderr := runCmd(t, "gen", "--type", typ, "-n", "60", "--measures", "npv,vega", "--scenarios", scenarios, "--out", file); code != 0 {
				t.Fatalf("gen %s: exit %d: %s", typ, code, stderr)
			}
			code, stdout, stderr := runCmd(t, "price", file)
			if code != 0 {
				t.Fatalf("price %s: exit %d: %s", typ, code, stderr)
			}
			var rs struct {
				Results []struct {
					ID    string   `json:"id"`
					NPV   *float64 `json:"npv"`
					Vega  *float64 `json:"vega"`
					Error string   `json:"error"`
				} `json:"results"`
			}
			if err := json.Unmarshal([]byte(stdout), &rs); err != nil || len(rs.Results) != 60 {
				t.Fatalf("%s: %d results, %v", typ, len(rs.Results), err)
			}
			for _, r := range rs.Results {
				if r.Error != "" || r.NPV == nil || r.Vega == nil || *r.NPV < 0 {
					t.Errorf("%s, %s scenarios: %s: npv %v, vega %v, error %q", typ, scenarios, r.ID, r.NPV, r.Vega, r.Error)
				}
			}
		}
	}
}

// TestExamplesHaveNoBatchID: the examples carry no batch id, so that an
// edited example sent again is a new batch (a fixed id would answer the
// old results, or 409), and each prices with every trade priced.
func TestExamplesHaveNoBatchID(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			ID     *string           `json:"id"`
			Trades []json.RawMessage `json:"trades"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if doc.ID != nil {
			t.Errorf("%s: fixed batch id %q", f, *doc.ID)
		}
		code, stdout, stderr := runCmd(t, "price", f)
		results, _, _ := strings.Cut(stdout, `],"scenarios":[`) // a risk run's scenarios follow
		if code != 0 || strings.Count(results, `{"id":`) != len(doc.Trades) {
			t.Errorf("%s: exit %d, %d results for %d trades: %s", f, code, strings.Count(results, `{"id":`), len(doc.Trades), stderr)
		}
	}
}

// TestPriceOut: --out is written whole or not at all: a file it replaces
// keeps its mode, a new one is 0644, and a batch that cannot be priced
// leaves the file as it was.
func TestPriceOut(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "b.json"), filepath.Join(dir, "r.json")
	if code, _, stderr := runCmd(t, "gen", "-n", "5", "--out", in); code != 0 {
		t.Fatalf("gen: %s", stderr)
	}
	if code, _, stderr := runCmd(t, "price", "--out", out, in); code != 0 {
		t.Fatalf("price: %s", stderr)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("new --out file: %v %v, want mode 0644", fi.Mode(), err)
	}
	if err := os.Chmod(out, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd(t, "price", "--out", out, in); code != 0 {
		t.Fatalf("price again: %s", stderr)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("replaced --out file: %v %v, want its mode 0600 kept", fi.Mode(), err)
	}
	before, _ := os.ReadFile(out)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"valuationDate":"2026-11-25","measures":["npvv"],"trades":[]}`), 0o644)
	if code, _, _ := runCmd(t, "price", "--out", out, bad); code == 0 {
		t.Fatal("a bad batch priced")
	}
	if after, _ := os.ReadFile(out); string(after) != string(before) {
		t.Error("a failed price changed --out")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".r.json.*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// genOpen generates a batch of 1,500 Europeans with measures into dir
// and returns it, and it open: without the closing brace of its document,
// so that members may be added after its trades.
func genOpen(t *testing.T, dir, measures string) (doc, open string) {
	t.Helper()
	in := filepath.Join(dir, "gen.json")
	if code, _, stderr := runCmd(t, "gen", "-n", "1500", "--measures", measures, "--out", in); code != 0 {
		t.Fatalf("gen: %s", stderr)
	}
	data, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	return string(data), strings.TrimSuffix(strings.TrimSpace(string(data)), "}")
}

// TestPriceOutStreamed: --out to a file (priced as a stream, and whole
// when the stream stops) writes what the standard output gets, and fails
// as it does, for batches the stream prices, declines or finds a fault in
// after writing results.
func TestPriceOutStreamed(t *testing.T) {
	dir := t.TempDir()
	doc, body := genOpen(t, dir, "npv,delta")
	first := body[strings.Index(body, `{"id":`) : strings.Index(body, "},\n")+1]
	docs := map[string]string{
		"whole":             doc,
		"a member after":    body + `, "id": "late"}`,
		"a duplicate id":    strings.TrimSuffix(body, "]") + ",\n" + first + "]}",
		"cut":               body[:len(body)-200],
		"data after":        body + "} x",
		"a bad trade later": strings.TrimSuffix(body, "]") + ", 7]}",
	}
	for name, d := range docs {
		f := filepath.Join(dir, "in.json")
		out := filepath.Join(dir, "out.json")
		os.Remove(out)
		if err := os.WriteFile(f, []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runCmd(t, "price", f)
		codeOut, stdoutOut, stderrOut := runCmd(t, "price", "--out", out, f)
		written, _ := os.ReadFile(out)
		if codeOut != code || stdoutOut != "" || stderrOut != stderr || string(written) != stdout {
			t.Errorf("%s: --out exit %d, stderr %q, %d bytes written; stdout exit %d, stderr %q, %d bytes", name, codeOut, stderrOut, len(written), code, stderr, len(stdout))
		}
		if name != "whole" && name != "a member after" && code == 0 {
			t.Errorf("%s: priced", name)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".out.json.*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestPriceBoundsBootstrapInstruments: pricefn price bounds the bootstrap
// instruments of the curves a batch's trades use as ingress does by
// default: 10 curves of 1,000 deposits and one of 1, a FRA on each, exit
// 1 naming the count and the limit, built nothing. It priced them.
func TestPriceBoundsBootstrapInstruments(t *testing.T) {
	deposits := make([]string, 1000)
	for i := range deposits {
		deposits[i] = `{"type": "deposit", "tenor": "` + strconv.Itoa(i+1) + `D", "rate": 0.02}`
	}
	var curves, trades []string
	for i := range 11 {
		n := 1000
		if i == 10 {
			n = 1
		}
		curves = append(curves, `"C`+strconv.Itoa(i)+`": {"bootstrap": [`+strings.Join(deposits[:n], ", ")+`]}`)
		trades = append(trades, `{"id": "F`+strconv.Itoa(i)+`", "type": "fra", "curve": "C`+strconv.Itoa(i)+`", "notional": 1, "rate": 0.02, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}`)
	}
	file := filepath.Join(t.TempDir(), "curves.json")
	doc := `{"valuationDate": "2026-11-25", "market": {"curves": {` + strings.Join(curves, ", ") + `}}, "trades": [` + strings.Join(trades, ", ") + `]}`
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd(t, "price", file)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "batch: market.curves: the curves its trades use list 10001 bootstrap instruments in all, more than the limit of 10000 for one batch") {
		t.Errorf("exit %d, stdout %.100q, stderr %q", code, stdout, stderr)
	}
	// Told so, it prices them (1,000 deposits build in milliseconds).
	for _, bound := range []string{"0", "10001"} {
		code, stdout, stderr = runCmd(t, "price", "--max-bootstrap-instruments", bound, file)
		if code != 0 || strings.Count(stdout, `"npv":`) != 11 {
			t.Errorf("--max-bootstrap-instruments %s: exit %d, stdout %.200q, stderr %q", bound, code, stdout, stderr)
		}
	}
	if code, _, stderr = runCmd(t, "price", "--max-bootstrap-instruments", "-1", file); code != 2 || !strings.Contains(stderr, "--max-bootstrap-instruments -1: want 0 (no bound) or more") {
		t.Errorf("--max-bootstrap-instruments -1: exit %d, stderr %q", code, stderr)
	}
}

// TestPriceOutStoppedIsNotReadAgain: a stream stopped by its context (a
// signal) ends with the stop, not with the batch read whole again to word
// a fault further on: that read took a second of a 1M-trade batch after
// Ctrl-C, while a second Ctrl-C went unheard.
func TestPriceOutStoppedIsNotReadAgain(t *testing.T) {
	dir := t.TempDir()
	_, body := genOpen(t, dir, "npv")
	// A fault at the end, which only a read of the whole batch finds.
	in := filepath.Join(dir, "b.json")
	if err := os.WriteFile(in, []byte(body+", \"id\": 7}"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(signalled{os.Interrupt})
	out := filepath.Join(dir, "out.json")
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"price", "--out", out, in}, strings.NewReader(""), &stdout, &stderr)
	if code != 130 || stderr.String() != "pricefn price: interrupted\n" {
		t.Errorf("exit %d, stderr %q; want 130, the interruption", code, stderr.String())
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("--out written: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".out.json.*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
