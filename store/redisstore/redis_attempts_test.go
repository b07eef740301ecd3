package redisstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pricefn/pricefn/store"
	"github.com/pricefn/pricefn/store/redisstore/redistest"
)

// These tests look at the keys themselves (what outlives what), so they
// are in the package.

func openStore(t *testing.T, srv *redistest.Server, opt store.Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), srv.URL, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// waitForgotten waits until the store has forgotten every batch of refs,
// by Redis's clock: polling, as a loaded machine overruns a fixed sleep.
func waitForgotten(t *testing.T, s *Store, refs ...store.Ref) {
	t.Helper()
	ctx := context.Background()
	for _, ref := range refs {
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			_, err := s.Summary(ctx, ref)
			if errors.Is(err, store.ErrNotFound) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not forgotten after 10 s", ref)
			}
		}
	}
}

// twoChunks is a batch of two trades in two chunks.
func twoChunks(ref store.Ref, digest string, deadline time.Time) store.Batch {
	return store.Batch{Ref: ref, Digest: digest, TradeIDs: []string{"T0", "T1"}, ChunkOffsets: []int{0, 1},
		SubmittedAt: time.Now(), Deadline: deadline}
}

func pricedChunk(i int, npv int) store.Chunk {
	return store.Chunk{Index: i, State: store.ChunkPriced, Results: fmt.Appendf(nil, `{"id":"T%d","npv":%d}`, i, npv)}
}

func deadChunk(i int) store.Chunk {
	return store.Chunk{Index: i, State: store.ChunkDead, Reason: "dead-lettered"}
}

// claimAttempt claims b up to attempt n, failing each attempt before it.
func claimAttempt(t *testing.T, s store.Store, b store.Batch, n int) {
	t.Helper()
	ctx := context.Background()
	for a := 1; ; a++ {
		c, err := s.Claim(ctx, b)
		if err != nil || !c.New || c.Attempt != a {
			t.Fatalf("claim of %s (%s), attempt %d: %+v %v", b.Ref, b.Digest, a, c, err)
		}
		if a == n {
			return
		}
		for i := range b.ChunkOffsets {
			if _, err := s.Put(ctx, b.Ref, b.Digest, a, deadChunk(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Announced(ctx, b.Ref, a, time.Now()); err != nil { // as the aggregator does
			t.Fatal(err)
		}
	}
}

// A batch claimed under an id whose earlier batch (other content) was
// forgotten unfinished starts clean: none of the earlier batch's chunks,
// deliveries or results count as its own, whichever attempt number it
// reaches. The meta hash may go first by its MaxAge (the attempt's keys
// then expire with it) or by an eviction (they remain, and the claim must
// drop them).
func TestRedisReusedIDStartsClean(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		maxAge  time.Duration // of the store that claims the first batch
		attempt int           // the attempt both batches reach
		forget  func(t *testing.T, s *Store, ref store.Ref)
	}{
		{"meta expired", 300 * time.Millisecond, 1, expireMeta},
		{"meta expired at attempt 2", 300 * time.Millisecond, 2, expireMeta},
		{"meta evicted", 0, 1, evictMeta},
		{"meta evicted at attempt 2", 0, 2, evictMeta},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.Flush(t)
			first := openStore(t, srv, store.Options{MaxAge: tc.maxAge})
			s := openStore(t, srv, store.Options{})
			ref := store.RefOf("X")
			// Its deadline now: an unfinished batch is kept MaxAge past
			// its deadline.
			old := twoChunks(ref, "old", time.Now())
			claimAttempt(t, first, old, tc.attempt)
			if _, err := first.Put(ctx, ref, "old", tc.attempt, pricedChunk(0, 111)); err != nil {
				t.Fatal(err)
			}
			tc.forget(t, first, ref) // chunk 1 never came

			claimAttempt(t, s, twoChunks(ref, "new", time.Now().Add(time.Hour)), tc.attempt)
			sum, err := s.Summary(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Chunks[0].State != store.ChunkWaiting || sum.Chunks[0].Deliveries != 0 {
				t.Errorf("chunk 0 of the new batch before any outcome: %+v", sum.Chunks[0])
			}
			u, err := s.Put(ctx, ref, "new", tc.attempt, pricedChunk(0, 222))
			if err != nil || u.Duplicate {
				t.Errorf("first outcome of the new batch's chunk 0: %+v %v, want recorded", u, err)
			}
			var buf bytes.Buffer
			if err := s.WriteResults(ctx, ref, tc.attempt, 0, &buf); err != nil || buf.String() != `{"id":"T0","npv":222}` {
				t.Errorf("results served %q %v, want the new batch's", buf.String(), err)
			}
		})
	}
}

// expireMeta waits for the meta hash to expire (MaxAge), and checks that
// the attempt's keys went with it.
func expireMeta(t *testing.T, s *Store, ref store.Ref) {
	t.Helper()
	sum, err := s.Summary(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	waitForgotten(t, s, ref)
	k := keys(ref, sum.Attempt)
	// chunks, results, deliv, ids: their times are set as they are
	// written, a moment after the meta's (on a loaded machine, more than
	// one), so they go within a moment of it.
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		n := s.rdb.Exists(context.Background(), k[1], k[2], k[4], k[5]).Val()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%d keys of attempt %d outlive its meta hash by 2 s", n, sum.Attempt)
			break
		}
	}
}

