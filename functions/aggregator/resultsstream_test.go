package aggregator_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pricefn/pricefn/functions/aggregator"
)

// stream is a GET of a streamed results document, read in the background.
type stream struct {
	resp *http.Response
	mu   sync.Mutex
	body []byte
	err  error // the read's end: io.EOF when the document ended
	done chan struct{}
}

func (f *fixture) stream(t *testing.T, path string) *stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	s := &stream{resp: resp, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer resp.Body.Close()
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			s.mu.Lock()
			s.body = append(s.body, buf[:n]...)
			if err != nil {
				s.err = err
			}
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return s
}

// until waits for the body read so far to contain want, and returns it.
func (s *stream) until(t *testing.T, want string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		s.mu.Lock()
		got := string(s.body)
		s.mu.Unlock()
		if strings.Contains(got, want) {
			return got
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Fatalf("the stream holds %q, still no %q", s.body, want)
	return ""
}

// end waits for the read to end and returns the body and how it ended.
func (s *stream) end(t *testing.T) (string, error) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end")
	}
	return string(s.body), s.err
}

// TestStreamResultsAsChunksArrive: ?stream=true answers 200 at once and
// writes each chunk's results once it and the chunks before it are in, in
// input order; the document it ends with is the one the results route
// serves once the batch is finished, byte for byte.
func TestStreamResultsAsChunksArrive(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	s := f.stream(t, "/batches/b1/results?stream=true")
	if s.resp.StatusCode != http.StatusOK || s.resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("stream: %d %q, want 200 application/json before any chunk is priced", s.resp.StatusCode, s.resp.Header.Get("Content-Type"))
	}
	s.until(t, `"results":[`)
	f.mustPost(t, "/", pricedEvent(t, "b1", 1)) // T3, T4: waits for chunk 0
	time.Sleep(20 * time.Millisecond)
	if got := s.until(t, `"results":[`); strings.Contains(got, "T3") {
		t.Fatalf("chunk 1 streamed before chunk 0: %q", got)
	}
	f.mustPost(t, "/", pricedEvent(t, "b1", 0))
	got := s.until(t, `"id":"T4"`) // chunks 0 and 1, in order
	if i, j := strings.Index(got, `"T0"`), strings.Index(got, `"T3"`); i < 0 || j < i || strings.Contains(got, "T5") {
		t.Fatalf("after chunks 0 and 1: %q", got)
	}
	select {
	case <-s.done:
		t.Fatal("the stream ended with a chunk still to price")
	default:
	}
	f.mustPost(t, "/", pricedEvent(t, "b1", 2))
	body, err := s.end(t)
	if err != io.EOF {
		t.Fatalf("stream ended with %v, want the document's end", err)
	}
	code, want := f.get(t, "/batches/b1/results")
	if code != http.StatusOK || body != want {
		t.Errorf("streamed document\n%s\nwant the results route's (%d)\n%s", body, code, want)
	}
	// A finished batch streams at once, the same document.
	if again, err := f.stream(t, "/batches/b1/results?stream=1").end(t); err != io.EOF || again != want {
		t.Errorf("stream of a finished batch: %v\n%s", err, again)
	}
}

// TestStreamResultsOfPartialBatch: a chunk that dies gets its trades'
// errors in the stream, in its place, as in the finished document.
func TestStreamResultsOfPartialBatch(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	s := f.stream(t, "/batches/b1/results?stream=true")
	f.mustPost(t, "/", pricedEvent(t, "b1", 2))
	f.mustPost(t, "/dead-letter", deadLetter(t, "b1", 0))
	s.until(t, `chunk 0 failed`)
	f.mustPost(t, "/", pricedEvent(t, "b1", 1))
	body, err := s.end(t)
	code, want := f.get(t, "/batches/b1/results")
	if err != io.EOF || code != http.StatusOK || body != want || !strings.Contains(body, `"trade T0: not priced: chunk 0 failed`) {
		t.Errorf("streamed (%v)\n%s\nwant (%d)\n%s", err, body, code, want)
	}
}

// TestStreamResultsRefusals: an unknown batch is a 404 once UnknownGrace
// has passed; a ?stream that is not a yes or no is a 400.
func TestStreamResultsRefusals(t *testing.T) {
	f := newFixtureWith(t, func(o *aggregator.Options) { o.UnknownGrace = 20 * time.Millisecond })
	for path, want := range map[string]int{
		"/batches/never/results?stream=true":  http.StatusNotFound,
		"/batches/never/results?stream=maybe": http.StatusBadRequest,
	} {
		code, body := f.get(t, path)
		if code != want || !strings.Contains(body, `"error"`) {
			t.Errorf("GET %s: %d %s, want %d with an error", path, code, body, want)
		}
	}
}

// TestStreamResultsCutShortOnDrain: a server that stops while a stream is
// open cuts it short: the client's read fails, it does not end as a
// document that looks complete.
func TestStreamResultsCutShortOnDrain(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	s := f.stream(t, "/batches/b1/results?stream=true")
	f.mustPost(t, "/", pricedEvent(t, "b1", 0))
	s.until(t, `"id":"T2"`)
	f.fn.Drain()
	body, err := s.end(t)
	if err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("drained stream ended with %v, want a failed read; body %q", err, body)
	}
	if bytes.HasSuffix([]byte(body), []byte("}\n")) {
		t.Errorf("the cut stream ends like a document: %q", body)
	}
}
