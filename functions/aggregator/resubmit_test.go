package aggregator_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

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
	b        store.Batch
	claimErr error
}

func (s *resubmitting) Put(ctx context.Context, ref store.Ref, digest string, attempt int, c store.Chunk) (store.Update, error) {
	u, err := s.Store.Put(ctx, ref, digest, attempt, c)
	if err == nil && u.Announce {
		_, s.claimErr = s.Store.Claim(ctx, s.b)
	}
	return u, err
}

// TestResubmissionWaitsForTheAnnouncement: a resubmission of a batch that
// has just ended, before its end is announced, is refused for a moment
// (store.ErrAnnouncing, a 503 from ingress): it replaced the ended
// attempt's record, the announcement was then skipped, and attempt 1's
// batch.completed was lost for good. The end is announced, then the
// resubmission starts attempt 2.
func TestResubmissionWaitsForTheAnnouncement(t *testing.T) {
	mem := store.NewMem(store.MemOptions{})
	b := store.Batch{Ref: store.RefOf("b1"), Digest: "d", TradeIDs: tradeIDs, ChunkOffsets: offsets, SubmittedAt: submitAt}
	if _, err := mem.Claim(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	sender := &fakeSender{}
	rs := &resubmitting{Store: mem, b: b}
	fn := aggregator.New(aggregator.Options{Store: rs, Sender: sender, Log: zerolog.Nop()})
	for i := range offsets {
		if _, err := fn.HandleDeadLetter(context.Background(), deadLetter(t, "b1", i)); err != nil {
			t.Fatalf("dead letter of chunk %d: %v", i, err)
		}
	}
	if !errors.Is(rs.claimErr, store.ErrAnnouncing) {
		t.Fatalf("a resubmission before the announcement: %v, want ErrAnnouncing", rs.claimErr)
	}
	var completed []string
	for _, e := range sender.events() {
		if e.Type() == events.TypeBatchCompleted {
			completed = append(completed, e.ID())
		}
	}
	if len(completed) != 1 || completed[0] != "b1/completed" {
		t.Fatalf("batch.completed sent: %v, want attempt 1's", completed)
	}
	c, err := mem.Claim(context.Background(), b)
	if err != nil || !c.New || c.Attempt != 2 {
		t.Fatalf("the resubmission once announced: %+v %v, want attempt 2", c, err)
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

// resubmittedMeanwhile is a store on which, as a reader expires a batch
// past its deadline, another aggregator has ended and announced it and a
// client has claimed its next attempt: the reader's Expire is stale.
type resubmittedMeanwhile struct {
	*store.Mem
	b    store.Batch
	done bool
}

func (s *resubmittedMeanwhile) Expire(ctx context.Context, ref store.Ref, attempt int, now time.Time, reason string) (store.Update, error) {
	if !s.done {
		s.done = true
		if _, err := s.Mem.Expire(ctx, ref, attempt, now, reason); err != nil {
			return store.Update{}, err
		}
		if err := s.Mem.Announced(ctx, ref, attempt, now); err != nil {
			return store.Update{}, err
		}
		if _, err := s.Mem.Claim(ctx, s.b); err != nil {
			return store.Update{}, err
		}
	}
	return s.Mem.Expire(ctx, ref, attempt, now, reason)
}

// TestStatusOfABatchResubmittedMeanwhile: a status read that finds the
// batch past its deadline while another aggregator ends it and a client
// claims its next attempt answers with the batch as it now is (attempt 2);
// it answered 503 "store: event of an earlier attempt", and pricefn submit
// gave up on it.
func TestStatusOfABatchResubmittedMeanwhile(t *testing.T) {
	mem := store.NewMem(store.MemOptions{})
	b := store.Batch{Ref: store.RefOf("b1"), Digest: "d", TradeIDs: tradeIDs, ChunkOffsets: offsets, SubmittedAt: submitAt.Add(-time.Minute), Deadline: submitAt}
	if _, err := mem.Claim(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	f := newFixtureWith(t, func(o *aggregator.Options) { o.Store = &resubmittedMeanwhile{Mem: mem, b: b} })
	code, body := f.get(t, "/batches/b1")
	if code != http.StatusOK || !strings.Contains(body, `"attempt":2`) || !strings.Contains(body, `"state":"pending"`) {
		t.Fatalf("status: %d %s, want attempt 2, pending", code, body)
	}
}

// resubmittedWhileRead is a store on which a client claims the batch's
// next attempt as a reader starts writing the ended attempt's results
// document: the reader's first chunk is stale.
type resubmittedWhileRead struct {
	*store.Mem
	b    store.Batch
	done bool
}

func (s *resubmittedWhileRead) Trades(ctx context.Context, ref store.Ref, attempt, index int) ([]string, error) {
	if !s.done {
		s.done = true
		if _, err := s.Mem.Claim(ctx, s.b); err != nil {
			return nil, err
		}
	}
	return s.Mem.Trades(ctx, ref, attempt, index)
}

// TestResultsOfABatchResubmittedWhileRead: the results of a failed batch
// read as a client claims its next attempt answer with the batch as it now
// is (attempt 2, a 202 with its status), never a mix of the attempts; the
// request was cut with nothing sent, an empty reply.
func TestResultsOfABatchResubmittedWhileRead(t *testing.T) {
	mem, b := expiredBatch(t)
	ctx := context.Background()
	if err := mem.Announced(ctx, b.Ref, 1, submitAt.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	again := b
	again.Deadline = submitAt.Add(time.Hour)
	f := newFixtureWith(t, func(o *aggregator.Options) { o.Store = &resubmittedWhileRead{Mem: mem, b: again} })
	resp, err := http.Get(f.srv.URL + "/batches/b1/results")
	if err != nil {
		t.Fatalf("results: %v, want attempt 2's status", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(string(body), `"attempt":2`) || resp.Header.Get("Pricefn-Attempt") != "" {
		t.Fatalf("results: %d %v %s, want 202 with attempt 2's status", resp.StatusCode, resp.Header, body)
	}
}

// expiredBatch is a memory store holding batch b1, its first attempt
// failed at its deadline (every chunk waiting).
func expiredBatch(t *testing.T) (*store.Mem, store.Batch) {
	t.Helper()
	mem := store.NewMem(store.MemOptions{})
	ctx := context.Background()
	b := store.Batch{Ref: store.RefOf("b1"), Digest: "d", TradeIDs: tradeIDs, ChunkOffsets: offsets, SubmittedAt: submitAt.Add(-time.Minute), Deadline: submitAt}
	if _, err := mem.Claim(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Expire(ctx, b.Ref, 1, submitAt.Add(time.Second), "deadline passed"); err != nil {
		t.Fatal(err)
	}
	return mem, b
}