// evictMeta deletes the meta hash alone, as Redis's eviction may.
func evictMeta(t *testing.T, s *Store, ref store.Ref) {
	t.Helper()
	if err := s.rdb.Del(context.Background(), keys(ref, 0)[0]).Err(); err != nil {
		t.Fatal(err)
	}
}

// An unfinished attempt's keys expire with its meta hash, and a finished
// one's Retain after it finished, as the meta does.
func TestRedisAttemptKeysExpireWithMeta(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := openStore(t, srv, store.Options{MaxAge: time.Hour, Retain: time.Minute})
	ref := store.RefOf("ttl")
	claimAttempt(t, s, twoChunks(ref, "d", time.Time{}), 1)
	k := keys(ref, 1)
	attemptKeys := []string{k[1], k[2], k[4], k[5], k[8]} // chunks, results, deliv, ids, the pending list
	// PEXPIRETIME is absolute: the keys must expire with the meta, about
	// ttl from now, never before it (the meta would be left without its
	// chunks) and at most the few ms of a script after it (Redis before
	// 7.2 reads the clock at each call of a script, not once).
	check := func(when string, ttl time.Duration) {
		t.Helper()
		meta := s.rdb.PExpireTime(ctx, k[0]).Val()
		if in := time.Until(time.UnixMilli(meta.Milliseconds())); in < ttl-time.Minute/2 || in > ttl {
			t.Errorf("%s: the meta hash expires in %v, want about %v", when, in, ttl)
		}
		for _, key := range attemptKeys {
			if at := s.rdb.PExpireTime(ctx, key).Val(); at < meta || at > meta+50*time.Millisecond {
				t.Errorf("%s: %s expires at %d ms, the meta hash at %d", when, key, at.Milliseconds(), meta.Milliseconds())
			}
		}
	}
	// Chunks with sums: the pending list lists them (tallyLua).
	withSums := func(i int) store.Chunk {
		c := pricedChunk(i, 1)
		c.Partials = map[string]map[string][]float64{"": {"npv": {1}}}
		return c
	}
	if _, err := s.Put(ctx, ref, "d", 1, withSums(0)); err != nil {
		t.Fatal(err)
	}
	check("unfinished", time.Hour)
	if _, err := s.Put(ctx, ref, "d", 1, withSums(1)); err != nil {
		t.Fatal(err)
	}
	check("finished", time.Minute)
}

