package redisstore

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pricefn/pricefn/store"
	"github.com/pricefn/pricefn/store/redisstore/redistest"
)

// oneTrade is a batch of one trade in one chunk, the kind a tenant floods
// the store with.
func oneTrade(tenant, id string) store.Batch {
	return store.Batch{Ref: store.Ref{Tenant: tenant, ID: id}, Digest: "d-" + id, TradeIDs: []string{"T-" + id},
		ChunkOffsets: []int{0}, SubmittedAt: time.Now(), Deadline: time.Now().Add(time.Hour)}
}

// finish claims b and records its one chunk priced and, if announce, its
// end announced.
func finish(t *testing.T, s *Store, b store.Batch, announce bool) {
	t.Helper()
	ctx := context.Background()
	if c, err := s.Claim(ctx, b); err != nil || !c.New {
		t.Fatalf("claim %s: %+v %v", b.Ref, c, err)
	}
	u, err := s.Put(ctx, b.Ref, b.Digest, 1, store.Chunk{Index: 0, State: store.ChunkPriced, Results: []byte(`{"id":"` + b.TradeIDs[0] + `"}`)})
	if err != nil || !u.Announce {
		t.Fatalf("put %s: %+v %v", b.Ref, u, err)
	}
	if announce {
		if err := s.Announced(ctx, b.Ref, 1, time.Now()); err != nil {
			t.Fatalf("announced %s: %v", b.Ref, err)
		}
	}
}

