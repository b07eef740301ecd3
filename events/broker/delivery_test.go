package broker_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/pricefn/pricefn/events/broker"
	"github.com/pricefn/pricefn/functions/host"
)

// failing answers code to every request, with a body.
func failing(code int) responder {
	return func(int, *http.Request, event.Event) (int, *event.Event) { return code, nil }
}

func TestRetryThenDeliveredOnce(t *testing.T) {
	successes := make(chan string, 10)
	en := newEnv(t, broker.Config{}, map[string]responder{
		"svc-a": func(n int, _ *http.Request, e event.Event) (int, *event.Event) {
			if n == 1 {
				return http.StatusInternalServerError, nil
			}
			successes <- e.ID()
			return http.StatusOK, nil
		},
	})
	if code := post(t, en.ingress.URL, newEvent(t, "test.a", "e1"), false); code != http.StatusAccepted {
		t.Fatalf("post: %d, want 202", code)
	}
	if id := <-successes; id != "e1" {
		t.Errorf("delivered %s, want e1", id)
	}
	en.drain(t)
	if n := en.sinks["svc-a"].count(); n != 2 {
		t.Errorf("svc-a had %d requests, want 2 (a failure, a success)", n)
	}
	if len(successes) != 0 {
		t.Errorf("%d more successful deliveries, want none", len(successes))
	}
	if n := en.sinks["dls"].count(); n != 0 {
		t.Errorf("dead-letter sink had %d requests, want 0", n)
	}
	if got := en.sleeps.delays(); !slices.Equal(got, []time.Duration{10 * time.Millisecond}) {
		t.Errorf("backoffs %v, want [10ms]", got)
	}
	if v := metric(t, en.reg, "pricefn_broker_retries_total", "trigger", "a", "target", "subscriber"); v != 1 {
		t.Errorf("retries = %v, want 1", v)
	}
	if v := metric(t, en.reg, "pricefn_broker_deliveries_total", "trigger", "a", "outcome", "delivered"); v != 1 {
		t.Errorf("delivered = %v, want 1", v)
	}
	if v := metric(t, en.reg, "pricefn_broker_delivery_duration_seconds", "trigger", "a", "target", "subscriber", "result", "failure"); v != 1 {
		t.Errorf("failed attempts observed = %v, want 1", v)
	}
}

func TestBadRequestNotRetriedAndDeadLettered(t *testing.T) {
	en := newEnv(t, broker.Config{}, map[string]responder{"svc-a": failing(http.StatusBadRequest)})
	e := newEvent(t, "test.a", "e400")
	if code := post(t, en.ingress.URL, e, false); code != http.StatusAccepted {
		t.Fatalf("post: %d", code)
	}
	dl := en.sinks["dls"].next(t)
	en.drain(t)
	if n := en.sinks["svc-a"].count(); n != 1 {
		t.Errorf("svc-a had %d requests, want 1: a 400 is not retried", n)
	}
	if dl.path != "/dead-letter" || dl.event.ID() != "e400" || dl.event.Type() != "test.a" || string(dl.event.Data()) != string(e.Data()) {
		t.Errorf("dead letter %s %s at %s, data %s", dl.event.Type(), dl.event.ID(), dl.path, dl.event.Data())
	}
	if got, want := ext(dl.event, broker.ExtErrorDest), en.sinks["svc-a"].URL; got != want {
		t.Errorf("%s = %q, want %q", broker.ExtErrorDest, got, want)
	}
	if got := ext(dl.event, broker.ExtErrorCode); got != "400" {
		t.Errorf("%s = %q, want 400", broker.ExtErrorCode, got)
	}
	data, err := base64.StdEncoding.DecodeString(ext(dl.event, broker.ExtErrorData))
	if err != nil || string(data) != "refused with 400" {
		t.Errorf("%s decodes to %q, %v; want the response body", broker.ExtErrorData, data, err)
	}
	if got := ext(dl.event, "batchid"); got != "batch-1" {
		t.Errorf("batchid %q lost on the way to the dead-letter sink", got)
	}
	if len(en.sleeps.delays()) != 0 {
		t.Errorf("backoffs %v, want none", en.sleeps.delays())
	}
	if v := metric(t, en.reg, "pricefn_broker_deliveries_total", "trigger", "a", "outcome", "dead_lettered"); v != 1 {
		t.Errorf("dead_lettered = %v, want 1", v)
	}
}

