package host_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/metricstest"
)

// histogram returns the sample count and sum of the histogram series of
// name whose labels include labels.
func histogram(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (uint64, float64) {
	t.Helper()
	m, err := metricstest.Find(reg, name, labels)
	if err != nil || m.GetHistogram() == nil {
		t.Fatalf("no %s%v (%v)", name, labels, err)
	}
	return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	v, ok, err := metricstest.Value(reg, name, nil)
	if err != nil || !ok {
		t.Fatalf("no %s (%v)", name, err)
	}
	return v
}

func TestTraceParent(t *testing.T) {
	const valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, c := range []struct {
		in   string
		keep bool
	}{
		{valid, true},
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-later", true}, // a later version may add fields
		{"", false},
		{"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", false}, // upper case
		{"00-00000000000000000000000000000000-00f067aa0ba902b7-01", false}, // trace id all zeros
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", false}, // parent id all zeros
		{"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false}, // version ff
		{valid + "-x", false}, // version 00 has no more fields
		{"00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", false}, // short trace id
		{"garbage", false},
		// A later version's fields are what a header carries, of a
		// header's length.
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-a=b;c,d-" + strings.Repeat("x", 440), true},
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-" + strings.Repeat("x", 500), false},
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-\x1b[31mred", false},
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-two words", false},
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-é", false},
	} {
		got := host.TraceParent(c.in)
		if c.keep != (got == c.in) {
			t.Errorf("TraceParent(%q) = %q: kept %v, want %v", c.in, got, got == c.in, c.keep)
		}
		if !host.ValidTraceParent(got) || (!c.keep && !strings.HasPrefix(got, "00-")) {
			t.Errorf("TraceParent(%q) = %q, not a valid version-00 traceparent", c.in, got)
		}
	}
	if a, b := host.TraceParent(""), host.TraceParent(""); a == b {
		t.Errorf("two minted traceparents are the same: %s", a)
	}
}

// TestRequestsTrack: each request counts in flight while it runs and its
// duration lands under its route and status class.
func TestRequestsTrack(t *testing.T) {
	reg := prometheus.NewRegistry()
	q := host.NewRequests("fn", reg, "r")
	if n, _ := histogram(t, reg, host.MetricRequestDuration, map[string]string{"route": "r", "code": "5xx"}); n != 0 {
		t.Fatalf("seeded series has %d samples", n)
	}
	var during float64
	h := q.Track("r", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		during = gauge(t, reg, host.MetricInFlight)
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		time.Sleep(20 * time.Millisecond)
		io.WriteString(w, "ok")
	}))
	for _, path := range []string{"/ok", "/ok", "/missing"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
		if during != 1 {
			t.Errorf("%s: %v in flight while it ran, want 1", path, during)
		}
	}
	if g := gauge(t, reg, host.MetricInFlight); g != 0 {
		t.Errorf("%v in flight after, want 0", g)
	}
	if n, sum := histogram(t, reg, host.MetricRequestDuration, map[string]string{"function": "fn", "route": "r", "code": "2xx"}); n != 2 || sum < 0.04 {
		t.Errorf("2xx: %d requests, %v s, want 2 of at least 20 ms", n, sum)
	}
	if n, _ := histogram(t, reg, host.MetricRequestDuration, map[string]string{"route": "r", "code": "4xx"}); n != 1 {
		t.Errorf("4xx: %d requests, want 1", n)
	}
	end := q.Begin()
	if g := gauge(t, reg, host.MetricInFlight); g != 1 {
		t.Errorf("%v in flight after Begin, want 1", g)
	}
	end()
	var nilq *host.Requests // no registry: measures nothing, never fails
	nilq.Begin()()
	nilq.Track("r", http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
}

// TestRequestsBucketsHoldALongPoll: a results request held for the
// default --max-wait (5 min) lands in a finite bucket, not in +Inf alone,
// where a quantile of the route could say no more than the last bound.
func TestRequestsBucketsHoldALongPoll(t *testing.T) {
	reg := prometheus.NewRegistry()
	host.NewRequests("fn", reg, "results")
	m, err := metricstest.Find(reg, host.MetricRequestDuration, map[string]string{"route": "results", "code": "2xx"})
	if err != nil || m.GetHistogram() == nil {
		t.Fatalf("no %s (%v)", host.MetricRequestDuration, err)
	}
	bs := m.GetHistogram().GetBucket()
	const maxWait = 5 * time.Minute // aggregator.DefaultMaxWait
	if top := bs[len(bs)-1].GetUpperBound(); top < maxWait.Seconds() {
		t.Errorf("the last bucket ends at %v s, below a %v long poll", top, maxWait)
	}
	if low := bs[0].GetUpperBound(); low > 0.001 {
		t.Errorf("the first bucket ends at %v s, want 1 ms", low)
	}
}

// TestColdStart: the time from StartedAt to the end of the first request
// served is observed once; health checks and scrapes do not count.
func TestColdStart(t *testing.T) {
	reg := prometheus.NewRegistry()
	started := time.Now().Add(-2 * time.Second)
	s := host.New(host.Options{Name: "cold", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(30 * time.Millisecond)
	}), Gatherer: reg, Registerer: reg, StartedAt: started})
	base := serve(t, s)
	get := func(path string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	get("/healthz")
	get("/metrics")
	if n, _ := histogram(t, reg, "pricefn_cold_start_seconds", map[string]string{"server": "cold"}); n != 0 {
		t.Fatalf("%d cold starts before the first request", n)
	}
	get("/work")
	firstDone := time.Since(started).Seconds()
	get("/work")
	n, sum := histogram(t, reg, "pricefn_cold_start_seconds", map[string]string{"server": "cold"})
	if n != 1 || sum < 2.03 || sum > firstDone {
		t.Errorf("%d cold starts of %v s, want 1 of 2.03 to %.2f s (started 2 s before, first request 30 ms)", n, sum, firstDone)
	}
}

// TestNoColdStartForAnIdleProcess: a process whose first request came
// long after it was serving (kept by minScale, started by a rollout) had
// no cold start: it observed its idle time as one, minutes or hours.
func TestNoColdStartForAnIdleProcess(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := host.New(host.Options{Name: "idle", Handler: http.NotFoundHandler(), Gatherer: reg, Registerer: reg,
		StartedAt: time.Now(), ColdStartWindow: 50 * time.Millisecond})
	base := serve(t, s)
	time.Sleep(200 * time.Millisecond) // idle past the window
	for range 2 {
		resp, err := http.Get(base + "/work")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if n, sum := histogram(t, reg, "pricefn_cold_start_seconds", map[string]string{"server": "idle"}); n != 0 {
		t.Errorf("%d cold starts of %v s for a process idle before its first request, want none", n, sum)
	}
}

// serve runs s on a loopback port until the test ends, when it must stop
// cleanly, and returns its base URL.
func serve(t *testing.T, s *host.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	})
	return "http://" + ln.Addr().String()
}

// TestRejectionsHelp: the HELP text says what the counter counts, the
// refusals of an unreadable or unpriceable event, not every 4xx (ingress
// counts a submission's 409, 413, 422 and 429 by outcome instead).
func TestRejectionsHelp(t *testing.T) {
	reg := prometheus.NewRegistry()
	host.NewRejections("fn", reg, "malformed")
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || mfs[0].GetName() != host.MetricRejected {
		t.Fatalf("gathered %v (%v), want %s alone", mfs, err, host.MetricRejected)
	}
	help := mfs[0].GetHelp()
	if strings.Contains(help, "with a 4xx") {
		t.Errorf("HELP %q claims every 4xx", help)
	}
	for _, want := range []string{"unreadable or unpriceable", "pricefn_ingress_batches_total"} {
		if !strings.Contains(help, want) {
			t.Errorf("HELP %q does not say %q", help, want)
		}
	}
}
