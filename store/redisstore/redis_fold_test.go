package redisstore

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pricefn/pricefn/store"
	"github.com/pricefn/pricefn/store/redisstore/redistest"
)

// These tests fold the pending list (Store.Tally) as replicas do, and
// look at the list and the meta hash's fold fields, so they are in the
// package.

// countedChunk is chunk i priced, one trade, with the sums n (1) and
// npv (i+1): a total of n other than the chunks priced is a chunk counted
// twice or lost.
func countedChunk(i int) store.Chunk {
	return store.Chunk{Index: i, State: store.ChunkPriced, Trades: 1,
		Partials: map[string]map[string][]float64{"": {"n": {1}, "npv": {float64(i + 1)}}, "U": {"n": {1}}}}
}

// TestRedisReplicasFoldExactly: two replicas read the tally of a batch
// (folding its pending chunks) over and over while puts keep listing
// chunks: every read's totals are those of the chunks its counts hold,
// none counted twice or lost, and the end's are the batch's.
func TestRedisReplicasFoldExactly(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	replicas := []*Store{openStore(t, srv, store.Options{}), openStore(t, srv, store.Options{})}
	const n = 150
	b := store.Batch{Ref: store.RefOf("fold"), Digest: "d", SubmittedAt: time.Now(), Deadline: time.Now().Add(time.Hour)}
	for i := range n {
		b.TradeIDs, b.ChunkOffsets = append(b.TradeIDs, fmt.Sprint("T", i)), append(b.ChunkOffsets, i)
	}
	if _, err := replicas[0].Claim(ctx, b); err != nil {
		t.Fatal(err)
	}
	check := func(what string, tl *store.Tally) bool {
		t.Helper()
		all, u := tl.Totals[""], tl.Totals["U"]
		if tl.Priced == 0 && all == nil {
			return true
		}
		if all == nil || u == nil || all["n"].Sum.Value() != float64(tl.Priced) || u["n"].Sum.Value() != float64(tl.Priced) {
			t.Errorf("%s: %d priced, totals %v", what, tl.Priced, tl.Totals)
			return false
		}
		return true
	}
	var wg sync.WaitGroup
	puts := make(chan int, n)
	for i := range n {
		puts <- i
	}
	close(puts)
	stop := make(chan struct{})
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range puts {
				if _, err := replicas[w].Put(ctx, b.Ref, "d", 1, countedChunk(i)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	var readers sync.WaitGroup
	for r := range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				tl, err := replicas[r%2].Tally(ctx, b.Ref)
				if err != nil {
					t.Error(err)
					return
				}
				if !check(fmt.Sprint("replica ", r%2, " read"), tl) {
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	for r, s := range replicas {
		tl, err := s.Tally(ctx, b.Ref)
		if err != nil {
			t.Fatal(err)
		}
		if check(fmt.Sprint("replica ", r, " at the end"), tl) && (tl.Priced != n || tl.Totals[""]["npv"].Sum.Value() != n*(n+1)/2) {
			t.Errorf("replica %d at the end: %d priced, npv %v, want %d, %d", r, tl.Priced, tl.Totals[""]["npv"].Sum.Value(), n, n*(n+1)/2)
		}
	}
	k := keys(b.Ref, 1)
	if l := replicas[0].rdb.LLen(ctx, k[8]).Val(); l != 0 {
		t.Errorf("%d chunks still pending once read", l)
	}
	if f := replicas[0].rdb.HGet(ctx, k[0], "folded").Val(); f != fmt.Sprint(n) {
		t.Errorf("folded %s, want %d", f, n)
	}
}

// claimBeforeFold is a hook that, once, before the first fold it sees
// saved (foldScript), forgets the batch b (its keys expired) and claims
// it again, with chunk put: an earlier incarnation's read of the id
// folding into the next one's record.
type claimBeforeFold struct {
	s    *Store
	b    store.Batch
	put  store.Chunk
	done bool
	err  error
}

func (h *claimBeforeFold) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *claimBeforeFold) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *claimBeforeFold) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if args := cmd.Args(); !h.done && len(args) > 1 && args[1] == foldScript.Hash() {
			h.done = true
			k := keys(h.b.Ref, 1)
			if h.err = h.s.rdb.Del(ctx, k[0], k[1], k[2], k[4], k[5], k[8]).Err(); h.err == nil {
				if _, h.err = h.s.Claim(ctx, h.b); h.err == nil {
					_, h.err = h.s.Put(ctx, h.b.Ref, h.b.Digest, 1, h.put)
				}
			}
		}
		return next(ctx, cmd)
	}
}

