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
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/api"
	"github.com/pricefn/pricefn/config"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/events/broker"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/functions/launch"
)

// startDev serves the engine as pricefn dev does (events delivered in
// process) and returns the gateway.
func startDev(t *testing.T) string {
	t.Helper()
	internal := httptest.NewUnstartedServer(nil)
	eng, err := launch.NewEngine(launch.EngineOptions{
		InternalURL: "http://" + internal.Listener.Addr().String(),
		InProcess:   true,
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
		// The first submission prices the batch; the second, of the same
		// content under the same id, is the same batch.
		first := "batch gen-1 accepted (attempt 1): 150 trades in 4 chunks"
		if mode != nil {
			first = "batch gen-1 was submitted before with the same content (completed): not priced again"
		}
		if !strings.Contains(stderr, first) || !strings.Contains(stderr, "batch gen-1 completed") {
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
	// An empty stdin (runCmd's) or file is the engine's to refuse, as any
	// batch: not mistaken for a file to send from disk.
	empty := filepath.Join(t.TempDir(), "empty.json")
	os.WriteFile(empty, nil, 0o644)
	for _, args := range [][]string{{"submit", "--url", url}, {"submit", "--url", url, empty}} {
		code, _, stderr := runCmd(t, args...)
		if code == 0 || !strings.Contains(stderr, `batch rejected (400 Bad Request)`) || !strings.Contains(stderr, "empty") {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
		}
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
	if code != 1 || !strings.Contains(stderr, "the engine does not know the batch any more (for 600ms") {
		t.Fatalf("exit %d, stderr %q, want a lost-batch error", code, stderr)
	}
	if n := polls.Load(); n > 10 {
		t.Errorf("%d polls in 600ms: polling in a tight loop", n)
	}
}

// TestSubmitConflict: other content under an id in use is refused with
// the server's reason, and nothing is printed as results.
func TestSubmitConflict(t *testing.T) {
	url := startDev(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	runCmd(t, "gen", "--type", "fra", "-n", "3", "--id", "same", "--out", a)
	runCmd(t, "gen", "--type", "fra", "-n", "4", "--id", "same", "--out", b)
	if code, _, stderr := runCmd(t, "submit", "--url", url, "--quiet", a); code != 0 {
		t.Fatalf("first: %d %s", code, stderr)
	}
	code, stdout, stderr := runCmd(t, "submit", "--url", url, b)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "409 Conflict") || !strings.Contains(stderr, `batch id "same" is in use`) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestSubmitRetriesAndChecksResults: a gateway that fails twice (503, as
// while a pod restarts) is tried again with the same event; results that
// are not the batch's (other trade ids) fail submit.
func TestSubmitRetriesAndChecksResults(t *testing.T) {
	var posts atomic.Int64
	ids, traces := map[string]bool{}, map[string]bool{}
	var mu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ids[r.Header.Get("ce-id")] = true
		traces[r.Header.Get("ce-traceparent")] = true
		mu.Unlock()
		if posts.Add(1) <= 2 {
			http.Error(w, `{"error":"restarting"}`, http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"batchId":"b","attempt":1,"trades":2,"chunks":1,"statusUrl":"/batches/b"}`)
	})
	mux.HandleFunc("GET /batches/b/results", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"batchId":"b","results":[{"id":"T1","npv":1},{"id":"OTHER","npv":2}]}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "b.json")
	os.WriteFile(file, []byte(`{"trades":[{"id":"T1"},{"id":"T2"}]}`), 0o644)
	code, stdout, stderr := runCmd(t, "submit", "--url", srv.URL, file)
	if posts.Load() != 3 || len(ids) != 1 {
		t.Errorf("%d posts with %d event ids, want 3 of one event", posts.Load(), len(ids))
	}
	// One trace for the batch, whichever post the engine takes.
	for tp := range traces {
		if len(traces) != 1 || !host.ValidTraceParent(tp) {
			t.Errorf("posts with traceparents %v, want one, valid", traces)
		}
	}
	if code != 1 || stdout != "" || !strings.Contains(stderr, "sending the batch failed (503 Service Unavailable") ||
		!strings.Contains(stderr, `result 1 is for trade "OTHER", the batch sent "T2" there`) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// Into --out, written while they are checked: a file that fails the
	// check is not renamed over the old one, and nothing is left beside.
	dir := t.TempDir()
	out := filepath.Join(dir, "results.json")
	os.WriteFile(out, []byte("old"), 0o600)
	code, _, stderr = runCmd(t, "submit", "--url", srv.URL, "--quiet", "--out", out, file)
	if got, _ := os.ReadFile(out); code != 1 || string(got) != "old" || !strings.Contains(stderr, `result 1 is for trade "OTHER"`) {
		t.Errorf("--out: exit %d, file %q, stderr %q", code, got, stderr)
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Errorf("--out left %d files in its directory, want the old one alone", len(left))
	}
}

// TestSubmitSaysWhichScenariosDied: a risk run whose only dead chunk is a
// scenario chunk has every trade priced: submit says the scenarios are
// missing, not "0 trades not priced".
func TestSubmitSaysWhichScenariosDied(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"batchId":"risk","trades":1,"chunks":3,"statusUrl":"/batches/risk"}`)
	})
	mux.HandleFunc("GET /batches/risk/results", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"batchId":"risk","results":[
{"id":"T1","npv":1}
]}`)
	})
	mux.HandleFunc("GET /batches/risk", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"batchId":"risk","state":"partial","trades":1,"priced":1,"chunks":3,"chunksDone":3,"chunksFailed":1,
"scenarioChunks":2,"scenarioChunksDone":2,"failedChunks":[{"index":0,"trades":0,"reason":"pricer: out of memory"}],"timings":{}}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "b.json")
	os.WriteFile(file, []byte(`{"valuationDate":"2026-11-25","trades":[{"id":"T1","type":"european"}]}`), 0o644)
	code, _, stderr := runCmd(t, "submit", "--url", srv.URL, file)
	if code != 1 || !strings.Contains(stderr, "ended partial: 1 of 2 scenario chunks not priced") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

// TestSubmitFallsBackFromCutStream: submit asks for the results as a
// stream; one cut short (the engine stopped mid-way) is asked again as a
// long poll, and the results are the whole document, checked.
func TestSubmitFallsBackFromCutStream(t *testing.T) {
	var mu sync.Mutex
	var queries []string
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"batchId":"b","attempt":1,"trades":2,"chunks":2,"statusUrl":"/batches/b"}`)
	})
	doc := "{\"batchId\":\"b\",\"results\":[\n{\"id\":\"T1\",\"npv\":1},\n{\"id\":\"T2\",\"npv\":2}\n]}\n"
	mux.HandleFunc("GET /batches/b/results", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		if r.URL.Query().Get("stream") == "true" {
			io.WriteString(w, doc[:40])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		io.WriteString(w, doc)
	})
	mux.HandleFunc("GET /batches/b", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"batchId":"b","state":"completed","trades":2,"priced":2,"chunks":2,"chunksDone":2,"timings":{}}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "b.json")
	os.WriteFile(file, []byte(`{"trades":[{"id":"T1"},{"id":"T2"}]}`), 0o644)
	code, stdout, stderr := runCmd(t, "submit", "--url", srv.URL, file)
	if code != 0 || stdout != doc {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(queries) != 2 || queries[0] != "wait=2s&stream=true" || queries[1] != "wait=2s" {
		t.Errorf("results asked with %q, want a stream, then a long poll", queries)
	}
}

// TestSubmitShowsResultsArriving: while a streamed document arrives,
// submit's progress line counts the results in, with the chunks done
// (from the status: an early chunk holds the results back).
func TestSubmitShowsResultsArriving(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"batchId":"b","attempt":1,"trades":3,"chunks":2,"statusUrl":"/batches/b"}`)
	})
	mux.HandleFunc("GET /batches/b/results", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "{\"batchId\":\"b\",\"results\":[\n{\"id\":\"T1\",\"npv\":1},\n{\"id\":\"T2\",\"npv\":2}")
		w.(http.Flusher).Flush()
		time.Sleep(400 * time.Millisecond) // the last chunk is priced
		io.WriteString(w, ",\n{\"id\":\"T3\",\"npv\":3}\n]}\n")
	})
	mux.HandleFunc("GET /batches/b", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"batchId":"b","state":"completed","trades":3,"priced":3,"chunks":2,"chunksDone":2,"timings":{}}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "b.json")
	os.WriteFile(file, []byte(`{"trades":[{"id":"T1"},{"id":"T2"},{"id":"T3"}]}`), 0o644)
	code, _, stderr := runCmd(t, "submit", "--url", srv.URL, "--heartbeat", "50ms", "--out", filepath.Join(t.TempDir(), "r.json"), file)
	if code != 0 || !strings.Contains(stderr, "] completed: 2 of 2 chunks done, results arriving: 2 of 3 trades\n") {
		t.Fatalf("exit %d, stderr %q, want the chunks done and the results counted as they arrive", code, stderr)
	}
}

// TestSubmitSendsTheFile: a batch file is sent from disk as the event's
// body (binary mode), whole on every attempt, the first cut short by the
// engine; a file whose size changes between attempts is an error naming
// it, not a batch sent half old, half new.
func TestSubmitSendsTheFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "b.json")
	doc := `{"valuationDate":"2026-11-25","trades":[{"id":"T1"}]}` + strings.Repeat(" ", 300000)
	os.WriteFile(file, []byte(doc), 0o644)
	var mu sync.Mutex
	var bodies []string
	var types []string
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n := len(bodies)
		types = append(types, r.Header.Get("Content-Type")+" "+r.Header.Get("ce-type"))
		mu.Unlock()
		if n == 0 { // read a little, then fail
			buf := make([]byte, 1000)
			io.ReadFull(r.Body, buf)
			mu.Lock()
			bodies = append(bodies, string(buf))
			mu.Unlock()
			http.Error(w, `{"error":"restarting"}`, http.StatusServiceUnavailable)
			return
		}
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(body))
		mu.Unlock()
		if n == 1 {
			os.WriteFile(file, []byte(doc+"  "), 0o644) // changed before the next attempt
			http.Error(w, `{"error":"restarting"}`, http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"batchId":"b","attempt":1,"trades":1,"chunks":1,"statusUrl":"/batches/b"}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	code, _, stderr := runCmd(t, "submit", "--url", srv.URL, "--quiet", file)
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 2 || bodies[0] != doc[:1000] || bodies[1] != doc {
		t.Fatalf("%d attempts; the second sent %d bytes, want the file's %d", len(bodies), len(bodies[len(bodies)-1]), len(doc))
	}
	for _, ct := range types {
		if ct != "application/json "+events.TypeBatchSubmitted {
			t.Errorf("sent as %q, want application/json %s", ct, events.TypeBatchSubmitted)
		}
	}
	if code != 1 || !strings.Contains(stderr, "b.json changed while it was sent") {
		t.Errorf("a file changed between attempts: exit %d, stderr %q", code, stderr)
	}
}

// TestSubmitFileFollowsRedirect: a batch sent from its file follows a 307
// with the whole file again.
func TestSubmitFileFollowsRedirect(t *testing.T) {
	file := filepath.Join(t.TempDir(), "b.json")
	doc := `{"valuationDate":"2026-11-25","trades":[{"id":"T1"}]}`
	os.WriteFile(file, []byte(doc), 0o644)
	var got atomic.Value
	mux := http.NewServeMux()
	mux.HandleFunc("POST /batches", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("POST /elsewhere", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got.Store(string(body))
		http.Error(w, `{"error":"no"}`, http.StatusBadRequest)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	code, _, stderr := runCmd(t, "submit", "--url", srv.URL, "--quiet", file)
	if body, _ := got.Load().(string); code != 1 || body != doc || !strings.Contains(stderr, "400") {
		t.Errorf("exit %d, redirected body %q, stderr %q; want the file's bytes and the 400", code, body, stderr)
	}
}

// TestSubmitResubmitsAStalledBatch: a batch the engine shows pending with
// no chunk done for --resubmit-after is sent again, as the same event
// (the same batch), for the engine to send what it lost (an ingress killed
// between its claim and its sends); submit then gets the results. Before,
// it waited for the batch's deadline (minutes) with nothing happening.
func TestSubmitResubmitsAStalledBatch(t *testing.T) {
	e := newStalledEngine(t, `{"batchId":"b","state":"pending","trades":1,"pending":1,"chunks":1,"chunksDone":0}`)
	code, stdout, stderr := runCmd(t, "submit", "--url", e.url, "--resubmit-after", "300ms", "--heartbeat", "100ms", e.file)
	if code != 0 || !strings.Contains(stdout, `"id":"T1"`) || !strings.Contains(stderr, "no chunk done for") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if posts, ids := e.sent(); posts != 2 || ids != 1 {
		t.Errorf("%d posts with %d event ids, want 2 of one event", posts, ids)
	}
}

// stalledEngine stands in for an engine whose batch shows no chunk done
// (its status waiting) until the batch is sent again: the second
// submission is answered as the batch already known, and the engine then
// sends what it had lost, and the batch completes.
type stalledEngine struct {
	url, file string
	mu        sync.Mutex
	posts     int
	ids       map[string]bool // the events' ids
}

func newStalledEngine(t *testing.T, waiting string) *stalledEngine {
	t.Helper()
	e := &stalledEngine{ids: map[string]bool{}}
	resent := func() bool { e.mu.Lock(); defer e.mu.Unlock(); return e.posts > 1 }
	status := func() string {
		if resent() {
			return `{"batchId":"b","state":"completed","trades":1,"priced":1,"chunks":1,"chunksDone":1}`
		}
		return waiting
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		e.mu.Lock()
		e.posts++
		first := e.posts == 1
		e.ids[r.Header.Get("ce-id")] = true
		e.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		if first {
			io.WriteString(w, `{"batchId":"b","attempt":1,"trades":1,"chunks":1,"statusUrl":"/batches/b"}`)
			return
		}
		io.WriteString(w, `{"batchId":"b","attempt":1,"trades":1,"chunks":1,"statusUrl":"/batches/b","existing":true,"state":"running"}`)
	})
	mux.HandleFunc("GET /batches/b", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, status()) })
	mux.HandleFunc("GET /batches/b/results", func(w http.ResponseWriter, r *http.Request) {
		if resent() {
			io.WriteString(w, `{"batchId":"b","results":[{"id":"T1","npv":1}]}`)
			return
		}
		time.Sleep(20 * time.Millisecond) // a long poll's wait, cut short
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, status())
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e.url, e.file = srv.URL, filepath.Join(t.TempDir(), "b.json")
	if err := os.WriteFile(e.file, []byte(`{"trades":[{"id":"T1"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// sent returns how many times the batch was posted, and as how many
// distinct events.
func (e *stalledEngine) sent() (posts, ids int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.posts, len(e.ids)
}

// TestSubmitLeavesASentBatchAlone: a batch whose chunks ingress has all
// sent (the status's sentAt) is not sent again at --resubmit-after: an
// engine whose broker keeps its queue would take the upload for nothing
// (and pricefn dev acts only after 2 minutes).
func TestSubmitLeavesASentBatchAlone(t *testing.T) {
	var posts atomic.Int64
	start := time.Now()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		posts.Add(1)
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"batchId":"b","attempt":1,"trades":1,"chunks":1,"statusUrl":"/batches/b"}`)
	})
	const running = `{"batchId":"b","state":"running","trades":1,"pending":1,"chunks":1,"chunksDone":0,"timings":{"submittedAt":"2026-11-25T09:00:00Z","acceptedAt":"2026-11-25T09:00:00.01Z","sentAt":"2026-11-25T09:00:00.02Z"}}`
	done := func() bool { return time.Since(start) > 1500*time.Millisecond }
	mux.HandleFunc("GET /batches/b", func(w http.ResponseWriter, r *http.Request) {
		if done() {
			io.WriteString(w, `{"batchId":"b","state":"completed","trades":1,"priced":1,"chunks":1,"chunksDone":1}`)
			return
		}
		io.WriteString(w, running)
	})
	mux.HandleFunc("GET /batches/b/results", func(w http.ResponseWriter, r *http.Request) {
		if done() {
			io.WriteString(w, `{"batchId":"b","results":[{"id":"T1","npv":1}]}`)
			return
		}
		time.Sleep(20 * time.Millisecond)
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, running)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "b.json")
	os.WriteFile(file, []byte(`{"trades":[{"id":"T1"}]}`), 0o644)
	code, _, stderr := runCmd(t, "submit", "--url", srv.URL, "--resubmit-after", "300ms", "--heartbeat", "100ms", file)
	if code != 0 || posts.Load() != 1 || strings.Contains(stderr, "sending the batch again") {
		t.Fatalf("exit %d, %d posts, stderr %q: want the batch sent once", code, posts.Load(), stderr)
	}
}

// TestSubmitLeavesABatchBeingSentAlone: a batch whose ingress is still
// sending its chunks (no sentAt, its sendingAt renewed) is not sent again
// at --resubmit-after, however long the sends take: that ingress takes
// the upload for nothing. Before, submit sent a large batch again 30 s
// after its receipt (a second submit, the first cut off while ingress
// sent), and again after each doubling.
func TestSubmitLeavesABatchBeingSentAlone(t *testing.T) {
	var posts, beats atomic.Int64
	start := time.Now()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		posts.Add(1)
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"batchId":"b","attempt":1,"trades":1,"chunks":1,"statusUrl":"/batches/b","existing":true,"state":"pending"}`)
	})
	done := func() bool { return time.Since(start) > 1500*time.Millisecond }
	status := func() string {
		if done() {
			return `{"batchId":"b","state":"completed","trades":1,"priced":1,"chunks":1,"chunksDone":1}`
		}
		// Each status has a sign of life later than the last.
		sending := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC).Add(time.Duration(beats.Add(1)) * time.Millisecond)
		return `{"batchId":"b","state":"pending","trades":1,"pending":1,"chunks":1,"chunksDone":0,"timings":{"submittedAt":"2026-11-25T09:00:00Z","acceptedAt":"2026-11-25T09:00:00Z","sendingAt":"` + sending.Format(time.RFC3339Nano) + `"}}`
	}
	mux.HandleFunc("GET /batches/b", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, status()) })
	mux.HandleFunc("GET /batches/b/results", func(w http.ResponseWriter, r *http.Request) {
		if done() {
			io.WriteString(w, `{"batchId":"b","results":[{"id":"T1","npv":1}]}`)
			return
		}
		time.Sleep(20 * time.Millisecond)
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, status())
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "b.json")
	os.WriteFile(file, []byte(`{"trades":[{"id":"T1"}]}`), 0o644)
	code, _, stderr := runCmd(t, "submit", "--url", srv.URL, "--resubmit-after", "300ms", "--heartbeat", "100ms", file)
	if code != 0 || posts.Load() != 1 || strings.Contains(stderr, "sending the batch again") {
		t.Fatalf("exit %d, %d posts, stderr %q: want the batch sent once", code, posts.Load(), stderr)
	}
}

