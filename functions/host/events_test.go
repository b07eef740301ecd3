package host_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/functions/host"
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
