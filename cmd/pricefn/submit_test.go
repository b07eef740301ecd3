package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/config"
	"github.com/pricefn/pricefn/events/broker"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/functions/launch"
)

// startDev serves the engine as pricefn dev does and returns the gateway.
func startDev(t *testing.T) string {
	t.Helper()
	internal := httptest.NewUnstartedServer(nil)
	eng, err := launch.NewEngine(launch.EngineOptions{
		InternalURL: "http://" + internal.Listener.Addr().String(),
		Config:      config.Dev{Split: config.Split{ChunkTrades: 40}},
		Log:         zerolog.Nop(),
		Broker: func(c *broker.Config) {
			c.Sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	internal.Config.Handler = eng.Internal
	internal.Start()
	gw := httptest.NewServer(host.New(host.Options{Handler: eng.Gateway}).Handler())
	t.Cleanup(func() {
		eng.Aggregator.Drain()
		gw.Close()
		eng.Broker.Shutdown(context.Background())
		internal.Close()
	})
	return gw.URL
}

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestSubmitPrintsWhatPriceDoes(t *testing.T) {
	url := startDev(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "b.json")
	if code, _, stderr := runCmd(t, "gen", "--type", "european", "-n", "150", "--id", "gen-1", "--measures", "npv,delta", "--out", file); code != 0 {
		t.Fatalf("gen: %d %s", code, stderr)
	}
	_, want, _ := runCmd(t, "price", file)
	for _, mode := range [][]string{nil, {"--structured"}} {
		args := append(append([]string{"submit", "--url", url}, mode...), file)
		code, got, stderr := runCmd(t, args...)
		if code != 0 || got != want {
			t.Fatalf("submit %v: exit %d, stderr %s\n got %.300s\nwant %.300s", mode, code, stderr, got, want)
		}
		if !strings.Contains(stderr, "batch gen-1 accepted: 150 trades in 4 chunks") || !strings.Contains(stderr, "batch gen-1 completed") {
			t.Errorf("progress: %s", stderr)
		}
	}
	out := filepath.Join(dir, "out.json")
	if code, _, stderr := runCmd(t, "submit", "--url", url, "--quiet", "--out", out, file); code != 0 {
		t.Fatalf("submit --out: %d %s", code, stderr)
	}
	if data, _ := os.ReadFile(out); string(data) != want {
		t.Errorf("--out file differs from pricefn price")
	}
}

func TestSubmitRejected(t *testing.T) {
	url := startDev(t)
	file := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(file, []byte(`{"valuationDate":"2026-11-25","measures":["npvv"],"trades":[]}`), 0o644)
	code, stdout, stderr := runCmd(t, "submit", "--url", url, file)
	if code == 0 || stdout != "" || !strings.Contains(stderr, `batch rejected (400 Bad Request)`) || !strings.Contains(stderr, `unknown measure "npvv"`) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestSubmitGivesUpOnLostBatch: a batch accepted and then unknown to the
// engine (404 at once, as when the aggregator restarted) ends submit with
// an error once --lost-after has passed, instead of polling in a tight
// loop until --timeout.
func TestSubmitGivesUpOnLostBatch(t *testing.T) {
	var polls atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"batchId":"lost","trades":1,"chunks":1,"statusUrl":"/batches/lost"}`)
	})
	mux.HandleFunc("GET /batches/lost/results", func(w http.ResponseWriter, r *http.Request) {
		polls.Add(1)
		host.WriteError(w, host.Errorf(http.StatusNotFound, "aggregator: batch \"lost\" not found"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "b.json")
	os.WriteFile(file, []byte(`{}`), 0o644)
	code, _, stderr := runCmd(t, "submit", "--url", srv.URL, "--lost-after", "600ms", "--timeout", "20s", file)
	if code != 1 || !strings.Contains(stderr, "has not known the batch for 600ms") {
		t.Fatalf("exit %d, stderr %q, want a lost-batch error", code, stderr)
	}
	if n := polls.Load(); n > 10 {
		t.Errorf("%d polls in 600ms: polling in a tight loop", n)
	}
}
