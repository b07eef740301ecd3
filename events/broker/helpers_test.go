package broker_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/events/broker"
	"github.com/pricefn/pricefn/metricstest"
)

// fixture is a broker "test" with a default delivery and these Triggers:
//
//	a:    type test.a    -> svc-a,    retry 3, exponential 10 ms, DLS dls /dead-letter
//	b:    type test.b    -> svc-b /b, the Broker's delivery (retry 2, exponential 1 ms), no DLS
//	c:    type test.a, source src-c, extension flavour=x -> svc-c
//	slow: type test.slow -> svc-slow, no retry, timeout 20 ms, DLS dls
//	loop: type test.loop -> svc-loop, no retry
//	x:    another broker's Trigger, whose Service is unknown
const fixtureYAML = `
# A comment-only document first.
---
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: test, namespace: ns}
spec:
  delivery: {retry: 2, backoffPolicy: exponential, backoffDelay: PT0.001S}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: a, namespace: ns}
spec:
  broker: test
  filter: {attributes: {type: test.a}}
  subscriber:
    ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: svc-a}
  delivery:
    retry: 3
    backoffPolicy: exponential
    backoffDelay: PT0.01S
    deadLetterSink:
      ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: dls}
      uri: /dead-letter
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: b, namespace: ns}
spec:
  broker: test
  filter: {attributes: {type: test.b}}
  subscriber:
    ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: svc-b}
    uri: /b
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: c, namespace: ns}
spec:
  broker: test
  filter:
    attributes: {type: test.a, source: src-c, flavour: x}
  subscriber:
    ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: svc-c}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: slow, namespace: ns}
spec:
  broker: test
  filter: {attributes: {type: test.slow}}
  subscriber:
    ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: svc-slow}
  delivery:
    retry: 0
    timeout: PT0.1S
    deadLetterSink:
      ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: dls}
      uri: /dead-letter
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: loop, namespace: ns}
spec:
  broker: test
  filter: {attributes: {type: test.loop}}
  subscriber:
    ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: svc-loop}
  delivery: {retry: 0}
`

const otherBrokerYAML = `apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: x, namespace: ns}
spec:
  broker: other
  filter: {attributes: {type: test.a}}
  subscriber:
    ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: svc-unknown}
`

func fixture() fstest.MapFS {
	return fstest.MapFS{
		"test.yaml":  {Data: []byte(fixtureYAML)},
		"other.yml":  {Data: []byte(otherBrokerYAML)},
		"README.md":  {Data: []byte("not a manifest")},
		"sub/x.yaml": {Data: []byte("not: read")},
	}
}

// request is what a sink received.
type request struct {
	event  event.Event
	path   string
	header http.Header
}

// sink is a subscriber over real HTTP. respond decides the answer to its
// n-th request (from 1); it may block.
type sink struct {
	*httptest.Server
	got chan request

	mu sync.Mutex
	n  int
}

type responder func(n int, r *http.Request, e event.Event) (int, *event.Event)

func ok(int, *http.Request, event.Event) (int, *event.Event) { return http.StatusOK, nil }

func newSink(t *testing.T, respond responder) *sink {
	t.Helper()
	s := &sink{got: make(chan request, 1000)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := cehttp.NewEventFromHTTPRequest(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.n++
		n := s.n
		s.mu.Unlock()
		s.got <- request{event: *e, path: r.URL.Path, header: r.Header.Clone()}
		code, reply := respond(n, r, *e)
		if reply == nil {
			w.WriteHeader(code)
			if code >= 300 {
				fmt.Fprintf(w, "refused with %d", code)
			}
			return
		}
		if err := cehttp.WriteResponseWriter(r.Context(), binding.ToMessage(reply), code, w); err != nil {
			t.Errorf("sink: write reply: %v", err)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// count is the number of requests the sink has had.
func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// next waits for the sink's next request.
func (s *sink) next(t *testing.T) request {
	t.Helper()
	select {
	case r := <-s.got:
		return r
	case <-time.After(10 * time.Second): // a hang, not a timing assumption
		t.Fatal("sink: no request")
		return request{}
	}
}

// sleeps records the backoff delays instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) delays() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// env is a broker on the fixture with its sinks and ingress server.
type env struct {
	b       *broker.Broker
	ingress *httptest.Server
	reg     *prometheus.Registry
	sleeps  *sleeps
	sinks   map[string]*sink
}

// newEnv starts a broker on the fixture; responders maps a Service of the
// fixture to its behaviour (default: 200, no reply). cfg.Subscribers, when
// set, adds to or overrides the URLs of the fixture's sinks.
func newEnv(t *testing.T, cfg broker.Config, responders map[string]responder) *env {
	t.Helper()
	en := &env{reg: prometheus.NewRegistry(), sleeps: &sleeps{}, sinks: map[string]*sink{}}
	subs := map[string]string{}
	for _, svc := range []string{"svc-a", "svc-b", "svc-c", "svc-slow", "svc-loop", "dls"} {
		respond := responders[svc]
		if respond == nil {
			respond = ok
		}
		en.sinks[svc] = newSink(t, respond)
		subs[svc] = en.sinks[svc].URL
	}
	if cfg.Manifests == nil {
		cfg.Manifests = fixture()
		cfg.Name = "test"
	}
	maps.Copy(subs, cfg.Subscribers)
	cfg.Subscribers = subs
	cfg.Registerer = en.reg
	if cfg.Sleep == nil {
		cfg.Sleep = en.sleeps.sleep
	}
	b, err := broker.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	en.b = b
	en.ingress = httptest.NewServer(b)
	t.Cleanup(func() {
		en.ingress.Close()
		_ = b.Close()
	})
	return en
}

// drain waits for every delivery to finish.
func (en *env) drain(t *testing.T) {
	t.Helper()
	if err := en.b.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// newEvent returns a valid event of type typ with JSON data and a batchid.
func newEvent(t *testing.T, typ, id string) event.Event {
	t.Helper()
	e, err := events.New(typ, "test/source", id, "batch-1", map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// post sends e to url in binary or structured mode and returns the status.
func post(t *testing.T, url string, e event.Event, structured bool) int {
	t.Helper()
	ctx := binding.WithForceBinary(context.Background())
	if structured {
		ctx = binding.WithForceStructured(context.Background())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cehttp.WriteRequest(ctx, binding.ToMessage(&e), req); err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

// postRaw sends body with the given headers and returns the status.
func postRaw(t *testing.T, url string, header map[string]string, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

// metric returns the value of the counter or gauge name with the given
// labels, name-value pairs (0 when absent).
func metric(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	v, _, err := metricstest.Value(reg, name, want)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// ext returns e's extension name as a string.
func ext(e event.Event, name string) string {
	v, _ := e.Extensions()[strings.ToLower(name)].(string)
	return v
}
