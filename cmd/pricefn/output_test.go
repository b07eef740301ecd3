package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// TestWriteOutput: the file is replaced whole or not at all, keeps its
// permissions, is written through a symbolic link, and a path that is not
// a regular file is written directly.
func TestWriteOutput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.json")
	if err := writeOutput(out, func(w io.Writer) error { _, err := io.WriteString(w, "one"); return err }); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(out); fi == nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("new file: %v", fi)
	}
	os.Chmod(out, 0o600)
	failed := errors.New("failed")
	if err := writeOutput(out, func(w io.Writer) error { io.WriteString(w, "half"); return failed }); err != failed {
		t.Errorf("error %v, want the writer's", err)
	}
	if got, _ := os.ReadFile(out); string(got) != "one" {
		t.Errorf("after a failed write the file holds %q, want the old one", got)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(out, link); err != nil {
		t.Fatal(err)
	}
	if err := writeOutput(link, func(w io.Writer) error { _, err := io.WriteString(w, "two"); return err }); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); string(got) != "two" {
		t.Errorf("through the link the target holds %q, want two", got)
	}
	if fi, _ := os.Lstat(link); fi == nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the link was replaced by a file")
	}
	if fi, _ := os.Stat(out); fi == nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("replaced file's mode %v, want 0600 kept", fi.Mode())
	}
	if left, _ := os.ReadDir(dir); len(left) != 2 {
		t.Errorf("%d files in the directory, want the file and the link", len(left))
	}
	if err := writeOutput(os.DevNull, func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err }); err != nil {
		t.Errorf("%s: %v", os.DevNull, err)
	}
}

// An --out that cannot be written is said before any work: pricefn submit
// sent the batch, waited for it to be priced and only then failed to
// write the results.
func TestOutputCheckedFirst(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests.Add(1) }))
	defer srv.Close()
	missing := filepath.Join(t.TempDir(), "no", "results.json")
	for _, args := range [][]string{
		{"submit", "--url", srv.URL, "--out", missing, oneTradeBatch(t)},
		{"price", "--out", missing, oneTradeBatch(t)},
		{"price", "--out", t.TempDir(), oneTradeBatch(t)},
	} {
		code, _, stderr := runCmd(t, args...)
		if code != 1 || !strings.Contains(stderr, "--out") || !strings.Contains(stderr, "no directory") && !strings.Contains(stderr, "is a directory") {
			t.Errorf("%v: exit %d, %s", args, code, stderr)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("the engine got %d requests for a batch whose results had nowhere to go", n)
	}
}

// TestResultsHeld: submit holds the whole results document (and advises
// huge pages for it) when it prints it and when --out is not a regular
// file (/dev/null, a pipe, a link to one), which takes it whole; not when
// --out is a regular file, new or not, or a link to one, which takes it a
// window at a time. An --out of /dev/stdout went without the advice.
func TestResultsHeld(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "out.json")
	if err := os.WriteFile(file, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	fileLink, nullLink := filepath.Join(dir, "file-link"), filepath.Join(dir, "null-link")
	if err := os.Symlink(file, fileLink); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(os.DevNull, nullLink); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		out  string
		held bool
	}{
		{"", true},
		{os.DevNull, true},
		{fifo, true},
		{nullLink, true},
		{file, false},
		{fileLink, false},
		{filepath.Join(dir, "new.json"), false},
	} {
		if got := resultsHeld(c.out); got != c.held {
			t.Errorf("--out %q: held whole %v, want %v", c.out, got, c.held)
		}
	}
}

// TestOutDashIsStdout: "--out -" is the standard output, as a "-" operand
// is the standard input; gen, price and submit wrote a file named "-".
func TestOutDashIsStdout(t *testing.T) {
	url := startDev(t)
	t.Chdir(t.TempDir())
	code, batch, stderr := runCmd(t, "gen", "-n", "3", "--id", "dash-1", "--out", "-")
	if code != 0 || !strings.Contains(batch, `"trades"`) {
		t.Fatalf("gen --out -: exit %d, stdout %.200q, stderr %s", code, batch, stderr)
	}
	if err := os.WriteFile("b.json", []byte(batch), 0o644); err != nil {
		t.Fatal(err)
	}
	_, want, _ := runCmd(t, "price", "b.json")
	for _, args := range [][]string{{"price", "--out", "-", "b.json"}, {"submit", "--quiet", "--url", url, "--out", "-", "b.json"}} {
		if code, got, stderr := runCmd(t, args...); code != 0 || got != want {
			t.Errorf("%v: exit %d, stderr %s\n got %.200q\nwant %.200q", args, code, stderr, got, want)
		}
	}
	if _, err := os.Stat("-"); err == nil {
		t.Error(`a file named "-" was written`)
	}
}
