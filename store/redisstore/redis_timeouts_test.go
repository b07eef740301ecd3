package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pricefn/pricefn/store"
	"github.com/pricefn/pricefn/store/redisstore"
	"github.com/pricefn/pricefn/store/redisstore/redistest"
)

// timeSummary opens a store on url, stops Redis (SIGSTOP: nothing answers,
// nothing is reset), and returns how long a Summary under ctx took to fail,
// and its error.
func timeSummary(ctx context.Context, t *testing.T, srv *redistest.Server, url string) (time.Duration, error) {
	t.Helper()
	s, err := redisstore.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	srv.Freeze(t)
	start := time.Now()
	_, err = s.Summary(ctx, store.RefOf("frozen"))
	return time.Since(start), err
}

// A hung Redis is reported in about 2 s by default (two reads of 1 s),
// where go-redis's defaults took 5-20 s.
func TestRedisHungReportedPromptly(t *testing.T) {
	srv := redistest.Start(t)
	took, err := timeSummary(context.Background(), t, srv, srv.URL)
	if err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("summary with Redis hung: %v, want a timeout", err)
	}
	if took < redisstore.DefaultReadTimeout || took > 2*redisstore.DefaultReadTimeout+2*time.Second {
		t.Errorf("summary with Redis hung failed after %v, want %v to %v (one read, or two) and a margin", took, redisstore.DefaultReadTimeout, 2*redisstore.DefaultReadTimeout)
	}
}

// A call's context deadline bounds it, however long the URL lets a read
// wait: go-redis ignores it unless ContextTimeoutEnabled.
func TestRedisHungHonoursTheContextDeadline(t *testing.T) {
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	took, err := timeSummary(ctx, t, srv, srv.URL+"?read_timeout=10s&max_retries=-1")
	if err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("summary with Redis hung: %v, want a timeout", err)
	}
	if took > 3*time.Second {
		t.Errorf("summary with a 300ms deadline and Redis hung failed after %v, want about 300ms", took)
	}
}

// A key given empty is unset: the defaults hold, where go-redis's own
// (3 s reads, 3 retries) had the same hung Redis reported after 12 s or more.
func TestRedisURLEmptyTimeoutsKeepTheDefaults(t *testing.T) {
	srv := redistest.Start(t)
	took, err := timeSummary(context.Background(), t, srv, srv.URL+"?read_timeout=&dial_timeout=&write_timeout=&max_retries=")
	if err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("summary with Redis hung: %v, want a timeout", err)
	}
	if took > 2*redisstore.DefaultReadTimeout+2*time.Second {
		t.Errorf("summary with empty timeouts in the URL and Redis hung failed after %v, want the defaults' %v and a margin", took, 2*redisstore.DefaultReadTimeout)
	}
}

// The URL's query wins over the defaults: read_timeout=2500ms with no
// retries (max_retries=-1: go-redis reads 0 as its default, 3) waits one
// read of 2.5 s, not two of 1 s.
func TestRedisURLOverridesTheTimeouts(t *testing.T) {
	srv := redistest.Start(t)
	took, err := timeSummary(context.Background(), t, srv, srv.URL+"?read_timeout=2500ms&max_retries=-1")
	if err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("summary with Redis hung: %v, want a timeout", err)
	}
	if took < 2500*time.Millisecond || took > 4500*time.Millisecond {
		t.Errorf("summary with read_timeout=2500ms, max_retries=-1 and Redis hung failed after %v, want 2.5s and a margin", took)
	}
}
