package broker_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/events/broker"
)

// lockedBuffer is a bytes.Buffer safe for the broker's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// Every log line about an event names its batchid, type and id (and, for a
// delivery, its trigger).
func TestLogLinesCarryEvent(t *testing.T) {
	var buf lockedBuffer
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
	}
	for _, msg := range []string{"event queued", "delivery failed: will retry", "delivery failed for good: sending to the dead-letter sink", "delivery done"} {
		if perMessage[msg] == 0 {
			t.Errorf("no %q line in the log; got %v", msg, perMessage)
		}
	}
}
