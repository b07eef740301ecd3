package redisstore

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pricefn/pricefn/store"
	"github.com/pricefn/pricefn/store/redisstore/redistest"
)

// TestRedisArrivalsOfAnEarlierRelease: a batch whose arrivals list does
// not hold every outcome, claimed by the release before the list (its
// meta hash not marked ordered) or with an outcome recorded by it (one
// fewer listed than done), has Arrivals answer every outcome, by index,
// from its Summary (All), as a stream read it before; and one whose
// arrivals span pages reads them all, in order.
func TestRedisArrivalsOfAnEarlierRelease(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := openStore(t, srv, store.Options{})
	const n = 2*arrivalsPage + 5
	ref := store.RefOf("earlier")
	b := store.Batch{Ref: ref, Digest: "d", SubmittedAt: time.Now(), Deadline: time.Now().Add(time.Hour)}
	for i := range n {
		b.TradeIDs, b.ChunkOffsets = append(b.TradeIDs, "T"), append(b.ChunkOffsets, i)
	}
	if _, err := s.Claim(ctx, b); err != nil {
		t.Fatal(err)
	}
	var order []int
	for i := n - 1; i >= 0; i -= 2 {
		if _, err := s.Put(ctx, ref, "d", 1, pricedChunk(i, i)); err != nil {
			t.Fatal(err)
		}
		order = append(order, i)
	}
	a, err := s.Arrivals(ctx, ref, 1, 1, n)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, c := range a.Chunks {
		got = append(got, c.Index)
	}
	if a.All || !reflect.DeepEqual(got, order[1:]) {
		t.Fatalf("arrivals from 1 over pages: %v (all %v), want %v", got, a.All, order[1:])
	}
	sum, err := s.Summary(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	var every []store.Chunk
	for _, c := range sum.Chunks {
		if c.State != store.ChunkWaiting {
			every = append(every, c)
		}
	}
	k := keys(ref, 1)
	for _, tc := range []struct {
		name   string
		change func(p redis.Pipeliner)
	}{
		{"an outcome recorded by the release before", func(p redis.Pipeliner) { p.RPop(ctx, k[9]) }},
		{"claimed by the release before", func(p redis.Pipeliner) { p.HDel(ctx, k[0], "ordered") }},
	} {
		if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error { tc.change(p); return nil }); err != nil {
			t.Fatal(err)
		}
		a, err := s.Arrivals(ctx, ref, 1, 3, 1)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !a.All || !reflect.DeepEqual(a.Chunks, every) || len(a.Lo) != len(every) || a.Lo[0] != every[0].Index || a.Hi[0] != every[0].Index+1 {
			t.Errorf("%s: arrivals %+v, want every outcome by index (All) %+v", tc.name, a, every)
		}
	}
}

// reclaimAfterPage, after the first page of arrivals read
// (arrivalsScript), forgets batch b (its keys expired) and claims it
// again, later, with the same content: the next page is the new batch's.
type reclaimAfterPage struct {
	s     *Store
	b     store.Batch
	pages int
	err   error
}

func (h *reclaimAfterPage) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *reclaimAfterPage) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *reclaimAfterPage) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if args := cmd.Args(); len(args) > 1 && args[1] == arrivalsScript.Hash() {
			if h.pages++; h.pages == 1 {
				k := keys(h.b.Ref, 1)
				if h.err = h.s.rdb.Del(ctx, k[0], k[1], k[2], k[4], k[5], k[8], k[9]).Err(); h.err == nil {
					h.b.SubmittedAt = h.b.SubmittedAt.Add(time.Second)
					_, h.err = h.s.Claim(ctx, h.b)
				}
			}
		}
		return err
	}
}

