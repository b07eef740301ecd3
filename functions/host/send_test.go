package host_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/events/broker"
	"github.com/pricefn/pricefn/functions/host"
)

// waits records a Sender's waits and sleeps a hundredth of each, or not
// at all when instant.
type waits struct {
	instant bool
	mu      sync.Mutex
	d       []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	if w.instant {
		return ctx.Err()
	}
	t := time.NewTimer(d / 100)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

// answers serves the given statuses in turn (with the Retry-After header
// when not ""), then 202.
func answers(t *testing.T, codes []int, retryAfter []string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1) - 1)
		if n >= len(codes) {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		if n < len(retryAfter) && retryAfter[n] != "" {
			w.Header().Set("Retry-After", retryAfter[n])
		}
		http.Error(w, "busy", codes[n])
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// A 429 is backpressure: retried beyond Retries, as long as the context
// allows; other failures still count.
func TestSender429IsNotCounted(t *testing.T) {
	codes := make([]int, 30)
	for i := range codes {
		codes[i] = http.StatusTooManyRequests
	}
	srv, calls := answers(t, codes, nil)
	w := &waits{instant: true}
	s := host.NewSender(srv.URL, host.SenderOptions{Backoff: time.Millisecond, Retries: 2, Sleep: w.sleep})
	if err := s.Send(context.Background(), testEvent(t)); err != nil {
		t.Fatalf("send after 30 429s: %v", err)
	}
	if calls.Load() != 31 {
		t.Errorf("%d attempts, want 31", calls.Load())
	}
	// Without Retry-After the backoff doubles up to MaxBackoff, plus up
	// to a quarter of jitter.
	d := w.all()
	if len(d) != 30 || d[0] < time.Millisecond || d[0] > 5*time.Millisecond/4 || d[29] < host.MaxBackoff || d[29] > host.MaxBackoff*5/4 {
		t.Errorf("waits %v, want 1ms doubling to %v, with jitter", d, host.MaxBackoff)
	}

	// 500, 429, 429, 500 with Retries 1: the second 500 ends it.
	srv, calls = answers(t, []int{500, 429, 429, 500}, nil)
	err := host.NewSender(srv.URL, host.SenderOptions{Backoff: time.Millisecond, Retries: 1, Sleep: w.sleep}).Send(context.Background(), testEvent(t))
	if host.Status(err) != http.StatusInternalServerError || calls.Load() != 4 {
		t.Errorf("err %v after %d attempts, want the 500 after 4", err, calls.Load())
	}
}

func TestSenderHonoursRetryAfter(t *testing.T) {
	date := time.Now().Add(4 * time.Second).UTC().Format(http.TimeFormat)
	srv, calls := answers(t, []int{429, 503, 429, 429}, []string{"2", "1", date, "soon"})
	w := &waits{instant: true}
	s := host.NewSender(srv.URL, host.SenderOptions{Backoff: 10 * time.Millisecond, Sleep: w.sleep})
	if err := s.Send(context.Background(), testEvent(t)); err != nil {
		t.Fatalf("send: %v", err)
	}
	if calls.Load() != 5 {
		t.Errorf("%d attempts, want 5", calls.Load())
	}
	d := w.all()
	ms := time.Millisecond
	if len(d) != 4 ||
		d[0] < 2*time.Second || d[0] > 2500*ms || // Retry-After: 2, with jitter
		d[1] != 20*ms || // a 503 keeps the backoff (10 ms, doubled)
		d[2] < 2*time.Second || d[2] > 5*time.Second || // an HTTP date ~4 s ahead (to the second)
		d[3] < 80*ms || d[3] > 100*ms { // an invalid header: the backoff (80 ms), with jitter
		t.Errorf("waits %v, want [2s..2.5s, 20ms, 2s..5s, 80ms..100ms]", d)
	}
}

func TestSender429EndsWithContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "queue full", http.StatusTooManyRequests)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int64
	s := host.NewSender(srv.URL, host.SenderOptions{Backoff: time.Millisecond, Sleep: func(ctx context.Context, d time.Duration) error {
		if n.Add(1) == 20 {
			cancel()
		}
		return ctx.Err()
	}})
	err := s.Send(ctx, testEvent(t))
	if err == nil || host.Status(err) != http.StatusServiceUnavailable || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "queue full") {
		t.Fatalf("err %v (status %d), want a 503 naming the cancellation and the last 429", err, host.Status(err))
	}
	if n.Load() != 20 {
		t.Errorf("%d waits, want 20 (until the context ended)", n.Load())
	}
}

// One Trigger delivering every test.chunk to the Service "pricer", without
// retries.
const chunkTrigger = `apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: chunks, namespace: ns}
spec:
  broker: test
  filter: {attributes: {type: test.chunk}}
  subscriber:
    ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: pricer}
  delivery: {retry: 0}
`

