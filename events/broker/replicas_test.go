package broker_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/pricefn/pricefn/events/broker"
)

// A Service with two addresses gets its first attempts in turn, and a
// retry goes to the other address: once one replica is gone, every event
// still reaches the other, after one retry when it was sent to the dead
// one, and none is dead-lettered.
func TestSubscriberReplicas(t *testing.T) {
	one, two := newSink(t, ok), newSink(t, ok)
	en := newEnv(t, broker.Config{Subscribers: map[string]string{"svc-a": one.URL + "," + two.URL}}, nil)
	for i := range 4 {
		if code := post(t, en.ingress.URL, newEvent(t, "test.a", "up-"+string(rune('a'+i))), false); code != http.StatusAccepted {
			t.Fatalf("post: %d", code)
		}
	}
	waitIdle(t, en)
	if one.count() != 2 || two.count() != 2 {
		t.Errorf("replicas had %d and %d requests, want 2 and 2 (round robin)", one.count(), two.count())
	}

	one.Close() // a replica killed: its port refuses connections
	for i := range 4 {
		if code := post(t, en.ingress.URL, newEvent(t, "test.a", "down-"+string(rune('a'+i))), false); code != http.StatusAccepted {
			t.Fatalf("post: %d", code)
		}
	}
	en.drain(t)
	if two.count() != 6 {
		t.Errorf("the live replica had %d requests, want 6 (2 before, 4 after)", two.count())
	}
	var got []string
	for range two.count() {
		got = append(got, two.next(t).event.ID())
	}
	slices.Sort(got)
	if len(got) != 6 || !slices.Equal(got[:4], []string{"down-a", "down-b", "down-c", "down-d"}) ||
		got[4] == got[5] || got[4][:3] != "up-" || got[5][:3] != "up-" {
		t.Errorf("the live replica got %v, want every down-* and two distinct up-*", got)
	}
	// Two of the four first attempts went to the dead replica, each
	// retried once, on the live one.
	if v := metric(t, en.reg, "pricefn_broker_retries_total", "trigger", "a", "target", "subscriber"); v != 2 {
		t.Errorf("retries = %v, want 2", v)
	}
	if d := en.sleeps.delays(); !slices.Equal(d, []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}) {
		t.Errorf("backoffs %v, want one first backoff per retried event", d)
	}
	if v := metric(t, en.reg, "pricefn_broker_deliveries_total", "trigger", "a", "outcome", "delivered"); v != 8 {
		t.Errorf("delivered = %v, want 8", v)
	}
	if n := en.sinks["dls"].count(); n != 0 {
		t.Errorf("dead-letter sink had %d requests, want 0", n)
	}
}

// The dead-letter sink's replicas are used in turn too.
func TestDeadLetterSinkReplicas(t *testing.T) {
	gone := newSink(t, ok)
	gone.Close()
	live := newSink(t, ok)
	en := newEnv(t, broker.Config{Subscribers: map[string]string{"dls": gone.URL + "," + live.URL}},
		map[string]responder{"svc-a": failing(http.StatusBadRequest)})
	for _, id := range []string{"x1", "x2"} {
		if code := post(t, en.ingress.URL, newEvent(t, "test.a", id), false); code != http.StatusAccepted {
			t.Fatalf("post: %d", code)
		}
	}
	en.drain(t)
	if live.count() != 2 {
		t.Errorf("the live dead-letter replica had %d requests, want 2", live.count())
	}
	if r := live.next(t); r.path != "/dead-letter" {
		t.Errorf("dead letter at %s, want /dead-letter", r.path)
	}
	if v := metric(t, en.reg, "pricefn_broker_deliveries_total", "trigger", "a", "outcome", "dead_lettered"); v != 2 {
		t.Errorf("dead_lettered = %v, want 2", v)
	}
}