func TestAlwaysFailingDeadLetteredAfterRetries(t *testing.T) {
	en := newEnv(t, broker.Config{}, map[string]responder{"svc-a": failing(http.StatusServiceUnavailable)})
	if code := post(t, en.ingress.URL, newEvent(t, "test.a", "e503"), true); code != http.StatusAccepted {
		t.Fatalf("post: %d", code)
	}
	dl := en.sinks["dls"].next(t)
	en.drain(t)
	if n := en.sinks["svc-a"].count(); n != 4 {
		t.Errorf("svc-a had %d requests, want 4 (retry 3 + 1)", n)
	}
	ms := time.Millisecond
	if got, want := en.sleeps.delays(), []time.Duration{10 * ms, 20 * ms, 40 * ms}; !slices.Equal(got, want) {
		t.Errorf("backoffs %v, want %v", got, want)
	}
	if got := ext(dl.event, broker.ExtErrorCode); got != "503" {
		t.Errorf("%s = %q, want 503", broker.ExtErrorCode, got)
	}
	if v := metric(t, en.reg, "pricefn_broker_retries_total", "trigger", "a", "target", "subscriber"); v != 3 {
		t.Errorf("retries = %v, want 3", v)
	}
	if v := metric(t, en.reg, "pricefn_broker_deliveries_total", "trigger", "a", "outcome", "dead_lettered"); v != 1 {
		t.Errorf("dead_lettered = %v, want 1", v)
	}
}

func TestNoDeadLetterSinkDropped(t *testing.T) {
	en := newEnv(t, broker.Config{}, map[string]responder{"svc-b": failing(http.StatusInternalServerError)})
	if code := post(t, en.ingress.URL, newEvent(t, "test.b", "eb"), false); code != http.StatusAccepted {
		t.Fatalf("post: %d", code)
	}
	if r := en.sinks["svc-b"].next(t); r.path != "/b" {
		t.Errorf("svc-b called at %s, want /b (the subscriber uri)", r.path)
	}
	en.drain(t)
	// Trigger b has no delivery: the Broker's (retry 2, exponential 1 ms).
	if n := en.sinks["svc-b"].count(); n != 3 {
		t.Errorf("svc-b had %d requests, want 3", n)
	}
	ms := time.Millisecond
	if got, want := en.sleeps.delays(), []time.Duration{ms, 2 * ms}; !slices.Equal(got, want) {
		t.Errorf("backoffs %v, want %v", got, want)
	}
	if v := metric(t, en.reg, "pricefn_broker_deliveries_total", "trigger", "b", "outcome", "dropped"); v != 1 {
		t.Errorf("dropped = %v, want 1", v)
	}
}

func TestConnectionErrorRetried(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	en := newEnv(t, broker.Config{Subscribers: map[string]string{"svc-a": gone.URL}}, nil)
	if code := post(t, en.ingress.URL, newEvent(t, "test.a", "econn"), false); code != http.StatusAccepted {
		t.Fatalf("post: %d", code)
	}
	dl := en.sinks["dls"].next(t)
	en.drain(t)
	if got := len(en.sleeps.delays()); got != 3 {
		t.Errorf("%d retries, want 3", got)
	}
	if got := ext(dl.event, broker.ExtErrorCode); got != "500" {
		t.Errorf("%s = %q, want 500 (no response)", broker.ExtErrorCode, got)
	}
	data, _ := base64.StdEncoding.DecodeString(ext(dl.event, broker.ExtErrorData))
	if !strings.Contains(string(data), "dispatch error") {
		t.Errorf("%s = %q, want the dispatch error", broker.ExtErrorData, data)
	}
}

// TestDispatchErrorReportIsOneLine: a subscriber served in process
// (pricefn dev) whose handler panics fails with the error and the stack,
// for the log; the dead letter's report, which the batch's tenant reads in
// the chunk's reason, quoted the stack (the source's paths, the engine's
// functions) too. It keeps the error's first line.
func TestDispatchErrorReportIsOneLine(t *testing.T) {
	inproc := &host.InProcess{Host: "inproc", Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	})}
	en := newEnv(t, broker.Config{Subscribers: map[string]string{"svc-a": "http://inproc/"},
		Client: &http.Client{Transport: inproc}}, nil)
	if code := post(t, en.ingress.URL, newEvent(t, "test.a", "epanic"), false); code != http.StatusAccepted {
		t.Fatalf("post: %d", code)
	}
	dl := en.sinks["dls"].next(t)
	en.drain(t)
	data, _ := base64.StdEncoding.DecodeString(ext(dl.event, broker.ExtErrorData))
	if !strings.HasSuffix(string(data), "the handler failed: boom") || strings.Contains(string(data), "\n") {
		t.Errorf("%s = %q, want the dispatch error's first line", broker.ExtErrorData, data)
	}
}

