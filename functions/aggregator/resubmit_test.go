package aggregator_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/aggregator"
	"github.com/pricefn/pricefn/store"
)

// resubmitting is a store on which the batch is claimed again right after
// the outcome that ends it: the client waiting on its results resubmits a
// failed batch before the aggregator has read it back to announce it.
type resubmitting struct {
	store.Store
	b store.Batch
}

func (s *resubmitting) Put(ctx context.Context, ref store.Ref, digest string, attempt int, c store.Chunk) (store.Update, error) {
	u, err := s.Store.Put(ctx, ref, digest, attempt, c)
	if err == nil && u.Announce {
		if _, err := s.Store.Claim(ctx, s.b); err != nil {
			return u, err
		}
	}
	return u, err
}

// TestAnnounceAfterResubmission: the attempt that ended is not announced
// from the new attempt's record (which has no completion time: this
// dereferenced a nil time and panicked, taking down the process on the
// deadline's path), and the delivery that ended it succeeds.
func TestAnnounceAfterResubmission(t *testing.T) {
	mem := store.NewMem(store.MemOptions{})
	b := store.Batch{Ref: store.RefOf("b1"), Digest: "d", TradeIDs: tradeIDs, ChunkOffsets: offsets, SubmittedAt: submitAt}
	if _, err := mem.Claim(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	sender := &fakeSender{}
	fn := aggregator.New(aggregator.Options{Store: &resubmitting{Store: mem, b: b}, Sender: sender, Log: zerolog.Nop()})
	for i := range offsets {
		if _, err := fn.HandleDeadLetter(context.Background(), deadLetter(t, "b1", i)); err != nil {
			t.Fatalf("dead letter of chunk %d: %v", i, err)
		}
	}
	for _, e := range sender.events() {
		if e.Type() == events.TypeBatchCompleted {
			t.Errorf("batch.completed %s sent from the record of the next attempt", e.ID())
		}
	}
	sum, err := mem.Summary(context.Background(), b.Ref)
	if err != nil || sum.Attempt != 2 || sum.Done() {
		t.Fatalf("the resubmission: attempt %d, done %v (%v); want attempt 2 pending", sum.Attempt, sum.Done(), err)
	}
}

// TestNotFoundSaysWhy: the 404 of a batch the store does not hold says
// that a full store forgets the oldest finished batches, not only those
// past their retention (a batch forgotten a second after it finished, to
// make room, was said to be past a retention of an hour).
func TestNotFoundSaysWhy(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/batches/nope", "/batches/nope/results"} {
		code, body := f.get(t, path)
		if code != http.StatusNotFound || !strings.Contains(body, "past its retention") || !strings.Contains(body, "make room for newer batches") {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}
}
