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

// TestOpenDevServesThisMachineOnly runs pricefn dev as make run does (no
// tokens, on every interface): a page of another origin cannot submit a batch
// (a text/plain POST and a GET /valQuery need no CORS preflight), and a
// page whose name resolves to 127.0.0.1 (DNS rebinding) cannot read the
// batches; curl and the same machine's names still can.
func TestOpenDevServesThisMachineOnly(t *testing.T) {
	// A free port for the gateway, on every interface as make run's
	// ":8080" (the Host check applied to a loopback address only).
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	in, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	internal := in.Addr().String()
	in.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- launch.Dev(ctx, []string{"--addr", ":" + port, "--internal-addr", internal}, func(string) string { return "" }, io.Discard)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("pricefn dev: %v", err)
		}
	}()
	gw := "http://127.0.0.1:" + port
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if resp, err := http.Get(gw + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("pricefn dev did not serve within 30 s")
		}
	}
	batch := `{"id": "planted", "valuationDate": "2026-11-25", "trades": []}`
	do := func(method, path, hostName string, headers map[string]string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, gw+path, strings.NewReader(batch))
		if err != nil {
			t.Fatal(err)
		}
		if hostName != "" {
			req.Host = hostName
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(body)
	}
	evil := map[string]string{"Content-Type": "text/plain", "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
	if code, body := do("POST", "/batches", "", evil); code != http.StatusForbidden {
		t.Errorf("cross-site POST /batches: %d %s, want 403", code, body)
	}
	if code, body := do("GET", "/valQuery?metric=NPV&numTrades=10", "", map[string]string{"Sec-Fetch-Site": "cross-site"}); code != http.StatusForbidden {
		t.Errorf("cross-site GET /valQuery: %d %s, want 403", code, body)
	}
	if code, body := do("GET", "/batches", "rebind.evil.example", nil); code != http.StatusMisdirectedRequest {
		t.Errorf("GET /batches for Host rebind.evil.example: %d %s, want 421", code, body)
	}
	if code, body := do("GET", "/batches/planted", "", nil); code != http.StatusNotFound {
		t.Errorf("the refused batch: %d %s, want 404", code, body)
	}
	// curl's way, and the console's (same origin, by name).
	if code, body := do("POST", "/batches", "", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}); code != http.StatusAccepted {
		t.Errorf("curl --data: %d %s, want 202", code, body)
	}
	if code, body := do("GET", "/batches/planted", "localhost:"+port, map[string]string{"Sec-Fetch-Site": "same-origin"}); code != http.StatusOK {
		t.Errorf("GET the batch for Host localhost: %d %s, want 200", code, body)
	}
	// The event receivers too: a dead letter fails a chunk.
	req, _ := http.NewRequest("POST", "http://"+internal+"/aggregator/dead-letter", strings.NewReader("{}"))
	req.Host = "rebind.evil.example"
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("POST /aggregator/dead-letter for Host rebind.evil.example: %v %v, want 421", resp, err)
	} else {
		resp.Body.Close()
	}
	// A colleague on the LAN, by address: no one's DNS.
	if code, body := do("GET", "/batches/planted", "192.168.1.20:"+port, nil); code != http.StatusOK {
		t.Errorf("GET the batch for Host 192.168.1.20: %d %s, want 200", code, body)
	}
}

// TestDevInternalAddressStaysOnLoopback: the internal address takes the
// pipeline's events (a chunk's results, a dead letter failing a chunk). An
// --internal-addr written as --addr is (":PORT", every interface) put them
// within reach of the network, where, unsigned, anyone could fail or
// rewrite any tenant's batch, tokens or not: pricefn dev refuses to start
// so, and starts on every interface only with signed events.
func TestDevInternalAddressStaysOnLoopback(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("tokAAAAAAAAAAAAAAAAAAAA acme\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{":0", "0.0.0.0:0", "[::]:0"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := launch.Dev(ctx, []string{"--addr", "127.0.0.1:0", "--internal-addr", addr, "--tokens-file", tokens}, func(string) string { return "" }, io.Discard)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "--internal-addr") || !strings.Contains(err.Error(), "--event-key-file") {
			t.Errorf("--internal-addr %s without an event key: %v, want a refusal naming --internal-addr and --event-key-file", addr, err)
		}
	}

	key := filepath.Join(dir, "key")
	if err := os.WriteFile(key, []byte(strings.Repeat("k", 40)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Signed: it serves, the internal address on every interface.
	startDev(t, "--internal-addr", ":0", "--tokens-file", tokens, "--event-key-file", key)
}
