package redisstore

import (
	"context"
	"reflect"
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