// A reader holding the summary of an attempt that a resubmission replaced
// gets ErrStale, not the empty answer of the keys deleted with it (which
// would serve the document without those trades); the other reads answer
// as the memory store does, which the test checks too.
func TestRedisReadsOfReplacedAttempt(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	ref := store.RefOf("X")
	b := twoChunks(ref, "d", time.Time{})
	stores := []struct {
		name string
		s    store.Store
	}{
		{"redis", openStore(t, srv, store.Options{})},
		{"mem", store.NewMem(store.MemOptions{})},
	}
	type read func(s store.Store, w *bytes.Buffer) error
	results := func(ref store.Ref, attempt, index int) read {
		return func(s store.Store, w *bytes.Buffer) error { return s.WriteResults(ctx, ref, attempt, index, w) }
	}
	trades := func(ref store.Ref, attempt, index int) read {
		return func(s store.Store, w *bytes.Buffer) error {
			ids, err := s.Trades(ctx, ref, attempt, index)
			for _, id := range ids {
				w.WriteString(id)
			}
			return err
		}
	}
	tests := []struct {
		name string
		read read
		err  error
		want string
	}{
		{"results of the replaced attempt", results(ref, 1, 0), store.ErrStale, ""},
		{"trades of the replaced attempt", trades(ref, 1, 0), store.ErrStale, ""},
		{"results of an attempt to come", results(ref, 3, 0), store.ErrNotFound, ""},
		{"results of an unknown batch", results(store.RefOf("nosuch"), 1, 0), store.ErrNotFound, ""},
		{"results of no such chunk", results(ref, 2, 2), store.ErrBadChunk, ""},
		{"trades of no such chunk", trades(ref, 2, -1), store.ErrBadChunk, ""},
		{"results of a chunk waiting", results(ref, 2, 1), nil, ""},
		{"results of the new attempt", results(ref, 2, 0), nil, `{"id":"T0","npv":2}`},
		{"trades of the new attempt", trades(ref, 2, 1), nil, "T1"},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			s := st.s
			claimAttempt(t, s, b, 1)
			for _, c := range []store.Chunk{pricedChunk(0, 1), deadChunk(1)} {
				if _, err := s.Put(ctx, ref, "d", 1, c); err != nil {
					t.Fatal(err)
				}
			}
			// A results reader holds attempt 1's summary (partial) while
			// the client resubmits, once that end is announced.
			if err := s.Announced(ctx, ref, 1, time.Now()); err != nil {
				t.Fatal(err)
			}
			if c, err := s.Claim(ctx, b); err != nil || c.Attempt != 2 {
				t.Fatalf("resubmission of the partial batch: %+v %v", c, err)
			}
			if _, err := s.Put(ctx, ref, "d", 2, pricedChunk(0, 2)); err != nil {
				t.Fatal(err)
			}
			for _, tc := range tests {
				var buf bytes.Buffer
				err := tc.read(s, &buf)
				if (tc.err == nil && err != nil) || !errors.Is(err, tc.err) || buf.String() != tc.want {
					t.Errorf("%s: %q %v, want %q %v", tc.name, buf.String(), err, tc.want, tc.err)
				}
			}
		})
	}
}

// Batches forgotten before their deadline (MaxAge, eviction) leave their
// entries in the deadline index, where nothing else removes them: Overdue
// drops them instead of returning them, so that they never fill its
// answer and keep the sweep from the batches it has to end.
func TestRedisOverdueDropsForgottenBatches(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	short := openStore(t, srv, store.Options{MaxAge: 300 * time.Millisecond})
	s := openStore(t, srv, store.Options{})
	const forgotten = 150 // more than one sweep's limit
	var refs []store.Ref
	for i := range forgotten {
		ref := store.RefOf(fmt.Sprintf("gone%d", i))
		refs = append(refs, ref)
		claimAttempt(t, short, twoChunks(ref, "d", time.Now().Add(-2*time.Hour)), 1)
	}
	waitForgotten(t, short, refs...)
	live := store.RefOf("live")
	claimAttempt(t, s, twoChunks(live, "d", time.Now().Add(-time.Hour)), 1)
	claimAttempt(t, s, twoChunks(store.RefOf("later"), "d", time.Now().Add(time.Hour)), 1)

	over, err := s.Overdue(ctx, time.Now(), 100)
	if err != nil || !slices.Equal(over, []store.Ref{live}) {
		t.Fatalf("overdue %v %v, want [%v]", over, err, live)
	}
	if n := s.rdb.ZCard(ctx, deadlinesKey).Val(); n != 2 {
		t.Errorf("deadline index holds %d entries after the sweep, want 2 (the live batches')", n)
	}
	if u, err := s.Expire(ctx, live, 1, time.Now(), "deadline passed"); err != nil || !u.Announce {
		t.Errorf("expire of the overdue batch: %+v %v", u, err)
	}
	if over, err := s.Overdue(ctx, time.Now(), 100); err != nil || len(over) != 0 {
		t.Errorf("overdue after the sweep: %v %v", over, err)
	}
}

// One call of Overdue removes at most overdueOrphans forgotten entries, so
// that a Redis holding many is not blocked long; the next calls go on.
func TestRedisOverdueOrphansBounded(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := openStore(t, srv, store.Options{})
	live := store.RefOf("live")
	claimAttempt(t, s, twoChunks(live, "d", time.Now().Add(-time.Hour)), 1)
	// What a forgotten batch leaves: an index entry without a meta hash,
	// ahead of the live batch.
	orphans := make([]redis.Z, overdueOrphans+10)
	for i := range orphans {
		orphans[i] = redis.Z{Score: float64(time.Now().Add(-2 * time.Hour).UnixMilli()), Member: fmt.Sprintf("_/gone%d", i)}
	}
	if err := s.rdb.ZAdd(ctx, deadlinesKey, orphans...).Err(); err != nil {
		t.Fatal(err)
	}
	over, err := s.Overdue(ctx, time.Now(), 100)
	if err != nil || len(over) != 0 {
		t.Errorf("first call: %v %v, want none: it stops after %d orphans", over, err, overdueOrphans)
	}
	if n := s.rdb.ZCard(ctx, deadlinesKey).Val(); n != 11 {
		t.Errorf("after the first call the index holds %d entries, want 11", n)
	}
	over, err = s.Overdue(ctx, time.Now(), 100)
	if err != nil || !slices.Equal(over, []store.Ref{live}) {
		t.Errorf("second call: %v %v, want [%v]", over, err, live)
	}
	if n := s.rdb.ZCard(ctx, deadlinesKey).Val(); n != 1 {
		t.Errorf("after the second call the index holds %d entries, want 1", n)
	}
}

