package broker_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/events/broker"
	"github.com/pricefn/pricefn/internal/logtest"
)

// Every log line about an event names its batchid, type and id (and, for a
// delivery, its trigger).
func TestLogLinesCarryEvent(t *testing.T) {
	var buf logtest.Buffer
	en := newEnv(t, broker.Config{Logger: zerolog.New(&buf).Level(zerolog.DebugLevel)},
		map[string]responder{"svc-a": failing(http.StatusInternalServerError)})
	if code := post(t, en.ingress.URL, newEvent(t, "test.a", "logged"), false); code != http.StatusAccepted {
		t.Fatalf("post: %d", code)
	}
	en.drain(t)
	perMessage := map[string]int{}
	sc := bufio.NewScanner(bytes.NewBufferString(buf.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		msg, _ := line["message"].(string)
		if msg == "trigger loaded" || msg == "broker stopped" {
			continue
		}
		perMessage[msg]++
		if line["batchid"] != "batch-1" || line["type"] != "test.a" || line["id"] != "logged" {
			t.Errorf("log line %s lacks the event's batchid, type or id", sc.Text())
		}
		if line["trigger"] == nil {
			t.Errorf("log line %s lacks the trigger", sc.Text())
		}
		if msg == "delivery failed: will retry" {
			// In seconds, named so: zerolog's Dur gave milliseconds
			// as "backoff".
			if s, ok := line["backoffSeconds"].(float64); !ok || s <= 0 || s > 60 || line["backoff"] != nil {
				t.Errorf("log line %s: want the back-off in seconds as backoffSeconds", sc.Text())
			}
		}
	}
	for _, msg := range []string{"event queued", "delivery failed: will retry", "delivery failed for good: sending to the dead-letter sink", "delivery done"} {
		if perMessage[msg] == 0 {
			t.Errorf("no %q line in the log; got %v", msg, perMessage)
		}
	}
}

// TestLogLinesBoundTheEvent: the event's attributes each log line
// carries are the sender's, of any length: each is cut as an error quotes
// a value (pricing.Shown), where a 100,000-byte id and batchid made every
// line about the event 200 KB (the functions' own lines were cut).
func TestLogLinesBoundTheEvent(t *testing.T) {
	var buf logtest.Buffer
	en := newEnv(t, broker.Config{Logger: zerolog.New(&buf).Level(zerolog.DebugLevel)},
		map[string]responder{"svc-a": failing(http.StatusInternalServerError)})
	long := strings.Repeat("x", 100_000)
	e, err := events.New("test.a", "test/source", long, long, map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	e.SetExtension(events.ExtTraceParent, long)
	if code := post(t, en.ingress.URL, e, false); code != http.StatusAccepted {
		t.Fatalf("post: %d", code)
	}
	en.drain(t)
	lines := 0
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if !strings.Contains(line, `"batchid":`) { // not about the event
			continue
		}
		lines++
		if len(line) > 2000 || !strings.Contains(line, `"id":"xxx`) || !strings.Contains(line, "(100000 bytes)") {
			t.Errorf("logged in %d bytes, want under 2,000 with the id's start and length: %.300s", len(line), line)
		}
	}
	if lines == 0 {
		t.Errorf("no line about the event:\n%.2000s", buf.String())
	}
}

// chunkYAML routes the chunk events to svc-a.
const chunkYAML = `
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: test, namespace: ns}
spec:
  delivery: {retry: 2, backoffPolicy: exponential, backoffDelay: PT0.001S}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: chunks, namespace: ns}
spec:
  broker: test
  filter: {attributes: {type: io.pricefn.chunk.requested}}
  subscriber:
    ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: svc-a}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: priced, namespace: ns}
spec:
  broker: test
  filter: {attributes: {type: io.pricefn.chunk.priced}}
  subscriber:
    ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: svc-a}
`

// TestLogLinesCarryChunk: every log line about a chunk's event names its
// chunk, as its id does (README: log lines carry "batchid and traceparent,
// and chunk where there is one"); the lines of another event name none.
func TestLogLinesCarryChunk(t *testing.T) {
	var buf logtest.Buffer
	en := newEnv(t, broker.Config{
		Name:      "test",
		Manifests: fstest.MapFS{"chunks.yaml": {Data: []byte(chunkYAML)}},
		Logger:    zerolog.New(&buf).Level(zerolog.DebugLevel),
	}, map[string]responder{"svc-a": func(n int, _ *http.Request, _ event.Event) (int, *event.Event) {
		if n%2 == 1 {
			return http.StatusServiceUnavailable, nil // every other delivery fails: retry lines too
		}
		return http.StatusOK, nil
	}})
	wantChunk := map[string]float64{
		"batch-1/chunk/7":           7,
		"batch-1@acme/a2/chunk/12":  12,
		"batch-1/chunk/3/priced":    3,
		"batch-1/a3/chunk/0/priced": 0,
	}
	for _, e := range []event.Event{
		newEvent(t, events.TypeChunkRequested, "batch-1/chunk/7"),
		newEvent(t, events.TypeChunkRequested, "batch-1@acme/a2/chunk/12"),
		newEvent(t, events.TypeChunkPriced, "batch-1/chunk/3/priced"),
		newEvent(t, events.TypeChunkPriced, "batch-1/a3/chunk/0/priced"),
		newEvent(t, events.TypeBatchAccepted, "batch-1/accepted"), // no trigger: logged all the same
	} {
		if code := post(t, en.ingress.URL, e, false); code != http.StatusAccepted {
			t.Fatalf("post %s: %d", e.ID(), code)
		}
	}
	en.drain(t)
	seen := map[string]int{}
	sc := bufio.NewScanner(bytes.NewBufferString(buf.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		id, _ := line["id"].(string)
		if id == "" {
			continue // the broker's own lines
		}
		seen[id]++
		want, isChunk := wantChunk[id]
		got, has := line["chunk"]
		switch {
		case isChunk && got != want:
			t.Errorf("log line %s: chunk %v, want %v", sc.Text(), got, want)
		case !isChunk && has:
			t.Errorf("log line %s of no chunk names chunk %v", sc.Text(), got)
		}
	}
	for id := range wantChunk {
		if seen[id] < 2 { // queued and done at least
			t.Errorf("%d log lines of %s, want 2 or more", seen[id], id)
		}
	}
	if seen["batch-1/accepted"] == 0 {
		t.Errorf("no log line of batch-1/accepted")
	}
}
