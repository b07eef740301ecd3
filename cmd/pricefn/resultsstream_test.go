package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// TestResultsStream: the results are written to the file and checked as
// they are read; a second read (a retried request) starts the file and
// the check afresh; a file that cannot be written is a local error, which
// submit does not ask the engine again for.
func TestResultsStream(t *testing.T) {
	doc := `{"batchId":"b","results":[` + "\n" + `{"id":"T1","npv":1},` + "\n" + `{"id":"T2","error":"no market"}` + "\n]}\n"
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs := &resultsStream{want: []string{"T1", "T2"}, file: f}
	// A first read cut short, then a whole one.
	if _, err := rs.read(iotest.TimeoutReader(iotest.HalfReader(strings.NewReader(doc))), 8); err == nil {
		t.Fatal("a read cut short: no error")
	}
	got, err := rs.read(iotest.OneByteReader(strings.NewReader(doc)), 8)
	if err != nil || string(got) != doc {
		t.Fatalf("read %q, %v", got, err)
	}
	if failed, err := rs.check.Finish(got); err != nil || failed != 1 {
		t.Errorf("check: %d failed, %v", failed, err)
	}
	if b, err := os.ReadFile(f.Name()); err != nil || string(b) != doc {
		t.Errorf("file %q, %v: want the document once", b, err)
	}
	f.Close()
	if _, err := rs.read(strings.NewReader(doc), 8); !errors.As(err, new(localError)) {
		t.Errorf("a file that cannot be written: %v, want a localError", err)
	}
}
