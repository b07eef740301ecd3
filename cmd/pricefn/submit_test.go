package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
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
		Config:      config.Dev{ChunkTrades: 40},
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
