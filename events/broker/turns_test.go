package broker_test

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/pricefn/pricefn/events/broker"
)

// TestConcurrencyBound: with Concurrency 2 for svc-slow, at most two
// deliveries to it are in progress at once; the others wait their turn in
// the broker, where the Trigger's 20 ms attempt timeout does not run
// (twenty deliveries of 4 ms each take 40 ms, and none times out or is
// dead-lettered), and the other Triggers' deliveries do not wait behind
// them. (A delivery five times shorter than the timeout: at 12 ms, a
// loaded machine's scheduling made some time out.)
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
	for i := range 20 {
		if code := post(t, en.ingress.URL, newEvent(t, "test.slow", "s"+string(rune('a'+i))), false); code != http.StatusAccepted {
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
	if v := metric(t, en.reg, "pricefn_broker_deliveries_total", "trigger", "slow", "outcome", "delivered"); v != 20 {
		t.Errorf("delivered to svc-slow: %v, want 20", v)
	}
	if n := en.sinks["dls"].count(); n != 0 {
		t.Errorf("dead-letter sink had %d requests, want 0", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(slowDone) != 20 || !quickAt.Before(slowDone[len(slowDone)-1]) {
		t.Errorf("test.a delivered at %v, the last test.slow at %v: want it not to wait behind them", quickAt, slowDone[len(slowDone)-1])
	}
}
