package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"weak"

	"github.com/pricefn/pricefn/store"
	"github.com/pricefn/pricefn/store/storetest"
)

func TestMemConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, opt store.Options) store.Store {
		return store.NewMem(store.MemOptions{Options: opt})
	})
}

// TestMemFreedWhenQuiet: a full store forgets a batch at each new one; it
// gives the memory back (Freed, a garbage collection) only once nothing
// was claimed or put for FreedQuiet, which the aggregator's Overdue, every
// second, finds; at most once per FreedGap; and at once, gap or not, when
// it holds nothing. While batches keep coming it never does: each call
// cost the next batches a page fault for every page they touched.
func TestMemFreedWhenQuiet(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	var freed atomic.Int32
	calls := make(chan struct{}, 100)
	s := store.NewMem(store.MemOptions{
		Options:  store.Options{Retain: time.Hour},
		MaxBytes: 12 << 20,
		Now:      func() time.Time { return now },
		Freed:    func() { freed.Add(1); calls <- struct{}{} },
	})
	ctx := context.Background()
	results := bytes.Repeat([]byte("x"), 9<<20) // two do not fit; given, not copied
	claim := func(id string) {
		t.Helper()
		if _, err := s.Claim(ctx, store.Batch{Ref: store.Ref{ID: id}, Digest: "d", TradeIDs: []string{"T1"}, ChunkOffsets: []int{0}}); err != nil {
			t.Fatal(err)
		}
	}
	putChunk := func(id string) {
		t.Helper()
		if _, err := s.Put(ctx, store.Ref{ID: id}, "d", 1, store.Chunk{Index: 0, State: store.ChunkPriced, Trades: 1, Results: results, Given: true}); err != nil {
			t.Fatal(err)
		}
	}
	put := func(id string) { t.Helper(); claim(id); putChunk(id) }
	tick := func() { // the aggregator's sweep for overdue batches
		t.Helper()
		if _, err := s.Overdue(ctx, now, 10); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(want int32) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); freed.Load() < want && time.Now().Before(deadline); {
			select {
			case <-calls:
			case <-time.After(10 * time.Millisecond):
			}
		}
		time.Sleep(50 * time.Millisecond) // no call beyond want
		if got := freed.Load(); got != want {
			t.Fatalf("Freed called %d times, want %d", got, want)
		}
	}
	put("B0")
	put("B1") // B0 forgotten: 9 MiB, but B1 was just put
	tick()
	wait(0)
	now = now.Add(store.FreedQuiet - time.Millisecond)
	tick()
	wait(0)
	now = now.Add(time.Millisecond)
	tick() // quiet: the first call
	wait(1)

	// Busy: a batch a second, each forgetting the one before, for longer
	// than the gap, the sweep a second after each: no call while they
	// come, one once they stop.
	busy := int(store.FreedGap/time.Second) + 2
	for i := range busy {
		now = now.Add(time.Second)
		tick()
		put(fmt.Sprintf("C%d", i))
	}
	wait(1)
	now = now.Add(store.FreedQuiet)
	tick()
	wait(2)

	// A chunk put after its claim counts as much: a batch whose chunks
	// take longer than FreedQuiet to come is not one to give memory back
	// in the middle of.
	now = now.Add(store.FreedGap)
	claim("D0") // forgets the last C
	now = now.Add(store.FreedQuiet * 3 / 4)
	tick()
	putChunk("D0")
	now = now.Add(store.FreedQuiet * 3 / 4)
	tick()
	wait(2)
	now = now.Add(store.FreedQuiet / 4)
	tick()
	wait(3)
	for id, kept := range map[string]bool{fmt.Sprintf("C%d", busy-1): false, "D0": true} {
		if _, err := s.Summary(ctx, store.Ref{ID: id}); (err == nil) != kept {
			t.Errorf("%s: %v, kept %v wanted (MaxBytes holds two batches' ids and one's results)", id, err, kept)
		}
	}

	// Quiet again soon after: within the gap, no call until it has passed.
	put("E0") // forgets D0
	now = now.Add(store.FreedQuiet)
	tick()
	wait(3)
	now = now.Add(store.FreedGap)
	tick()
	wait(4)

}

