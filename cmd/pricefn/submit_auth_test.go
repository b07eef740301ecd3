package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pricefn/pricefn/functions/host"
)

// fakeEngine is an ingress and an aggregator on two servers, as in the
// four-process mode: ingress's receipt names the aggregator's status URL
// (its --public-url). Each request's Authorization header is recorded,
// and one without want is answered 401.
type fakeEngine struct {
	ingress, aggregator *httptest.Server
	want                string // expected Authorization; "" checks nothing

	mu    sync.Mutex
	auths map[string][]string // path -> Authorization headers seen
	polls atomic.Int64
}

func newFakeEngine(t *testing.T, want string, pollsBeforeDone int64) *fakeEngine {
	f := &fakeEngine{want: want, auths: map[string][]string{}}
	guard := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			f.mu.Lock()
			f.auths[r.URL.Path] = append(f.auths[r.URL.Path], r.Header.Get("Authorization"))
			f.mu.Unlock()
			if f.want != "" && r.Header.Get("Authorization") != f.want {
				host.WriteError(w, host.Errorf(http.StatusUnauthorized, "auth: no token or an unknown one"))
				return
			}
			h(w, r)
		}
	}
	agg := http.NewServeMux()
	agg.HandleFunc("GET /batches/b/results", guard(func(w http.ResponseWriter, r *http.Request) {
		if f.polls.Add(1) <= pollsBeforeDone {
			time.Sleep(20 * time.Millisecond) // a long poll held a little
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, `{"batchId":"b","state":"running","trades":1,"pending":1,"chunks":1,"chunksDone":0}`)
			return
		}
		io.WriteString(w, `{"batchId":"b","results":[{"id":"T1","npv":1}]}`)
	}))
	agg.HandleFunc("GET /batches/b", guard(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"batchId":"b","state":"completed","trades":1,"priced":1,"chunks":1,"chunksDone":1,"timings":{"durationSeconds":2.5,"pricingSeconds":4}}`)
	}))
	f.aggregator = httptest.NewServer(agg)
	in := http.NewServeMux()
	in.HandleFunc("POST /batches", guard(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"batchId":"b","attempt":1,"trades":1,"chunks":1,"statusUrl":"`+f.aggregator.URL+`/batches/b"}`)
	}))
	f.ingress = httptest.NewServer(in)
	t.Cleanup(func() { f.ingress.Close(); f.aggregator.Close() })
	return f
}

