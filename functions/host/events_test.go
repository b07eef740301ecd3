package host_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/internal/logtest"
)

// TestEventsReuseBodies: the event's data is read into buffers reused from
// one request to the next; every handler sees its own event's data, whole,
// however many requests run at once, and its reply (made from it) is its
// own. Run under -race by make test.
func TestEventsReuseBodies(t *testing.T) {
	payload := func(i int) []byte {
		// Sizes from a few bytes to past a megabyte, each byte tied to i.
		n := 1 + (i*7919)%(1<<20+4096)
		return bytes.Repeat([]byte{byte('a' + i%26)}, n)
	}
	h := host.HandlerFunc(func(ctx context.Context, e event.Event) (*event.Event, error) {
		i, err := strconv.Atoi(e.ID())
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(e.Data(), payload(i)) {
			return nil, host.Errorf(http.StatusBadRequest, "event %d: data of %d bytes is not its own", i, len(e.Data()))
		}
		reply := event.New()
		reply.SetID(e.ID())
		reply.SetType("reply")
		reply.SetSource("/test")
		if err := reply.SetData("text/plain", fmt.Appendf(nil, "%d:%d", i, len(e.Data()))); err != nil {
			return nil, err
		}
		return &reply, nil
	})
	srv := httptest.NewServer(host.Events(h, zerolog.Nop()))
	defer srv.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < 200; i += 8 {
				req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(payload(i)))
				req.Header.Set("ce-specversion", "1.0")
				req.Header.Set("ce-id", strconv.Itoa(i))
				req.Header.Set("ce-type", "test")
				req.Header.Set("ce-source", "/test")
				req.Header.Set("Content-Type", "application/octet-stream")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if want := fmt.Sprintf("%d:%d", i, len(payload(i))); resp.StatusCode != http.StatusOK || string(body) != want {
					errs <- fmt.Errorf("event %d: %d %s, want 200 %s", i, resp.StatusCode, body, want)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestEventsRefusalLogIsBounded: an event the handler refuses is logged
// with its type, id and batchid cut as an error quotes a value; the
// sender chose their lengths (100,000 bytes each were logged whole).
func TestEventsRefusalLogIsBounded(t *testing.T) {
	var logs logtest.Buffer
	h := host.HandlerFunc(func(ctx context.Context, e event.Event) (*event.Event, error) {
		return nil, host.Errorf(http.StatusBadRequest, "test: refused")
	})
	srv := httptest.NewServer(host.Events(h, zerolog.New(&logs)))
	defer srv.Close()
	long := strings.Repeat("x", 100_000)
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", long)
	req.Header.Set("ce-type", long)
	req.Header.Set("ce-source", "/test")
	req.Header.Set("ce-batchid", long)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("%d, want 400", resp.StatusCode)
	}
	line := strings.TrimSpace(logs.String())
	if len(line) > 2000 || !strings.Contains(line, "event not processed") || !strings.Contains(line, `"batchid":"xxx`) {
		t.Errorf("refusal logged in %d bytes, want under 2,000 with the batchid's start: %.300s", len(line), line)
	}
}

// TestEventsRefusalLogNamesTheChunk: a chunk event refused is logged with
// its chunk, as every log line about a chunk is (README: one grep of the
// batchid and chunk follows it); it had the id alone.
func TestEventsRefusalLogNamesTheChunk(t *testing.T) {
	var logs logtest.Buffer
	h := host.HandlerFunc(func(ctx context.Context, e event.Event) (*event.Event, error) {
		return nil, host.Errorf(http.StatusNotFound, "test: batch not known yet")
	})
	srv := httptest.NewServer(host.Events(h, zerolog.New(&logs)))
	defer srv.Close()
	for _, c := range []struct{ typ, id string }{
		{events.TypeChunkPriced, "b-1.x/a2/chunk/7/priced"},
		{events.TypeChunkRequested, "b-1.x/chunk/7"},
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
		req.Header.Set("ce-specversion", "1.0")
		req.Header.Set("ce-id", c.id)
		req.Header.Set("ce-type", c.typ)
		req.Header.Set("ce-source", "/test")
		req.Header.Set("ce-batchid", "b-1")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2:\n%s", len(lines), logs.String())
	}
	for _, line := range lines {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if entry["chunk"] != 7.0 || entry["batchid"] != "b-1" {
			t.Errorf("refusal logged %s, want \"chunk\":7 with the batchid", line)
		}
	}
}
