package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/events/broker"
)

func TestParseBrokerFlags(t *testing.T) {
	env := func(port string) func(string) string {
		return func(k string) string {
			if k == "PORT" {
				return port
			}
			return ""
		}
	}
	var stderr bytes.Buffer
	opts, err := parseBrokerFlags(nil, env(""), &stderr)
	if err != nil || opts.addr != ":8080" || opts.config.Manifests != nil || opts.config.Name != broker.DefaultName ||
		opts.logLevel != zerolog.InfoLevel || opts.shutdownTimeout != 30*time.Second {
		t.Errorf("defaults: %+v, %v", opts, err)
	}
	if opts, _ := parseBrokerFlags(nil, env("9090"), &stderr); opts.addr != ":9090" {
		t.Errorf("with PORT=9090: addr %q", opts.addr)
	}
	opts, err = parseBrokerFlags([]string{
		"--addr", "127.0.0.1:7000", "--broker", "b", "--manifests", t.TempDir(),
		"--subscriber", "pricefn-pricer=http://127.0.0.1:8081",
		"--subscriber", "pricefn-aggregator=http://127.0.0.1:8082/x,http://127.0.0.1:9082/x",
		"--subscriber", "pricefn-aggregator=http://127.0.0.1:10082/x",
		"--queue-size", "10", "--batch-quota", "3", "--workers", "2", "--log-level", "debug",
		"--concurrency", "pricefn-pricer=2",
	}, env("9090"), &stderr)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"pricefn-pricer":     "http://127.0.0.1:8081",
		"pricefn-aggregator": "http://127.0.0.1:8082/x,http://127.0.0.1:9082/x,http://127.0.0.1:10082/x",
	}
	c := opts.config
	if opts.addr != "127.0.0.1:7000" || c.Name != "b" || c.Manifests == nil || c.QueueSize != 10 || c.BatchQuota != 3 || c.Workers != 2 ||
		opts.logLevel != zerolog.DebugLevel || len(c.Subscribers) != 2 || len(c.Concurrency) != 1 || c.Concurrency["pricefn-pricer"] != 2 ||
		c.Subscribers["pricefn-pricer"] != want["pricefn-pricer"] || c.Subscribers["pricefn-aggregator"] != want["pricefn-aggregator"] {
		t.Errorf("flags: %+v", opts)
	}
	for _, args := range [][]string{
		{"--subscriber", "no-equals"},
		{"--subscriber", "=http://x"},
		{"--subscriber", "pricefn-pricer=http://127.0.0.1:1,,http://127.0.0.1:2"},
		{"--subscriber", "pricefn-pricer=http://127.0.0.1:1,"},
		{"--log-level", "loud"},
		{"--concurrency", "pricefn-pricer=0"},
		{"--concurrency", "pricefn-pricer"},
		{"extra"},
	} {
		if _, err := parseBrokerFlags(args, env(""), io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("%v: error %v, want errUsage", args, err)
		}
	}
}

// TestParseBrokerFlagsOutOfRange: a value out of range stops the start,
// naming the flag, as every other command's do; the broker took 0 or less
// as its default (--workers 0 ran 32 workers).
func TestParseBrokerFlagsOutOfRange(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--queue-size", "0"}, "--queue-size 0: want 1 or more"},
		{[]string{"--queue-size", "-5"}, "--queue-size -5: want 1 or more"},
		{[]string{"--workers", "0"}, "--workers 0: want 1 or more"},
		{[]string{"--shutdown-timeout", "-1s"}, "--shutdown-timeout -1s: want more than 0"},
	} {
		var ue *usageError
		if _, err := parseBrokerFlags(tt.args, func(string) string { return "" }, io.Discard); !errors.As(err, &ue) || err.Error() != tt.want {
			t.Errorf("%v: error %v, want a usage error %q", tt.args, err, tt.want)
		}
	}
}

// serveBroker routes an event to a subscriber, serves /healthz and
// /metrics, and returns nil once ctx ends and the deliveries are done.
func TestServeBroker(t *testing.T) {
	got := make(chan string, 1)
	pricer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := cehttp.NewEventFromHTTPRequest(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got <- e.ID()
	}))
	defer pricer.Close()
	opts, err := parseBrokerFlags([]string{
		"--subscriber", "pricefn-pricer=" + pricer.URL,
		"--subscriber", "pricefn-aggregator=http://127.0.0.1:1",
		"--subscriber", "pricefn-ingress=http://127.0.0.1:1",
	}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveBroker(ctx, ln, opts, zerolog.Nop()) }()

	e, err := events.New(events.TypeChunkRequested, "test", "chunk-7", "b-1", map[string]int{"index": 7})
	if err != nil {
		t.Fatal(err)
	}
	req, err := cehttp.NewHTTPRequestFromEvent(context.Background(), base+"/pricefn/pricefn", e)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("post: %d, want 202", resp.StatusCode)
	}
	if id := <-got; id != "chunk-7" {
		t.Errorf("pricer got %s, want chunk-7", id)
	}
	for path, want := range map[string]string{"/healthz": "ok", "/metrics": "pricefn_broker_events_received_total"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, body without %q", path, resp.StatusCode, want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serveBroker: %v", err)
	}
}

func TestServeBrokerUnresolved(t *testing.T) {
	opts, err := parseBrokerFlags(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = serveBroker(context.Background(), ln, opts, zerolog.Nop())
	if !errors.Is(err, broker.ErrUnresolved) || !strings.Contains(err.Error(), "pricefn-pricer") {
		t.Errorf("serveBroker without subscribers: %v, want ErrUnresolved naming pricefn-pricer", err)
	}
}

// A Service given two replicas gets events on both in turn; once one is
// gone, every event still reaches the other.
func TestServeBrokerReplicas(t *testing.T) {
	got := make(chan string, 100)
	replica := func() *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			e, err := cehttp.NewEventFromHTTPRequest(r)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			got <- r.Host + " " + e.ID()
		}))
	}
	one, two := replica(), replica()
	defer two.Close()
	opts, err := parseBrokerFlags([]string{
		"--subscriber", "pricefn-pricer=" + one.URL + "," + two.URL,
		"--subscriber", "pricefn-aggregator=http://127.0.0.1:1",
		"--subscriber", "pricefn-ingress=http://127.0.0.1:1",
	}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	opts.config.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() } // retry at once
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveBroker(ctx, ln, opts, zerolog.Nop()) }()
	send := func(id string) {
		t.Helper()
		e, err := events.New(events.TypeChunkRequested, "test", id, "b-1", map[string]int{"index": 0})
		if err != nil {
			t.Fatal(err)
		}
		req, err := cehttp.NewHTTPRequestFromEvent(context.Background(), base+"/", e)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("post %s: %d, want 202", id, resp.StatusCode)
		}
	}
	hosts := map[string]int{}
	for _, id := range []string{"c1", "c2"} {
		send(id)
		host, _, _ := strings.Cut(<-got, " ")
		hosts[host]++
	}
	if len(hosts) != 2 {
		t.Errorf("two events went to %v, want one to each replica", hosts)
	}
	one.Close()
	live := strings.TrimPrefix(two.URL, "http://")
	for _, id := range []string{"c3", "c4"} {
		send(id)
		if r := <-got; r != live+" "+id {
			t.Errorf("got %q, want %s on the live replica %s", r, id, live)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serveBroker: %v", err)
	}
}
