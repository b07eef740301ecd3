package broker_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/pricefn/pricefn/events/broker"
)

func TestIngressBinaryAndStructured(t *testing.T) {
	en := newEnv(t, broker.Config{}, nil)
	for _, structured := range []bool{false, true} {
		e := newEvent(t, "test.b", "mode")
		if code := post(t, en.ingress.URL, e, structured); code != http.StatusAccepted {
			t.Errorf("structured=%v: %d, want 202", structured, code)
			continue
		}
		got := en.sinks["svc-b"].next(t)
		if got.event.ID() != "mode" || string(got.event.Data()) != string(e.Data()) || ext(got.event, "batchid") != "batch-1" {
			t.Errorf("structured=%v: delivered %v", structured, got.event)
		}
		// Deliveries are in binary mode whatever the ingress mode.
		if got.header.Get("Ce-Id") != "mode" || got.header.Get("Content-Type") != "application/json" {
			t.Errorf("structured=%v: delivery headers %v, want binary mode", structured, got.header)
		}
	}
	en.drain(t)
	if v := metric(t, en.reg, "pricefn_broker_events_received_total", "origin", "http", "outcome", "accepted"); v != 2 {
		t.Errorf("accepted = %v, want 2", v)
	}
}

func TestIngressRefusesMalformed(t *testing.T) {
	en := newEnv(t, broker.Config{MaxEventBytes: 256}, nil)
	binary := func(drop string) map[string]string {
		h := map[string]string{"Ce-Specversion": "1.0", "Ce-Id": "1", "Ce-Source": "s", "Ce-Type": "test.b", "Content-Type": "application/json"}
		delete(h, drop)
		return h
	}
	structured := map[string]string{"Content-Type": "application/cloudevents+json"}
	tests := []struct {
		name   string
		header map[string]string
		body   string
		want   int
	}{
		{"plain JSON", map[string]string{"Content-Type": "application/json"}, `{"a":1}`, http.StatusBadRequest},
		{"no headers at all", nil, "hello", http.StatusBadRequest},
		{"binary without id", binary("Ce-Id"), `{}`, http.StatusBadRequest},
		{"binary without type", binary("Ce-Type"), `{}`, http.StatusBadRequest},
		{"binary bad specversion", map[string]string{"Ce-Specversion": "9.9", "Ce-Id": "1", "Ce-Source": "s", "Ce-Type": "t"}, ``, http.StatusBadRequest},
		{"structured bad JSON", structured, `{"specversion":"1.0",`, http.StatusBadRequest},
		{"structured without source", structured, `{"specversion":"1.0","id":"1","type":"test.b"}`, http.StatusBadRequest},
		{"batch", map[string]string{"Content-Type": "application/cloudevents-batch+json"}, `[]`, http.StatusBadRequest},
		{"binary too large", binary(""), `"` + strings.Repeat("x", 1000) + `"`, http.StatusRequestEntityTooLarge},
		{"structured too large", structured, `{"specversion":"1.0","id":"1","source":"s","type":"test.b","data":"` + strings.Repeat("x", 1000) + `"}`, http.StatusRequestEntityTooLarge},
		{"valid binary", binary(""), `{}`, http.StatusAccepted},
		{"valid structured", structured, `{"specversion":"1.0","id":"2","source":"s","type":"test.b"}`, http.StatusAccepted},
	}
	for _, tt := range tests {
		if got := postRaw(t, en.ingress.URL, tt.header, tt.body); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
	en.drain(t)
	if v := metric(t, en.reg, "pricefn_broker_events_received_total", "origin", "http", "outcome", "malformed"); v != 8 {
		t.Errorf("malformed = %v, want 8", v)
	}
	if n := en.sinks["svc-b"].count(); n != 2 {
		t.Errorf("svc-b had %d requests, want 2", n)
	}
}

func TestIngressQueueFull(t *testing.T) {
	release := make(chan struct{})
	// No batch quota: the queue's bound alone (TestBatchQuota has both).
	en := newEnv(t, broker.Config{QueueSize: 1, Workers: 1, BatchQuota: -1}, map[string]responder{
		"svc-b": func(int, *http.Request, event.Event) (int, *event.Event) { <-release; return http.StatusOK, nil },
	})
	if code := post(t, en.ingress.URL, newEvent(t, "test.b", "q1"), false); code != http.StatusAccepted {
		t.Fatalf("first post: %d, want 202", code)
	}
	en.sinks["svc-b"].next(t) // q1 holds the only slot until svc-b answers
	if code := post(t, en.ingress.URL, newEvent(t, "test.b", "q2"), false); code != http.StatusTooManyRequests {
		t.Errorf("post to a full queue: %d, want 429", code)
	}
	// An event matching no Trigger needs no slot.
	if code := post(t, en.ingress.URL, newEvent(t, "test.none", "q3"), false); code != http.StatusAccepted {
		t.Errorf("unmatched post to a full queue: %d, want 202", code)
	}
	if v := metric(t, en.reg, "pricefn_broker_queue_depth"); v != 1 {
		t.Errorf("queue depth = %v, want 1", v)
	}
	close(release)
	en.drain(t)
	if v := metric(t, en.reg, "pricefn_broker_events_received_total", "origin", "http", "outcome", "queue_full"); v != 1 {
		t.Errorf("queue_full = %v, want 1", v)
	}
}

func TestIngressMethodsAndHealth(t *testing.T) {
	en := newEnv(t, broker.Config{}, nil)
	if got := getStatus(t, en.ingress.URL+"/"); got != http.StatusMethodNotAllowed {
		t.Errorf("GET /: %d, want 405", got)
	}
	if got := getStatus(t, en.ingress.URL+broker.HealthPath); got != http.StatusOK {
		t.Errorf("GET %s: %d, want 200", broker.HealthPath, got)
	}
	en.drain(t)
	if got := getStatus(t, en.ingress.URL+broker.HealthPath); got != http.StatusServiceUnavailable {
		t.Errorf("GET %s after Shutdown: %d, want 503", broker.HealthPath, got)
	}
	if code := post(t, en.ingress.URL, newEvent(t, "test.b", "late"), false); code != http.StatusServiceUnavailable {
		t.Errorf("post after Shutdown: %d, want 503", code)
	}
}
