package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pricefn/pricefn/batch"
)

// TestResolve: a path in --url is a prefix for the engine's root-relative
// paths; the engine's full URLs are used as they are.
// TestGatewayURLRefusals: a --url whose query, fragment or /batches
// would be lost or doubled is a usage error; it was sent without them, or
// to .../batches/batches.
func TestGatewayURLRefusals(t *testing.T) {
	for _, v := range []string{"http://h/pricefn?code=1", "http://h/pricefn#x", "http://h/pricefn/batches", "h:8080/batches/"} {
		var ue *usageError
		if _, err := gatewayURL(v); !errors.As(err, &ue) {
			t.Errorf("--url %q: %v, want a usage error", v, err)
		}
	}
}

func TestResolve(t *testing.T) {
	for _, c := range []struct{ url, ref, want string }{
		{"localhost:8080", "/batches", "http://localhost:8080/batches"},
		{"http://h/pricefn", "/batches", "http://h/pricefn/batches"},
		{"http://h/pricefn/", "/batches/b-1", "http://h/pricefn/batches/b-1"},
		{"https://h/a/b", "/batches/x?timeline=true", "https://h/a/b/batches/x?timeline=true"},
		{"http://h/pricefn", "/batches/" + url.PathEscape("a/b"), "http://h/pricefn/batches/a%2Fb"},
		{"http://h/pricefn", "http://agg:8082/batches/b", "http://agg:8082/batches/b"},
		{"http://h/pricefn", "//agg:8082/batches/b", "http://agg:8082/batches/b"},
	} {
		base, err := gatewayURL(c.url)
		if err != nil {
			t.Fatalf("%q: %v", c.url, err)
		}
		got, err := resolve(base, c.ref)
		if err != nil || got != c.want {
			t.Errorf("--url %q, %q: %q, %v; want %q", c.url, c.ref, got, err, c.want)
		}
	}
}

// prefixed serves the engine at upstream under path prefix /pricefn, as
// a gateway that routes by path does; anything else is a 404, counted.
func prefixed(t *testing.T, upstream http.Handler) (string, *atomic.Int64) {
	t.Helper()
	var outside atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("/pricefn/", http.StripPrefix("/pricefn", upstream))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		outside.Add(1)
		http.Error(w, "another service: "+r.URL.Path, http.StatusNotFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/pricefn", &outside
}

// TestCommandsKeepURLPrefix: submit, trace and loadgen reach an engine
// behind a gateway's path prefix, its status URLs (/batches/ID) too,
// and never the host's root.
func TestCommandsKeepURLPrefix(t *testing.T) {
	dev, err := url.Parse(startDev(t))
	if err != nil {
		t.Fatal(err)
	}
	base, outside := prefixed(t, httputil.NewSingleHostReverseProxy(dev))
	file := filepath.Join(t.TempDir(), "b.json")
	if code, _, stderr := runCmd(t, "gen", "--type", "european", "-n", "50", "--id", "pre-1", "--out", file); code != 0 {
		t.Fatalf("gen: %d %s", code, stderr)
	}
	_, want, _ := runCmd(t, "price", file)
	code, got, stderr := runCmd(t, "submit", "--url", base+"/", file)
	if code != 0 || got != want || !strings.Contains(stderr, "to "+base+"/batches as a binary CloudEvent") {
		t.Fatalf("submit: exit %d, stderr %s\n got %.300s\nwant %.300s", code, stderr, got, want)
	}
	code, got, stderr = runCmd(t, "trace", "--url", base, "pre-1")
	if code != 0 || !strings.Contains(got, "batch pre-1 completed") {
		t.Errorf("trace: exit %d, stdout %s, stderr %s", code, got, stderr)
	}
	if n := outside.Load(); n != 0 {
		t.Errorf("%d requests outside the prefix", n)
	}

	// loadgen, on an engine whose receipts are root-relative.
	f := &loadgenEngine{batches: map[string]*batch.Batch{}, asked: map[string]int{}}
	base, outside = prefixed(t, f)
	cfg, err := loadgenConfigOf(base, 50, 100*time.Millisecond, 3, "european", "npv", 0, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := loadgen(context.Background(), cfg, http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent == 0 || rep.Completed != rep.Sent || outside.Load() != 0 {
		t.Errorf("loadgen: report %+v, %d requests outside the prefix", rep, outside.Load())
	}
}