// statusCounter counts the ingress's answers by batch and status.
type statusCounter struct {
	next http.Handler
	mu   sync.Mutex
	n    map[string]int // "batch status"
}

func (c *statusCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	c.next.ServeHTTP(rec, r)
	c.mu.Lock()
	c.n[fmt.Sprint(r.Header.Get("ce-batchid"), " ", rec.code)]++
	c.mu.Unlock()
}

func (c *statusCounter) get(batch string, code int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[fmt.Sprint(batch, " ", code)]
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// TestSenderBackpressureThroughBroker sends a batch of three times the
// broker's queue through Senders, over HTTP, to a broker whose subscriber
// is stuck: the batch takes its share of the queue and waits on 429s, a
// small batch sent meanwhile gets in at once, and once the subscriber moves
// every chunk of both arrives exactly once, with no error.
func TestSenderBackpressureThroughBroker(t *testing.T) {
	const queue, big, small = 16, 48, 3
	release := make(chan struct{})
	var mu sync.Mutex
	got := map[string]int{}
	pricer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := cehttp.NewEventFromHTTPRequest(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if events.BatchID(*e) == "big" {
			<-release // slow: stuck until the test lets it go
		}
		mu.Lock()
		got[e.ID()]++
		mu.Unlock()
	}))
	defer pricer.Close()
	b, err := broker.New(broker.Config{
		Name:        "test",
		Manifests:   fstest.MapFS{"t.yaml": {Data: []byte(chunkTrigger)}},
		Subscribers: map[string]string{"pricer": pricer.URL},
		QueueSize:   queue,
		Workers:     2,
		Logger:      zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	counter := &statusCounter{next: b, n: map[string]int{}}
	ingress := httptest.NewServer(counter)
	defer ingress.Close()
	w := &waits{}
	sender := host.NewSender(ingress.URL, host.SenderOptions{Sleep: w.sleep})
	chunk := func(batch string, i int) (string, error) {
		id := fmt.Sprintf("%s/chunk/%d", batch, i)
		e, err := events.New("test.chunk", "test", id, batch, map[string]int{"index": i})
		if err != nil {
			return id, err
		}
		// A deadline against a hang; the test takes well under a second.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return id, sender.Send(ctx, e)
	}

	var wg sync.WaitGroup
	var bigDone atomic.Int64
	bigErrs := make(chan error, big)
	sem := make(chan struct{}, 8) // the ingress's send limit
	for i := range big {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if id, err := chunk("big", i); err != nil {
				bigErrs <- fmt.Errorf("%s: %w", id, err)
			}
			bigDone.Add(1)
		})
	}
	// Wait until the big batch holds its share and is being refused.
	for deadline := time.Now().Add(10 * time.Second); counter.get("big", http.StatusTooManyRequests) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the big batch was never refused")
		}
	}
	for i := range small {
		if id, err := chunk("small", i); err != nil {
			t.Errorf("small batch, %s: %v (it should get in while the big batch waits)", id, err)
		}
	}
	if n := bigDone.Load(); n > queue/2 {
		t.Errorf("%d big chunks sent before the subscriber moved, want at most its share %d", n, queue/2)
	}
	if n := counter.get("small", http.StatusTooManyRequests); n != 0 {
		t.Errorf("the small batch got %d 429s, want none: the big one holds only its share", n)
	}
	close(release)
	wg.Wait()
	close(bigErrs)
	for err := range bigErrs {
		t.Errorf("big batch: %v", err)
	}
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(got) != big+small {
		t.Errorf("subscriber got %d distinct chunks, want %d", len(got), big+small)
	}
	for batch, n := range map[string]int{"big": big, "small": small} {
		for i := range n {
			if id := fmt.Sprintf("%s/chunk/%d", batch, i); got[id] != 1 {
				t.Errorf("%s delivered %d times, want once", id, got[id])
			}
		}
	}
	for _, code := range []int{http.StatusServiceUnavailable, http.StatusInternalServerError} {
		if n := counter.get("big", code) + counter.get("small", code); n != 0 {
			t.Errorf("%d answers %d, want none", n, code)
		}
	}
	refused := counter.get("big", http.StatusTooManyRequests)
	if refused == 0 || counter.get("big", http.StatusAccepted) != big {
		t.Errorf("big batch: %d answers 202 and %d 429, want %d 202 and some 429", counter.get("big", http.StatusAccepted), refused, big)
	}
	long := 0
	for _, d := range w.all() {
		if d >= time.Second { // the broker's Retry-After: 1
			long++
		}
	}
	if long != refused {
		t.Errorf("%d waits of Retry-After's second for %d 429s, want one each", long, refused)
	}
	t.Logf("big batch: %d chunks, %d 429s; small batch: %d chunks, no 429", big, refused, small)
}