func oneTradeBatch(t *testing.T) string {
	file := filepath.Join(t.TempDir(), "b.json")
	if err := os.WriteFile(file, []byte(`{"trades":[{"id":"T1"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestSubmitSendsToken: --token (or $PRICEFN_TOKEN) goes as a bearer
// token on the submission, every results poll and the status request;
// the polls follow the receipt's absolute status URL to the aggregator;
// --url without a scheme is taken as http://.
func TestSubmitSendsToken(t *testing.T) {
	for _, viaEnv := range []bool{false, true} {
		f := newFakeEngine(t, "Bearer s3cret", 2)
		args := []string{"submit", "--url", strings.TrimPrefix(f.ingress.URL, "http://"), oneTradeBatch(t)}
		if viaEnv {
			t.Setenv("PRICEFN_TOKEN", "s3cret")
		} else {
			args = append(args, "--token", "s3cret")
		}
		code, stdout, stderr := runCmd(t, args...)
		if code != 0 || !strings.Contains(stdout, `"id":"T1"`) {
			t.Fatalf("env %v: exit %d, stdout %q, stderr %s", viaEnv, code, stdout, stderr)
		}
		f.mu.Lock()
		for path, n := range map[string]int{"/batches": 1, "/batches/b/results": 3, "/batches/b": 1} {
			got := f.auths[path]
			if len(got) != n {
				t.Errorf("env %v: %s asked %d times, want %d", viaEnv, path, len(got), n)
			}
			for _, a := range got {
				if a != "Bearer s3cret" {
					t.Errorf("env %v: %s with Authorization %q", viaEnv, path, a)
				}
			}
		}
		f.mu.Unlock()
	}
}

// TestSubmitRefusedToken: a 401 or 403, on the submission or on a poll,
// ends submit at once with a plain message; it is not retried.
func TestSubmitRefusedToken(t *testing.T) {
	for _, c := range []struct {
		name  string
		token string
		path  string
		want  string
	}{
		{"wrong token", "nope", "/batches", "pricefn submit: the engine refused the token: 401 Unauthorized: auth: no token or an unknown one"},
		{"no token", "", "/batches", "the engine wants a token (401 Unauthorized: auth: no token or an unknown one): pass --token or set $PRICEFN_TOKEN"},
	} {
		t.Setenv("PRICEFN_TOKEN", "")
		f := newFakeEngine(t, "Bearer s3cret", 0)
		code, stdout, stderr := runCmd(t, "submit", "--url", f.ingress.URL, "--token", c.token, oneTradeBatch(t))
		f.mu.Lock()
		n := len(f.auths[c.path])
		f.mu.Unlock()
		if code != 1 || stdout != "" || !strings.Contains(stderr, c.want) || n != 1 {
			t.Errorf("%s: exit %d, %d requests to %s, stderr %q; want exit 1, one request and %q", c.name, code, n, c.path, stderr, c.want)
		}
	}

	// A token the aggregator refuses (403) on a results poll.
	var polls atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /batches", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"batchId":"b","attempt":1,"trades":1,"chunks":1,"statusUrl":"/batches/b"}`)
	})
	mux.HandleFunc("GET /batches/b/results", func(w http.ResponseWriter, r *http.Request) {
		polls.Add(1)
		host.WriteError(w, host.Errorf(http.StatusForbidden, "auth: token of tenant a: batch b is not yours"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	code, _, stderr := runCmd(t, "submit", "--url", srv.URL, "--token", "t", oneTradeBatch(t))
	if code != 1 || polls.Load() != 1 || !strings.Contains(stderr, "the engine refused the token: 403 Forbidden: auth: token of tenant a: batch b is not yours") {
		t.Errorf("403 on a poll: exit %d, %d polls, stderr %q", code, polls.Load(), stderr)
	}
}

// TestSubmitProgress: the upload's size and time, counts with their
// plural, elapsed times, a heartbeat while nothing changes, and the
// engine's two times told apart.
func TestSubmitProgress(t *testing.T) {
	f := newFakeEngine(t, "", 15) // ~15 polls of 20 ms: 300 ms running
	file := oneTradeBatch(t)
	code, _, stderr := runCmd(t, "submit", "--url", f.ingress.URL, "--heartbeat", "100ms", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"sending " + file + " (24 bytes) to " + f.ingress.URL + "/batches as a binary CloudEvent\n",
		"sent in ",
		": batch b accepted (attempt 1): 1 trade in 1 chunk\n",
		"s] running: 0 of 1 chunk done, 0 of 1 trade\n",
		"s] still running: 0 of 1 chunk done, 0 of 1 trade (no change for 0.",
		"batch b completed: 1 trade, 1 priced, 0 with errors, 0 not priced; results here ",
		"engine timings: 2.50s from submission to completion (durationSeconds); 4.00s of pricing summed over 1 chunk (pricingSeconds: the pricers' busy time",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("progress lacks %q:\n%s", want, stderr)
		}
	}
	// A heartbeat per 100 ms without change, not one per poll.
	if n := strings.Count(stderr, "still running"); n < 1 || n >= 10 {
		t.Errorf("%d heartbeats over 15 polls in ~300 ms at 100 ms:\n%s", n, stderr)
	}
}

// TestSubmitExplainsWrongTarget: a broker's empty 202, and an ingress
// that does not serve results (four processes without --public-url), are
// explained at once rather than polled until --lost-after.
func TestSubmitExplainsWrongTarget(t *testing.T) {
	broker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	defer broker.Close()
	code, _, stderr := runCmd(t, "submit", "--url", broker.URL, oneTradeBatch(t))
	if code != 1 || !strings.Contains(stderr, "answered 202 Accepted with an empty body, not a receipt: a broker does that; --url must name the gateway (pricefn dev), the API or ingress") {
		t.Errorf("broker: exit %d, stderr %q", code, stderr)
	}

	mux := host.NewMux()
	mux.HandleFunc("POST /batches", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"batchId":"b","attempt":1,"trades":1,"chunks":1,"statusUrl":"/batches/b"}`)
	})
	ingressOnly := httptest.NewServer(mux)
	defer ingressOnly.Close()
	start := time.Now()
	code, _, stderr = runCmd(t, "submit", "--url", ingressOnly.URL, "--lost-after", "30s", oneTradeBatch(t))
	if code != 1 || !strings.Contains(stderr, "no such route") || !strings.Contains(stderr, "start it with --public-url set to the aggregator's URL") {
		t.Errorf("ingress alone: exit %d, stderr %q", code, stderr)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("ingress alone: gave up after %s", d)
	}
}

// TestGatewayURL: --url forms.
func TestGatewayURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://localhost:8080":   "http://localhost:8080",
		"127.0.0.1:8080":          "http://127.0.0.1:8080",
		"localhost:8080":          "http://localhost:8080",
		":8080":                   "http://localhost:8080",
		"https://pricefn.example": "https://pricefn.example",
		"ftp://x":                 "",
		"http://":                 "",
		"":                        "",
	} {
		got, err := gatewayURL(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
		if err != nil && !strings.Contains(err.Error(), "want a URL such as http://localhost:8080") {
			t.Errorf("%q: %v", in, err)
		}
	}
	code, _, stderr := runCmd(t, "submit", "--url", "ftp://x", "f.json")
	if code != 2 || !strings.Contains(stderr, `pricefn submit: --url "ftp://x": scheme "ftp": want http or https`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestPlural: counts read right.
func TestPlural(t *testing.T) {
	for n, want := range map[int]string{0: "0 chunks", 1: "1 chunk", 4: "4 chunks"} {
		if got := plural(n, "chunk"); got != want {
			t.Errorf("plural(%d): %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int]string{1: "1 byte", 512: "512 bytes", 14540: "14.2 KiB", 11 << 20: "11.0 MiB"} {
		if got := sizeText(n); got != want {
			t.Errorf("sizeText(%d): %q, want %q", n, got, want)
		}
	}
	for d, want := range map[time.Duration]string{0: "0.00s", 420 * time.Millisecond: "0.42s", 12340 * time.Millisecond: "12.3s", 125 * time.Second: "2m5s", -time.Second: "0.00s"} {
		if got := seconds(d); got != want {
			t.Errorf("seconds(%s): %q, want %q", d, got, want)
		}
	}
}
