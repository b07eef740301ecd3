package broker_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/events/broker"
)

// batchEvent returns an event of type typ in batch (no batchid when "").
func batchEvent(t *testing.T, typ, id, batch string) event.Event {
	t.Helper()
	e, err := events.New(typ, "test/source", id, batch, map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// postFull posts e in binary mode and returns the status and the
// Retry-After header.
func postFull(t *testing.T, url string, e event.Event) (int, string) {
	t.Helper()
	ctx := binding.WithForceBinary(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cehttp.WriteRequest(ctx, binding.ToMessage(&e), req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// waitIdle waits until the broker holds no delivery.
func waitIdle(t *testing.T, en *env) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second) // a hang, not a timing assumption
	for metric(t, en.reg, "pricefn_broker_queue_depth") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("deliveries never finished")
		}
		time.Sleep(time.Millisecond)
	}
}

// One batch may hold at most its quota (half the queue by default): beyond
// it the batch gets 429 with Retry-After while another batch still gets in;
// the global bound still applies; the quota comes back as deliveries end.
func TestBatchQuota(t *testing.T) {
	release := make(chan struct{})
	en := newEnv(t, broker.Config{QueueSize: 4, Workers: 1}, map[string]responder{
		"svc-b": func(int, *http.Request, event.Event) (int, *event.Event) { <-release; return http.StatusOK, nil },
	})
	url := en.ingress.URL
	steps := []struct {
		id, batch string
		want      int
	}{
		{"big-1", "big", http.StatusAccepted},
		{"big-2", "big", http.StatusAccepted},
		{"big-3", "big", http.StatusTooManyRequests}, // big holds 2 of 4: its quota
		{"small-1", "small", http.StatusAccepted},    // another batch still gets in
		{"small-2", "small", http.StatusAccepted},
	}
	for _, s := range steps {
		code, retryAfter := postFull(t, url, batchEvent(t, "test.b", s.id, s.batch))
		if code != s.want {
			t.Errorf("post %s: %d, want %d", s.id, code, s.want)
		}
		if code == http.StatusTooManyRequests && retryAfter != "1" {
			t.Errorf("post %s: Retry-After %q, want 1", s.id, retryAfter)
		}
	}
	res := en.b.Send(context.Background(), batchEvent(t, "test.b", "small-3", "small"))
	if !errors.Is(res, broker.ErrBatchFull) {
		t.Errorf("Send beyond the batch quota: %v, want ErrBatchFull", res)
	}
	// The queue itself is full: 4 of 4.
	if code, retryAfter := postFull(t, url, batchEvent(t, "test.b", "nobatch", "")); code != http.StatusTooManyRequests || retryAfter != "1" {
		t.Errorf("post to a full queue: %d, Retry-After %q; want 429 and 1", code, retryAfter)
	}
	if res := en.b.Send(context.Background(), batchEvent(t, "test.b", "other-1", "other")); !errors.Is(res, broker.ErrQueueFull) {
		t.Errorf("Send to a full queue: %v, want ErrQueueFull", res)
	}
	if v := metric(t, en.reg, "pricefn_broker_events_received_total", "origin", "http", "outcome", "batch_full"); v != 1 {
		t.Errorf("batch_full = %v, want 1 (big-3)", v)
	}
	if v := metric(t, en.reg, "pricefn_broker_events_received_total", "origin", "http", "outcome", "queue_full"); v != 1 {
		t.Errorf("queue_full = %v, want 1 (nobatch)", v)
	}
	close(release)
	waitIdle(t, en)
	for _, id := range []string{"big-5", "big-6"} {
		if code := post(t, url, batchEvent(t, "test.b", id, "big"), false); code != http.StatusAccepted {
			t.Errorf("post %s after the queue drained: %d, want 202", id, code)
		}
	}
	en.drain(t)
	if v := metric(t, en.reg, "pricefn_broker_deliveries_total", "trigger", "b", "outcome", "delivered"); v != 6 {
		t.Errorf("delivered = %v, want 6", v)
	}
}

// TestBatchQuotaPerTenant: a batch id is a tenant's own, and so is its
// quota. Another tenant's batch of the same id was held back behind the
// first's share, 429 after 429, for as long as that batch filled it.
func TestBatchQuotaPerTenant(t *testing.T) {
	release := make(chan struct{})
	en := newEnv(t, broker.Config{QueueSize: 6, Workers: 1}, map[string]responder{
		"svc-b": func(int, *http.Request, event.Event) (int, *event.Event) { <-release; return http.StatusOK, nil },
	})
	of := func(tenant, id string) event.Event {
		e := batchEvent(t, "test.b", tenant+"-"+id, "eod-1")
		e.SetExtension(events.ExtTenant, tenant)
		return e
	}
	for _, s := range []struct {
		tenant, id string
		want       int
	}{
		{"bob", "1", http.StatusAccepted},
		{"bob", "2", http.StatusAccepted},
		{"bob", "3", http.StatusAccepted},
		{"bob", "4", http.StatusTooManyRequests}, // bob's eod-1 holds its 3 of 6
		{"alice", "1", http.StatusAccepted},      // alice's eod-1 is another batch
		{"alice", "2", http.StatusAccepted},
	} {
		if code, _ := postFull(t, en.ingress.URL, of(s.tenant, s.id)); code != s.want {
			t.Errorf("%s's %s: %d, want %d", s.tenant, s.id, code, s.want)
		}
	}
	close(release)
	en.drain(t)
}

func TestBatchQuotaConfig(t *testing.T) {
	tests := []struct {
		quota, accepted int
	}{
		{quota: -1, accepted: 4}, // no quota but the queue's
		{quota: 3, accepted: 3},
		{quota: 9, accepted: 4}, // over the queue: the queue's
	}
	for _, tt := range tests {
		release := make(chan struct{})
		en := newEnv(t, broker.Config{QueueSize: 4, Workers: 1, BatchQuota: tt.quota}, map[string]responder{
			"svc-b": func(int, *http.Request, event.Event) (int, *event.Event) { <-release; return http.StatusOK, nil },
		})
		accepted := 0
		for i := range 5 {
			if post(t, en.ingress.URL, batchEvent(t, "test.b", fmt.Sprint("e", i), "big"), false) == http.StatusAccepted {
				accepted++
			}
		}
		if accepted != tt.accepted {
			t.Errorf("BatchQuota %d, queue 4: %d of 5 accepted, want %d", tt.quota, accepted, tt.accepted)
		}
		close(release)
		en.drain(t)
	}
}

// A reply counts toward its batch's quota but is never refused for it:
// the delivery it answers has done its work.
func TestReplyNotRefusedForBatchQuota(t *testing.T) {
	en := newEnv(t, broker.Config{QueueSize: 4, BatchQuota: 1}, map[string]responder{
		"svc-a": func(_ int, _ *http.Request, e event.Event) (int, *event.Event) {
			if e.ID() != "ea" {
				return http.StatusOK, nil
			}
			// Matches Triggers a and c: two deliveries for a batch of quota 1.
			r := batchEvent(t, "test.a", "ea-reply", "batch-1")
			r.SetSource("src-c")
			r.SetExtension("flavour", "x")
			return http.StatusOK, &r
		},
	})
	if code := post(t, en.ingress.URL, batchEvent(t, "test.a", "ea", "batch-1"), false); code != http.StatusAccepted {
		t.Fatalf("post: %d", code)
	}
	if r := en.sinks["svc-c"].next(t); r.event.ID() != "ea-reply" {
		t.Errorf("svc-c got %s, want ea-reply", r.event.ID())
	}
	en.drain(t)
	if a, dl := en.sinks["svc-a"].count(), en.sinks["dls"].count(); a != 2 || dl != 0 {
		t.Errorf("svc-a had %d requests, the dead-letter sink %d; want 2 (ea and its reply) and 0", a, dl)
	}
}
