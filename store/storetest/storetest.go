// Package storetest is the conformance suite of store.Store: every
// implementation runs it from its own tests with Run.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pricefn/pricefn/store"
)

// NewFunc returns an empty store with opt, closed by the test's cleanup.
type NewFunc func(t *testing.T, opt store.Options) store.Store

// Run runs the conformance suite against the stores newStore makes.
func Run(t *testing.T, newStore NewFunc) {
	tests := []struct {
		name string
		fn   func(*testing.T, NewFunc)
	}{
		{"ClaimAndSummary", testClaim},
		{"Idempotency", testIdempotency},
		{"ConflictingDigests", testConflict},
		{"ConcurrentPuts", testConcurrentPuts},
		{"Release", testRelease},
		{"Lease", testLease},
		{"Sent", testSent},
		{"Sending", testSending},
		{"TimesToTheMillisecond", testTimesToTheMillisecond},
		{"DeadlineAndRetry", testDeadline},
		{"Expiry", testExpiry},
		{"ExpiryPastTheDeadline", testExpiryPastDeadline},
		{"LimitsPastMaxAge", testLimitsPastMaxAge},
		{"Watch", testWatch},
		{"EmptyBatch", testEmpty},
		{"EmptyBatchPastRetain", testEmptyPastRetain},
		{"Tenants", testTenants},
		{"TenantLimits", testLimits},
		{"Recent", testRecent},
		{"ScenarioChunks", testScenarioChunks},
		{"Layout", testLayout},
		{"Brief", testBrief},
		{"Tally", testTally},
		{"Chunks", testChunks},
		{"Arrivals", testArrivals},
		{"TallySequences", testTallySequences},
		{"TallyPricingStamps", testTallyPricingStamps},
		{"PutCopiesResults", testPutCopiesResults},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore) })
	}
}

var ctx = context.Background()

// sample is a batch of n trades in chunks of size k.
func sample(id string, n, k int, deadline time.Time) store.Batch {
	b := store.Batch{Ref: store.RefOf(id), Digest: "sha256:" + id, SubmittedAt: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC),
		Deadline: deadline, ResultsURL: "/batches/" + id + "/results", TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
	for i := range n {
		b.TradeIDs = append(b.TradeIDs, fmt.Sprintf("T%d", i))
		if i%k == 0 {
			b.ChunkOffsets = append(b.ChunkOffsets, i)
		}
	}
	return b
}

func priced(i int) store.Chunk {
	return store.Chunk{Index: i, State: store.ChunkPriced, Results: fmt.Appendf(nil, `{"id":"T%d","npv":1}`, i), Trades: 1,
		Totals:   map[string]map[string]float64{"": {"npv": 1.25}},
		Partials: map[string]map[string][]float64{"": {"npv": {0x1p-60, 1.25}}}, PricedBy: "p1",
		StartedAt: time.Unix(100, 0).UTC(), FinishedAt: time.Unix(101, 0).UTC(), ArrivedAt: time.Unix(102, 0).UTC()}
}

// must returns v, or panics with err: a store that fails where the suite
// expects success leaves nothing further to check.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func claim(t *testing.T, s store.Store, b store.Batch) store.Claim {
	t.Helper()
	return must(s.Claim(ctx, b))
}

// reclaim claims b, whose attempt ended failed or partial, again: refused
// (ErrAnnouncing) until that end is announced, then the next attempt.
func reclaim(t *testing.T, s store.Store, b store.Batch) store.Claim {
	t.Helper()
	sum := must(s.Summary(ctx, b.Ref))
	if _, err := s.Claim(ctx, b); !errors.Is(err, store.ErrAnnouncing) {
		t.Fatalf("claim of %s attempt %d ended, before its end was announced: %v, want ErrAnnouncing", b.Ref, sum.Attempt, err)
	}
	if again := must(s.Summary(ctx, b.Ref)); again.Attempt != sum.Attempt || !again.Done() {
		t.Fatalf("the refused claim changed the batch: attempt %d, done %v", again.Attempt, again.Done())
	}
	if err := s.Announced(ctx, b.Ref, sum.Attempt, time.Now()); err != nil {
		t.Fatal(err)
	}
	return claim(t, s, b)
}

func testClaim(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	b := sample("c1", 5, 2, time.Time{})
	c := claim(t, s, b)
	if !c.New || c.Attempt != 1 {
		t.Fatalf("claim %+v, want a new attempt 1", c)
	}
	sum := must(s.Summary(ctx, b.Ref))
	if sum.Attempt != 1 || sum.Trades != 5 || len(sum.Chunks) != 3 || !slices.Equal(sum.ChunkOffsets, []int{0, 2, 4}) ||
		sum.Digest != b.Digest || !sum.SubmittedAt.Equal(b.SubmittedAt) || sum.ResultsURL != b.ResultsURL || sum.TraceParent != b.TraceParent || sum.State() != store.StatePending {
		t.Errorf("summary %+v", sum)
	}
	if lo, hi := sum.Bounds(2); lo != 4 || hi != 5 {
		t.Errorf("bounds of chunk 2: [%d, %d)", lo, hi)
	}
	ids, err := s.Trades(ctx, b.Ref, 1, 1)
	if err != nil || !slices.Equal(ids, []string{"T2", "T3"}) {
		t.Errorf("trades of chunk 1: %v %v", ids, err)
	}
	if _, err := s.Summary(ctx, store.RefOf("nosuch")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown batch: %v, want ErrNotFound", err)
	}
	bad := sample("c2", 3, 1, time.Time{})
	bad.ChunkOffsets = []int{0, 5}
	if _, err := s.Claim(ctx, bad); !errors.Is(err, store.ErrBadChunk) {
		t.Errorf("offsets out of range: %v, want ErrBadChunk", err)
	}
}

func testIdempotency(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	b := sample("i1", 4, 2, time.Time{})
	claim(t, s, b)
	if u := must(s.Accept(ctx, b.Ref, b.Digest, 1, time.Unix(50, 0))); u.Duplicate || u.Announce {
		t.Errorf("first accept %+v", u)
	}
	if u := must(s.Accept(ctx, b.Ref, b.Digest, 1, time.Unix(60, 0))); !u.Duplicate {
		t.Errorf("second accept %+v, want a duplicate", u)
	}
	if c := claim(t, s, b); c.New || c.Attempt != 1 || c.State != store.StatePending {
		t.Errorf("same content again: %+v, want the same batch", c)
	}
	if u := must(s.Put(ctx, b.Ref, b.Digest, 1, priced(0))); u.Duplicate || u.Announce {
		t.Errorf("first put %+v", u)
	}
	again := priced(0)
	again.Results = []byte(`{"id":"T0","npv":999}`)
	if u := must(s.Put(ctx, b.Ref, b.Digest, 1, again)); !u.Duplicate || u.Announce {
		t.Errorf("second put %+v, want a duplicate", u)
	}
	var buf bytes.Buffer
	if err := s.WriteResults(ctx, b.Ref, 1, 0, &buf); err != nil || buf.String() != `{"id":"T0","npv":1}` {
		t.Errorf("results of chunk 0: %q %v: the first outcome must win", buf.String(), err)
	}
	buf.Reset()
	if err := s.WriteResults(ctx, b.Ref, 1, 1, &buf); err != nil || buf.Len() != 0 {
		t.Errorf("results of a waiting chunk: %q %v", buf.String(), err)
	}
	sum := must(s.Summary(ctx, b.Ref))
	c0 := sum.Chunks[0]
	if sum.Duplicates != 1 || c0.Deliveries != 2 || c0.State != store.ChunkPriced || c0.PricedBy != "p1" || c0.Trades != 1 ||
		c0.Totals[""]["npv"] != 1.25 || !reflect.DeepEqual(c0.Partials[""]["npv"], []float64{0x1p-60, 1.25}) || !c0.FinishedAt.Equal(time.Unix(101, 0)) || sum.State() != store.StateRunning ||
		!sum.AcceptedAt.Equal(time.Unix(50, 0)) {
		t.Errorf("summary %+v, chunk 0 %+v", sum, c0)
	}
	dead := store.Chunk{Index: 1, State: store.ChunkDead, Reason: "delivery failed"}
	if u := must(s.Put(ctx, b.Ref, b.Digest, 1, dead)); !u.Announce {
		t.Errorf("last chunk %+v, want the announcement", u)
	}
	sum = must(s.Summary(ctx, b.Ref))
	if sum.State() != store.StatePartial || sum.Chunks[1].Reason != "delivery failed" || !sum.Announced {
		t.Errorf("summary %+v", sum)
	}
	for _, c := range []struct {
		chunk store.Chunk
		want  error
	}{{store.Chunk{Index: 2, State: store.ChunkPriced}, store.ErrBadChunk}, {store.Chunk{Index: -1, State: store.ChunkPriced}, store.ErrBadChunk}} {
		if _, err := s.Put(ctx, b.Ref, b.Digest, 1, c.chunk); !errors.Is(err, c.want) {
			t.Errorf("put chunk %d: %v, want %v", c.chunk.Index, err, c.want)
		}
	}
	if _, err := s.Put(ctx, store.RefOf("nosuch"), "", 1, priced(0)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("put to an unknown batch: %v", err)
	}
	if _, err := s.Put(ctx, b.Ref, b.Digest, 2, priced(0)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("put to an attempt not started: %v", err)
	}
}