// TestMemFreedAtOnceWhenEmpty: a store that forgot the last batches it
// held gives the memory back at once, though the last call was a moment
// ago.
func TestMemFreedAtOnceWhenEmpty(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	var freed atomic.Int32
	s := store.NewMem(store.MemOptions{
		Options:  store.Options{Retain: 3 * time.Second},
		MaxBytes: 12 << 20,
		Now:      func() time.Time { return now },
		Freed:    func() { freed.Add(1) },
	})
	ctx := context.Background()
	results := bytes.Repeat([]byte("x"), 9<<20)
	for _, id := range []string{"A", "B"} { // A forgotten when B finishes
		ref := store.Ref{ID: id}
		if _, err := s.Claim(ctx, store.Batch{Ref: ref, Digest: "d", TradeIDs: []string{"T1"}, ChunkOffsets: []int{0}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, ref, "d", 1, store.Chunk{Index: 0, State: store.ChunkPriced, Trades: 1, Results: results, Given: true}); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(want int32) {
		t.Helper()
		if _, err := s.Overdue(ctx, now, 10); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(5 * time.Second); freed.Load() < want && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // no call beyond want
		if got := freed.Load(); got != want {
			t.Fatalf("Freed called %d times, want %d", got, want)
		}
	}
	now = now.Add(store.FreedQuiet)
	wait(1) // quiet, A's memory
	now = now.Add(time.Second / 2)
	wait(1) // B kept: within its retention
	now = now.Add(time.Second)
	wait(2) // B past it: the store is empty, within the gap
}

// TestMemKeepsTheLastBatchOverMaxBytes: a batch whose results alone are
// over MaxBytes is kept until another finishes (its client has yet to
// fetch them); then it goes first.
func TestMemKeepsTheLastBatchOverMaxBytes(t *testing.T) {
	s := store.NewMem(store.MemOptions{MaxBytes: 8 << 20})
	ctx := context.Background()
	put := func(id string) {
		t.Helper()
		ref := store.Ref{ID: id}
		if _, err := s.Claim(ctx, store.Batch{Ref: ref, Digest: "d", TradeIDs: []string{"T1"}, ChunkOffsets: []int{0}}); err != nil {
			t.Fatal(err)
		}
		u, err := s.Put(ctx, ref, "d", 1, store.Chunk{Index: 0, State: store.ChunkPriced, Trades: 1, Results: bytes.Repeat([]byte("x"), 9<<20)})
		if err != nil || !u.Announce {
			t.Fatalf("%s: %+v, %v", id, u, err)
		}
		if _, err := s.Summary(ctx, ref); err != nil {
			t.Fatalf("%s forgotten as it finished: %v", id, err)
		}
	}
	put("B1")
	put("B2")
	if _, err := s.Summary(ctx, store.Ref{ID: "B1"}); err == nil {
		t.Error("B1 kept past MaxBytes after B2 finished")
	}
}

// runWriter records the one Write a store's WriteResults makes.
type runWriter struct{ p []byte }

func (w *runWriter) Write(p []byte) (int, error) { w.p = p; return len(p), nil }

// TestMemKeepsGivenResults: results given with the chunk (Chunk.Given)
// are kept as they are, not copied; others are copied.
func TestMemKeepsGivenResults(t *testing.T) {
	s := store.NewMem(store.MemOptions{})
	ctx := context.Background()
	for _, given := range []bool{true, false} {
		ref := store.Ref{ID: "B"}
		if given {
			ref.ID = "G"
		}
		if _, err := s.Claim(ctx, store.Batch{Ref: ref, Digest: "d", TradeIDs: []string{"T1"}, ChunkOffsets: []int{0}}); err != nil {
			t.Fatal(err)
		}
		results := []byte(`{"id":"T1","npv":1}`)
		if _, err := s.Put(ctx, ref, "d", 1, store.Chunk{Index: 0, State: store.ChunkPriced, Trades: 1, Results: results, Given: given}); err != nil {
			t.Fatal(err)
		}
		var w runWriter
		if err := s.WriteResults(ctx, ref, 1, 0, &w); err != nil {
			t.Fatal(err)
		}
		if string(w.p) != string(results) || (&w.p[0] == &results[0]) != given {
			t.Errorf("given %v: results %q kept as they are: %v", given, w.p, &w.p[0] == &results[0])
		}
	}
}

// TestMemClaimOverLimitKeepsAttempt: a resubmission of a partial batch
// that its tenant's limits refuse leaves the batch as it was, its results
// and its attempt number; it dropped it, and the next claim started again
// at attempt 1, under which the old attempt's late events counted.
func TestMemClaimOverLimitKeepsAttempt(t *testing.T) {
	ctx := context.Background()
	s := store.NewMem(store.MemOptions{})
	lim := store.Limits{MaxOpen: 1}
	x := store.Batch{Ref: store.RefOf("X"), Digest: "dx", TradeIDs: []string{"T0", "T1"}, ChunkOffsets: []int{0, 1}, Limits: lim}
	if _, err := s.Claim(ctx, x); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, x.Ref, "dx", 1, store.Chunk{Index: 0, State: store.ChunkPriced, Results: []byte(`{"id":"T0","npv":1}`)})
	mustPut(t, s, x.Ref, "dx", 1, store.Chunk{Index: 1, State: store.ChunkDead, Reason: "dead"})
	if err := s.Announced(ctx, x.Ref, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	y := store.Batch{Ref: store.RefOf("Y"), Digest: "dy", TradeIDs: []string{"T0"}, ChunkOffsets: []int{0}, Limits: lim}
	if _, err := s.Claim(ctx, y); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, x); !errors.Is(err, store.ErrLimit) {
		t.Fatalf("resubmission over the limit: %v, want ErrLimit", err)
	}
	sum, err := s.Summary(ctx, x.Ref)
	if err != nil || sum.Attempt != 1 || sum.State() != store.StatePartial {
		t.Fatalf("after the refused resubmission: %v, %+v", err, sum)
	}
	var buf bytes.Buffer
	if err := s.WriteResults(ctx, x.Ref, 1, 0, &buf); err != nil || buf.String() != `{"id":"T0","npv":1}` {
		t.Fatalf("results of the kept attempt: %q, %v", buf.String(), err)
	}
	mustPut(t, s, y.Ref, "dy", 1, store.Chunk{Index: 0, State: store.ChunkPriced, Results: []byte(`{"id":"T0"}`)})
	if c, err := s.Claim(ctx, x); err != nil || !c.New || c.Attempt != 2 {
		t.Fatalf("resubmission within the limit: %+v, %v; want attempt 2", c, err)
	}
}

func mustPut(t *testing.T, s store.Store, ref store.Ref, digest string, attempt int, c store.Chunk) {
	t.Helper()
	if _, err := s.Put(context.Background(), ref, digest, attempt, c); err != nil {
		t.Fatalf("put chunk %d: %v", c.Index, err)
	}
}

// TestMemSparesBatchesBeingRead: a full store spares a batch whose
// results are being read (Pin) while it holds less than twice MaxBytes. It
// used to drop the older of two big batches the moment the newer
// finished, between two chunks of the older's document as it was served.
func TestMemSparesBatchesBeingRead(t *testing.T) {
	s := store.NewMem(store.MemOptions{Options: store.Options{Retain: time.Hour}, MaxBytes: 12 << 20})
	ctx := context.Background()
	put := func(id string, size int) {
		t.Helper()
		ref := store.Ref{ID: id}
		if _, err := s.Claim(ctx, store.Batch{Ref: ref, Digest: "d", TradeIDs: []string{"T1"}, ChunkOffsets: []int{0}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, ref, "d", 1, store.Chunk{Index: 0, State: store.ChunkPriced, Trades: 1, Results: bytes.Repeat([]byte("x"), size), Given: true}); err != nil {
			t.Fatal(err)
		}
	}
	kept := func(when string, want map[string]bool) {
		t.Helper()
		if _, err := s.Overdue(ctx, time.Now(), 10); err != nil { // a sweep
			t.Fatal(err)
		}
		for id, k := range want {
			if _, err := s.Summary(ctx, store.Ref{ID: id}); (err == nil) != k {
				t.Errorf("%s: %s: %v, want kept %v", when, id, err, k)
			}
		}
	}
	put("A", 7<<20)
	unpinA := s.Pin(ctx, store.Ref{ID: "A"}) // A's client reads its results
	put("B", 7<<20)                          // 14 MiB
	kept("A read as B finished", map[string]bool{"A": true, "B": true})
	if err := s.WriteResults(ctx, store.Ref{ID: "A"}, 1, 0, io.Discard); err != nil {
		t.Fatal(err)
	}
	unpinA()
	unpinA() // once is enough
	kept("A read in full", map[string]bool{"A": false, "B": true})

	// Twice MaxBytes is the most it spares.
	put("C", 7<<20)
	defer s.Pin(ctx, store.Ref{ID: "B"})()
	defer s.Pin(ctx, store.Ref{ID: "C"})()
	put("D", 12<<20) // B 7, C 7, D 12: 26 MiB, B and C being read
	kept("over twice MaxBytes", map[string]bool{"B": false, "C": true, "D": true})
}

// TestMemFullStoreDropsTheLargestTenantsFirst: over MaxBytes, the tenant
// holding the most gives first, its oldest batch first. A tenant's batches
// forgot another tenant's results, older than theirs, minutes after they
// finished (a black-box tester's: alice's results 404 after five of bob's
// batches).
func TestMemFullStoreDropsTheLargestTenantsFirst(t *testing.T) {
	s := store.NewMem(store.MemOptions{Options: store.Options{Retain: time.Hour}, MaxBytes: 12 << 20})
	ctx := context.Background()
	put := func(tenant, id string, size int) {
		t.Helper()
		ref := store.Ref{Tenant: tenant, ID: id}
		if _, err := s.Claim(ctx, store.Batch{Ref: ref, Digest: "d", TradeIDs: []string{"T1"}, ChunkOffsets: []int{0}}); err != nil {
			t.Fatal(err)
		}
		mustPut(t, s, ref, "d", 1, store.Chunk{Index: 0, State: store.ChunkPriced, Trades: 1, Results: bytes.Repeat([]byte("x"), size), Given: true})
	}
	kept := func(when string, want map[store.Ref]bool) {
		t.Helper()
		for ref, k := range want {
			if _, err := s.Summary(ctx, ref); (err == nil) != k {
				t.Errorf("%s: %s/%s: %v, want kept %v", when, ref.Tenant, ref.ID, err, k)
			}
		}
	}
	alice := store.Ref{Tenant: "alice", ID: "A"}
	bob := func(i int) store.Ref { return store.Ref{Tenant: "bob", ID: fmt.Sprint("B", i)} }
	put("alice", "A", 2<<20)
	for i := 1; i <= 6; i++ {
		put("bob", bob(i).ID, 4<<20)
	}
	// 2 + 6 x 4 MiB: bob's oldest went until the store held 12 MiB;
	// alice's, older than all of them, stays.
	kept("after six of bob's", map[store.Ref]bool{alice: true, bob(1): false, bob(2): false, bob(3): false, bob(4): false, bob(5): true, bob(6): true})
	// Alice, now the larger, gives her oldest first; her newest is the
	// store's last to finish, kept even alone over MaxBytes, so bob's go
	// then, while he holds more than his share (6 MiB, half of MaxBytes):
	// one of his two.
	put("alice", "A2", 9<<20)
	kept("after alice's big one", map[store.Ref]bool{alice: false, {Tenant: "alice", ID: "A2"}: true, bob(5): false, bob(6): true})
}

// TestMemUnfinishedBatchesDropNoOneWithinTheirShare: a tenant whose
// unfinished batches fill the store (which cannot forget them) does not
// push out the results of a tenant within its share; past twice MaxBytes
// the oldest finished batches go, whoever holds them.
func TestMemUnfinishedBatchesDropNoOneWithinTheirShare(t *testing.T) {
	s := store.NewMem(store.MemOptions{Options: store.Options{Retain: time.Hour}, MaxBytes: 12 << 20})
	ctx := context.Background()
	claim := func(ref store.Ref, chunks int) {
		t.Helper()
		ids := make([]string, chunks)
		offsets := make([]int, chunks)
		for i := range ids {
			ids[i], offsets[i] = fmt.Sprint("T", i), i
		}
		if _, err := s.Claim(ctx, store.Batch{Ref: ref, Digest: "d", TradeIDs: ids, ChunkOffsets: offsets}); err != nil {
			t.Fatal(err)
		}
	}
	results := func(ref store.Ref, chunk, size int) {
		t.Helper()
		mustPut(t, s, ref, "d", 1, store.Chunk{Index: chunk, State: store.ChunkPriced, Trades: 1, Results: bytes.Repeat([]byte("x"), size), Given: true})
	}
	kept := func(when string, want map[store.Ref]bool) {
		t.Helper()
		for ref, k := range want {
			if _, err := s.Summary(ctx, ref); (err == nil) != k {
				t.Errorf("%s: %s/%s: %v, want kept %v", when, ref.Tenant, ref.ID, err, k)
			}
		}
	}
	bob1, bob2 := store.Ref{Tenant: "bob", ID: "B1"}, store.Ref{Tenant: "bob", ID: "B2"}
	for _, ref := range []store.Ref{bob1, bob2} {
		claim(ref, 1)
		results(ref, 0, 5<<19) // 2.5 MiB
	}
	// Alice's batch of two chunks, one priced: 10 MiB she holds, unfinished.
	alice1 := store.Ref{Tenant: "alice", ID: "A1"}
	claim(alice1, 2)
	results(alice1, 0, 10<<20)
	kept("15 MiB held, bob's 5 within his share", map[store.Ref]bool{bob1: true, bob2: true, alice1: true})
	// Another of hers: past twice MaxBytes, bob's older goes (his newer
	// is the store's last to finish).
	alice2 := store.Ref{Tenant: "alice", ID: "A2"}
	claim(alice2, 2)
	results(alice2, 0, 10<<20)
	kept("25 MiB held", map[store.Ref]bool{bob1: false, bob2: true, alice1: true, alice2: true})
	sum, err := s.Summary(ctx, alice1)
	if err != nil || sum.Chunks[0].State != store.ChunkPriced {
		t.Errorf("alice's unfinished batch: %+v, %v; want its priced chunk kept", sum, err)
	}
}

// TestMemCountsEachBatchsOwnMemory: a batch's record and its chunks'
// totals count against MaxBytes with its trade ids and results. Counted
// at the 18 bytes of their one trade id, a tenant's stream of one-trade
// batches (a thousand a second through pricefn dev) grew the heap by 2 KB
// a batch for as long as Retain kept them, past any memory limit, and the
// store never forgot one.
func TestMemCountsEachBatchsOwnMemory(t *testing.T) {
	const maxBytes = 1 << 20
	s := store.NewMem(store.MemOptions{Options: store.Options{Retain: time.Hour}, MaxBytes: maxBytes})
	ctx := context.Background()
	ref := func(i int) store.Ref { return store.Ref{Tenant: "flood", ID: fmt.Sprint("b-", i)} }
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 10_000
	for i := range n {
		r := ref(i)
		if _, err := s.Claim(ctx, store.Batch{Ref: r, Digest: "d", TradeIDs: []string{"T1"}, ChunkOffsets: []int{0},
			ResultsURL: "/batches/" + r.ID + "/results", TraceParent: "00-abc875eac26a3c72041d20075a73a6a9-81247b8fbbb6a1bd-01"}); err != nil {
			t.Fatal(err)
		}
		mustPut(t, s, r, "d", 1, store.Chunk{Index: 0, State: store.ChunkPriced, Trades: 1, Results: []byte(`{"id":"T1","npv":10.888213761349157}`),
			Partials: map[string]map[string][]float64{"": {"npv": {10.888213761349157}}, "ACME": {"npv": {10.888213761349157}}}})
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 4*maxBytes {
		t.Errorf("%d one-trade batches grew the heap by %d bytes, over four times MaxBytes (%d)", n, grew, maxBytes)
	}
	if _, err := s.Summary(ctx, ref(0)); err == nil {
		t.Error("the first of 10,000 batches kept: a store of MaxBytes 1 MiB forgot none")
	}
	if _, err := s.Summary(ctx, ref(n-1)); err != nil {
		t.Errorf("the last batch forgotten: %v", err)
	}
	runtime.KeepAlive(s)
}

// TestMemRecentOfManyBatchesIsQuick: the newest batches of a tenant of
// very many are read from the end of its claims, not found by a sort of
// all of them under the store's lock: 200,000 took 75 ms a call (40 times
// a scan of the store), and a dozen calls a second of GET /batches, any
// reader's, stalled every tenant's submissions and chunks. The work is
// measured by what a call allocates, which a busy machine does not change
// (its speed is BenchmarkMemRecent's): the sort's copy of the tenant's
// batches was 9 MB a call, the newest MaxRecent are 64 KB.
func TestMemRecentOfManyBatchesIsQuick(t *testing.T) {
	const n = 200_000
	s := memOfManyBatches(t, n)
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	refs, err := s.Recent(ctx, "many", store.MaxRecent)
	runtime.ReadMemStats(&after)
	if err != nil || len(refs) != store.MaxRecent {
		t.Fatalf("recent: %d refs, %v; want %d", len(refs), err, store.MaxRecent)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 256<<10 {
		t.Errorf("the %d newest of %d batches allocated %d bytes: a copy of the tenant's batches, not their newest", store.MaxRecent, n, got)
	}
	refs, err = s.Recent(ctx, "many", 3)
	if err != nil || len(refs) != 3 {
		t.Fatalf("recent 3: %v, %v", refs, err)
	}
	for i, want := range []string{fmt.Sprint("b-", n-1), fmt.Sprint("b-", n-2), fmt.Sprint("b-", n-3)} {
		if refs[i].ID != want {
			t.Errorf("recent %d: %s, want %s (the newest first)", i, refs[i].ID, want)
		}
	}
}

// BenchmarkMemRecent is GET /batches of a tenant of 200,000 batches.
func BenchmarkMemRecent(b *testing.B) {
	s := memOfManyBatches(b, 200_000)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if _, err := s.Recent(ctx, "many", store.MaxRecent); err != nil {
			b.Fatal(err)
		}
	}
}

// memOfManyBatches returns a Mem holding n batches of tenant "many",
// b-0 to b-(n-1) claimed in that order, and one of tenant "one".
func memOfManyBatches(tb testing.TB, n int) *store.Mem {
	tick := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { tick = tick.Add(time.Microsecond); return tick } // each claim later than the last
	s := store.NewMem(store.MemOptions{Options: store.Options{Retain: time.Hour}, Now: clock})
	ctx := context.Background()
	for i := range n {
		if _, err := s.Claim(ctx, store.Batch{Ref: store.Ref{Tenant: "many", ID: fmt.Sprint("b-", i)}, Digest: "d"}); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := s.Claim(ctx, store.Batch{Ref: store.Ref{Tenant: "one", ID: "only"}, Digest: "d"}); err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestMemRecentListsAResubmittedBatchOnce: a batch claimed again (its
// next attempt) is one batch in Recent, however close the two claims: at
// one reading of the clock (a coarse one, or a test's), the old attempt's
// place in the tenant's claims was taken for the new one's, and GET
// /batches listed the batch twice.
func TestMemRecentListsAResubmittedBatchOnce(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	s := store.NewMem(store.MemOptions{Now: func() time.Time { return at }})
	x := store.Batch{Ref: store.RefOf("X"), Digest: "dx", TradeIDs: []string{"T0"}, ChunkOffsets: []int{0}}
	if _, err := s.Claim(ctx, x); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, x.Ref, "dx", 1, store.Chunk{Index: 0, State: store.ChunkDead, Reason: "dead"})
	if err := s.Announced(ctx, x.Ref, 1, at); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Claim(ctx, x); err != nil || c.Attempt != 2 {
		t.Fatalf("resubmission: %+v, %v; want attempt 2", c, err)
	}
	refs, err := s.Recent(ctx, store.DefaultTenant, 10)
	if err != nil || len(refs) != 1 {
		t.Errorf("recent: %v, %v; want X once", refs, err)
	}
}

// TestMemRecordsManyChunksInLinearTime: recording a chunk's outcome
// counted the batch's chunks without one, twice, so that a batch of n
// chunks took n² steps to record: a scenario batch of 500,000 one-trade
// chunks held ingress for minutes recording them unsent. The 100,000
// outcomes here take some 0.1 s; counted over, they took minutes. The
// bound is far from both.
func TestMemRecordsManyChunksInLinearTime(t *testing.T) {
	const n = 100_000
	s := store.NewMem(store.MemOptions{})
	ctx := context.Background()
	nb := store.Batch{Ref: store.RefOf("many-chunks"), Digest: "d", TradeIDs: make([]string, n), ChunkOffsets: make([]int, n)}
	for i := range n {
		nb.TradeIDs[i], nb.ChunkOffsets[i] = fmt.Sprint("T", i), i
	}
	if _, err := s.Claim(ctx, nb); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for i := range n {
			upd, err := s.Put(ctx, nb.Ref, "d", 1, store.Chunk{Index: i, State: store.ChunkDead, Reason: "unsent"})
			if err == nil && upd.Announce != (i == n-1) {
				err = fmt.Errorf("chunk %d: announce %v, want it at the last chunk only", i, upd.Announce)
			}
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("%d chunk outcomes not recorded in 20 s: each one's cost grows with the batch's chunks", n)
	}
	sum, err := s.Summary(ctx, nb.Ref)
	if err != nil || sum.State() != store.StateFailed || sum.Waiting() != 0 {
		t.Fatalf("after every chunk: %v, %d waiting, %v", sum.State(), sum.Waiting(), err)
	}
}

// TestMemFullStoreClaimsWithoutScanning: a claim or a chunk in a full
// store does not look at every batch it holds. Each did (the finished
// ones gathered and sorted, the tenants' bytes added up) while the store
// was over MaxBytes, which it was again at each new batch once full: 6 ms
// a claim and its chunk with 20,000 small batches, 1.3 ms with 5,000. A
// pass over MaxBytes now forgets down to a sixteenth below it, and the
// next comes once that much more is held. Counted in bytes allocated: the
// pass's lists of the batches, a few kilobytes a batch at most now.
func TestMemFullStoreClaimsWithoutScanning(t *testing.T) {
	s := store.NewMem(store.MemOptions{Options: store.Options{Retain: time.Hour}, MaxBytes: 8 << 20})
	ctx := context.Background()
	one := func(i int) {
		r := store.Ref{Tenant: "flood", ID: fmt.Sprint("b-", i)}
		if _, err := s.Claim(ctx, store.Batch{Ref: r, Digest: "d", TradeIDs: []string{"T1"}, ChunkOffsets: []int{0}}); err != nil {
			t.Fatal(err)
		}
		mustPut(t, s, r, "d", 1, store.Chunk{Index: 0, State: store.ChunkPriced, Trades: 1, Results: []byte(`{"id":"T1","npv":1}`)})
	}
	const full, more = 10_000, 2_000 // some 6,000 batches fill 8 MiB
	for i := range full {
		one(i)
	}
	if _, err := s.Summary(ctx, store.Ref{Tenant: "flood", ID: "b-0"}); err == nil {
		t.Fatal("the first batch kept: the store is not full")
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range more {
		one(full + i)
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / more; per > 8<<10 {
		t.Errorf("a claim and its chunk in a full store of small batches allocated %d bytes, want at most 8 KiB", per)
	}
}

// TestMemLimitsLookAtTheTenantsOpenBatches: a claim checks its tenant's
// limits against that tenant's unfinished batches, not every batch the
// store holds: it looked at each, 0.8 ms a claim with 40,000 small
// finished batches held, 3 ms with 80,000, with the store locked
// meanwhile. The bound is some ten times what they take now (13 ms).
func TestMemLimitsLookAtTheTenantsOpenBatches(t *testing.T) {
	s := store.NewMem(store.MemOptions{Options: store.Options{Retain: time.Hour}})
	ctx := context.Background()
	one := func(tenant string, i int, l store.Limits) {
		r := store.Ref{Tenant: tenant, ID: fmt.Sprint("b-", i)}
		if _, err := s.Claim(ctx, store.Batch{Ref: r, Digest: "d", TradeIDs: []string{"T1"}, ChunkOffsets: []int{0}, Limits: l}); err != nil {
			t.Fatal(err)
		}
		mustPut(t, s, r, "d", 1, store.Chunk{Index: 0, State: store.ChunkPriced, Trades: 1, Results: []byte(`{"id":"T1","npv":1}`)})
	}
	for i := range 60_000 {
		one("others", i, store.Limits{})
	}
	const n = 500
	start := time.Now()
	for i := range n {
		one("flood", i, store.Limits{MaxOpen: 1000, MaxTrades: 10_000_000})
	}
	if took := time.Since(start); took > 120*time.Millisecond {
		t.Errorf("%d claims with limits beside 60,000 batches took %v, want well under 120 ms (0.5 s when each looked at every batch)", n, took)
	}
	// The limits still hold: the tenant's unfinished batches count.
	l := store.Limits{MaxOpen: 2}
	for i := range 2 {
		if _, err := s.Claim(ctx, store.Batch{Ref: store.Ref{Tenant: "flood", ID: fmt.Sprint("open-", i)}, Digest: "d", TradeIDs: []string{"T1"}, ChunkOffsets: []int{0}, Limits: l}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Claim(ctx, store.Batch{Ref: store.Ref{Tenant: "flood", ID: "open-2"}, Digest: "d", TradeIDs: []string{"T1"}, ChunkOffsets: []int{0}, Limits: l}); !errors.Is(err, store.ErrLimit) {
		t.Errorf("a third unfinished batch of a tenant limited to 2: %v, want ErrLimit", err)
	}
	mustPut(t, s, store.Ref{Tenant: "flood", ID: "open-0"}, "d", 1, store.Chunk{Index: 0, State: store.ChunkPriced, Trades: 1, Results: []byte(`{"id":"T1","npv":1}`)})
	if _, err := s.Claim(ctx, store.Batch{Ref: store.Ref{Tenant: "flood", ID: "open-2"}, Digest: "d", TradeIDs: []string{"T1"}, ChunkOffsets: []int{0}, Limits: l}); err != nil {
		t.Errorf("a claim once one of two unfinished batches finished: %v", err)
	}
}

// TestMemFullStoreFinishesWithoutScanning: a store over MaxBytes with
// nothing it may forget (a tenant's unfinished batch past MaxBytes, the
// other tenant's finished ones within its share) looks at its batches
// again once it holds a sixteenth more, not at every batch that
// finishes: it looked at every batch it held, and sorted the finished
// ones, at each.
func TestMemFullStoreFinishesWithoutScanning(t *testing.T) {
	s := store.NewMem(store.MemOptions{Options: store.Options{Retain: time.Hour}, MaxBytes: 8 << 20})
	ctx := context.Background()
	big := store.Ref{Tenant: "big", ID: "B"}
	if _, err := s.Claim(ctx, store.Batch{Ref: big, Digest: "d", TradeIDs: []string{"T1", "T2"}, ChunkOffsets: []int{0, 1}}); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, big, "d", 1, store.Chunk{Index: 0, State: store.ChunkPriced, Trades: 1, Results: bytes.Repeat([]byte("x"), 10<<20), Given: true})
	one := func(i int) {
		r := store.Ref{Tenant: "small", ID: fmt.Sprint("b-", i)}
		if _, err := s.Claim(ctx, store.Batch{Ref: r, Digest: "d", TradeIDs: []string{"T1"}, ChunkOffsets: []int{0}}); err != nil {
			t.Fatal(err)
		}
		mustPut(t, s, r, "d", 1, store.Chunk{Index: 0, State: store.ChunkPriced, Trades: 1, Results: []byte(`{"id":"T1","npv":1}`)})
	}
	const held, more = 2_000, 500 // some 3.4 MB, within small's share of 3.75 MiB
	for i := range held {
		one(i)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range more {
		one(held + i)
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / more; per > 8<<10 {
		t.Errorf("a batch finished in a full store with nothing to forget allocated %d bytes, want at most 8 KiB", per)
	}
	for _, ref := range []store.Ref{big, {Tenant: "small", ID: "b-0"}, {Tenant: "small", ID: fmt.Sprint("b-", held+more-1)}} {
		if _, err := s.Summary(ctx, ref); err != nil {
			t.Errorf("%s forgotten: %v, want every batch kept", ref, err)
		}
	}
}

// TestMemForgetsItsLastFinishedBatch: a batch that finished last, once
// forgotten (past Retain), holds no memory: kept for the pass over
// MaxBytes to tell the batch that finished before the next, its results
// stayed reachable until another batch finished, however long, and
// Freed gave none of them back.
func TestMemForgetsItsLastFinishedBatch(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1000, 0)
	s := store.NewMem(store.MemOptions{Options: store.Options{Retain: time.Second}, Now: func() time.Time { return now }})
	b := store.Batch{Ref: store.RefOf("last"), Digest: "d", TradeIDs: []string{"T0"}, ChunkOffsets: []int{0}}
	if _, err := s.Claim(ctx, b); err != nil {
		t.Fatal(err)
	}
	results := bytes.Repeat([]byte{'x'}, 1<<20)
	w := weak.Make(&results[0])
	if _, err := s.Put(ctx, b.Ref, "d", 1, store.Chunk{Index: 0, State: store.ChunkPriced, Results: results, Given: true}); err != nil {
		t.Fatal(err)
	}
	results = nil
	now = now.Add(2 * time.Second)
	if _, err := s.Overdue(ctx, now, 10); err != nil { // a sweep: forgotten
		t.Fatal(err)
	}
	if _, err := s.Summary(ctx, b.Ref); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("summary of a batch past Retain: %v, want ErrNotFound", err)
	}
	runtime.GC()
	if w.Value() != nil {
		t.Error("the forgotten batch's results are still reachable from the store")
	}
	runtime.KeepAlive(s)
}
