package launch_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/config"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/launch"
	"github.com/pricefn/pricefn/store/redisstore/redistest"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startAPI starts pricefn api on the store at storeURL, sending its events
// to sink, behind the token api-token-0123456789 (tenant alpha), and waits
// until it serves. stop ends it and returns its error.
func startAPI(t *testing.T, sink, storeURL string) (addr, metrics string, stop func() error) {
	t.Helper()
	tokens := filepath.Join(t.TempDir(), "tokens")
	os.WriteFile(tokens, []byte("api-token-0123456789 alpha\n"), 0o600)
	addr, metrics = freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- launch.API(ctx, []string{"--addr", addr, "--sink", sink, "--store", storeURL, "--metrics-addr", metrics,
			"--tokens-file", tokens, "--log-level", "error"}, config.Map(nil), io.Discard)
	}()
	stop = func() error {
		cancel()
		return <-done
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr, metrics, stop
			}
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatal("pricefn api did not start")
		}
	}
}

// Without tokens pricefn api answered requests of any Host, as pricefn dev
// did before it: a web page whose name the attacker's DNS points at the
// laptop running it (DNS rebinding) is same-origin to the browser, and
// read every batch. Open, it answers by address and for localhost only.
func TestOpenAPIServesThisMachineOnly(t *testing.T) {
	srv := redistest.Start(t)
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- launch.API(ctx, []string{"--addr", addr, "--sink", "http://127.0.0.1:1/", "--store", srv.URL, "--metrics-addr", freeAddr(t),
			"--log-level", "error"}, config.Map(nil), io.Discard)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	_, port, _ := net.SplitHostPort(addr)
	get := func(hostName string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/batches", nil)
		req.Host = hostName
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if code, _ := get(addr); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("pricefn api did not start")
		}
	}
	for _, c := range []struct {
		host string
		code int
	}{
		{"rebound.attacker.example:" + port, http.StatusMisdirectedRequest},
		{"rebound.attacker.example", http.StatusMisdirectedRequest},
		{"localhost:" + port, http.StatusOK},
		{addr, http.StatusOK},
	} {
		if code, body := get(c.host); code != c.code {
			t.Errorf("Host %s: %d %s, want %d", c.host, code, body, c.code)
		}
	}
}

// pricefn api serves the public routes behind tokens on the shared store,
// sends the batch's events to the sink, and serves /metrics only on its
// metrics address.
func TestAPI(t *testing.T) {
	srv := redistest.Start(t)
	var received, completed atomic.Int64
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		if r.Header.Get("Ce-Type") == events.TypeBatchCompleted {
			completed.Add(1)
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer sink.Close()
	addr, metrics, stop := startAPI(t, sink.URL, srv.URL)
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	get := func(url, token string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	data, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 5, ID: "api-1"})
	post := func(token string) int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/batches", strings.NewReader(string(data)))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(""); code != http.StatusUnauthorized {
		t.Errorf("submit without a token: %d, want 401", code)
	}
	if code := post("api-token-0123456789"); code != http.StatusAccepted || received.Load() < 2 {
		t.Fatalf("submit: %d, %d events sent to the sink", code, received.Load())
	}
	if code, body := get("http://"+addr+"/batches/api-1", "api-token-0123456789"); code != 200 || !strings.Contains(body, `"state":"pending"`) {
		t.Errorf("status: %d %s", code, body)
	}
	// Its deadline sweep: a batch that no pricer answers and nobody reads
	// ends at its deadline and is announced (the api ran no sweep, and
	// such a batch stayed pending while the aggregators were scaled to
	// zero).
	late, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 3, ID: "api-late"})
	data = []byte(strings.Replace(string(late), `"valuationDate"`, `"deadline": "1s", "valuationDate"`, 1))
	if code := post("api-token-0123456789"); code != http.StatusAccepted {
		t.Fatalf("submit with a deadline of 1s: %d", code)
	}
	for deadline := time.Now().Add(5 * time.Second); completed.Load() == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no batch.completed 5s after a deadline of 1s, the batch not read: pricefn api runs no deadline sweep")
		}
	}
	if code, body := get("http://"+addr+"/batches/api-late", "api-token-0123456789"); code != 200 || !strings.Contains(body, `"state":"failed"`) {
		t.Errorf("status past the deadline: %d %s", code, body)
	}
	if code, _ := get("http://"+addr+"/metrics", ""); code != http.StatusNotFound {
		t.Errorf("/metrics on the public address: %d, want 404", code)
	}
	if code, body := get("http://"+metrics+"/metrics", ""); code != 200 || !strings.Contains(body, "pricefn_ingress") {
		t.Errorf("/metrics on the metrics address: %d", code)
	}
}

// The pieces run as separate processes without tokens (the README's
// recipe on a laptop, every interface) answered any Host: a page of the
// attacker's name rebound to the laptop read every batch from the
// aggregator, and submitted to ingress. Their public routes answer by
// address and for localhost only; the event receivers, which a broker
// reaches by name, any Host.
func TestOpenFunctionsServeThisMachineOnly(t *testing.T) {
	srv := redistest.Start(t)
	for _, c := range []struct {
		name   string
		run    func(context.Context, []string, config.Env, io.Writer) error
		public string // a public route, GET or POST
		method string
	}{
		{"aggregator", launch.Aggregator, "/batches", http.MethodGet},
		{"ingress", launch.Ingress, "/batches", http.MethodPost},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr := freeAddr(t)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- c.run(ctx, []string{"--addr", addr, "--sink", "http://127.0.0.1:1/", "--store", srv.URL, "--log-level", "error"},
					config.Map(nil), io.Discard)
			}()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Error(err)
				}
			}()
			do := func(method, path, hostName string, header ...string) int {
				req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader("{}"))
				req.Host = hostName
				req.Header.Set("Content-Type", "application/json")
				for i := 0; i+1 < len(header); i += 2 {
					req.Header.Set(header[i], header[i+1])
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return 0
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			for deadline := time.Now().Add(10 * time.Second); do(http.MethodGet, "/healthz", addr) != http.StatusOK; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("pricefn %s did not start", c.name)
				}
			}
			const rebound = "rebound.attacker.example"
			if code := do(c.method, c.public, rebound); code != http.StatusMisdirectedRequest {
				t.Errorf("%s %s for Host %s: %d, want 421", c.method, c.public, rebound, code)
			}
			if code := do(c.method, c.public, "localhost"); code == http.StatusMisdirectedRequest {
				t.Errorf("%s %s for Host localhost: 421", c.method, c.public)
			}
			// An event receiver: a 415 for "{}", which is no CloudEvent,
			// not a 421.
			if code := do(http.MethodPost, "/", "pricefn-"+c.name+".ns.svc.cluster.local"); code != http.StatusUnsupportedMediaType {
				t.Errorf("POST / for a cluster-local name: %d, want 415 (no event)", code)
			}
			// A rebound page's POST to an event receiver, which a browser
			// sends with an Origin, as no broker does.
			for _, path := range []string{"/", "/dead-letter"} {
				if code := do(http.MethodPost, path, rebound, "Origin", "http://"+rebound); code != http.StatusMisdirectedRequest {
					t.Errorf("a page's POST %s for Host %s: %d, want 421", path, rebound, code)
				}
			}
		})
	}
}