// A batch claimed under a forgotten id does not inherit the forgotten
// batch's deadline entry when it has no deadline of its own (Overdue would
// return it for ever, as its meta hash exists and Expire leaves a batch
// without a deadline alone), nor when it has no chunks, and so is finished
// at once: its entry is its own deadline's, when the sweep announces it
// should its batch.accepted never come.
func TestRedisReusedIDDropsOldDeadline(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	tests := []struct {
		name string
		b    store.Batch
	}{
		{"no deadline", twoChunks(store.RefOf("X"), "new", time.Time{})},
		{"no chunks", store.Batch{Ref: store.RefOf("X"), Digest: "new", Deadline: time.Now().Add(time.Hour).Truncate(time.Millisecond)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.Flush(t)
			short := openStore(t, srv, store.Options{MaxAge: 300 * time.Millisecond})
			s := openStore(t, srv, store.Options{})
			claimAttempt(t, short, twoChunks(tc.b.Ref, "old", time.Now().Add(-time.Hour)), 1)
			waitForgotten(t, short, tc.b.Ref)
			if c, err := s.Claim(ctx, tc.b); err != nil || !c.New || c.Attempt != 1 {
				t.Fatalf("claim: %+v %v", c, err)
			}
			if over, err := s.Overdue(ctx, time.Now(), 100); err != nil || len(over) != 0 {
				t.Errorf("overdue %v %v, want none", over, err)
			}
			score, err := s.rdb.ZScore(ctx, deadlinesKey, member(tc.b.Ref)).Result()
			switch {
			case tc.b.Deadline.IsZero() && !errors.Is(err, redis.Nil):
				t.Errorf("deadline index entry: %v %v, want none", score, err)
			case !tc.b.Deadline.IsZero() && (err != nil || int64(score) != tc.b.Deadline.UnixMilli()):
				t.Errorf("deadline index entry: %v %v, want its own deadline, %d", score, err, tc.b.Deadline.UnixMilli())
			}
		})
	}
}

// claimBeforePipeline is a hook that claims a batch's next attempt, once,
// before the first pipeline it sees: a resubmission landing between a
// Summary's read of the meta hash and its read of the attempt's chunks.
type claimBeforePipeline struct {
	s    *Store
	b    store.Batch
	done bool
	err  error
}

func (h *claimBeforePipeline) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *claimBeforePipeline) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *claimBeforePipeline) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !h.done {
			h.done = true
			_, h.err = h.s.Claim(ctx, h.b)
		}
		return next(ctx, cmds)
	}
}

// TestRedisSummaryOfReplacedAttempt: a Summary read as a resubmission
// replaces the failed attempt it is reading gives the batch as it now is
// (attempt 2, pending), never attempt 1 with none of its chunks' outcomes
// (its keys deleted), which a status then showed pending again after it
// had failed.
func TestRedisSummaryOfReplacedAttempt(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := openStore(t, srv, store.Options{})
	ref := store.RefOf("X")
	b := twoChunks(ref, "d", time.Time{})
	claimAttempt(t, s, b, 2) // attempt 1 failed and announced, then attempt 2 ...
	for i := range b.ChunkOffsets {
		if _, err := s.Put(ctx, ref, "d", 2, deadChunk(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Announced(ctx, ref, 2, time.Now()); err != nil { // ... failed too
		t.Fatal(err)
	}
	h := &claimBeforePipeline{s: s, b: b}
	s.rdb.AddHook(h)
	sum, err := s.Summary(ctx, ref)
	if err != nil || h.err != nil {
		t.Fatalf("summary: %v (claim %v)", err, h.err)
	}
	if sum.Attempt != 3 || sum.Waiting() != 2 {
		t.Fatalf("summary: attempt %d with %d chunks waiting, want attempt 3 with 2 (%+v)", sum.Attempt, sum.Waiting(), sum.Chunks)
	}
}