// keysOf returns every key in Redis that belongs to batch ref, by a SCAN
// of the whole keyspace.
func keysOf(t *testing.T, s *Store, ref store.Ref) []string {
	t.Helper()
	var out []string
	iter := s.rdb.Scan(context.Background(), 0, "*", 100).Iterator()
	for iter.Next(context.Background()) {
		if strings.HasPrefix(iter.Val(), prefix(ref)) {
			out = append(out, iter.Val())
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// members returns the members of sorted set key.
func members(t *testing.T, s *Store, key string) []string {
	t.Helper()
	m, err := s.rdb.ZRange(context.Background(), key, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A tenant's stream of small batches kept each for Retain, bounded only by
// Redis's maxmemory: one tenant could fill the Redis every tenant shares.
// Past MaxRetained batches, a claim forgets the tenant's oldest finished
// ones, every key of theirs, and spares its unfinished ones and every
// other tenant's.
func TestRedisForgetsOldestFinishedPastMaxRetained(t *testing.T) {
	srv := redistest.Start(t)
	s := openStore(t, srv, store.Options{MaxRetained: 3})
	ctx := context.Background()
	// Ids in claim order, so that claims in one millisecond sort as made.
	for _, id := range []string{"o1", "o2"} {
		finish(t, s, oneTrade("other", id), true)
	}
	open := twoChunks(store.Ref{Tenant: "flood", ID: "f0"}, "d-f0", time.Now().Add(time.Hour))
	if _, err := s.Claim(ctx, open); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, open.Ref, open.Digest, 1, pricedChunk(0, 1)); err != nil {
		t.Fatal(err)
	}
	var flood []store.Batch
	for _, id := range []string{"f1", "f2", "f3", "f4", "f5"} {
		b := oneTrade("flood", id)
		flood = append(flood, b)
		finish(t, s, b, true)
	}

	for _, b := range flood[:3] {
		if _, err := s.Summary(ctx, b.Ref); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("summary of forgotten %s: %v, want ErrNotFound", b.Ref, err)
		}
		if _, err := s.Trades(ctx, b.Ref, 1, 0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("trades of forgotten %s: %v, want ErrNotFound", b.Ref, err)
		}
		if k := keysOf(t, s, b.Ref); len(k) != 0 {
			t.Errorf("keys of forgotten %s remain: %q", b.Ref, k)
		}
	}
	// The newest three: the unfinished one (never forgotten for room) and
	// the two newest finished, readable with their results.
	for _, b := range flood[3:] {
		sum, err := s.Summary(ctx, b.Ref)
		if err != nil || sum.State() != store.StateCompleted || sum.Digest != b.Digest {
			t.Fatalf("summary of kept %s: %+v %v", b.Ref, sum, err)
		}
		var buf bytes.Buffer
		if err := s.WriteResults(ctx, b.Ref, 1, 0, &buf); err != nil || buf.String() != `{"id":"`+b.TradeIDs[0]+`"}` {
			t.Errorf("results of kept %s: %q %v", b.Ref, buf.String(), err)
		}
	}
	sum, err := s.Summary(ctx, open.Ref)
	if err != nil || sum.State() != store.StateRunning || sum.Waiting() != 1 {
		t.Fatalf("summary of the unfinished batch: %+v %v", sum, err)
	}
	if ids, err := s.Trades(ctx, open.Ref, 1, 1); err != nil || !slices.Equal(ids, []string{"T1"}) {
		t.Errorf("trades of the unfinished batch's chunk 1: %q %v", ids, err)
	}
	// The other tenant, within its bound, keeps both.
	for _, id := range []string{"o1", "o2"} {
		if sum, err := s.Summary(ctx, store.Ref{Tenant: "other", ID: id}); err != nil || sum.State() != store.StateCompleted {
			t.Errorf("other tenant's %s: %+v %v", id, sum, err)
		}
	}
	// The tenant's indexes name only what it holds.
	if got, want := members(t, s, heldKey(open.Ref)), []string{"flood/f0", "flood/f4", "flood/f5"}; !slices.Equal(got, want) {
		t.Errorf("held: %q, want %q", got, want)
	}
	recent, err := s.Recent(ctx, "flood", 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Ref{{Tenant: "flood", ID: "f5"}, {Tenant: "flood", ID: "f4"}, open.Ref}
	if !slices.Equal(recent, want) {
		t.Errorf("recent: %v, want %v", recent, want)
	}
	if got := members(t, s, deadlinesKey); !slices.Equal(got, []string{"flood/f0"}) {
		t.Errorf("deadline index: %q, want the unfinished batch alone", got)
	}
	// A forgotten id is unknown: claimed again, it starts anew.
	if c, err := s.Claim(ctx, flood[0]); err != nil || !c.New || c.Attempt != 1 {
		t.Errorf("claim of forgotten %s: %+v %v", flood[0].Ref, c, err)
	}
}

// A batch that ended but whose end is not announced yet is not forgotten
// for room: the announcement is made from its record. Once announced, it
// goes at the next claim.
func TestRedisKeepsUnannouncedPastMaxRetained(t *testing.T) {
	srv := redistest.Start(t)
	s := openStore(t, srv, store.Options{MaxRetained: 1})
	ctx := context.Background()
	g1 := oneTrade("t", "g1")
	finish(t, s, g1, false)
	finish(t, s, oneTrade("t", "g2"), false)
	if _, err := s.Summary(ctx, g1.Ref); err != nil {
		t.Fatalf("unannounced %s forgotten: %v", g1.Ref, err)
	}
	if err := s.Announced(ctx, g1.Ref, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	finish(t, s, oneTrade("t", "g3"), true)
	if _, err := s.Summary(ctx, g1.Ref); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("announced %s: %v, want ErrNotFound", g1.Ref, err)
	}
	if k := keysOf(t, s, g1.Ref); len(k) != 0 {
		t.Errorf("keys of forgotten %s remain: %q", g1.Ref, k)
	}
	for _, id := range []string{"g2", "g3"} {
		if _, err := s.Summary(ctx, store.Ref{Tenant: "t", ID: id}); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}

// TestRedisHeldSetOutlivesItsBatches: the set of every batch a tenant
// holds lives as long as the longest-lived of them, so that a batch
// without a deadline, claimed after one whose deadline is an hour away,
// does not cut its life to MaxAge: the batch held for the hour would be
// counted no more against MaxRetained.
func TestRedisHeldSetOutlivesItsBatches(t *testing.T) {
	srv := redistest.Start(t)
	s := openStore(t, srv, store.Options{MaxAge: time.Minute, Retain: time.Minute})
	ctx := context.Background()
	long := oneTrade("alpha", "long") // its deadline an hour away
	claimAttempt(t, s, long, 1)
	short := oneTrade("alpha", "short")
	short.Deadline = time.Time{}
	claimAttempt(t, s, short, 1)
	if ttl := s.rdb.PTTL(ctx, heldKey(long.Ref)).Val(); ttl < time.Hour {
		t.Errorf("the held set expires in %s, before the batch it holds for an hour", ttl)
	}
}
