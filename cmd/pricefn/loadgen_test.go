package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
)

// loadgenEngine serves POST /batches and GET /batches/{id}/results as the
// engine does, on loopback: each batch's results come on the second ask.
type loadgenEngine struct {
	mu      sync.Mutex
	batches map[string]*batch.Batch
	asked   map[string]int
	// statusHost, when set, is the host the receipts point at.
	statusHost string
}

func (f *loadgenEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/batches":
		if r.Header.Get("ce-type") != events.TypeBatchSubmitted {
			http.Error(w, "not a batch.submitted event", http.StatusBadRequest)
			return
		}
		data, _ := io.ReadAll(r.Body)
		b, err := batch.DecodeBytes(data)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.batches[b.ID] = b
		status := "/batches/" + b.ID
		if f.statusHost != "" {
			status = "http://" + f.statusHost + status
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"batchId":%q,"trades":%d,"statusUrl":%q}`, b.ID, len(b.Trades), status)
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/results"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/batches/"), "/results")
		b, ok := f.batches[id]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if f.asked[id]++; f.asked[id] == 1 {
			w.WriteHeader(http.StatusAccepted)
			fmt.Fprint(w, `{"state":"running"}`)
			return
		}
		var rs []batch.TradeResult
		for _, t := range b.Trades {
			tr := batch.TradeResult{ID: t.ID}
			tr.NPV, tr.Set = 1, 1
			rs = append(rs, tr)
		}
		data, _ := batch.Results{BatchID: id, Results: rs}.MarshalJSON()
		w.Write(data)
	default:
		http.NotFound(w, r)
	}
}

func TestLoadgen(t *testing.T) {
	f := &loadgenEngine{batches: map[string]*batch.Batch{}, asked: map[string]int{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	cfg, err := loadgenConfigOf(srv.URL, 100, 200*time.Millisecond, 10, "european=0.7,american=0.3", "npv,delta", 0, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := loadgen(context.Background(), cfg, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 20 || rep.Completed != 20 || rep.Trades != 200 || rep.Failed+rep.Rejected+rep.TimedOut+rep.Dropped != 0 {
		t.Fatalf("report %+v, want 20 batches of 10 trades sent and completed", rep)
	}
	if !(rep.P50 > 0 && rep.P50 <= rep.P90 && rep.P90 <= rep.P99 && rep.P99 <= rep.Max) || rep.BatchesPerSecond <= 0 {
		t.Errorf("percentiles %v %v %v %v, throughput %v", rep.P50, rep.P90, rep.P99, rep.Max, rep.BatchesPerSecond)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.batches) != 20 {
		t.Fatalf("engine saw %d batches", len(f.batches))
	}
	for id, b := range f.batches {
		kinds := map[string]int{}
		for _, tr := range b.Trades {
			kinds[tr.Type]++
		}
		if kinds["european"] != 7 || kinds["american"] != 3 || len(b.Measures) != 2 {
			t.Errorf("batch %s: trades %v, measures %v: want 7 european and 3 american, npv and delta", id, kinds, b.Measures)
		}
	}
	var out bytes.Buffer
	rep.write(&out)
	for _, want := range []string{"20 sent, 20 completed", "batches/s", "p50", "p99"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestLoadgenTinyRate: a rate below one batch in the duration sends one
// batch and reports it; at 1e-300 a second the interval between sends
// overflowed a time.Duration and loadgen panicked ("non-positive interval
// for NewTicker").
func TestLoadgenTinyRate(t *testing.T) {
	f := &loadgenEngine{batches: map[string]*batch.Batch{}, asked: map[string]int{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	for _, rate := range []float64{1e-300, 1e-11, 0.5} {
		cfg, err := loadgenConfigOf(srv.URL, rate, 100*time.Millisecond, 1, "european", "npv", 0, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := loadgen(context.Background(), cfg, srv.Client())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Sent != 1 || rep.Completed != 1 {
			t.Errorf("rate %v: report %+v, want 1 batch sent and completed", rate, rep)
		}
	}
}

// TestLoadgenTalksOnlyToItsURL: a receipt pointing at another host is not
// followed.
func TestLoadgenTalksOnlyToItsURL(t *testing.T) {
	f := &loadgenEngine{batches: map[string]*batch.Batch{}, asked: map[string]int{}, statusHost: "192.0.2.1:9"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	cfg, err := loadgenConfigOf(srv.URL, 50, 40*time.Millisecond, 3, "fra", "npv", 0, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := loadgen(context.Background(), cfg, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Completed != 0 || rep.Failed != rep.Sent || rep.Sent == 0 || len(rep.Errors) == 0 || !strings.Contains(rep.Errors[0], "not at --url") {
		t.Errorf("report %+v: want every batch failed on the receipt's host", rep)
	}
}

// TestLoadgenBounded: an engine that never answers ends the run at
// duration + drain, every batch timed out, and the in-flight cap drops the
// sends beyond it.
func TestLoadgenBounded(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(hang)
	cfg, err := loadgenConfigOf(srv.URL, 100, 100*time.Millisecond, 1, "european", "npv", 4, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rep, err := loadgen(context.Background(), cfg, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v, want about 0.2 s", took)
	}
	if rep.Sent != 4 || rep.TimedOut != 4 || rep.Dropped != 6 || rep.Completed != 0 {
		t.Errorf("report %+v: want 4 sent and timed out, 6 dropped", rep)
	}
}

// TestLoadgenInterrupted: the batches still in flight when Ctrl-C stops
// the run are counted as cut short, not as timed out, and are in no
// latency percentile; the report is printed and loadgen exits 130 with
// one line, as the other commands do.
func TestLoadgenInterrupted(t *testing.T) {
	for _, asJSON := range []bool{true, false} {
		f := &loadgenEngine{batches: map[string]*batch.Batch{}, asked: map[string]int{}}
		held := make(chan struct{})
		var once sync.Once
		// The first two batches complete; the engine holds the results of
		// every later one until the client goes.
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if p := r.URL.Path; r.Method == http.MethodGet && strings.HasSuffix(p, "/results") && !strings.HasSuffix(p, "-0/results") && !strings.HasSuffix(p, "-1/results") {
				once.Do(func() { close(held) })
				<-r.Context().Done()
				return
			}
			f.ServeHTTP(w, r)
		}))
		ctx, cancel := context.WithCancelCause(t.Context())
		go func() {
			select {
			case <-held:
			case <-ctx.Done():
				return
			}
			// Once both have their results, and the first held batch has
			// waited longer than a completed one takes.
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				f.mu.Lock()
				done := 0
				for _, n := range f.asked {
					if n >= 2 {
						done++
					}
				}
				f.mu.Unlock()
				if done == 2 {
					break
				}
			}
			time.Sleep(300 * time.Millisecond)
			cancel(signalled{os.Interrupt})
		}()
		var stdout, stderr bytes.Buffer
		start := time.Now()
		code := run(ctx, []string{"loadgen", "--url", srv.URL, "--rate", "20", "--duration", "10s", "--batch-size", "2", "--quiet", "--json=" + strconv.FormatBool(asJSON)}, strings.NewReader(""), &stdout, &stderr)
		cancel(nil)
		srv.Close()
		if took := time.Since(start); code != 130 || stderr.String() != "pricefn loadgen: interrupted\n" || took > 5*time.Second {
			t.Errorf("json %v: exit %d, stderr %q after %v; want 130, %q, soon after the interrupt", asJSON, code, stderr.String(), took, "pricefn loadgen: interrupted\n")
		}
		if !asJSON {
			line, _, _ := strings.Cut(stdout.String(), "\n")
			var sent, cut int
			if _, err := fmt.Sscanf(line, "batches: %d sent, 2 completed, 0 rejected, 0 failed, 0 timed out, 0 dropped at the in-flight cap, %d cut short by the interrupt", &sent, &cut); err != nil || sent < 3 || cut != sent-2 {
				t.Errorf("report %q (%v): want 2 completed, 0 timed out, the rest cut short by the interrupt", line, err)
			}
			continue
		}
		var rep loadgenReport
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			t.Fatalf("report %s: %v", stdout.Bytes(), err)
		}
		if rep.Sent < 3 || rep.Completed != 2 || rep.CutShort != rep.Sent-2 || rep.TimedOut+rep.Failed+rep.Rejected+rep.Dropped != 0 || len(rep.Errors) != 0 {
			t.Errorf("report %+v: want 2 completed, the rest cut short by the interrupt, none timed out, no errors", rep)
		}
		// The first held batch waited 300 ms and more: it is not the max.
		if !(rep.P50 > 0 && rep.Max < 0.3) {
			t.Errorf("latencies p50 %v s, max %v s: want those of the 2 completed batches only", rep.P50, rep.Max)
		}
	}
}

func TestLoadgenFlags(t *testing.T) {
	for _, c := range []struct {
		url, mix string
		rate     float64
		d        time.Duration
		size     int
		want     string
	}{
		{"", "european", 1, time.Second, 1, "--url is required"},
		{"ftp://x", "european", 1, time.Second, 1, `scheme "ftp": want http or https`},
		{"localhost:8080", "european", 0, time.Second, 1, "--rate 0"},
		{"localhost:8080", "european", 1e6, time.Second, 1, "--rate"},
		{"localhost:8080", "european", 1, 2 * time.Hour, 1, "--duration"},
		{"localhost:8080", "european", 1, time.Second, 0, "--batch-size 0"},
		{"localhost:8080", "cds=1", 1, time.Second, 1, `unknown type "cds"`},
		{"localhost:8080", "european=-1", 1, time.Second, 1, "want a number above 0"},
		{"localhost:8080", "european=1,european=2", 1, time.Second, 1, "given twice"},
		{"localhost:8080", " , ", 1, time.Second, 1, "at least one type"},
	} {
		_, err := loadgenConfigOf(c.url, c.rate, c.d, c.size, c.mix, "npv", 0, time.Second)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c, err, c.want)
		}
	}
	// Checked up front, as gen's: it sent every batch for a 400 before.
	if _, err := loadgenConfigOf("localhost:8080", 1, time.Second, 1, "european", "npv,bogus", 0, time.Second); err == nil || !strings.Contains(err.Error(), `--measures "npv,bogus": batch: measures[1]: unknown measure "bogus"`) {
		t.Errorf("--measures npv,bogus: error %v", err)
	}
	cfg, err := loadgenConfigOf("127.0.0.1:9", 5, time.Second, 10, "european=3,american", "npv", 0, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := url.Parse("http://127.0.0.1:9"); *cfg.URL != *want || cfg.MaxInFlight != 16 || cfg.Mix[0].Share != 0.75 || cfg.Mix[1].Share != 0.25 {
		t.Errorf("config %+v", cfg)
	}
}

// TestLoadgenRefusesOperands: an argument that is not a flag (a batch file,
// say) is an error before anything is sent. It was ignored: loadgen sent
// its own sample batches for the whole --duration and exited 0.
func TestLoadgenRefusesOperands(t *testing.T) {
	var posts sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Store(r.URL.Path, true)
		http.Error(w, `{"error":"not here"}`, http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"loadgen", "--url", srv.URL, "examples/portfolio.json", "--duration", "1s", "--drain", "0s", "--quiet"}, strings.NewReader(""), &stdout, &stderr)
	want := "pricefn loadgen: unexpected argument \"examples/portfolio.json\": loadgen sends sample batches it makes (--mix, --batch-size), not files\nRun 'pricefn loadgen -h' for its flags.\n"
	if code != 2 || stderr.String() != want || stdout.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing, %q", code, stdout.String(), stderr.String(), want)
	}
	posts.Range(func(path, _ any) bool {
		t.Errorf("request to %s: want none", path)
		return true
	})
}

// TestLoadgenJSONNamesUnits: --json names the report's members in
// camelCase with their units, as the API's documents do (durationSeconds),
// the latencies in seconds; it printed Go's field names ("Sent", "P50"),
// the latencies in milliseconds with nothing to say so.
func TestLoadgenJSONNamesUnits(t *testing.T) {
	f := &loadgenEngine{batches: map[string]*batch.Batch{}, asked: map[string]int{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"loadgen", "--url", srv.URL, "--rate", "20", "--duration", "100ms", "--batch-size", "2", "--quiet", "--json"}, strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	var rep map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("report %s: %v", stdout.Bytes(), err)
	}
	var keys []string
	for k := range rep {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	const want = "batchesPerSecond completed cutShort dropped durationSeconds failed maxSeconds p50Seconds p90Seconds p99Seconds rejected sent timedOut trades tradesPerSecond"
	if got := strings.Join(keys, " "); got != want {
		t.Errorf("members %s, want %s", got, want)
	}
	// A batch of 2 trades from a test server: in microseconds, not
	// seconds, and more than none.
	if p50, ok := rep["p50Seconds"].(float64); !ok || p50 <= 0 || p50 > 1 {
		t.Errorf("p50Seconds %v, want a latency in seconds", rep["p50Seconds"])
	}
	if rep["sent"] != float64(2) || rep["completed"] != float64(2) {
		t.Errorf("sent %v, completed %v, want 2 and 2", rep["sent"], rep["completed"])
	}
}

// TestLoadgenJSONExitsOneWhenNoneCompleted: a run of which no batch
// completed exits 1 with --json as without it, after printing the report;
// with --json it exited 0, so a script checking the exit status took an
// engine refusing every batch for a successful run.
func TestLoadgenJSONExitsOneWhenNoneCompleted(t *testing.T) {
	f := &loadgenEngine{batches: map[string]*batch.Batch{}, asked: map[string]int{}, statusHost: "192.0.2.1:9"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	for _, asJSON := range []bool{true, false} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"loadgen", "--url", srv.URL, "--rate", "20", "--duration", "100ms", "--batch-size", "2", "--quiet", "--json=" + strconv.FormatBool(asJSON)}, strings.NewReader(""), &stdout, &stderr)
		if code != 1 || !strings.Contains(stderr.String(), "no batch completed") {
			t.Errorf("json %v: exit %d, stderr %q; want 1, no batch completed", asJSON, code, stderr.String())
		}
		if asJSON {
			var rep struct{ Sent, Completed, Failed int }
			if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil || rep.Sent == 0 || rep.Completed != 0 || rep.Failed != rep.Sent {
				t.Errorf("report %s (%v): want every batch sent failed", stdout.Bytes(), err)
			}
		}
	}
}

// TestLoadgenShowsRefusalMessage: a refusal is reported by its message,
// as pricefn submit shows it, not as the raw {"error": ...} body.
func TestLoadgenShowsRefusalMessage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"error":"tenant at its limit of 1 unfinished batch"}`+"\n")
	}))
	defer srv.Close()
	cfg, err := loadgenConfigOf(srv.URL, 20, 100*time.Millisecond, 1, "european", "npv", 0, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := loadgen(context.Background(), cfg, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rejected == 0 || len(rep.Errors) == 0 || !strings.HasSuffix(rep.Errors[0], ": 429 Too Many Requests: tenant at its limit of 1 unfinished batch") {
		t.Errorf("report %+v: want the refusal's message", rep)
	}
}

// TestLoadgenErrorsNameItOnce: loadgen's own errors are printed after
// "pricefn loadgen: " as every command's are; they read "pricefn loadgen:
// loadgen: no batch completed".
func TestLoadgenErrorsNameItOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"not now"}`, http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	for args, want := range map[string]string{
		"--rate 20 --duration 100ms":                    "pricefn loadgen: no batch completed\n",
		"--mix european=0.5,european-put=0.5 --rate 20": "pricefn loadgen: --mix types european-put and another make the same trade ids: mix one of them\n",
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"loadgen", "--url", srv.URL, "--quiet", "--drain", "0s"}, strings.Fields(args)...), strings.NewReader(""), &stdout, &stderr)
		if code != 1 || stderr.String() != want {
			t.Errorf("%s: exit %d, stderr %q; want 1, %q", args, code, stderr.String(), want)
		}
	}
}

// BenchmarkLoadgenDocs makes loadgen's batches of 20,000 trades of two
// types: their ids were checked each against every id before it, 3.5 s
// before the first batch went (at 100,000 trades, minutes); in a set,
// 0.2 s.
func BenchmarkLoadgenDocs(b *testing.B) {
	mix, err := parseMix("european=0.7,american=0.3")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := loadgenDocs(loadgenConfig{BatchSize: 20000, Mix: mix}); err != nil {
			b.Fatal(err)
		}
	}
}