// TestSubmitResubmitsABatchAcceptedButNotSent: a batch the aggregator
// has heard of whose chunks ingress never sent in full (killed between
// its batch.accepted and its sends: no sentAt in the status) is sent
// again at --resubmit-after, for the engine to send its chunks; before,
// submit took batch.accepted for the chunks sent and waited 2m30s, while
// the engine would have sent them after 15 s of its ingress's silence.
func TestSubmitResubmitsABatchAcceptedButNotSent(t *testing.T) {
	e := newStalledEngine(t, `{"batchId":"b","state":"running","trades":1,"pending":1,"chunks":1,"chunksDone":0,"timings":{"submittedAt":"2026-11-25T09:00:00Z","acceptedAt":"2026-11-25T09:00:00.01Z"}}`)
	code, stdout, stderr := runCmd(t, "submit", "--url", e.url, "--resubmit-after", "300ms", "--heartbeat", "100ms", "--timeout", "3s", e.file)
	if posts, _ := e.sent(); code != 0 || !strings.Contains(stdout, `"id":"T1"`) || posts != 2 {
		t.Fatalf("exit %d, %d posts, stdout %q, stderr %q: want the batch sent again and its results", code, posts, stdout, stderr)
	}
}

// TestSubmitSaysTheResultsAreAnEarlierAttempts: results of an attempt that
// ended failed, read after another client submitted the batch again: the
// status is then the next attempt's, pending, or completed (the results
// name their attempt, Pricefn-Attempt). submit says so, and fails; it
// printed the next attempt's status as the results' ("ended pending: 0
// trades not priced", or "completed" and exit 0) over the failed attempt's
// results.
func TestSubmitSaysTheResultsAreAnEarlierAttempts(t *testing.T) {
	for _, c := range []struct{ status, attempt, want string }{
		{`{"batchId":"b","state":"pending","attempt":2,"trades":2,"pending":2,"chunks":1}`, "",
			"ended with 1 of 2 trades with errors; it was submitted again since (attempt 2, pending now)"},
		{`{"batchId":"b","state":"completed","attempt":2,"trades":2,"priced":2,"chunks":1,"chunksDone":1}`, "1",
			"it was submitted again since (attempt 2, completed now)"},
	} {
		mux := http.NewServeMux()
		mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, `{"batchId":"b","attempt":1,"trades":2,"chunks":1,"statusUrl":"/batches/b"}`)
		})
		mux.HandleFunc("GET /batches/b", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, c.status) })
		mux.HandleFunc("GET /batches/b/results", func(w http.ResponseWriter, r *http.Request) {
			if c.attempt != "" {
				w.Header().Set(api.HeaderAttempt, c.attempt)
			}
			io.WriteString(w, `{"batchId":"b","results":[{"id":"T1","error":"trade T1: not priced: chunk 0 failed: deadline passed"},{"id":"T2","npv":1}]}`)
		})
		srv := httptest.NewServer(mux)
		file := filepath.Join(t.TempDir(), "b.json")
		os.WriteFile(file, []byte(`{"trades":[{"id":"T1"},{"id":"T2"}]}`), 0o644)
		code, _, stderr := runCmd(t, "submit", "--url", srv.URL, file)
		srv.Close()
		if code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("status %s: exit %d, stderr %q", c.status, code, stderr)
		}
	}
}

