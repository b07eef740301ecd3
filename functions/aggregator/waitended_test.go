package aggregator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/auth"
	"github.com/pricefn/pricefn/functions/aggregator"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/internal/logtest"
	"github.com/pricefn/pricefn/store"
)

// claimRunning claims batch ref in st, none of its chunks priced, so that
// a ?wait on it waits.
func claimRunning(t *testing.T, st store.Store, ref store.Ref) {
	t.Helper()
	if _, err := st.Claim(context.Background(), store.Batch{Ref: ref, TradeIDs: tradeIDs, ChunkOffsets: offsets,
		SubmittedAt: time.Now(), Deadline: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
}

// TestLongPollOfARevokedTokenIs401: a ?wait whose token is removed from
// the tokens file while it waits ends with a 401 saying so; it answered
// a 202 with the batch's status, read after the token was revoked.
func TestLongPollOfARevokedTokenIs401(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tokens")
	writeTokens := func(lines string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(lines), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeTokens("results-0123456789abcdef acme read\nstatus-0123456789abcdef acme read\nstream-0123456789abcdef acme read\n")
	tokens, err := auth.LoadTokens(file, time.Nanosecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	guard := auth.NewGuard(nil, tokens, zerolog.Nop(), nil)
	guard.RecheckEvery = 10 * time.Millisecond
	st := &watchCounter{store.NewMem(store.MemOptions{}), make(chan struct{}, 100)}
	claimRunning(t, st, store.Ref{Tenant: "acme", ID: "b1"})
	fn := aggregator.New(aggregator.Options{Store: st, Log: zerolog.Nop()})
	srv := httptest.NewServer(fn.Routes(zerolog.Nop(), guard))
	t.Cleanup(func() { fn.Drain(); srv.Close() })

	for _, tt := range []struct{ path, token, left string }{
		{"/batches/b1/results?wait=1m", "results-0123456789abcdef", "status-0123456789abcdef acme read\n"},
		{"/batches/b1?wait=1m", "status-0123456789abcdef", "stream-0123456789abcdef acme read\n"},
		// A stream of results waiting for a batch not known yet.
		{"/batches/b2/results?stream=true", "stream-0123456789abcdef", "kept-0123456789abcdef acme read\n"},
	} {
		type answer struct {
			code int
			body string
		}
		got := make(chan answer, 1)
		go func() {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+tt.path, nil)
			req.Header.Set("Authorization", "Bearer "+tt.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				got <- answer{0, err.Error()}
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got <- answer{resp.StatusCode, string(body)}
		}()
		select {
		case <-st.watched: // the request waits on the batch
		case a := <-got:
			t.Fatalf("GET %s answered %d %s before its token was revoked", tt.path, a.code, a.body)
		}
		writeTokens(tt.left)
		select {
		case a := <-got:
			var e host.ErrorBody
			if a.code != http.StatusUnauthorized || json.Unmarshal([]byte(a.body), &e) != nil || !strings.Contains(e.Error, "revoked") {
				t.Errorf("GET %s, its token revoked while it waited: %d %s, want a 401 saying the token was revoked", tt.path, a.code, a.body)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("GET %s still waits 5 s after its token was revoked", tt.path)
		}
		for len(st.watched) > 0 {
			<-st.watched
		}
	}
}

// deadContextStore is a Store whose reads fail once their context has
// ended, as a Redis store's do.
type deadContextStore struct {
	*watchCounter
}

func (s deadContextStore) Summary(ctx context.Context, ref store.Ref) (*store.Summary, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redisstore: %s: %w", ref, err)
	}
	return s.watchCounter.Summary(ctx, ref)
}

func (s deadContextStore) Tally(ctx context.Context, ref store.Ref) (*store.Tally, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redisstore: %s: %w", ref, err)
	}
	return s.watchCounter.Tally(ctx, ref)
}

// TestLongPollLeftByItsClientIsNoStoreFault: a client that gives up on a
// ?wait is no fault of the store: nothing is logged as one. The store was
// read again with the request's ended context, which a Redis store
// fails, and the aggregator logged "the batch store failed" at error
// level (and answered 503) for every client that left a long poll.
func TestLongPollLeftByItsClientIsNoStoreFault(t *testing.T) {
	var logs logtest.Buffer
	st := deadContextStore{&watchCounter{store.NewMem(store.MemOptions{}), make(chan struct{}, 100)}}
	claimRunning(t, st, store.RefOf("b1"))
	fn := aggregator.New(aggregator.Options{Store: st, Log: zerolog.New(&logs)})
	served := make(chan struct{}, 1)
	routes := fn.Routes(zerolog.Nop(), nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		routes.ServeHTTP(w, r)
		served <- struct{}{}
	}))
	t.Cleanup(func() { fn.Drain(); srv.Close() })

	// The results and the status of a batch that runs, and a stream of
	// the results of one not known yet.
	for _, path := range []string{"/batches/b1/results?wait=1m", "/batches/b1?wait=1m", "/batches/b2/results?stream=true"} {
		before := len(logs.String())
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		go func() {
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
		select {
		case <-st.watched: // the request waits on the batch
		case <-time.After(5 * time.Second):
			t.Fatalf("GET %s did not wait on the batch", path)
		}
		cancel() // the client gives up
		select {
		case <-served:
		case <-time.After(5 * time.Second):
			t.Fatalf("GET %s still runs 5 s after its client left", path)
		}
		if logged := logs.String()[before:]; strings.Contains(logged, `"level":"error"`) {
			t.Errorf("a client leaving GET %s was logged as a fault: %s", path, logged)
		}
		for len(st.watched) > 0 {
			<-st.watched
		}
	}
}
