package broker_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/events/broker"
	"github.com/pricefn/pricefn/knative"
)

// clock is the virtual time of a broker whose Sleep advances it instead of
// waiting: the time since the first attempt, as the sum of the backoffs.
type clock struct {
	mu    sync.Mutex
	now   time.Duration
	hooks []func(time.Duration) // run after each advance
}

func (c *clock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now += d
	now, hooks := c.now, c.hooks
	c.mu.Unlock()
	for _, h := range hooks {
		h(now)
	}
	return ctx.Err()
}

func (c *clock) since() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// TestRealManifestsSurviveOutage sends a chunk.requested through the
// project's Triggers to a pricer that is gone (503, or its port closed)
// for a while of virtual time, and checks that the chunk is priced once the
// pricer is back within the retry budget, and dead-lettered when it stays
// away longer.
func TestRealManifestsSurviveOutage(t *testing.T) {
	m, err := broker.LoadManifest(knative.Manifests(), broker.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	var sched broker.Schedule
	for _, tr := range m.Triggers {
		if tr.Filter["type"] == events.TypeChunkRequested {
			if sched, err = m.DeliveryOf(tr).Schedule(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// attemptsBy returns the attempts made by the time the pricer is back
	// after away, counting the one that reaches it.
	attemptsBy := func(away time.Duration) int {
		var at time.Duration
		for i, d := range sched.Backoffs {
			at += d
			if at >= away {
				return i + 2
			}
		}
		return -1 // never
	}
	tests := []struct {
		name      string
		away      time.Duration
		closed    bool // port closed rather than 503
		delivered bool
	}{
		{"503 for 30 s", 30 * time.Second, false, true},
		{"port closed for 30 s", 30 * time.Second, true, true},
		{"503 for 60 s", 60 * time.Second, false, true},
		{"503 for longer than the budget", sched.Outage() + time.Second, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{}
			var requests atomic.Int64
			pricer := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				e, err := cehttp.NewEventFromHTTPRequest(r)
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				if clk.since() < tt.away {
					http.Error(w, "no pod", http.StatusServiceUnavailable)
					return
				}
				reply, err := events.New(events.TypeChunkPriced, "pricefn-pricer", e.ID()+"-priced", events.BatchID(*e), map[string]int{"index": 0})
				if err != nil {
					t.Error(err)
				}
				if err := cehttp.WriteResponseWriter(r.Context(), binding.ToMessage(&reply), http.StatusOK, w); err != nil {
					t.Error(err)
				}
			}))
			t.Cleanup(pricer.Close)
			addr := pricer.Listener.Addr().String()
			if tt.closed {
				pricer.Listener.Close() // connection refused until the pricer is back
				var once sync.Once
				clk.hooks = append(clk.hooks, func(now time.Duration) {
					if now < tt.away {
						return
					}
					once.Do(func() {
						ln, err := net.Listen("tcp", addr)
						if err != nil {
							t.Errorf("pricer back on %s: %v", addr, err)
							return
						}
						pricer.Listener = ln
						pricer.Start()
					})
				})
			} else {
				pricer.Start()
			}
			aggregator := newSink(t, ok)
			en := newEnv(t, broker.Config{
				Manifests: knative.Manifests(),
				Subscribers: map[string]string{
					"pricefn-ingress":    aggregator.URL,
					"pricefn-pricer":     "http://" + addr,
					"pricefn-aggregator": aggregator.URL,
				},
				Sleep: clk.sleep,
			}, nil)
			if code := post(t, en.ingress.URL, newEvent(t, events.TypeChunkRequested, "chunk-1"), false); code != http.StatusAccepted {
				t.Fatalf("post: %d", code)
			}
			got := aggregator.next(t)
			en.drain(t)

			if !tt.delivered {
				if got.path != "/dead-letter" || got.event.ID() != "chunk-1" {
					t.Errorf("aggregator got %s at %s, want chunk-1 dead-lettered", got.event.ID(), got.path)
				}
				if n := requests.Load(); n != int64(sched.Attempts) {
					t.Errorf("pricer had %d requests, want %d (every attempt)", n, sched.Attempts)
				}
				return
			}
			if got.path != "/" || got.event.Type() != events.TypeChunkPriced || got.event.ID() != "chunk-1-priced" {
				t.Errorf("aggregator got %s %s at %s, want chunk-1-priced at /", got.event.Type(), got.event.ID(), got.path)
			}
			want := attemptsBy(tt.away)
			if tt.closed {
				want = 1 // the refused attempts never reached the handler
			}
			if n := requests.Load(); n != int64(want) {
				t.Errorf("pricer had %d requests, want %d", n, want)
			}
			if clk.since() < tt.away {
				t.Errorf("delivered at %v of virtual time, before the pricer was back (%v)", clk.since(), tt.away)
			}
			if n := aggregator.count(); n != 1 {
				t.Errorf("aggregator had %d requests, want 1 (no dead letter)", n)
			}
			if v := metric(t, en.reg, "pricefn_broker_deliveries_total", "trigger", "pricefn-chunk-requested", "outcome", "delivered"); v != 1 {
				t.Errorf("chunk.requested delivered = %v, want 1", v)
			}
		})
	}
}
