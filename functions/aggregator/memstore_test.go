package aggregator_test

import (
	"context"
	"testing"
	"time"

	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/aggregator"
)

func TestMemStoreForgetsOldBatches(t *testing.T) {
	now := submitAt
	s := aggregator.NewMemStore(aggregator.MemStoreOptions{Retain: time.Hour, Now: func() time.Time { return now }})
	ctx := context.Background()
	accepted := func(id string, chunks int) events.BatchAccepted {
		return events.BatchAccepted{BatchID: id, TradeIDs: []string{"T0", "T1"}, ChunkOffsets: []int{0, 1}[:chunks]}
	}
	s.Create(ctx, accepted("old", 1), now)
	s.Put(ctx, "old", aggregator.Chunk{Index: 0, State: aggregator.ChunkDead})
	s.Create(ctx, accepted("running", 2), now)
	now = now.Add(2 * time.Hour)
	s.Create(ctx, accepted("new", 1), now)
	if _, err := s.Get(ctx, "old"); err == nil {
		t.Error("a batch finished 2 hours ago is still kept")
	}
	for _, id := range []string{"running", "new"} {
		if _, err := s.Get(ctx, id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}

// TestMemStoreForgetsStaleBatches: a batch that never finishes (its chunks
// were lost) is dropped MaxAge after its batch.accepted, and a new batch
// of the same id is not dropped for the old one's age.
func TestMemStoreForgetsStaleBatches(t *testing.T) {
	now := submitAt
	s := aggregator.NewMemStore(aggregator.MemStoreOptions{Retain: time.Hour, MaxAge: 24 * time.Hour, Now: func() time.Time { return now }})
	ctx := context.Background()
	accepted := func(id string) events.BatchAccepted {
		return events.BatchAccepted{BatchID: id, TradeIDs: []string{"T0", "T1"}, ChunkOffsets: []int{0, 1}}
	}
	s.Create(ctx, accepted("lost"), now)   // never finishes
	s.Create(ctx, accepted("reused"), now) // finishes, is forgotten, comes back
	s.Put(ctx, "reused", aggregator.Chunk{Index: 0, State: aggregator.ChunkDead})
	s.Put(ctx, "reused", aggregator.Chunk{Index: 1, State: aggregator.ChunkDead})
	changed, stop, _ := s.Watch(ctx, "lost")
	defer stop()

	now = now.Add(2 * time.Hour)
	if _, err := s.Get(ctx, "reused"); err == nil {
		t.Fatal("finished batch kept past Retain")
	}
	s.Create(ctx, accepted("reused"), now)
	now = now.Add(23 * time.Hour) // 25 h after the first batches
	if _, err := s.Get(ctx, "lost"); err == nil {
		t.Error("a batch unfinished after MaxAge is still kept")
	}
	select {
	case <-changed:
	default:
		t.Error("waiters on a forgotten batch not woken")
	}
	if _, err := s.Get(ctx, "reused"); err != nil {
		t.Errorf("the second batch reused was forgotten for the first one's age: %v", err)
	}
}