func testConflict(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	b := sample("x1", 2, 1, time.Time{})
	claim(t, s, b)
	other := b
	other.Digest = "sha256:other"
	if _, err := s.Claim(ctx, other); !errors.Is(err, store.ErrConflict) {
		t.Errorf("claim with other content: %v, want ErrConflict", err)
	}
	if _, err := s.Put(ctx, b.Ref, other.Digest, 1, priced(0)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("put with another digest: %v, want ErrConflict", err)
	}
	if _, err := s.Accept(ctx, b.Ref, other.Digest, 1, time.Now()); !errors.Is(err, store.ErrConflict) {
		t.Errorf("accept with another digest: %v, want ErrConflict", err)
	}
	if sum := must(s.Summary(ctx, b.Ref)); sum.State() != store.StatePending || sum.Digest != b.Digest {
		t.Errorf("the first batch changed: %+v", sum)
	}
	// A finished batch is no different: its id stays its own.
	must(s.Put(ctx, b.Ref, b.Digest, 1, priced(0)))
	must(s.Put(ctx, b.Ref, b.Digest, 1, priced(1)))
	if _, err := s.Claim(ctx, other); !errors.Is(err, store.ErrConflict) {
		t.Errorf("claim of a completed id with other content: %v, want ErrConflict", err)
	}
	if c := claim(t, s, b); c.New || c.State != store.StateCompleted {
		t.Errorf("completed batch claimed again: %+v, want the same batch", c)
	}
}