// TestSubmitTakesADeadlineThatPassedAsFinal: a 503 saying the batch's own
// deadline passed while ingress sent its chunks is not posted again: each
// post started another attempt of the batch that ended the same way.
func TestSubmitTakesADeadlineThatPassedAsFinal(t *testing.T) {
	var posts atomic.Int64
	const msg = "ingress: batch b: sending chunks: 3 of 5 not sent, recorded dead (the batch ends without them; submit it again to price them): the batch's deadline passed: chunk 2: host: send b/chunk/2: context deadline exceeded"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		posts.Add(1)
		http.Error(w, `{"error":"`+msg+`"}`, http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	var progress bytes.Buffer
	s := &submitter{client: &http.Client{}, progress: &progress, start: time.Now()}
	_, err := s.postBatch(context.Background(), srv.URL+"/batches", payload{data: []byte(`{"trades":[]}`), size: 13}, false, true)
	if err == nil || posts.Load() != 1 || !strings.Contains(err.Error(), msg+": give the batch a later deadline, or split it") {
		t.Errorf("%v after %d posts, want the ingress's message once; progress %q", err, posts.Load(), progress.String())
	}
}

// TestSubmitWaitsOutAnAnnouncement: a resubmission answered 503 "being
// announced" (the aggregator holding the last attempt's announcement
// stopped: its claim lapses after 2 minutes) is asked again past the six
// tries of an engine that is down; submit gave up after 15 s.
func TestSubmitWaitsOutAnAnnouncement(t *testing.T) {
	var posts atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if posts.Add(1) <= 10 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"error":"ingress: batch b: its attempt 1 ended and its end (batch.completed) is being announced: submit it again in a moment"}`, http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"batchId":"b","attempt":2,"trades":1,"chunks":1,"statusUrl":"/batches/b"}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	var progress bytes.Buffer
	s := &submitter{client: &http.Client{}, progress: &progress, start: time.Now(), announceEvery: time.Millisecond}
	rc, err := s.postBatch(context.Background(), srv.URL+"/batches", payload{data: []byte(`{"trades":[]}`), size: 13}, false, true)
	if err != nil || rc.Attempt != 2 || posts.Load() != 11 {
		t.Fatalf("%+v %v after %d posts; progress %q", rc, err, posts.Load(), progress.String())
	}
	if strings.Count(progress.String(), "is being announced") != 1 {
		t.Errorf("progress %q, want the wait said once", progress.String())
	}
}

// TestSubmitHonoursRetryAfter: a 429 (a tenant at its bound) is sent
// again no sooner than its Retry-After; submit sent it again after its
// own backoff, 500 ms, uploading the batch again while the engine had
// asked for a second.
func TestSubmitHonoursRetryAfter(t *testing.T) {
	var mu sync.Mutex
	var posts []time.Time
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		posts = append(posts, time.Now())
		n := len(posts)
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"error":"ingress: batch b not taken for now: the engine has 1 unfinished batch, and its limit of unfinished batches is 1"}`, http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"batchId":"b","attempt":1,"trades":1,"chunks":1,"statusUrl":"/batches/b"}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	var progress bytes.Buffer
	s := &submitter{client: &http.Client{}, progress: &progress, start: time.Now()}
	rc, err := s.postBatch(context.Background(), srv.URL+"/batches", payload{data: []byte(`{"trades":[]}`), size: 13}, false, true)
	mu.Lock()
	defer mu.Unlock()
	if err != nil || rc.BatchID != "b" || len(posts) != 2 {
		t.Fatalf("%+v %v after %d posts; progress %q", rc, err, len(posts), progress.String())
	}
	if gap := posts[1].Sub(posts[0]); gap < time.Second {
		t.Errorf("sent again %s after a 429 asking for Retry-After: 1; progress %q", gap, progress.String())
	}
	if !strings.Contains(progress.String(), "again in 1s") {
		t.Errorf("progress %q, want the wait said as 1s", progress.String())
	}
}
