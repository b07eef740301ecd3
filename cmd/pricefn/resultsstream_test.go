package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/pricefn/pricefn/batch"
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
	rs := &resultsStream{want: batch.NewIDs([]string{"T1", "T2"}), file: f}
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

// TestResultsStreamWindow: with a file, a document larger than the window
// is held a window at a time (read returns its tail, from rs.base) and
// checked as a whole one is; a document damaged before the window's bytes
// is checked again from the file, with the whole check's reason; the file
// holds the document as it came.
func TestResultsStreamWindow(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"batchId":"b","results":[`)
	var ids []string
	for i := 0; b.Len() < 3*readWindow; i++ {
		ids = append(ids, fmt.Sprintf("T%d", i))
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "\n{\"id\":%q,\"npv\":%d.5,\"delta\":0.25}", ids[i], i)
	}
	b.WriteString("\n]}\n")
	doc := b.String()
	damaged := strings.Replace(doc, `"id":"T10",`, `"id":"T10x",`, 1)
	wantErr := "result 10 is for trade \"T10x\", the batch sent \"T10\" there"
	for _, c := range []struct {
		name, doc, err string
	}{{"whole", doc, ""}, {"damaged", damaged, wantErr}} {
		f, err := os.Create(filepath.Join(t.TempDir(), "out"))
		if err != nil {
			t.Fatal(err)
		}
		rs := &resultsStream{want: batch.NewIDs(ids), file: f}
		// A first read cut short past the first window (a retried
		// request), then a whole one, in pieces of varied sizes.
		cut := io.MultiReader(io.LimitReader(strings.NewReader(c.doc), 2*readWindow), iotest.ErrReader(errors.New("cut")))
		if _, err := rs.read(cut, 0); err == nil || rs.base == 0 {
			t.Fatalf("%s: a read cut short: %v, from %d", c.name, err, rs.base)
		}
		got, err := rs.read(iotest.HalfReader(strings.NewReader(c.doc)), 0)
		if err != nil || rs.base == 0 || len(got) > readWindow || !strings.HasSuffix(c.doc, string(got)) || rs.base+len(got) != len(c.doc) {
			t.Fatalf("%s: read %d bytes from %d (%v), want the document's tail, %d bytes at most", c.name, len(got), rs.base, err, readWindow)
		}
		failed, err := rs.finish(got)
		if c.err == "" && (err != nil || failed != 0) {
			t.Errorf("%s: check %d failed, %v", c.name, failed, err)
		}
		if c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: check %v, want %q", c.name, err, c.err)
		}
		if b, err := os.ReadFile(f.Name()); err != nil || string(b) != c.doc {
			t.Errorf("%s: the file holds %d bytes (%v), want the document's %d", c.name, len(b), err, len(c.doc))
		}
		f.Close()
	}
}

// BenchmarkResultsStreamFile: a results document of 100,000 Europeans with
// every greek (17 MB) read at once into a file as submit does, checked on
// the way: the client's part of a batch's tail once the engine has the
// rest of the results ready.
func BenchmarkResultsStreamFile(b *testing.B) {
	var doc strings.Builder
	doc.WriteString(`{"batchId":"b","results":[`)
	ids := make([]string, 100_000)
	for i := range ids {
		ids[i] = fmt.Sprintf("E%d", i)
		if i > 0 {
			doc.WriteByte(',')
		}
		x := float64(i) + 0.123456789012345
		fmt.Fprintf(&doc, "\n{\"id\":%q,\"npv\":%v,\"delta\":%v,\"gamma\":%v,\"vega\":%v,\"theta\":%v,\"rho\":%v}", ids[i], x, -x/1e5, x/1e7, 1e2*x, -x/3, 7*x)
	}
	doc.WriteString("\n]}\n")
	want := batch.NewIDs(ids)
	dir := b.TempDir()
	b.SetBytes(int64(doc.Len()))
	for i := 0; b.Loop(); i++ {
		// A new file each time, as writeOutput's: the system flushes a
		// file emptied by its open when it is closed.
		f, err := os.Create(filepath.Join(dir, fmt.Sprint("out", i)))
		if err != nil {
			b.Fatal(err)
		}
		rs := &resultsStream{want: want, file: f}
		got, err := rs.read(strings.NewReader(doc.String()), 0)
		if err == nil {
			_, err = rs.finish(got)
		}
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
		os.Remove(f.Name())
	}
}
