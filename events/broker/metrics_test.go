package broker_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/events/broker"
	"github.com/pricefn/pricefn/internal/logtest"
)

// TestQueueAndEventLatency: an event its subscriber always refuses waits
// in the queue once per attempt (4 to the subscriber, 1 to the dead-letter
// sink) and ends dead_lettered once; every other label value is there at
// zero from the start; every log line about it carries its traceparent.
func TestQueueAndEventLatency(t *testing.T) {
	var buf logtest.Buffer
	en := newEnv(t, broker.Config{Logger: zerolog.New(&buf).Level(zerolog.DebugLevel)},
		map[string]responder{"svc-a": failing(http.StatusServiceUnavailable)})
	for _, s := range [][]string{
		{"pricefn_broker_event_latency_seconds", "trigger", "b", "outcome", "dropped"},
		{"pricefn_broker_queue_wait_seconds", "trigger", "slow"},
		{"pricefn_broker_retries_total", "trigger", "loop", "target", "dead_letter"},
		{"pricefn_broker_events_received_total", "origin", "reply", "outcome", "ttl_expired"},
	} {
		if !strings.Contains(gathered(t, en), seriesText(s)) {
			t.Errorf("no series %s at start", seriesText(s))
		}
	}
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	e := newEvent(t, "test.a", "e503")
	e.SetExtension(events.ExtTraceParent, tp)
	if code := post(t, en.ingress.URL, e, false); code != http.StatusAccepted {
		t.Fatalf("post: %d", code)
	}
	en.sinks["dls"].next(t)
	en.drain(t)
	if v := metric(t, en.reg, "pricefn_broker_queue_wait_seconds", "trigger", "a"); v != 5 {
		t.Errorf("queue waits of trigger a: %v, want 5 (4 attempts, 1 to the dead-letter sink)", v)
	}
	if v := metric(t, en.reg, "pricefn_broker_event_latency_seconds", "trigger", "a", "outcome", "dead_lettered"); v != 1 {
		t.Errorf("events of trigger a ended dead_lettered: %v, want 1", v)
	}
	if v := metric(t, en.reg, "pricefn_broker_event_latency_seconds", "trigger", "a", "outcome", "delivered"); v != 0 {
		t.Errorf("events of trigger a ended delivered: %v, want 0", v)
	}
	lines := 0
	for line := range strings.Lines(buf.String()) {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil || m["id"] != "e503" {
			continue
		}
		lines++
		if m["traceparent"] != tp {
			t.Errorf("log line without the event's traceparent: %s", line)
		}
	}
	if lines < 5 {
		t.Errorf("%d log lines about the event, want at least 5", lines)
	}
}

// TestLatencyBucketsCoverTheLongestDeadline: a delivery may wait in the
// queue, and an event for its outcome, as long as its batch's deadline, a
// day at most (batch.MaxDeadline); the buckets stopped at 160 s and 150 s,
// and every longer wait was in +Inf alone. They reach past a day, in a
// bounded number of buckets.
func TestLatencyBucketsCoverTheLongestDeadline(t *testing.T) {
	en := newEnv(t, broker.Config{}, map[string]responder{})
	fams, err := en.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"pricefn_broker_queue_wait_seconds": true, "pricefn_broker_event_latency_seconds": true}
	for _, f := range fams {
		if !want[f.GetName()] || len(f.GetMetric()) == 0 {
			continue
		}
		delete(want, f.GetName())
		b := f.GetMetric()[0].GetHistogram().GetBucket()
		if top := b[len(b)-1].GetUpperBound(); top < batch.MaxDeadline.Seconds() || len(b) > 21 {
			t.Errorf("%s: %d buckets, the last %v s: want at most 21, the last at %v s (batch.MaxDeadline) or more", f.GetName(), len(b), top, batch.MaxDeadline.Seconds())
		}
	}
	for name := range want {
		t.Errorf("no series of %s", name)
	}
}

// seriesText is the text form of a series' name and labels as gathered
// writes them: the broker's label and the others, sorted by name.
func seriesText(s []string) string {
	labels := []string{`broker="test"`}
	for i := 1; i+1 < len(s); i += 2 {
		labels = append(labels, s[i]+`="`+s[i+1]+`"`)
	}
	slices.Sort(labels)
	return s[0] + "{" + strings.Join(labels, ",") + "}"
}

// gathered returns the broker's series as text: names and labels.
func gathered(t *testing.T, en *env) string {
	t.Helper()
	fams, err := en.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			b.WriteString(f.GetName() + "{")
			for i, l := range m.GetLabel() {
				if i > 0 {
					b.WriteString(",")
				}
				b.WriteString(l.GetName() + `="` + l.GetValue() + `"`)
			}
			b.WriteString("}\n")
		}
	}
	return b.String()
}
