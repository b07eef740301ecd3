package broker_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/events/broker"
)

// TestConcurrencyBound: with Concurrency 2 for svc-slow, at most two
// deliveries to it are in progress at once; the others wait their turn in
// the broker, where the Trigger's 100 ms attempt timeout does not run
// (sixty deliveries of 4 ms each take 120 ms, and none times out or is
// dead-lettered), and the other Triggers' deliveries do not wait behind
// them. (A delivery 25 times shorter than the timeout: at five times, 4 ms
// against 20, a loaded machine under the race detector made some time
// out.)
func TestConcurrencyBound(t *testing.T) {
	var now, most atomic.Int32
	var mu sync.Mutex
	var slowDone []time.Time
	slow := func(_ int, _ *http.Request, _ event.Event) (int, *event.Event) {
		n := now.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(4 * time.Millisecond)
		now.Add(-1)
		mu.Lock()
		slowDone = append(slowDone, time.Now())
		mu.Unlock()
		return http.StatusOK, nil
	}
	en := newEnv(t, broker.Config{Concurrency: map[string]int{"svc-slow": 2}}, map[string]responder{"svc-slow": slow})
	const n = 60
	for i := range n {
		if code := post(t, en.ingress.URL, newEvent(t, "test.slow", fmt.Sprintf("s%d", i)), false); code != http.StatusAccepted {
			t.Fatalf("post: %d", code)
		}
	}
	if code := post(t, en.ingress.URL, newEvent(t, "test.a", "quick"), false); code != http.StatusAccepted {
		t.Fatalf("post: %d", code)
	}
	quick := en.sinks["svc-a"].next(t) // waits for it
	quickAt := time.Now()
	en.drain(t)
	_ = quick
	if m := most.Load(); m != 2 {
		t.Errorf("%d deliveries to svc-slow at once, want 2", m)
	}
	if v := metric(t, en.reg, "pricefn_broker_deliveries_total", "trigger", "slow", "outcome", "delivered"); v != n {
		t.Errorf("delivered to svc-slow: %v, want %d", v, n)
	}
	if n := en.sinks["dls"].count(); n != 0 {
		t.Errorf("dead-letter sink had %d requests, want 0", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(slowDone) != n || !quickAt.Before(slowDone[len(slowDone)-1]) {
		t.Errorf("test.a delivered at %v, the last test.slow at %v: want it not to wait behind them", quickAt, slowDone[len(slowDone)-1])
	}
}

// TestTurnsTakenByTenant: the deliveries waiting their turn are taken a
// tenant at a time, each tenant's in the order they came: bob's, queued
// first, held alice's and carol's behind them all (on a busy pricer, till
// their batches failed at their deadlines).
func TestTurnsTakenByTenant(t *testing.T) {
	h := newHolder()
	// svc-b: no attempt timeout, so bob-0 holds the one turn until released.
	en := newEnv(t, broker.Config{Concurrency: map[string]int{"svc-b": 1}}, map[string]responder{"svc-b": h.serve})
	defer h.free() // a failure must not leave the server waiting on its handler
	parked := 0
	send := func(tenant, id string) {
		t.Helper()
		e := newEvent(t, "test.b", id)
		e.SetExtension(events.ExtTenant, tenant)
		h.send(t, en, "svc-b", e, parked)
		if id != "bob-0" {
			parked++
		}
	}
	send("bob", "bob-0")
	for i := 1; i <= 4; i++ {
		send("bob", fmt.Sprint("bob-", i))
	}
	send("alice", "alice-1")
	send("alice", "alice-2")
	send("carol", "carol-1")
	h.free()
	en.drain(t)
	want := "bob-0 bob-1 alice-1 carol-1 bob-2 alice-2 bob-3 bob-4"
	if got := h.delivered(); got != want {
		t.Errorf("delivered in the order\n%s\nwant\n%s", got, want)
	}
	if v := metric(t, en.reg, "pricefn_broker_deliveries_waiting_turn", "service", "svc-b"); v != 0 {
		t.Errorf("%v waiting after the drain", v)
	}
}

// holder is a Service that records the ids of the events delivered to it
// and holds the first delivery until freed: its turn taken, the others
// park meanwhile.
type holder struct {
	mu      sync.Mutex
	order   []string
	started chan struct{} // the first delivery has come
	release chan struct{}
	once    sync.Once
	sent    int // the events send has sent
}

func newHolder() *holder {
	return &holder{started: make(chan struct{}), release: make(chan struct{})}
}

func (h *holder) serve(_ int, _ *http.Request, e event.Event) (int, *event.Event) {
	h.mu.Lock()
	h.order = append(h.order, e.ID())
	first := len(h.order) == 1
	h.mu.Unlock()
	if first {
		close(h.started)
		<-h.release
	}
	return http.StatusOK, nil
}

// free lets the first delivery end.
func (h *holder) free() { h.once.Do(func() { close(h.release) }) }

// delivered is the ids delivered so far, in order, between spaces.
func (h *holder) delivered() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.order, " ")
}

// send posts e to en and waits until it holds svc's turn (the first
// event sent, parked 0) or is parked, after parked others.
func (h *holder) send(t *testing.T, en *env, svc string, e event.Event, parked int) {
	t.Helper()
	if code := post(t, en.ingress.URL, e, false); code != http.StatusAccepted {
		t.Fatalf("post %s: %d", e.ID(), code)
	}
	if h.sent++; h.sent == 1 {
		<-h.started // the first: it holds the turn
		return
	}
	for deadline := time.Now().Add(10 * time.Second); metric(t, en.reg, "pricefn_broker_deliveries_waiting_turn", "service", svc) != float64(parked+1); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s not parked", e.ID())
		}
	}
}

// TestTurnsTakeABatchsChunksInOrder: a batch's chunks waiting their turn
// are delivered in their order in the batch, not in the order they came
// (ingress sends them at once, and the results are streamed in input
// order), and never ahead of another batch's chunk that came before them.
func TestTurnsTakeABatchsChunksInOrder(t *testing.T) {
	h := newHolder()
	en := newEnv(t, broker.Config{
		Name:        "test",
		Manifests:   fstest.MapFS{"chunks.yaml": {Data: []byte(chunkYAML)}},
		Concurrency: map[string]int{"svc-a": 1},
	}, map[string]responder{"svc-a": h.serve})
	defer h.free() // a failure must not leave the server waiting on its handler
	for n, id := range []string{"batch-1/chunk/9", "batch-1/chunk/4", "batch-1/chunk/6", "batch-1/chunk/0", "batch-2/chunk/1", "batch-1/chunk/5", "batch-1/chunk/2"} {
		e := newEvent(t, events.TypeChunkRequested, id)
		e.SetExtension(events.ExtBatchID, strings.Split(id, "/")[0])
		h.send(t, en, "svc-a", e, max(n-1, 0))
	}
	h.free()
	en.drain(t)
	want := "batch-1/chunk/9 batch-1/chunk/0 batch-1/chunk/4 batch-1/chunk/6 batch-2/chunk/1 batch-1/chunk/2 batch-1/chunk/5"
	if got := h.delivered(); got != want {
		t.Errorf("delivered in the order\n%s\nwant\n%s", got, want)
	}
}
