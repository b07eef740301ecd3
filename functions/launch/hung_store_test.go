package launch_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/store/redisstore/redistest"
)

// hungStoreBound is how soon a request must get its 503 once Redis hangs.
// The store reports a hung Redis in about 2 s (two read timeouts of 1 s);
// with go-redis's defaults (3 s reads and writes, 5 s dials, 3 retries with
// backoff) the answer took 5-20 s. The bound leaves room for a busy machine
// and still fails on those defaults.
const hungStoreBound = 4500 * time.Millisecond

// TestHungStoreAnswers503Promptly: with Redis stopped (SIGSTOP: connections
// open, nothing answered, nothing reset, as in a network partition), a
// status read and ingress's claim of a new batch each answer 503 over HTTP
// within hungStoreBound, not after go-redis's 5-20 s.
func TestHungStoreAnswers503Promptly(t *testing.T) {
	srv := redistest.Start(t)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	defer sink.Close()
	addr, _, stop := startAPI(t, sink.URL, srv.URL)
	defer stop() // its shutdown's store calls may fail: Redis is frozen until the cleanup
	do := func(method, path, body string) (int, string, time.Duration) {
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer api-token-0123456789")
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error(), time.Since(start)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), time.Since(start)
	}
	data, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 5, ID: "hung-1"})
	if code, body, _ := do(http.MethodPost, "/batches", string(data)); code != http.StatusAccepted {
		t.Fatalf("submit before the freeze: %d %s", code, body)
	}
	if code, body, _ := do(http.MethodGet, "/batches/hung-1", ""); code != http.StatusOK {
		t.Fatalf("status before the freeze: %d %s", code, body)
	}

	srv.Freeze(t)
	code, body, took := do(http.MethodGet, "/batches/hung-1", "")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "the batch store is unavailable") {
		t.Errorf("status with Redis hung: %d %q, want 503, the batch store is unavailable", code, body)
	}
	if took > hungStoreBound {
		t.Errorf("status with Redis hung answered after %v, want within %v", took, hungStoreBound)
	}
	t.Logf("status with Redis hung: %d in %v", code, took)

	next, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 5, ID: "hung-2"})
	code, body, took = do(http.MethodPost, "/batches", string(next))
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "claiming its id: the batch store is unavailable") {
		t.Errorf("submit with Redis hung: %d %q, want 503, claiming its id: the batch store is unavailable", code, body)
	}
	if took > hungStoreBound {
		t.Errorf("submit with Redis hung answered after %v, want within %v", took, hungStoreBound)
	}
	t.Logf("submit with Redis hung: %d in %v", code, took)
}