func testConcurrentPuts(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	const chunks, senders = 20, 8
	b := sample("cc", chunks, 1, time.Time{})
	claim(t, s, b)
	var mu sync.Mutex
	announced, dups := 0, 0
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for g := range senders {
		wg.Go(func() {
			for k := range chunks {
				i := (k + g*3) % chunks
				u, err := s.Put(ctx, b.Ref, b.Digest, 1, priced(i))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if u.Announce {
					announced++
				}
				if u.Duplicate {
					dups++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if announced != 1 || dups != chunks*(senders-1) {
		t.Errorf("%d announcements (want 1), %d duplicates (want %d)", announced, dups, chunks*(senders-1))
	}
	sum := must(s.Summary(ctx, b.Ref))
	if sum.State() != store.StateCompleted || sum.Duplicates != dups {
		t.Errorf("state %s, duplicates %d", sum.State(), sum.Duplicates)
	}
	for i, c := range sum.Chunks {
		if c.Deliveries != senders {
			t.Errorf("chunk %d: %d deliveries, want %d", i, c.Deliveries, senders)
		}
	}
}

func testRelease(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	b := sample("r1", 1, 1, time.Time{})
	claim(t, s, b)
	u := must(s.Put(ctx, b.Ref, b.Digest, 1, priced(0)))
	if !u.Announce || u.AnnounceBy.IsZero() {
		t.Fatalf("put %+v, want the announcement and its lease", u)
	}
	if u := must(s.Put(ctx, b.Ref, b.Digest, 1, priced(0))); u.Announce {
		t.Errorf("a duplicate got the claim again: %+v", u)
	}
	if err := s.Release(ctx, b.Ref, 1, u.AnnounceBy); err != nil {
		t.Fatal(err)
	}
	if sum := must(s.Summary(ctx, b.Ref)); sum.Announced {
		t.Error("released, but still announced")
	}
	if u = must(s.Put(ctx, b.Ref, b.Digest, 1, priced(0))); !u.Announce || !u.Duplicate {
		t.Errorf("redelivery after release: %+v, want a duplicate holding the claim", u)
	}

	// Where no redelivery comes (an end by the deadline, or by ingress's
	// record of chunks it could not send), the sweep finds the released
	// claim: Overdue lists the batch and Expire grants the claim, once.
	if err := s.Release(ctx, b.Ref, 1, u.AnnounceBy); err != nil {
		t.Fatal(err)
	}
	if over := must(s.Overdue(ctx, time.Now(), 10)); len(over) != 1 || over[0] != b.Ref {
		t.Errorf("overdue after release %v, want [%v]", over, b.Ref)
	}
	if u = must(s.Expire(ctx, b.Ref, 1, time.Now(), "sweep")); !u.Announce {
		t.Errorf("expire of an ended batch whose claim was released: %+v, want the claim", u)
	}
	if sum := must(s.Summary(ctx, b.Ref)); !sum.Announced || sum.State() != store.StateCompleted || sum.Chunks[0].Reason != "" {
		t.Errorf("after the sweep's claim: announced %v, state %s, chunk %+v: want announced and nothing else changed", sum.Announced, sum.State(), sum.Chunks[0])
	}
	if over := must(s.Overdue(ctx, time.Now(), 10)); len(over) != 0 {
		t.Errorf("overdue once claimed: %v", over)
	}
	if u := must(s.Expire(ctx, b.Ref, 1, time.Now(), "sweep")); u.Announce {
		t.Errorf("a second expire got the claim again: %+v", u)
	}

	// Released, then taken back by a redelivery before the sweep came:
	// off the sweep's list (a hundred such entries at its head would hide
	// every batch past its deadline).
	if err := s.Release(ctx, b.Ref, 1, u.AnnounceBy); err != nil {
		t.Fatal(err)
	}
	if u := must(s.Put(ctx, b.Ref, b.Digest, 1, priced(0))); !u.Announce {
		t.Fatalf("redelivery after the second release: %+v, want the claim", u)
	}
	if over := must(s.Overdue(ctx, time.Now(), 10)); len(over) != 0 {
		t.Errorf("overdue once a redelivery claimed the announcement: %v", over)
	}
}

// testLease: a claim to announce not followed by Announced within
// AnnounceLease lapses (its holder died before announcing): Overdue lists
// the batch then, not before, and Expire grants the claim again, for a
// lease of its own; once Announced, never again.
func testLease(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	b := sample("l1", 2, 1, time.Time{})
	claim(t, s, b)
	must(s.Put(ctx, b.Ref, b.Digest, 1, priced(0)))
	granted := time.Now()
	first := must(s.Put(ctx, b.Ref, b.Digest, 1, priced(1)))
	if !first.Announce {
		t.Fatalf("last chunk %+v, want the announcement", first)
	}
	sum := must(s.Summary(ctx, b.Ref))
	if !sum.Announced || sum.AnnounceBy.Before(granted.Add(store.AnnounceLease-time.Second)) || sum.AnnounceBy.After(time.Now().Add(store.AnnounceLease)) ||
		!sum.AnnouncedAt.IsZero() || sum.Unannounced(time.Now()) {
		t.Errorf("claimed: announced %v by %v (granted %v), made %v", sum.Announced, sum.AnnounceBy, granted, sum.AnnouncedAt)
	}
	if over := must(s.Overdue(ctx, time.Now(), 10)); len(over) != 0 {
		t.Errorf("overdue within the lease: %v", over)
	}
	if u := must(s.Expire(ctx, b.Ref, 1, time.Now(), "sweep")); u.Announce {
		t.Errorf("expire within the lease granted the claim: %+v", u)
	}
	if u := must(s.Put(ctx, b.Ref, b.Digest, 1, priced(1))); u.Announce {
		t.Errorf("a redelivery within the lease got the claim: %+v", u)
	}

	lapsed := time.Now().Add(store.AnnounceLease + time.Second)
	if !must(s.Summary(ctx, b.Ref)).Unannounced(lapsed) {
		t.Error("not unannounced once the lease lapsed")
	}
	if over := must(s.Overdue(ctx, lapsed, 10)); len(over) != 1 || over[0] != b.Ref {
		t.Errorf("overdue once the lease lapsed: %v, want [%v]", over, b.Ref)
	}
	second := must(s.Expire(ctx, b.Ref, 1, lapsed, "sweep"))
	if !second.Announce || !second.AnnounceBy.After(first.AnnounceBy) {
		t.Fatalf("expire once the lease lapsed: %+v, want the claim, leased anew", second)
	}
	// The first holder, its send failed at last, gives back a claim that
	// is no longer its own: the second keeps it.
	if err := s.Release(ctx, b.Ref, 1, first.AnnounceBy); err != nil {
		t.Fatal(err)
	}
	if u := must(s.Expire(ctx, b.Ref, 1, lapsed.Add(time.Second), "sweep")); u.Announce {
		t.Errorf("a lapsed holder's release let the claim be granted a third time: %+v", u)
	}
	sum = must(s.Summary(ctx, b.Ref))
	if !sum.AnnounceBy.Equal(lapsed.Add(store.AnnounceLease).Truncate(time.Millisecond)) && !sum.AnnounceBy.Equal(lapsed.Add(store.AnnounceLease)) ||
		sum.State() != store.StateCompleted || sum.Chunks[1].Reason != "" {
		t.Errorf("claimed again: by %v, want %v; state %s, chunk %+v", sum.AnnounceBy, lapsed.Add(store.AnnounceLease), sum.State(), sum.Chunks[1])
	}
	if over := must(s.Overdue(ctx, lapsed, 10)); len(over) != 0 {
		t.Errorf("overdue within the second lease: %v", over)
	}
	if u := must(s.Expire(ctx, b.Ref, 1, lapsed, "sweep")); u.Announce {
		t.Errorf("a second expire got the claim: %+v", u)
	}

	made := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	if err := s.Announced(ctx, b.Ref, 1, made); err != nil {
		t.Fatal(err)
	}
	sum = must(s.Summary(ctx, b.Ref))
	if !sum.Announced || !sum.AnnouncedAt.Equal(made) || !sum.AnnounceBy.IsZero() {
		t.Errorf("announced: %v at %v, by %v; want made at %v, no lease", sum.Announced, sum.AnnouncedAt, sum.AnnounceBy, made)
	}
	// Made: even the holder's own release changes nothing.
	if err := s.Release(ctx, b.Ref, 1, second.AnnounceBy); err != nil {
		t.Fatal(err)
	}
	later := lapsed.Add(10 * store.AnnounceLease)
	if over := must(s.Overdue(ctx, later, 10)); len(over) != 0 || sum.Unannounced(later) {
		t.Errorf("overdue once announced: %v", over)
	}
	if u := must(s.Expire(ctx, b.Ref, 1, later, "sweep")); u.Announce {
		t.Errorf("expire of an announced batch got the claim: %+v", u)
	}
	if err := s.Announced(ctx, b.Ref, 2, made); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("announced of an attempt never claimed: %v, want ErrNotFound", err)
	}

	// A batch of no chunks, claimed at its batch.accepted: the same.
	e := store.Batch{Ref: store.RefOf("l2"), Digest: "sha256:l2"}
	claim(t, s, e)
	if u := must(s.Accept(ctx, e.Ref, e.Digest, 1, time.Now())); !u.Announce {
		t.Fatalf("accept of an empty batch: %+v, want the announcement", u)
	}
	if over := must(s.Overdue(ctx, lapsed, 10)); len(over) != 1 || over[0] != e.Ref {
		t.Errorf("overdue once the empty batch's lease lapsed: %v, want [%v]", over, e.Ref)
	}
	u := must(s.Expire(ctx, e.Ref, 1, lapsed, "sweep"))
	if !u.Announce {
		t.Fatalf("expire once the empty batch's lease lapsed: %+v, want the claim", u)
	}
	// Released (its send failed), with no chunk whose redelivery would
	// take it again: the sweep grants it.
	if err := s.Release(ctx, e.Ref, 1, u.AnnounceBy); err != nil {
		t.Fatal(err)
	}
	if over := must(s.Overdue(ctx, lapsed, 10)); len(over) != 1 || over[0] != e.Ref {
		t.Errorf("overdue once the empty batch's claim was released: %v, want [%v]", over, e.Ref)
	}
	if u := must(s.Expire(ctx, e.Ref, 1, lapsed, "sweep")); !u.Announce {
		t.Errorf("expire of an empty batch whose claim was released: %+v, want the claim", u)
	}
}

func testDeadline(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	deadline := time.Now().Add(-time.Second).Truncate(time.Millisecond)
	b := sample("d1", 3, 1, deadline)
	future := sample("d2", 3, 1, time.Now().Add(time.Hour))
	claim(t, s, b)
	claim(t, s, future)
	must(s.Put(ctx, b.Ref, b.Digest, 1, priced(0)))
	over := must(s.Overdue(ctx, time.Now(), 10))
	if len(over) != 1 || over[0] != b.Ref {
		t.Errorf("overdue %v, want [%v]", over, b.Ref)
	}
	if u := must(s.Expire(ctx, future.Ref, 1, time.Now(), "deadline passed")); u.Announce {
		t.Errorf("expired a batch before its deadline: %+v", u)
	}
	u := must(s.Expire(ctx, b.Ref, 1, time.Now(), "deadline passed"))
	if !u.Announce {
		t.Errorf("expire %+v, want the announcement", u)
	}
	sum := must(s.Summary(ctx, b.Ref))
	if sum.State() != store.StatePartial || sum.Chunks[1].Reason != "deadline passed" || sum.Chunks[2].State != store.ChunkDead || sum.Chunks[0].State != store.ChunkPriced {
		t.Errorf("after the deadline: %s %+v", sum.State(), sum.Chunks)
	}
	if over := must(s.Overdue(ctx, time.Now(), 10)); len(over) != 0 {
		t.Errorf("still overdue: %v", over)
	}
	if u := must(s.Expire(ctx, b.Ref, 1, time.Now(), "again")); u.Announce {
		t.Errorf("expired twice: %+v", u)
	}
	// A chunk arriving after the deadline changes nothing.
	if u := must(s.Put(ctx, b.Ref, b.Digest, 1, priced(1))); !u.Late || u.Announce {
		t.Errorf("late chunk: %+v", u)
	}
	if sum := must(s.Summary(ctx, b.Ref)); sum.Late != 1 || sum.Chunks[1].State != store.ChunkDead {
		t.Errorf("late chunk recorded: %+v", sum)
	}
	// The client resubmits: a new attempt, whose events are not the old one's.
	b.Deadline = time.Now().Add(time.Hour)
	c := reclaim(t, s, b)
	if !c.New || c.Attempt != 2 {
		t.Fatalf("resubmitted partial batch: %+v, want attempt 2", c)
	}
	if _, err := s.Put(ctx, b.Ref, b.Digest, 1, priced(2)); !errors.Is(err, store.ErrStale) {
		t.Errorf("put of attempt 1: %v, want ErrStale", err)
	}
	sum = must(s.Summary(ctx, b.Ref))
	if sum.Attempt != 2 || sum.State() != store.StatePending || sum.Late != 0 || sum.Announced {
		t.Errorf("attempt 2: %+v", sum)
	}
	for i := range 3 {
		u = must(s.Put(ctx, b.Ref, b.Digest, 2, priced(i)))
	}
	if !u.Announce || must(s.Summary(ctx, b.Ref)).State() != store.StateCompleted {
		t.Errorf("attempt 2 did not complete: %+v", u)
	}
	if ids, err := s.Trades(ctx, b.Ref, 2, 2); err != nil || !slices.Equal(ids, []string{"T2"}) {
		t.Errorf("trades of attempt 2: %v %v", ids, err)
	}
}

// testExpiry: a finished batch goes Retain after it finished, an
// unfinished one MaxAge after its claim, and not before. A store expires
// by its own clock (Redis's), so the test polls instead of sleeping a
// fixed time, which a loaded machine overruns.
func testExpiry(t *testing.T, newStore NewFunc) {
	const retain, maxAge = 100 * time.Millisecond, 1500 * time.Millisecond
	s := newStore(t, store.Options{Retain: retain, MaxAge: maxAge})
	done := sample("e1", 1, 1, time.Time{})
	open := sample("e2", 1, 1, time.Time{})
	claimed := time.Now()
	claim(t, s, done)
	claim(t, s, open)
	must(s.Put(ctx, done.Ref, done.Digest, 1, priced(0)))
	finished := time.Now()
	gone := func(ref store.Ref) bool {
		_, err := s.Summary(ctx, ref)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return err != nil
	}
	waitGone := func(ref store.Ref, what string) time.Duration {
		for deadline := time.Now().Add(10 * time.Second); !gone(ref); {
			if time.Now().After(deadline) {
				t.Fatalf("%s kept 10 s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
		return time.Since(claimed)
	}
	if gone(done.Ref) && time.Since(finished) < retain/2 {
		t.Errorf("finished batch gone %s after it finished, before Retain %s", time.Since(finished), retain)
	}
	waitGone(done.Ref, "finished batch")
	if at := time.Since(claimed); at < maxAge-200*time.Millisecond && gone(open.Ref) {
		t.Errorf("unfinished batch gone %s after its claim, before MaxAge %s", at, maxAge)
	}
	if at := waitGone(open.Ref, "unfinished batch"); at < maxAge {
		t.Errorf("unfinished batch gone %s after its claim, before MaxAge %s", at, maxAge)
	}
	// The id is free again.
	if c := claim(t, s, done); !c.New || c.Attempt != 1 {
		t.Errorf("claim of a forgotten id: %+v", c)
	}
}

// testExpiryPastDeadline: an unfinished batch whose deadline lies past
// MaxAge is kept MaxAge past its deadline, not forgotten MaxAge after its
// claim while it runs: MaxAge is a safety net behind the deadline. Before,
// a batch with a deadline of hours (its own "deadline", --batch-timeout,
// or the default for a costly batch) read as not found, its results lost,
// once --max-age had passed.
func testExpiryPastDeadline(t *testing.T, newStore NewFunc) {
	const maxAge, ahead = 200 * time.Millisecond, 700 * time.Millisecond
	s := newStore(t, store.Options{MaxAge: maxAge})
	claimed := time.Now()
	b := sample("x1", 2, 1, claimed.Add(ahead))
	claim(t, s, b)
	gone := func() bool {
		_, err := s.Summary(ctx, b.Ref)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return err != nil
	}
	// Past MaxAge after the claim, well before the deadline: the batch
	// runs, and is kept.
	for time.Since(claimed) < ahead-150*time.Millisecond {
		if gone() {
			t.Fatalf("unfinished batch gone %s after its claim, before its deadline %s away", time.Since(claimed), ahead)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// An outcome is still recorded; unfinished, it goes MaxAge past
	// its deadline.
	must(s.Put(ctx, b.Ref, b.Digest, 1, priced(0)))
	for deadline := time.Now().Add(10 * time.Second); !gone(); {
		if time.Now().After(deadline) {
			t.Fatalf("unfinished batch kept 10 s past its deadline, with MaxAge %s", maxAge)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if at := time.Since(claimed); at < ahead+maxAge-50*time.Millisecond {
		t.Errorf("unfinished batch gone %s after its claim, before MaxAge %s past its deadline %s away", at, maxAge, ahead)
	}
}

// testLimitsPastMaxAge: a tenant's unfinished batches count against its
// limit as long as they are kept, MaxAge past each one's deadline (past
// its claim, without one), whatever the deadline of the batch claimed
// next: one kept past MaxAge still counts, one forgotten counts no more.
func testLimitsPastMaxAge(t *testing.T, newStore NewFunc) {
	const maxAge = 150 * time.Millisecond
	s := newStore(t, store.Options{MaxAge: maxAge})
	one := store.Limits{MaxOpen: 1}
	limited := func(id, tenant string, deadline time.Time) store.Batch {
		b := sample(id, 1, 1, deadline)
		b.Ref.Tenant, b.Limits = tenant, one
		return b
	}
	claim(t, s, limited("long", "alpha", time.Now().Add(time.Hour)))
	claim(t, s, limited("short", "beta", time.Time{}))
	time.Sleep(maxAge + 50*time.Millisecond)
	// alpha's batch runs on, to its deadline an hour away.
	if _, err := s.Claim(ctx, limited("next", "alpha", time.Time{})); !errors.Is(err, store.ErrLimit) {
		t.Errorf("a batch without a deadline beside one kept past MaxAge: %v, want ErrLimit", err)
	}
	// beta's batch is forgotten, MaxAge after its claim.
	if _, err := s.Summary(ctx, store.Ref{Tenant: "beta", ID: "short"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("batch without a deadline MaxAge after its claim: %v, want ErrNotFound", err)
	}
	if c, err := s.Claim(ctx, limited("next", "beta", time.Now().Add(time.Hour))); err != nil || !c.New {
		t.Errorf("a batch with a far deadline beside one forgotten: %+v, %v, want it claimed", c, err)
	}
}

func testWatch(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	b := sample("w1", 2, 1, time.Time{})
	changed, stop, err := s.Watch(ctx, b.Ref)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	go func() { s.Claim(ctx, b) }()
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("no wake-up for the claim")
	}
	changed, stop2, _ := s.Watch(ctx, b.Ref)
	defer stop2()
	go func() { s.Put(ctx, b.Ref, b.Digest, 1, priced(1)) }()
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("no wake-up for a chunk")
	}
}

func testEmpty(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	b := store.Batch{Ref: store.RefOf("empty"), Digest: "sha256:e"}
	claim(t, s, b)
	// Announced at its batch.accepted, not by the sweep before it.
	if over := must(s.Overdue(ctx, time.Now(), 10)); len(over) != 0 {
		t.Errorf("an empty batch on the sweep's list before its batch.accepted: %v", over)
	}
	if u := must(s.Expire(ctx, b.Ref, 1, time.Now(), "sweep")); u.Announce {
		t.Errorf("expire of an empty batch before its batch.accepted: %+v, want no claim", u)
	}
	if u := must(s.Accept(ctx, b.Ref, b.Digest, 1, time.Now())); !u.Announce {
		t.Errorf("accept of an empty batch: %+v, want the announcement", u)
	}
	if sum := must(s.Summary(ctx, b.Ref)); sum.State() != store.StateCompleted || len(sum.Chunks) != 0 {
		t.Errorf("empty batch: %s", sum.State())
	}

	// One whose batch.accepted never comes (lost: the aggregators down
	// past the broker's retries) is announced by the sweep once its
	// deadline has passed, once; before, it never was.
	lost := store.Batch{Ref: store.RefOf("lost"), Digest: "sha256:l", Deadline: time.Now().Add(-time.Second).Truncate(time.Millisecond)}
	claim(t, s, lost)
	if over := must(s.Overdue(ctx, time.Now(), 10)); !slices.Contains(over, lost.Ref) {
		t.Errorf("overdue %v: want the empty batch past its deadline without its batch.accepted", over)
	}
	if u := must(s.Expire(ctx, lost.Ref, 1, time.Now(), "sweep")); !u.Announce {
		t.Errorf("expire of an empty batch past its deadline without its batch.accepted: %+v, want the announcement", u)
	}
	if err := s.Announced(ctx, lost.Ref, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	if u := must(s.Accept(ctx, lost.Ref, lost.Digest, 1, time.Now())); u.Announce {
		t.Errorf("its batch.accepted after all: %+v, want no second announcement", u)
	}
	if over := must(s.Overdue(ctx, time.Now(), 10)); slices.Contains(over, lost.Ref) {
		t.Errorf("overdue once announced: %v", over)
	}
}

// testEmptyPastRetain: a batch of no trades whose batch.accepted never
// comes is kept until the sweep announces it at its deadline, however far
// that lies past Retain (it was forgotten Retain after its claim, never
// announced); one accepted is kept Retain after its acceptance.
func testEmptyPastRetain(t *testing.T, newStore NewFunc) {
	const retain, ahead = 200 * time.Millisecond, 500 * time.Millisecond
	s := newStore(t, store.Options{Retain: retain})
	// Redis keeps times to the millisecond: a deadline of whole ones,
	// and a sweep a millisecond past it, are past it in both stores (a
	// sweep within the deadline's millisecond was not, now and then).
	lost := store.Batch{Ref: store.RefOf("lost"), Digest: "sha256:l", Deadline: time.Now().Add(ahead).Truncate(time.Millisecond)}
	claim(t, s, lost)
	accepted := store.Batch{Ref: store.RefOf("accepted"), Digest: "sha256:a", Deadline: time.Now().Add(time.Hour)}
	claim(t, s, accepted)
	must(s.Accept(ctx, accepted.Ref, accepted.Digest, 1, time.Now()))
	for !time.Now().After(lost.Deadline.Add(time.Millisecond)) {
		time.Sleep(10 * time.Millisecond)
	}
	if u, err := s.Expire(ctx, lost.Ref, 1, time.Now(), "sweep"); err != nil || !u.Announce {
		t.Errorf("the sweep past the deadline of an empty batch never accepted, %s past Retain: %+v, %v, want the announcement", ahead-retain, u, err)
	}
	if _, err := s.Summary(ctx, accepted.Ref); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an empty batch accepted %s ago, Retain %s: %v, want it forgotten", ahead, retain, err)
	}
}

func testTenants(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	a := sample("same", 1, 1, time.Time{})
	a.Ref = store.Ref{Tenant: "alpha", ID: "same"}
	b := sample("same", 2, 1, time.Time{})
	b.Ref, b.Digest = store.Ref{Tenant: "beta", ID: "same"}, "sha256:beta"
	claim(t, s, a)
	if c := claim(t, s, b); !c.New {
		t.Errorf("another tenant's id: %+v, want a batch of its own", c)
	}
	if _, err := s.Summary(ctx, store.RefOf("same")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("default tenant sees another's batch: %v", err)
	}
	if sum := must(s.Summary(ctx, b.Ref)); sum.Trades != 2 {
		t.Errorf("beta's batch: %+v", sum)
	}
}

func testLimits(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	limited := func(id string, n int, tenant string, l store.Limits) store.Batch {
		b := sample(id, n, 1, time.Time{})
		b.Ref.Tenant, b.Limits = tenant, l
		return b
	}
	open := store.Limits{MaxOpen: 2}
	a, b := limited("l1", 1, "alpha", open), limited("l2", 1, "alpha", open)
	claim(t, s, a)
	claim(t, s, b)
	if _, err := s.Claim(ctx, limited("l3", 1, "alpha", open)); !errors.Is(err, store.ErrLimit) || !strings.Contains(err.Error(), "tenant alpha has 2 unfinished batches, and its limit of unfinished batches is 2") {
		t.Errorf("third open batch: %v, want ErrLimit naming alpha's 2 unfinished batches", err)
	}
	// The default tenant (an engine without tokens) is the engine, not
	// "_", a name no client gave; one batch is one.
	one := store.Limits{MaxOpen: 1}
	claim(t, s, limited("d1", 1, "", one))
	if _, err := s.Claim(ctx, limited("d2", 1, "", one)); !errors.Is(err, store.ErrLimit) || !strings.Contains(err.Error(), ": the engine has 1 unfinished batch, and its limit of unfinished batches is 1") {
		t.Errorf("second open batch of the default tenant: %v, want ErrLimit naming the engine's 1 unfinished batch", err)
	}
	if c := claim(t, s, a); c.New {
		t.Errorf("the same batch again counted as new: %+v", c)
	}
	if c := claim(t, s, limited("l3", 1, "beta", open)); !c.New {
		t.Errorf("another tenant was limited: %+v", c)
	}
	must(s.Put(ctx, a.Ref, a.Digest, 1, priced(0)))
	if c := claim(t, s, limited("l3", 1, "alpha", open)); !c.New {
		t.Errorf("after one finished: %+v", c)
	}
	trades := store.Limits{MaxTrades: 5}
	claim(t, s, limited("m1", 3, "gamma", trades))
	if _, err := s.Claim(ctx, limited("m2", 3, "gamma", trades)); !errors.Is(err, store.ErrLimit) || !strings.Contains(err.Error(), "3 trades in flight") {
		t.Errorf("trades over the limit: %v, want ErrLimit naming 3 in flight", err)
	}
	claim(t, s, limited("m3", 2, "gamma", trades))
}

func testRecent(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	for i, id := range []string{"r1", "r2", "r3"} {
		b := sample(id, 1, 1, time.Time{})
		b.Ref.Tenant = "alpha"
		claim(t, s, b)
		if i < 2 {
			time.Sleep(5 * time.Millisecond) // claim times apart
		}
	}
	other := sample("o1", 1, 1, time.Time{})
	other.Ref.Tenant = "beta"
	claim(t, s, other)
	got := must(s.Recent(ctx, "alpha", 2))
	if len(got) != 2 || got[0].ID != "r3" || got[1].ID != "r2" || got[0].Tenant != "alpha" {
		t.Errorf("recent of alpha: %v, want r3, r2", got)
	}
	if got := must(s.Recent(ctx, "beta", 10)); len(got) != 1 || got[0].ID != "o1" {
		t.Errorf("recent of beta: %v", got)
	}
}

// testScenarioChunks: chunks that share an offset (a risk run's scenario
// chunks, batch.PlanChunks, then the base chunk of their trades) hold no
// trades of their own; each keeps its outcome and its bytes, and the batch
// is done when all are.
func testScenarioChunks(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	b := sample("s1", 3, 3, time.Time{})
	b.ChunkOffsets = []int{0, 0, 0}
	claim(t, s, b)
	sum := must(s.Summary(ctx, b.Ref))
	for i, want := range [][2]int{{0, 0}, {0, 0}, {0, 3}} {
		if lo, hi := sum.Bounds(i); lo != want[0] || hi != want[1] {
			t.Errorf("bounds of chunk %d: [%d, %d), want %v", i, lo, hi, want)
		}
	}
	if ids, err := s.Trades(ctx, b.Ref, 1, 0); err != nil || len(ids) != 0 {
		t.Errorf("trades of a scenario chunk: %v %v, want none", ids, err)
	}
	if ids, err := s.Trades(ctx, b.Ref, 1, 2); err != nil || !slices.Equal(ids, []string{"T0", "T1", "T2"}) {
		t.Errorf("trades of the base chunk: %v %v", ids, err)
	}
	sums := [][]byte{[]byte(`{"offset":0,"of":4,"scenarios":[]}`), []byte(`{"offset":2,"of":4,"scenarios":[]}`)}
	for i, data := range sums {
		if u := must(s.Put(ctx, b.Ref, b.Digest, 1, store.Chunk{Index: i, State: store.ChunkPriced, Results: data})); u.Announce || u.Duplicate {
			t.Errorf("scenario chunk %d: %+v", i, u)
		}
	}
	if u := must(s.Put(ctx, b.Ref, b.Digest, 1, priced(2))); !u.Announce {
		t.Errorf("the last chunk did not finish the batch: %+v", u)
	}
	for i, want := range append(sums, priced(2).Results) {
		var got writes
		if err := s.WriteResults(ctx, b.Ref, 1, i, &got); err != nil || len(got) != 1 || string(got[0]) != string(want) {
			t.Errorf("chunk %d's bytes %q (%v), want %q in one write", i, got, err, want)
		}
	}
	if st := must(s.Summary(ctx, b.Ref)).State(); st != store.StateCompleted {
		t.Errorf("state %s, want completed", st)
	}
}

// testLayout: Layout gives each chunk's bounds as the Summary does, with
// the batch's digest, attempt and chunk count, scenario chunks and the
// last chunk included; an index outside the batch has no bounds, and an
// unknown batch is not found. A new attempt's layout is its own.
func testLayout(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	if _, err := s.Layout(ctx, store.RefOf("none"), 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("layout of an unknown batch: %v, want ErrNotFound", err)
	}
	b := sample("lay", 25, 10, time.Now().Add(-time.Second).Truncate(time.Millisecond))
	b.ChunkOffsets = []int{0, 0, 0, 10, 20, 20}
	claim(t, s, b)
	sum := must(s.Summary(ctx, b.Ref))
	for i := -1; i <= len(b.ChunkOffsets); i++ {
		want := store.Layout{Digest: b.Digest, Attempt: 1, Chunks: 6}
		if i >= 0 && i < len(b.ChunkOffsets) {
			want.Lo, want.Hi = sum.Bounds(i)
		}
		if got := must(s.Layout(ctx, b.Ref, i)); got != want {
			t.Errorf("layout of chunk %d: %+v, want %+v", i, got, want)
		}
	}
	if l := must(s.Layout(ctx, b.Ref, 5)); l.Lo != 20 || l.Hi != 25 {
		t.Errorf("the last chunk's bounds: [%d, %d), want [20, 25)", l.Lo, l.Hi)
	}
	if l := must(s.Layout(ctx, b.Ref, 4)); l.Lo != 20 || l.Hi != 20 {
		t.Errorf("a scenario chunk's bounds: [%d, %d), want [20, 20)", l.Lo, l.Hi)
	}

	// Ended by its deadline, announced, submitted again: attempt 2.
	if u := must(s.Expire(ctx, b.Ref, 1, time.Now(), "deadline")); !u.Announce {
		t.Fatalf("expire: %+v, want the announcement", u)
	}
	b.Deadline = time.Now().Add(time.Hour).Truncate(time.Millisecond)
	if c := reclaim(t, s, b); c.Attempt != 2 {
		t.Fatalf("resubmission: attempt %d, want 2", c.Attempt)
	}
	if l := must(s.Layout(ctx, b.Ref, 3)); l != (store.Layout{Digest: b.Digest, Attempt: 2, Chunks: 6, Lo: 10, Hi: 20}) {
		t.Errorf("layout of attempt 2's chunk 3: %+v", l)
	}
}

// testBrief: Brief tells what Summary does of a batch, its chunks
// counted by state and its latest outcome's time, in every state and
// attempt, without its chunks.
func testBrief(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	if _, err := s.Brief(ctx, store.RefOf("none")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("brief of an unknown batch: %v, want ErrNotFound", err)
	}
	b := sample("brief", 5, 1, time.Now().Add(-time.Second).Truncate(time.Millisecond))
	check := func(step string, want store.Brief) {
		t.Helper()
		got := must(s.Brief(ctx, b.Ref))
		of := must(s.Summary(ctx, b.Ref)).BriefOf()
		for _, x := range []*store.Brief{got, of} {
			if x.Ref != want.Ref || x.Attempt != want.Attempt || x.Trades != want.Trades || x.Chunks != want.Chunks || x.Done != want.Done || x.Dead != want.Dead ||
				!x.SubmittedAt.Equal(want.SubmittedAt) || !x.AcceptedAt.Equal(want.AcceptedAt) || !x.LastAt.Equal(want.LastAt) {
				t.Errorf("%s: brief %+v (of the summary %+v), want %+v", step, got, of, want)
				return
			}
		}
		if got.State() != must(s.Summary(ctx, b.Ref)).State() {
			t.Errorf("%s: brief's state %s, the summary's %s", step, got.State(), must(s.Summary(ctx, b.Ref)).State())
		}
	}
	claim(t, s, b)
	want := store.Brief{Ref: b.Ref, Attempt: 1, Trades: 5, Chunks: 5, SubmittedAt: b.SubmittedAt}
	check("claimed", want)
	accepted := time.Unix(99, 5).UTC()
	must(s.Accept(ctx, b.Ref, b.Digest, 1, accepted))
	want.AcceptedAt = accepted
	check("accepted", want)
	late := priced(3)
	late.ArrivedAt = time.Unix(1e9, 123456789).UTC()
	must(s.Put(ctx, b.Ref, b.Digest, 1, late))
	must(s.Put(ctx, b.Ref, b.Digest, 1, priced(0)))             // arrived earlier
	must(s.Put(ctx, b.Ref, b.Digest, 1, store.Chunk{Index: 0})) // a duplicate
	want.Done, want.LastAt = 2, late.ArrivedAt
	check("running", want)
	dead := store.Chunk{Index: 1, State: store.ChunkDead, Reason: "dead-lettered", ArrivedAt: late.ArrivedAt.Add(time.Nanosecond)}
	must(s.Put(ctx, b.Ref, b.Digest, 1, dead))
	want.Done, want.Dead, want.LastAt = 3, 1, dead.ArrivedAt
	check("a dead chunk", want)
	ended := time.Now().Truncate(time.Millisecond)
	must(s.Expire(ctx, b.Ref, 1, ended, "deadline passed"))
	want.Done, want.Dead, want.LastAt = 5, 3, ended
	check("ended by its deadline", want)

	b.Deadline = time.Now().Add(time.Hour).Truncate(time.Millisecond)
	reclaim(t, s, b)
	want = store.Brief{Ref: b.Ref, Attempt: 2, Trades: 5, Chunks: 5, SubmittedAt: b.SubmittedAt}
	check("attempt 2", want)
	for i := range 5 {
		must(s.Put(ctx, b.Ref, b.Digest, 2, priced(i)))
	}
	want.Done, want.LastAt = 5, priced(0).ArrivedAt
	check("attempt 2 completed", want)

	empty := sample("brief-empty", 0, 1, time.Time{})
	claim(t, s, empty)
	if got := must(s.Brief(ctx, empty.Ref)); got.Chunks != 0 || got.Done != 0 || got.State() != store.StateCompleted || !got.LastAt.IsZero() {
		t.Errorf("brief of a batch of no chunks: %+v, state %s", got, got.State())
	}
}

// testTally: Tally adds up what Summary has of a batch's outcomes, in any
// order of arrival: counts, pricing time, exact totals, the first dead
// chunks by index with their reasons.
func testTally(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	if _, err := s.Tally(ctx, store.RefOf("none")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("tally of an unknown batch: %v, want ErrNotFound", err)
	}
	b := sample("tally", 150, 1, time.Now().Add(-time.Second).Truncate(time.Millisecond))
	b.ChunkOffsets = append([]int{0}, b.ChunkOffsets...) // chunk 0 is a scenario chunk: 151 chunks
	claim(t, s, b)
	check := func(step string) {
		t.Helper()
		got := must(s.Tally(ctx, b.Ref))
		want := must(s.Summary(ctx, b.Ref)).TallyOf()
		if g, w := tallyText(got), tallyText(want); g != w {
			t.Errorf("%s: tally\n%s\nwant, as the summary has it,\n%s", step, g, w)
		}
	}
	check("claimed")
	for i := 150; i >= 30; i-- { // dead, from the last
		at := time.Unix(200, int64(i)).UTC()
		must(s.Put(ctx, b.Ref, b.Digest, 1, store.Chunk{Index: i, State: store.ChunkDead, Reason: fmt.Sprintf("dead %d", i), ArrivedAt: at}))
	}
	check("121 dead")
	for i := range 20 {
		c := priced(i)
		c.Trades, c.Failed = 1, i%2
		c.Partials = map[string]map[string][]float64{"": {"npv": {1e16, float64(i)}}, "ACME": {"delta": {0x1p-60, -float64(i)}}}
		c.StartedAt, c.FinishedAt = time.Unix(100, int64(i)), time.Unix(101, int64(3*i))
		c.ArrivedAt = time.Unix(300-int64(i), 0).UTC()
		must(s.Put(ctx, b.Ref, b.Digest, 1, c))
	}
	old := priced(20) // of an earlier pricer: totals, no partials
	old.Partials = nil
	must(s.Put(ctx, b.Ref, b.Digest, 1, old))
	beyond := priced(21) // a sum beyond float64's range
	beyond.Partials = map[string]map[string][]float64{"": {"npv": {}}}
	must(s.Put(ctx, b.Ref, b.Digest, 1, beyond))
	must(s.Put(ctx, b.Ref, b.Digest, 1, priced(3))) // a duplicate
	check("priced")
	must(s.Expire(ctx, b.Ref, 1, time.Now(), "deadline passed"))
	check("ended by its deadline")
	got := must(s.Tally(ctx, b.Ref))
	if got.State() != store.StatePartial || got.Chunks != 151 || got.ScenarioChunks != 1 || got.ChunksDead != 129 || len(got.FirstDead) != store.MaxFirstDead ||
		got.FirstDead[0].Index != 22 || got.FirstDead[0].Reason != "deadline passed" || got.FirstDead[8].Reason != "dead 30" || got.FirstDead[8].Trades != 1 {
		t.Errorf("tally %s, want partial, 129 of 151 chunks dead, the first from 22", tallyText(got))
	}
}

// testChunks: Chunks gives a page of the chunks Summary has, by index,
// with their trade counts, of the attempt asked for.
func testChunks(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	if _, _, err := s.Chunks(ctx, store.RefOf("none"), 1, 0, 5); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("chunks of an unknown batch: %v, want ErrNotFound", err)
	}
	b := sample("pages", 7, 1, time.Now().Add(-time.Second).Truncate(time.Millisecond))
	b.ChunkOffsets = []int{0, 0, 2, 5, 6}
	claim(t, s, b)
	must(s.Put(ctx, b.Ref, b.Digest, 1, priced(2)))
	must(s.Put(ctx, b.Ref, b.Digest, 1, priced(2))) // delivered twice
	must(s.Put(ctx, b.Ref, b.Digest, 1, store.Chunk{Index: 0, State: store.ChunkDead, Reason: "dead-lettered", ArrivedAt: time.Unix(300, 0).UTC()}))
	pages := func(step string) {
		t.Helper()
		sum := must(s.Summary(ctx, b.Ref))
		for _, p := range [][2]int{{0, 2}, {2, 3}, {1, 10}, {4, 1}, {5, 3}, {9, 1}, {3, 0}} {
			chunks, trades, err := s.Chunks(ctx, b.Ref, sum.Attempt, p[0], p[1])
			if err != nil {
				t.Fatalf("%s: chunks %v: %v", step, p, err)
			}
			from, to := min(p[0], 5), min(p[0]+p[1], 5)
			if len(chunks) != to-from || len(trades) != to-from {
				t.Errorf("%s: chunks %v: %d chunks, %d counts, want %d", step, p, len(chunks), len(trades), to-from)
				continue
			}
			for i := range chunks {
				lo, hi := sum.Bounds(from + i)
				if !reflect.DeepEqual(chunks[i], sum.Chunks[from+i]) || trades[i] != hi-lo {
					t.Errorf("%s: chunk %d: %+v of %d trades, want %+v of %d", step, from+i, chunks[i], trades[i], sum.Chunks[from+i], hi-lo)
				}
			}
		}
	}
	pages("running")
	must(s.Expire(ctx, b.Ref, 1, time.Now().Truncate(time.Millisecond), "deadline passed"))
	pages("ended by its deadline")
	b.Deadline = time.Now().Add(time.Hour).Truncate(time.Millisecond)
	reclaim(t, s, b)
	if _, _, err := s.Chunks(ctx, b.Ref, 1, 0, 5); !errors.Is(err, store.ErrStale) {
		t.Errorf("chunks of attempt 1 once 2 is claimed: %v, want ErrStale", err)
	}
	pages("attempt 2")
}

// testArrivals: Arrivals pages a batch's outcomes in the order recorded,
// those a deadline ended last, by index; each as Summary has it, with its
// trade range; another attempt's start over.
func testArrivals(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	if _, err := s.Arrivals(ctx, store.RefOf("none"), 1, 0, 5); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("arrivals of an unknown batch: %v, want ErrNotFound", err)
	}
	b := sample("arrivals", 7, 1, time.Now().Add(-time.Second).Truncate(time.Millisecond))
	b.ChunkOffsets = []int{0, 0, 2, 5, 6}
	claim(t, s, b)
	check := func(step string, attempt int, want []int) {
		t.Helper()
		sum := must(s.Summary(ctx, b.Ref))
		for _, p := range [][2]int{{0, 10}, {0, 2}, {1, 1}, {2, 3}, {len(want), 5}, {9, 1}, {0, 0}} {
			a, err := s.Arrivals(ctx, b.Ref, attempt, p[0], p[1])
			if err != nil {
				t.Fatalf("%s: arrivals %v: %v", step, p, err)
			}
			from, to := min(p[0], len(want)), min(p[0]+p[1], len(want))
			var got []int
			for k := range a.Chunks {
				got = append(got, a.Chunks[k].Index)
			}
			if a.All || !slices.Equal(got, want[from:to]) || len(a.Lo) != len(got) || len(a.Hi) != len(got) {
				t.Errorf("%s: arrivals %v: chunks %v (all %v, %d ranges), want %v", step, p, got, a.All, len(a.Lo), want[from:to])
				continue
			}
			for k, c := range a.Chunks {
				lo, hi := sum.Bounds(c.Index)
				if !reflect.DeepEqual(c, sum.Chunks[c.Index]) || a.Lo[k] != lo || a.Hi[k] != hi {
					t.Errorf("%s: arrivals %v: chunk %+v of trades [%d, %d), want %+v of [%d, %d)", step, p, c, a.Lo[k], a.Hi[k], sum.Chunks[c.Index], lo, hi)
				}
			}
		}
	}
	check("none yet", 1, nil)
	must(s.Put(ctx, b.Ref, b.Digest, 1, priced(3)))
	must(s.Put(ctx, b.Ref, b.Digest, 1, priced(3))) // delivered twice
	must(s.Put(ctx, b.Ref, b.Digest, 1, store.Chunk{Index: 1, State: store.ChunkDead, Reason: "dead-lettered", ArrivedAt: time.Unix(300, 0).UTC()}))
	must(s.Put(ctx, b.Ref, b.Digest, 1, priced(0)))
	check("running", 1, []int{3, 1, 0})
	must(s.Expire(ctx, b.Ref, 1, time.Now().Truncate(time.Millisecond), "deadline passed"))
	check("ended by its deadline", 1, []int{3, 1, 0, 2, 4})
	b.Deadline = time.Now().Add(time.Hour).Truncate(time.Millisecond)
	reclaim(t, s, b)
	if _, err := s.Arrivals(ctx, b.Ref, 1, 0, 5); !errors.Is(err, store.ErrStale) {
		t.Errorf("arrivals of attempt 1 once 2 is claimed: %v, want ErrStale", err)
	}
	if _, err := s.Arrivals(ctx, b.Ref, 3, 0, 5); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("arrivals of attempt 3, not claimed: %v, want ErrNotFound", err)
	}
	check("attempt 2", 2, nil)
	must(s.Put(ctx, b.Ref, b.Digest, 2, priced(4)))
	check("attempt 2 running", 2, []int{4})
	// Its claim's submission, which tells it from another batch claimed
	// under the id at the same attempt once it is forgotten.
	if a := must(s.Arrivals(ctx, b.Ref, 2, 0, 1)); !a.SubmittedAt.Equal(must(s.Tally(ctx, b.Ref)).SubmittedAt) {
		t.Errorf("arrivals of attempt 2 submitted at %v, want its claim's %v", a.SubmittedAt, must(s.Tally(ctx, b.Ref)).SubmittedAt)
	}
}

// tallyText is t in words, its totals by value: the same exact sum may
// be held in other partials.
func tallyText(t *store.Tally) string {
	var w strings.Builder
	fmt.Fprintf(&w, "%s attempt %d: %d chunks (%d scenario), %d done (%d scenario), %d dead; trades %d priced, %d failed, %d missing; pricing %v; first %v, last %v; %s\n",
		t.State(), t.Attempt, t.Chunks, t.ScenarioChunks, t.ChunksDone, t.ScenarioChunksDone, t.ChunksDead, t.Priced, t.Failed, t.Missing, t.Pricing, t.FirstAt.UTC(), t.LastAt.UTC(), t.Ref)
	us := slices.Sorted(maps.Keys(t.Totals))
	for _, u := range us {
		for _, m := range slices.Sorted(maps.Keys(t.Totals[u])) {
			// A sum beyond float64's range (or with such a term) is
			// unknown, however much else it holds.
			v := t.Totals[u][m].Sum.Value()
			if t.Totals[u][m].Beyond || math.IsInf(v, 0) || math.IsNaN(v) {
				fmt.Fprintf(&w, "total %q %s: beyond float64\n", u, m)
				continue
			}
			fmt.Fprintf(&w, "total %q %s: %v\n", u, m, v)
		}
	}
	for _, c := range t.FirstDead {
		fmt.Fprintf(&w, "dead %d (%d trades): %s\n", c.Index, c.Trades, c.Reason)
	}
	return w.String()
}

// writes records each call of Write apart.
type writes [][]byte

func (w *writes) Write(p []byte) (int, error) {
	*w = append(*w, bytes.Clone(p))
	return len(p), nil
}

// testPutCopiesResults: a store keeps what Put was given, not the caller's
// buffer: the aggregator's is the request's body, reused for the next
// request once the chunk is recorded (host.Events).
func testPutCopiesResults(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	b := sample("copy", 2, 1, time.Time{})
	claim(t, s, b)
	c := priced(0)
	want := string(c.Results)
	must(s.Put(ctx, b.Ref, b.Digest, 1, c))
	for i := range c.Results {
		c.Results[i] = 'X' // the buffer reused
	}
	var got bytes.Buffer
	if err := s.WriteResults(ctx, b.Ref, 1, 0, &got); err != nil {
		t.Fatal(err)
	}
	if got.String() != want {
		t.Errorf("results after the caller's buffer changed: %s, want %s", got.String(), want)
	}
}

// testSent: Sent records the first time ingress had sent every chunk of
// an attempt, under the attempt's checks; the next attempt starts unsent.
func testSent(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	b := sample("s1", 2, 1, time.Time{})
	claim(t, s, b)
	if sum := must(s.Summary(ctx, b.Ref)); !sum.SentAt.IsZero() {
		t.Fatalf("sent at %v before Sent", sum.SentAt)
	}
	at := time.Date(2026, 11, 25, 9, 0, 1, 500_000_000, time.UTC)
	if err := s.Sent(ctx, b.Ref, b.Digest, 1, at); err != nil {
		t.Fatal(err)
	}
	if err := s.Sent(ctx, b.Ref, b.Digest, 1, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if sum := must(s.Summary(ctx, b.Ref)); !sum.SentAt.Equal(at) {
		t.Errorf("sent at %v, want the first Sent's %v", sum.SentAt, at)
	}
	perAttempt(t, s, b, "Sent", func(digest string, attempt int) error { return s.Sent(ctx, b.Ref, digest, attempt, at) },
		func(sum *store.Summary) time.Time { return sum.SentAt })
}

// perAttempt checks a record of b's attempt 1 (record, which Summary
// shows as recorded): refused for other content (ErrConflict), for an
// attempt not claimed (ErrNotFound) and, once b failed and was claimed
// again, for the attempt replaced (ErrStale); not carried to attempt 2.
func perAttempt(t *testing.T, s store.Store, b store.Batch, name string, record func(digest string, attempt int) error, recorded func(*store.Summary) time.Time) {
	t.Helper()
	if err := record("sha256:other", 1); !errors.Is(err, store.ErrConflict) {
		t.Errorf("%s of other content: %v, want ErrConflict", name, err)
	}
	if err := record(b.Digest, 2); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s of an attempt not claimed: %v, want ErrNotFound", name, err)
	}
	for i := range b.ChunkOffsets {
		must(s.Put(ctx, b.Ref, b.Digest, 1, store.Chunk{Index: i, State: store.ChunkDead, Reason: "gone"}))
	}
	if c := reclaim(t, s, b); c.Attempt != 2 {
		t.Fatalf("claim after failure: %+v", c)
	}
	if at := recorded(must(s.Summary(ctx, b.Ref))); !at.IsZero() {
		t.Errorf("attempt 2 has %s at %v before its own", name, at)
	}
	if err := record(b.Digest, 1); !errors.Is(err, store.ErrStale) {
		t.Errorf("%s of the replaced attempt: %v, want ErrStale", name, err)
	}
}

// testSending: the latest sign of life of the ingress sending a batch is
// kept, per attempt.
func testSending(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	b := sample("g1", 2, 1, time.Time{})
	claim(t, s, b)
	if sum := must(s.Summary(ctx, b.Ref)); !sum.SendingAt.IsZero() {
		t.Fatalf("sending at %v before Sending", sum.SendingAt)
	}
	at := time.Date(2026, 11, 25, 9, 0, 5, 0, time.UTC)
	for _, a := range []time.Time{at.Add(-5 * time.Second), at, at.Add(-time.Second)} {
		if err := s.Sending(ctx, b.Ref, b.Digest, 1, a); err != nil {
			t.Fatal(err)
		}
	}
	if sum := must(s.Summary(ctx, b.Ref)); !sum.SendingAt.Equal(at) {
		t.Errorf("sending at %v, want the latest, %v", sum.SendingAt, at)
	}
	perAttempt(t, s, b, "Sending", func(digest string, attempt int) error { return s.Sending(ctx, b.Ref, digest, attempt, at) },
		func(sum *store.Summary) time.Time { return sum.SendingAt })
}

// testTimesToTheMillisecond: a batch's deadline and its sign of life
// are kept to the millisecond (cut) by every store: a memory store kept
// nanoseconds, Redis milliseconds, and a status's deadline and sendingAt
// depended on the store.
func testTimesToTheMillisecond(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	deadline := time.Now().Add(time.Hour).Truncate(time.Second).Add(123_456_789).UTC()
	b := sample("ms1", 2, 1, deadline)
	claim(t, s, b)
	beat := time.Date(2026, 11, 25, 9, 0, 5, 987_654_321, time.UTC)
	for _, at := range []time.Time{beat, beat.Add(-600 * time.Microsecond)} {
		if err := s.Sending(ctx, b.Ref, b.Digest, 1, at); err != nil {
			t.Fatal(err)
		}
	}
	wantDeadline, wantSending := deadline.Truncate(time.Millisecond), beat.Truncate(time.Millisecond)
	sum := must(s.Summary(ctx, b.Ref))
	if !sum.Deadline.Equal(wantDeadline) || !sum.SendingAt.Equal(wantSending) {
		t.Errorf("summary: deadline %v, sending at %v; want %v, %v", sum.Deadline, sum.SendingAt, wantDeadline, wantSending)
	}
	tally := must(s.Tally(ctx, b.Ref))
	if !tally.Deadline.Equal(wantDeadline) || !tally.SendingAt.Equal(wantSending) {
		t.Errorf("tally: deadline %v, sending at %v; want %v, %v", tally.Deadline, tally.SendingAt, wantDeadline, wantSending)
	}
}

// testTallySequences: Tally and Brief tell what Summary has of a batch
// (Summary.TallyOf, BriefOf) after every step of random sequences of
// outcomes, duplicates, late outcomes, deadlines, claims again of a
// batch running or ended, releases and announcements.
func testTallySequences(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	rnd := rand.New(rand.NewPCG(23, 5))
	for seq := range 12 {
		n := 1 + rnd.IntN(9)
		b := sample(fmt.Sprintf("seq-%d", seq), n, 1, time.Now().Add(-time.Second).Truncate(time.Millisecond))
		b.ChunkOffsets = nil
		for i := range n { // chunks of 0 to 2 trades: some scenario chunks
			if rnd.IntN(3) > 0 || i == 0 {
				b.ChunkOffsets = append(b.ChunkOffsets, i)
			}
			if rnd.IntN(4) == 0 {
				b.ChunkOffsets = append(b.ChunkOffsets, i)
			}
		}
		claim(t, s, b)
		for step := range 40 {
			sum := must(s.Summary(ctx, b.Ref))
			a, chunks := sum.Attempt, len(sum.Chunks)
			var what string
			switch op := rnd.IntN(10); {
			case op < 5 && chunks > 0:
				i := rnd.IntN(chunks)
				c := store.Chunk{Index: i, State: store.ChunkDead, Reason: fmt.Sprintf("dead %d.%d", seq, step), ArrivedAt: time.Unix(1e9+int64(rnd.IntN(1000)), int64(rnd.IntN(1e9))).UTC()}
				if rnd.IntN(3) > 0 {
					lo, hi := sum.Bounds(i)
					c = priced(i)
					c.Trades, c.Failed = hi-lo, rnd.IntN(hi-lo+1)
					c.Partials = map[string]map[string][]float64{"": {"npv": {rnd.NormFloat64() * 1e6, rnd.NormFloat64()}}, "U" + fmt.Sprint(rnd.IntN(2)): {"delta": {rnd.Float64()}}}
					c.StartedAt = time.Unix(100, int64(rnd.IntN(1e9))).UTC()
					c.FinishedAt = c.StartedAt.Add(time.Duration(rnd.IntN(3e9)))
					c.ArrivedAt = time.Unix(1e9+int64(rnd.IntN(1000)), int64(rnd.IntN(1e9))).UTC()
				}
				what = fmt.Sprintf("put %d (%d)", i, c.State)
				must(s.Put(ctx, b.Ref, b.Digest, a, c))
			case op < 6:
				what = "accept"
				must(s.Accept(ctx, b.Ref, b.Digest, a, time.Unix(50, int64(step)).UTC()))
			case op < 7:
				what = "expire"
				must(s.Expire(ctx, b.Ref, a, time.Now().Truncate(time.Millisecond), "deadline passed"))
			case op < 8:
				what = "claim again"
				if _, err := s.Claim(ctx, b); errors.Is(err, store.ErrAnnouncing) {
					if err := s.Announced(ctx, b.Ref, a, time.Now().Truncate(time.Millisecond)); err != nil {
						t.Fatal(err)
					}
				} else if err != nil {
					t.Fatal(err)
				}
			case op < 9:
				what = "release"
				if !sum.AnnounceBy.IsZero() {
					if err := s.Release(ctx, b.Ref, a, sum.AnnounceBy); err != nil {
						t.Fatal(err)
					}
				}
			default:
				what = "sent"
				if err := s.Sent(ctx, b.Ref, b.Digest, a, time.Unix(60, 0).UTC()); err != nil {
					t.Fatal(err)
				}
				if err := s.Sending(ctx, b.Ref, b.Digest, a, time.UnixMilli(70_123).UTC()); err != nil {
					t.Fatal(err)
				}
			}
			sum = must(s.Summary(ctx, b.Ref))
			got, want := must(s.Tally(ctx, b.Ref)), sum.TallyOf()
			if g, w := tallyText(got), tallyText(want); g != w {
				t.Fatalf("sequence %d step %d (%s): tally\n%s\nwant, as the summary has it,\n%s", seq, step, what, g, w)
			}
			gs, ws := got.Header, want.Header
			for _, x := range []*store.Header{&gs, &ws} {
				x.SubmittedAt, x.AcceptedAt, x.SentAt, x.SendingAt = x.SubmittedAt.UTC(), x.AcceptedAt.UTC(), x.SentAt.UTC(), x.SendingAt.UTC()
				x.Deadline, x.AnnounceBy, x.AnnouncedAt = x.Deadline.UTC(), x.AnnounceBy.UTC(), x.AnnouncedAt.UTC()
			}
			if !reflect.DeepEqual(gs, ws) {
				t.Fatalf("sequence %d step %d (%s): tally's header\n%+v\nwant\n%+v", seq, step, what, gs, ws)
			}
			gb, wb := must(s.Brief(ctx, b.Ref)), sum.BriefOf()
			if gb.Ref != wb.Ref || gb.Attempt != wb.Attempt || gb.Trades != wb.Trades || gb.Chunks != wb.Chunks || gb.Done != wb.Done || gb.Dead != wb.Dead ||
				!gb.SubmittedAt.Equal(wb.SubmittedAt) || !gb.AcceptedAt.Equal(wb.AcceptedAt) || !gb.LastAt.Equal(wb.LastAt) {
				t.Fatalf("sequence %d step %d (%s): brief %+v, want %+v", seq, step, what, gb, wb)
			}
		}
	}
}

// testTallyPricingStamps: a priced chunk without its pricing's start or
// end (a pricer that sent none) adds no pricing time: the time since
// year 1, saturated, added twice overflowed the tally's sum (Mem: a
// negative pricing time; Redis: the put script failed after recording
// the chunk, and its batch never finished).
func testTallyPricingStamps(t *testing.T, newStore NewFunc) {
	s := newStore(t, store.Options{})
	b := sample("stamps", 4, 1, time.Time{})
	claim(t, s, b)
	for i := range 4 {
		c := priced(i)
		switch i {
		case 0, 1:
			c.StartedAt = time.Time{}
		case 2:
			c.FinishedAt = time.Time{}
		}
		if _, err := s.Put(ctx, b.Ref, b.Digest, 1, c); err != nil {
			t.Fatalf("put of chunk %d: %v", i, err)
		}
	}
	got := must(s.Tally(ctx, b.Ref))
	if got.Pricing != time.Second || got.State() != store.StateCompleted {
		t.Errorf("tally %s, want completed, 1s of pricing (chunk 3's alone)", tallyText(got))
	}
	if want := must(s.Summary(ctx, b.Ref)).TallyOf(); want.Pricing != time.Second {
		t.Errorf("the summary's tally: pricing %v, want 1s", want.Pricing)
	}
}