func TestTimeoutDeadLettered(t *testing.T) {
	en := newEnv(t, broker.Config{}, map[string]responder{
		"svc-slow": func(_ int, r *http.Request, _ event.Event) (int, *event.Event) {
			<-r.Context().Done() // until the broker gives up (trigger timeout PT0.1S)
			return http.StatusOK, nil
		},
	})
	if code := post(t, en.ingress.URL, newEvent(t, "test.slow", "eslow"), false); code != http.StatusAccepted {
		t.Fatalf("post: %d", code)
	}
	dl := en.sinks["dls"].next(t)
	en.drain(t)
	if dl.event.ID() != "eslow" || ext(dl.event, broker.ExtErrorCode) != "500" {
		t.Errorf("dead letter %s with code %q", dl.event.ID(), ext(dl.event, broker.ExtErrorCode))
	}
}

// A subscriber's reply takes over the queue slot of the delivery it
// answers, so it is stored even when the queue is full.
func TestReplyTakesOverTheSlot(t *testing.T) {
	en := newEnv(t, broker.Config{QueueSize: 1}, map[string]responder{
		"svc-a": func(_ int, _ *http.Request, e event.Event) (int, *event.Event) {
			r := newEvent(t, "test.b", e.ID()+"-reply")
			return http.StatusOK, &r
		},
	})
	if code := post(t, en.ingress.URL, newEvent(t, "test.a", "ea"), false); code != http.StatusAccepted {
		t.Fatalf("post: %d", code)
	}
	if r := en.sinks["svc-b"].next(t); r.event.ID() != "ea-reply" {
		t.Errorf("svc-b got %s, want ea-reply", r.event.ID())
	}
	en.drain(t)
	if n, dl := en.sinks["svc-a"].count(), en.sinks["dls"].count(); n != 1 || dl != 0 {
		t.Errorf("svc-a had %d requests, the dead-letter sink %d; want 1 and 0", n, dl)
	}
	if v := metric(t, en.reg, "pricefn_broker_queue_depth"); v != 0 {
		t.Errorf("queue depth = %v, want 0", v)
	}
}

// A subscriber's reply that cannot be stored fails the delivery, which is
// retried, as in Knative. Here the reply matches two Triggers (a and c)
// and the queue holds one delivery.
func TestReplyNotStoredIsRetried(t *testing.T) {
	en := newEnv(t, broker.Config{QueueSize: 1}, map[string]responder{
		"svc-a": func(_ int, _ *http.Request, e event.Event) (int, *event.Event) {
			r := newEvent(t, "test.a", e.ID()+"-reply")
			r.SetSource("src-c")
			r.SetExtension("flavour", "x")
			return http.StatusOK, &r
		},
	})
	if code := post(t, en.ingress.URL, newEvent(t, "test.a", "ea"), false); code != http.StatusAccepted {
		t.Fatalf("post: %d", code)
	}
	dl := en.sinks["dls"].next(t)
	en.drain(t)
	if n := en.sinks["svc-a"].count(); n != 4 {
		t.Errorf("svc-a had %d requests, want 4: its reply never fits the queue of 1", n)
	}
	if got := ext(dl.event, broker.ExtErrorCode); got != "429" {
		t.Errorf("%s = %q, want 429", broker.ExtErrorCode, got)
	}
	if n := en.sinks["svc-c"].count(); n != 0 {
		t.Errorf("svc-c had %d requests, want 0", n)
	}
}

func TestReplyLoopEndsWithTTL(t *testing.T) {
	en := newEnv(t, broker.Config{}, map[string]responder{
		"svc-loop": func(n int, _ *http.Request, e event.Event) (int, *event.Event) {
			r := newEvent(t, "test.loop", e.ID()+"+")
			return http.StatusOK, &r
		},
	})
	e := newEvent(t, "test.loop", "l")
	e.SetExtension(broker.TTLExtension, 3)
	if code := post(t, en.ingress.URL, e, true); code != http.StatusAccepted {
		t.Fatalf("post: %d", code)
	}
	en.drain(t)
	if n := en.sinks["svc-loop"].count(); n != 3 {
		t.Errorf("svc-loop had %d requests, want 3 (TTL 3)", n)
	}
	if v := metric(t, en.reg, "pricefn_broker_events_received_total", "origin", "reply", "outcome", "ttl_expired"); v != 1 {
		t.Errorf("ttl_expired = %v, want 1", v)
	}
}

