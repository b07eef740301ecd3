package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pricefn/pricefn/api"
)

// TestPrintable: control characters, direction overrides and invalid
// bytes are escaped as strconv.Quote does; other text is kept.
func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"delivery failed: out of memory": "delivery failed: out of memory",
		"prix: 12,5 € — 日本":              "prix: 12,5 € — 日本",
		"\x1b[2J\x1b[1;31mFAKE\x1b[0m":   `\x1b[2J\x1b[1;31mFAKE\x1b[0m`,
		"\x1b]0;pwned\a":                 `\x1b]0;pwned\a`,
		"a\nb\tc\rd\x7f\u0085":           `a\nb\tc\rd\x7f\u0085`,
		"abc\u202edcba":                  `abc\u202edcba`,
		"bad \xff byte":                  `bad \xff byte`,
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
	if got, want := printableLines("a\x1b\nb"), "a\\x1b\nb"; got != want {
		t.Errorf("printableLines: %q, want %q", got, want)
	}
}

// hostile is text an engine (or whoever wrote into its store) may send:
// it would clear the screen, print in red and retitle the window.
const hostile = "\x1b[2J\x1b[1;31mFAKE: your token expired\x1b[0m\x1b]0;pwned\a"

// TestServerTextIsEscaped: a dead chunk's reason, a state and a pricer's
// name in pricefn trace, and an engine's error message in pricefn
// submit, reach the terminal with their control characters escaped.
func TestServerTextIsEscaped(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	st := &api.Status{
		BatchID:  "b",
		Progress: api.Progress{State: api.StateFailed + "\x1b[8m", Trades: 1, Missing: 1, Chunks: 1},
		Timings:  api.Timings{SubmittedAt: t0},
		Timeline: []api.ChunkTiming{{Index: 0, Trades: 1, State: "dead", PricedBy: "p\x1b[0m", Reason: "delivery failed: " + hostile}},
	}
	var buf bytes.Buffer
	if err := writeTimeline(&buf, st); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.ContainsAny(out, "\x1b\a") || !strings.Contains(out, `delivery failed: \x1b[2J\x1b[1;31mFAKE: your token expired\x1b[0m\x1b]0;pwned\a`) ||
		!strings.Contains(out, `batch b failed\x1b[8m`) || !strings.Contains(out, `p\x1b[0m`) {
		t.Errorf("trace printed:\n%s", out)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "ingress: " + hostile + "\nfake line"})
	}))
	defer srv.Close()
	code, _, stderr := runCmd(t, "submit", "--url", srv.URL, oneTradeBatch(t))
	if code != 1 || strings.ContainsAny(stderr, "\x1b\a") || !strings.Contains(stderr, `batch rejected (400 Bad Request): ingress: \x1b[2J`) || !strings.Contains(stderr, `\nfake line`) {
		t.Errorf("submit: exit %d, stderr %q", code, stderr)
	}
}
