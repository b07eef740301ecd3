package main

import (
	"flag"
	"io"
	"slices"
	"testing"
)

// TestParseArgsFlagsAnywhere: flags may follow the file, as in the wire
// spec's "pricefn submit [FILE] --url URL".
func TestParseArgsFlagsAnywhere(t *testing.T) {
	tests := []struct {
		args     []string
		url      string
		operands []string
	}{
		{[]string{"f.json", "--url", "http://x"}, "http://x", []string{"f.json"}},
		{[]string{"--url", "http://x", "f.json"}, "http://x", []string{"f.json"}},
		{[]string{"a", "-url=http://y", "b"}, "http://y", []string{"a", "b"}},
		{[]string{"-", "--url", "http://z"}, "http://z", []string{"-"}},
		{[]string{"--", "--url"}, "def", []string{"--url"}},
		{nil, "def", nil},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		url := fs.String("url", "def", "")
		got, err := parseArgs(fs, tt.args)
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if *url != tt.url || !slices.Equal(got, tt.operands) {
			t.Errorf("%v: url %q operands %q, want %q %q", tt.args, *url, got, tt.url, tt.operands)
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if _, err := parseArgs(fs, []string{"f", "--nope"}); err == nil {
		t.Error("unknown flag after an operand accepted")
	}
}
