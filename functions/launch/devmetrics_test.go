package launch_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pricefn/pricefn/functions/launch"
)

// startDev runs pricefn dev with args on free loopback addresses and
// returns its gateway's and internal server's URLs once it serves.
func startDev(t *testing.T, args ...string) (gateway, internal string) {
	t.Helper()
	var addrs [2]string
	for i := range addrs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = ln.Addr().String()
		ln.Close()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- launch.Dev(ctx, append([]string{"--addr", addrs[0], "--internal-addr", addrs[1], "--log-level", "error"}, args...),
			func(string) string { return "" }, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("pricefn dev: %v", err)
		}
	})
	gateway, internal = "http://"+addrs[0], "http://"+addrs[1]
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if resp, err := http.Get(gateway + "/healthz"); err == nil {
			resp.Body.Close()
			return gateway, internal
		}
		if time.Now().After(deadline) {
			t.Fatal("pricefn dev did not serve within 30 s")
		}
	}
}

func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestDevServesMetricsOnItsAddress: the wire format (section 5) has pricefn
// dev --addr serve everything it lists, GET /metrics included, on that one
// address; it answered 404 there, /metrics being on the internal address
// alone. Open (no tokens), the gateway serves the engine's metrics; with
// tokens, which do not guard /metrics, they stay on the internal address.
func TestDevServesMetricsOnItsAddress(t *testing.T) {
	gw, in := startDev(t)
	code, body := getBody(t, gw+"/metrics")
	if code != http.StatusOK || !strings.Contains(body, "pricefn_broker_") || !strings.Contains(body, "go_goroutines") {
		t.Errorf("open: GET /metrics on the gateway: %d %.200s, want 200 with the engine's series", code, body)
	}
	if code, _ := getBody(t, in+"/metrics"); code != http.StatusOK {
		t.Errorf("open: GET /metrics on the internal address: %d, want 200", code)
	}

	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte("dev-token-0123456789 alpha\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gw, in = startDev(t, "--tokens-file", tokens)
	if code, body := getBody(t, gw+"/metrics"); code != http.StatusNotFound {
		t.Errorf("with tokens: GET /metrics on the gateway: %d %.200s, want 404", code, body)
	}
	if code, body := getBody(t, in+"/metrics"); code != http.StatusOK || !strings.Contains(body, "pricefn_broker_") {
		t.Errorf("with tokens: GET /metrics on the internal address: %d %.200s, want 200", code, body)
	}
}