func TestSend(t *testing.T) {
	release := make(chan struct{})
	en := newEnv(t, broker.Config{QueueSize: 1, Workers: 1, BatchQuota: -1}, map[string]responder{
		"svc-b": func(int, *http.Request, event.Event) (int, *event.Event) { <-release; return http.StatusOK, nil },
	})
	ctx := context.Background()
	if res := en.b.Send(ctx, newEvent(t, "test.b", "s1")); res != nil {
		t.Fatalf("Send: %v, want ACK", res)
	}
	en.sinks["svc-b"].next(t)
	res := en.b.Send(ctx, newEvent(t, "test.b", "s2"))
	if !errors.Is(res, broker.ErrQueueFull) {
		t.Errorf("Send to a full queue: %v, want ErrQueueFull", res)
	}
	if res := en.b.Send(ctx, event.New()); res == nil || !strings.HasPrefix(res.Error(), "400") {
		t.Errorf("Send of an invalid event: %v, want a 400 result", res)
	}
	if res := en.b.Send(ctx, newEvent(t, "test.none", "s3")); res != nil {
		t.Errorf("Send of an unmatched event: %v, want ACK", res)
	}
	close(release)
	en.drain(t)
	if res := en.b.Send(ctx, newEvent(t, "test.b", "s4")); !errors.Is(res, broker.ErrClosed) {
		t.Errorf("Send after Shutdown: %v, want ErrClosed", res)
	}
}

func TestShutdownDrainsInFlight(t *testing.T) {
	release := make(chan struct{})
	en := newEnv(t, broker.Config{}, map[string]responder{
		"svc-b": func(int, *http.Request, event.Event) (int, *event.Event) { <-release; return http.StatusOK, nil },
	})
	if code := post(t, en.ingress.URL, newEvent(t, "test.b", "d1"), false); code != http.StatusAccepted {
		t.Fatalf("post: %d", code)
	}
	en.sinks["svc-b"].next(t)
	done := make(chan error, 1)
	go func() { done <- en.b.Shutdown(context.Background()) }()
	// Wait until Shutdown has begun: the health check turns 503.
	for getStatus(t, en.ingress.URL+broker.HealthPath) != http.StatusServiceUnavailable {
		time.Sleep(time.Millisecond)
	}
	if code := post(t, en.ingress.URL, newEvent(t, "test.b", "d2"), false); code != http.StatusServiceUnavailable {
		t.Errorf("post while draining: %d, want 503", code)
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned (%v) before the delivery finished", err)
	default:
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if v := metric(t, en.reg, "pricefn_broker_deliveries_total", "trigger", "b", "outcome", "delivered"); v != 1 {
		t.Errorf("delivered = %v, want 1", v)
	}
	if v := metric(t, en.reg, "pricefn_broker_queue_depth"); v != 0 {
		t.Errorf("queue depth = %v, want 0", v)
	}
}

func TestShutdownDeadlineCancels(t *testing.T) {
	en := newEnv(t, broker.Config{}, map[string]responder{
		"svc-b": func(_ int, r *http.Request, _ event.Event) (int, *event.Event) {
			<-r.Context().Done()
			return http.StatusOK, nil
		},
	})
	if code := post(t, en.ingress.URL, newEvent(t, "test.b", "c1"), false); code != http.StatusAccepted {
		t.Fatalf("post: %d", code)
	}
	en.sinks["svc-b"].next(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := en.b.Shutdown(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown: %v, want context.Canceled", err)
	}
	if v := metric(t, en.reg, "pricefn_broker_deliveries_total", "trigger", "b", "outcome", "dropped"); v != 1 {
		t.Errorf("dropped = %v, want 1", v)
	}
	if err := en.b.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

// TestShutdownDeadlineLeavesDeafSubscriber: past its context, Shutdown
// waits stopGrace at most for a subscriber that does not heed
// cancellation, as an in-process one inside a long trade does not
// (host.InProcess calls the pricer's handler in the worker): it held the
// shutdown, and pricefn dev's exit, until the trade was priced.
func TestShutdownDeadlineLeavesDeafSubscriber(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	deaf := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		entered <- struct{}{}
		<-release // deaf to r.Context()
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
	})
	en := newEnv(t, broker.Config{Client: &http.Client{Transport: deaf}}, nil)
	defer close(release)
	if code := post(t, en.ingress.URL, newEvent(t, "test.b", "deaf"), false); code != http.StatusAccepted {
		t.Fatalf("post: %d", code)
	}
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := en.b.Shutdown(ctx)
	if took := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || took > 3*time.Second {
		t.Fatalf("Shutdown: %v after %v, want its deadline's error within about a second", err, took)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func getStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