// TestRedisArrivalsOfABatchClaimedAgainWhileRead: a read of more than a
// page of arrivals whose batch is claimed again between two pages (its
// id forgotten and used again, at the same attempt) is ErrStale, not the
// old batch's first page and the new one's next.
func TestRedisArrivalsOfABatchClaimedAgainWhileRead(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := openStore(t, srv, store.Options{})
	ref := store.RefOf("again")
	b := store.Batch{Ref: ref, Digest: "d", SubmittedAt: time.Now(), Deadline: time.Now().Add(time.Hour)}
	for i := range arrivalsPage + 1 {
		b.TradeIDs, b.ChunkOffsets = append(b.TradeIDs, "T"), append(b.ChunkOffsets, i)
	}
	if _, err := s.Claim(ctx, b); err != nil {
		t.Fatal(err)
	}
	for i := range arrivalsPage + 1 {
		if _, err := s.Put(ctx, ref, "d", 1, pricedChunk(i, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := arrivalsScript.Load(ctx, s.rdb).Err(); err != nil { // its first call is its hash's
		t.Fatal(err)
	}
	h := &reclaimAfterPage{s: s, b: b}
	s.rdb.AddHook(h)
	if a, err := s.Arrivals(ctx, ref, 1, 0, 2*arrivalsPage); !errors.Is(err, store.ErrStale) || h.err != nil {
		t.Fatalf("arrivals read across a claim: %+v, %v (claim: %v), want ErrStale", a, err, h.err)
	}
}

// TestRedisArrivalsReadNoTradeIDs: a page of arrivals takes each chunk's
// trade range from the batch's offsets, not from the end of its entry of
// trade ids and the next chunk's, read whole: 40 outcomes of chunks of
// 10,000 trades took 35 ms of Redis, whose every client waits meanwhile
// (a Summary of the batch 0.2 ms), and a stream read them at each change.
// A scenario chunk and the last have their ranges right.
func TestRedisArrivalsReadNoTradeIDs(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := openStore(t, srv, store.Options{})
	const chunks, per = 20, 10_000
	ref := store.RefOf("big")
	b := store.Batch{Ref: ref, Digest: "d", SubmittedAt: time.Now(), Deadline: time.Now().Add(time.Hour), ChunkOffsets: []int{0}} // a scenario chunk first
	for i := range chunks * per {
		if i%per == 0 {
			b.ChunkOffsets = append(b.ChunkOffsets, i)
		}
		b.TradeIDs = append(b.TradeIDs, fmt.Sprintf("TRADE-%010d", i))
	}
	if _, err := s.Claim(ctx, b); err != nil {
		t.Fatal(err)
	}
	for i := len(b.ChunkOffsets) - 1; i >= 0; i-- {
		if _, err := s.Put(ctx, ref, "d", 1, pricedChunk(i, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := arrivalsScript.Load(ctx, s.rdb).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	a, err := s.Arrivals(ctx, ref, 1, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var usec int
	for line := range strings.SplitSeq(s.rdb.Info(ctx, "commandstats").Val(), "\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_evalsha:"); ok {
			fmt.Sscanf(rest[strings.Index(rest, "usec=")+5:], "%d", &usec)
		}
	}
	// Read whole, the trade ids took some 13 ms; the offsets, 0.2 ms.
	if usec > 5000 {
		t.Errorf("a page of %d arrivals took %d µs of Redis's time, want under 5 ms: the trade ids read", len(a.Chunks), usec)
	}
	if a.All || len(a.Chunks) != chunks+1 {
		t.Fatalf("arrivals: %d, all %v, want %d in order", len(a.Chunks), a.All, chunks+1)
	}
	for k, c := range a.Chunks {
		lo, hi := max(c.Index-1, 0)*per, c.Index*per
		if c.Index != chunks-k || a.Lo[k] != lo || a.Hi[k] != hi {
			t.Errorf("arrival %d: chunk %d, trades [%d, %d), want chunk %d, [%d, %d)", k, c.Index, a.Lo[k], a.Hi[k], chunks-k, lo, hi)
		}
	}
}

// TestRedisArrivalsListGoesWhenNotWhole: the outcomes of a batch claimed
// by the release before (its meta hash not marked ordered), or of one
// with an outcome the release before recorded, keep no arrivals list,
// which Arrivals never reads then: put and expired outcomes made one,
// given the meta's life at each, and the release before, which ends the
// batch's other keys at its end, left it up to MaxAge past them.
func TestRedisArrivalsListGoesWhenNotWhole(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := openStore(t, srv, store.Options{})
	for _, tc := range []struct {
		name   string
		change func(k []string) error
	}{
		{"claimed by the release before", func(k []string) error { return s.rdb.HDel(ctx, k[0], "ordered").Err() }},
		{"an outcome recorded by the release before", func(k []string) error { return s.rdb.RPop(ctx, k[9]).Err() }},
	} {
		for _, end := range []string{"put", "expire"} {
			ref := store.RefOf(strings.ReplaceAll(tc.name, " ", "-") + "-" + end)
			b := store.Batch{Ref: ref, Digest: "d", SubmittedAt: time.Now(), Deadline: time.Now().Add(time.Hour), TradeIDs: []string{"A", "B", "C"}, ChunkOffsets: []int{0, 1, 2}}
			if _, err := s.Claim(ctx, b); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Put(ctx, ref, "d", 1, pricedChunk(0, 0)); err != nil {
				t.Fatal(err)
			}
			k := keys(ref, 1)
			if err := tc.change(k); err != nil {
				t.Fatal(err)
			}
			var err error
			if end == "put" {
				_, err = s.Put(ctx, ref, "d", 1, pricedChunk(1, 1))
			} else {
				_, err = s.Expire(ctx, ref, 1, b.Deadline.Add(time.Second), "deadline passed")
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := s.rdb.Exists(ctx, k[9]).Val(); n != 0 {
				t.Errorf("%s, then %s: the arrivals list is kept (%v), want none", tc.name, end, s.rdb.LRange(ctx, k[9], 0, -1).Val())
			}
			if a, err := s.Arrivals(ctx, ref, 1, 0, 10); err != nil || !a.All {
				t.Errorf("%s, then %s: arrivals %+v, %v, want every outcome from the Summary", tc.name, end, a, err)
			}
		}
	}
}