// TestRedisFoldOfAnEarlierIncarnation: a read folding the pending chunks
// of a batch whose keys expired, the id claimed again with the same batch
// (digest, attempt 1) before the fold was saved, saved the old batch's
// sums as the new one's and trimmed the new one's pending chunks: its
// status had the old totals for good.
func TestRedisFoldOfAnEarlierIncarnation(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := openStore(t, srv, store.Options{})
	ref := store.RefOf("X")
	old := twoChunks(ref, "d", time.Now().Add(time.Hour))
	if _, err := s.Claim(ctx, old); err != nil {
		t.Fatal(err)
	}
	chunk := func(npv float64) store.Chunk {
		return store.Chunk{Index: 0, State: store.ChunkPriced, Trades: 1, Partials: map[string]map[string][]float64{"": {"npv": {npv}}}}
	}
	if _, err := s.Put(ctx, ref, "d", 1, chunk(111)); err != nil {
		t.Fatal(err)
	}
	again := twoChunks(ref, "d", time.Now().Add(time.Hour))
	again.SubmittedAt = old.SubmittedAt.Add(time.Second)
	h := &claimBeforeFold{s: s, b: again, put: chunk(222)}
	s.rdb.AddHook(h)
	if _, err := s.Tally(ctx, ref); err != nil || h.err != nil {
		t.Fatalf("tally: %v (claim %v)", err, h.err)
	}
	if !h.done {
		t.Fatal("no fold saved")
	}
	tl, err := s.Tally(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if got := tl.Totals[""]["npv"].Sum.Value(); got != 222 || tl.Priced != 1 {
		t.Errorf("the new batch's tally: %d priced, npv %v, want 1, 222", tl.Priced, got)
	}
}

// listReads is a hook that records the ranges of the pending list read
// (LRANGE), and runs before, once, before the second, if set.
type listReads struct {
	ranges [][2]int64
	before func(ctx context.Context)
}

func (h *listReads) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *listReads) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return next
}
func (h *listReads) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			if cmd.Name() != "lrange" {
				continue
			}
			args := cmd.Args()
			lo, _ := args[2].(int64)
			hi, _ := args[3].(int64)
			if h.ranges = append(h.ranges, [2]int64{lo, hi}); len(h.ranges) == 2 && h.before != nil {
				h.before(ctx)
			}
		}
		return next(ctx, cmds)
	}
}

