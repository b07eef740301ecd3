package store

import (
	"context"
	"testing"
	"time"
)

// TestMemReclaimOfExpiredCountsOnce: an id claimed again once its batch
// has expired, before the sweep (once a second) removed it, replaces the
// batch in the count too; its bytes were counted for ever, and the store
// forgot finished batches sooner than its bound asks.
func TestMemReclaimOfExpiredCountsOnce(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1000, 0)
	s := NewMem(MemOptions{Options: Options{Retain: time.Second}, Now: func() time.Time { return now }})
	x := Batch{Ref: RefOf("X"), Digest: "a", TradeIDs: []string{"T0"}, ChunkOffsets: []int{0}}
	if _, err := s.Claim(ctx, x); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, x.Ref, "a", 1, Chunk{Index: 0, State: ChunkPriced, Results: make([]byte, 1000)}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second)
	if _, err := s.Overdue(ctx, now, 10); err != nil { // a sweep, X not yet expired
		t.Fatal(err)
	}
	now = now.Add(500 * time.Millisecond) // X expired, no sweep since
	y := x
	y.Digest = "b"
	if c, err := s.Claim(ctx, y); err != nil || !c.New || c.Attempt != 1 {
		t.Fatalf("claim of the id again: %+v, %v", c, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if held := s.batches[y.Ref].bytes; len(s.batches) != 1 || s.bytes != held {
		t.Fatalf("the store holds %d batches, the new one of %d bytes, and counts %d bytes", len(s.batches), held, s.bytes)
	}
}
