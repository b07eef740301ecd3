package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mapped reports whether /proc/self/maps shows path mapped.
func mapped(t *testing.T, path string) bool {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(maps, []byte(path))
}

// TestReadBatchFile: a large batch file is mapped (until released), a small
// one read, both to the file's bytes; what cannot be read says why.
func TestReadBatchFile(t *testing.T) {
	dir := t.TempDir()
	large := filepath.Join(dir, "large.json")
	if code, _, stderr := runCmd(t, "gen", "--type", "european", "-n", "3000", "--out", large); code != 0 {
		t.Fatalf("gen: %d %s", code, stderr)
	}
	small := filepath.Join(dir, "small.json")
	if code, _, stderr := runCmd(t, "gen", "--type", "european", "-n", "3", "--out", small); code != 0 {
		t.Fatalf("gen: %d %s", code, stderr)
	}
	for _, c := range []struct {
		path   string
		mapped bool
	}{{large, true}, {small, false}} {
		want, err := os.ReadFile(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if c.mapped != (len(want) >= mapMin) {
			t.Fatalf("%s: %d bytes, the threshold is %d", c.path, len(want), mapMin)
		}
		got, release, err := readBatchFile(c.path)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: %v, bytes equal: %v", c.path, err, bytes.Equal(got, want))
		}
		if m := mapped(t, c.path); m != c.mapped {
			t.Errorf("%s: mapped %v, want %v", c.path, m, c.mapped)
		}
		release()
		if mapped(t, c.path) {
			t.Errorf("%s: still mapped after release", c.path)
		}
		// An open file (standard input, say) is mapped or read alike and
		// left at its end, as a read leaves it.
		f, err := os.Open(c.path)
		if err != nil {
			t.Fatal(err)
		}
		got, release, err = readBatch(f)
		if err != nil || !bytes.Equal(got, want) || mapped(t, c.path) != c.mapped {
			t.Errorf("%s open: %v, bytes equal %v, mapped %v, want %v", c.path, err, bytes.Equal(got, want), mapped(t, c.path), c.mapped)
		}
		if pos, err := f.Seek(0, io.SeekCurrent); err != nil || pos != int64(len(want)) {
			t.Errorf("%s open: left at %d (%v), want its end %d", c.path, pos, err, len(want))
		}
		release()
		f.Close()
	}
	for _, path := range []string{filepath.Join(dir, "none.json"), dir} {
		if _, _, err := readBatchFile(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want an error naming it", path, err)
		}
	}
}

// TestPriceMappedFile: pricefn price FILE, mapped, prints what it prints
// for the same batch on standard input.
func TestPriceMappedFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "b.json")
	if code, _, stderr := runCmd(t, "gen", "--type", "european", "-n", "3000", "--measures", "npv,delta,gamma,vega,theta,rho", "--out", file); code != 0 {
		t.Fatalf("gen: %d %s", code, stderr)
	}
	doc, err := os.ReadFile(file)
	if err != nil || len(doc) < mapMin {
		t.Fatalf("%d bytes (%v), want %d or more", len(doc), err, mapMin)
	}
	code, fromFile, stderr := runCmd(t, "price", file)
	if code != 0 {
		t.Fatalf("price FILE: %d %s", code, stderr)
	}
	var stdout, errOut bytes.Buffer
	if code := run(t.Context(), []string{"price"}, bytes.NewReader(doc), &stdout, &errOut); code != 0 {
		t.Fatalf("price < FILE: %d %s", code, errOut.String())
	}
	if fromFile != stdout.String() || !strings.Contains(fromFile, `"delta":`) {
		t.Errorf("price FILE (%d bytes) and price < FILE (%d bytes) differ", len(fromFile), stdout.Len())
	}
	// Standard input that is the file is mapped too.
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stdout.Reset()
	if code := run(t.Context(), []string{"price"}, f, &stdout, &errOut); code != 0 || stdout.String() != fromFile {
		t.Errorf("price with the file as stdin: exit %d, %d bytes, output equal: %v; %s", code, stdout.Len(), stdout.String() == fromFile, errOut.String())
	}
}