// TestRedisFoldReadsTheListInPages: the first read of a batch's tally
// read its whole pending list in one command (LRANGE 0 -1: 11 ms of
// Redis, every client waiting, for 100,000 chunks), where its comment
// had it blocked a page at a time. It reads a page of the list a
// command, and starts again where another read's fold trimmed the list
// between its pages: the totals are the chunks', none twice.
func TestRedisFoldReadsTheListInPages(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s, other := openStore(t, srv, store.Options{}), openStore(t, srv, store.Options{})
	const n = 400
	b := store.Batch{Ref: store.RefOf("pages"), Digest: "d", SubmittedAt: time.Now(), Deadline: time.Now().Add(time.Hour)}
	for i := range n {
		b.TradeIDs, b.ChunkOffsets = append(b.TradeIDs, fmt.Sprint("T", i)), append(b.ChunkOffsets, i)
	}
	if _, err := s.Claim(ctx, b); err != nil {
		t.Fatal(err)
	}
	put := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if _, err := s.Put(ctx, b.Ref, "d", 1, countedChunk(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	h := &listReads{}
	s.rdb.AddHook(h)
	read := func(what string, priced int) {
		t.Helper()
		h.ranges = nil
		tl, err := s.Tally(ctx, b.Ref)
		if err != nil {
			t.Fatal(err)
		}
		if tl.Priced != priced || tl.Totals[""]["n"].Sum.Value() != float64(priced) || tl.Totals[""]["npv"].Sum.Value() != float64(priced*(priced+1)/2) {
			t.Errorf("%s: %d priced, totals %v, want %d", what, tl.Priced, tl.Totals, priced)
		}
		for _, r := range h.ranges {
			if r[1] < r[0] || r[1]-r[0] >= foldPage {
				t.Errorf("%s: pending list read from %d to %d, more than a page of %d", what, r[0], r[1], foldPage)
			}
		}
		if l := s.rdb.LLen(ctx, keys(b.Ref, 1)[8]).Val(); l != 0 {
			t.Errorf("%s: %d chunks still pending", what, l)
		}
	}
	put(0, 150)
	read("first read", 150)
	// Another replica folds the list between this read's pages.
	put(150, n)
	h.before = func(ctx context.Context) {
		if _, err := other.Tally(ctx, b.Ref); err != nil {
			t.Error(err)
		}
	}
	read("read as another folds", n)
	if len(h.ranges) < 3 {
		t.Errorf("the read raced no fold: pending list read %v", h.ranges)
	}
}

// TestRedisFoldInterruptedKeepsItsPages: a read ended between the pages
// of its fold (its client gone, or its process killed) saved nothing, so
// that every read of a batch too long to add up in one request started
// again from the first page and none was ever answered. The pages it
// added are folded; the next read goes on from there, exact.
func TestRedisFoldInterruptedKeepsItsPages(t *testing.T) {
	srv := redistest.Start(t)
	s := openStore(t, srv, store.Options{})
	const n = 250
	b := store.Batch{Ref: store.RefOf("cut"), Digest: "d", SubmittedAt: time.Now(), Deadline: time.Now().Add(time.Hour)}
	for i := range n {
		b.TradeIDs, b.ChunkOffsets = append(b.TradeIDs, fmt.Sprint("T", i)), append(b.ChunkOffsets, i)
	}
	ctx := context.Background()
	if _, err := s.Claim(ctx, b); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := s.Put(ctx, b.Ref, "d", 1, countedChunk(i)); err != nil {
			t.Fatal(err)
		}
	}
	// The read ends as it reads the list's second page.
	cut, cancel := context.WithCancel(ctx)
	defer cancel()
	s.rdb.AddHook(&listReads{before: func(context.Context) { cancel() }})
	if _, err := s.Tally(cut, b.Ref); err == nil {
		t.Fatal("a read ended midway answered")
	}
	k := keys(b.Ref, 1)
	if f, l := s.rdb.HGet(ctx, k[0], "folded").Val(), s.rdb.LLen(ctx, k[8]).Val(); f != fmt.Sprint(foldPage) || l != n-foldPage {
		t.Errorf("after a read ended midway: folded %q, %d pending, want %d, %d", f, l, foldPage, n-foldPage)
	}
	tl, err := s.Tally(ctx, b.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if tl.Priced != n || tl.Totals[""]["n"].Sum.Value() != n || tl.Totals["U"]["n"].Sum.Value() != n || tl.Totals[""]["npv"].Sum.Value() != n*(n+1)/2 {
		t.Errorf("the next read: %d priced, totals %v, want %d", tl.Priced, tl.Totals, n)
	}
}

// TestRedisFoldSkipsAnEarlierIncarnationsChunks: a replica of a release
// before the pending list claims an id again, its earlier batch's keys
// expired, without deleting the pending list, which outlived them (its
// expiry was the unfinished batch's where the batch's last chunk was
// recorded by such a replica). The read folded the earlier batch's
// chunks "1:0" and "1:1" against the new batch's: chunk 0 counted twice,
// and a status that failed for good on chunk 1, which the new batch has
// not. The fold skips the entries of another claim, and trims them.
func TestRedisFoldSkipsAnEarlierIncarnationsChunks(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := openStore(t, srv, store.Options{})
	ref := store.RefOf("again")
	old := twoChunks(ref, "d", time.Now().Add(time.Hour))
	if _, err := s.Claim(ctx, old); err != nil {
		t.Fatal(err)
	}
	chunk := func(i int, npv float64) store.Chunk {
		return store.Chunk{Index: i, State: store.ChunkPriced, Trades: 1, Partials: map[string]map[string][]float64{"": {"npv": {npv}}}}
	}
	for i := range 2 {
		if _, err := s.Put(ctx, ref, "d", 1, chunk(i, 111)); err != nil {
			t.Fatal(err)
		}
	}
	k := keys(ref, 1)
	left := s.rdb.LRange(ctx, k[8], 0, -1).Val()
	if len(left) != 2 {
		t.Fatalf("pending %q, want 2 chunks", left)
	}
	// The keys the older replica knows expire; the pending list does not.
	// Its claim of the id again (attempt 1) leaves the list as it was.
	if err := s.rdb.Del(ctx, k[0], k[1], k[2], k[4], k[5], k[8]).Err(); err != nil {
		t.Fatal(err)
	}
	again := twoChunks(ref, "d", time.Now().Add(time.Hour))
	again.SubmittedAt = old.SubmittedAt.Add(time.Second)
	if c, err := s.Claim(ctx, again); err != nil || c.Attempt != 1 {
		t.Fatalf("claim again: %+v %v, want attempt 1", c, err)
	}
	if err := s.rdb.RPush(ctx, k[8], left).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, ref, "d", 1, chunk(0, 222)); err != nil {
		t.Fatal(err)
	}
	for _, what := range []string{"first read", "second read"} {
		tl, err := s.Tally(ctx, ref)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := tl.Totals[""]["npv"].Sum.Value(); got != 222 || tl.Priced != 1 {
			t.Errorf("%s: %d priced, npv %v, want 1, 222", what, tl.Priced, got)
		}
	}
	if l := s.rdb.LLen(ctx, k[8]).Val(); l != 0 {
		t.Errorf("%d entries still pending once read", l)
	}
}

// TestRedisTallyOfALostPendingList: a replica of a release before the
// pending list records a batch's last chunk and keeps the keys it knows
// for Retain, not the pending list, which keeps the unfinished batch's
// expiry and may go first. The counts still held every outcome (this
// release's in outcomes, that replica's in tallied), so a read took the
// sums for whole: chunk 0's, listed and not yet folded, were lost. A
// read that finds fewer chunks listed than the batch listed adds the
// batch up from its chunks.
func TestRedisTallyOfALostPendingList(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := openStore(t, srv, store.Options{})
	ref := store.RefOf("lost")
	b := twoChunks(ref, "d", time.Now().Add(time.Hour))
	if _, err := s.Claim(ctx, b); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		c := store.Chunk{Index: i, State: store.ChunkPriced, Trades: 1, Partials: map[string]map[string][]float64{"": {"npv": {float64(i + 1)}}}}
		if i == 1 {
			// Recorded as the older replica records it: its sums in
			// totals (none here) and its outcome in tallied.
			c.Partials = nil
		}
		if _, err := s.Put(ctx, ref, "d", 1, c); err != nil {
			t.Fatal(err)
		}
	}
	k := keys(ref, 1)
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, k[0], "outcomes", -1)
		p.HIncrBy(ctx, k[0], "tallied", 1)
		// The pending list expires before the meta hash.
		p.Del(ctx, k[8])
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	tl, err := s.Tally(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if npv := tl.Totals[""]["npv"]; tl.Priced != 2 || npv == nil || npv.Sum.Value() != 1 {
		t.Errorf("tally: %d priced, totals %v, want 2, npv 1", tl.Priced, tl.Totals)
	}
}
