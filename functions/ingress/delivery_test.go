package ingress_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/protocol"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/functions/ingress"
	"github.com/pricefn/pricefn/store"
)

// TestConflictDeliveredIsNotRetried: a batch.submitted the broker
// delivers with other content under an id in use can never be accepted;
// it was a 409, which a broker retries (eight deliveries over a minute,
// each decoding the batch again), and is now a 422 naming the conflict.
func TestConflictDeliveredIsNotRetried(t *testing.T) {
	f := ingress.New(ingress.Options{Sender: &fakeSender{}, Store: store.NewMem(store.MemOptions{})})
	a, err := batch.Sample(batch.SampleSpec{Type: "european", N: 10, ID: "dup"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := batch.Sample(batch.SampleSpec{Type: "european", N: 11, ID: "dup"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Handle(context.Background(), submitted(t, a, "e1")); err != nil {
		t.Fatal(err)
	}
	_, err = f.Handle(context.Background(), submitted(t, b, "e2"))
	if code := host.Status(err); code != http.StatusUnprocessableEntity || events.Retryable(code) {
		t.Fatalf("other content under the id, delivered: %d (%v), want 422, which no broker retries", code, err)
	}
	if msg := host.Message(err); !strings.Contains(msg, "in use by a batch of other content") {
		t.Errorf("message %q does not say why", msg)
	}
}

// queueFull answers every chunk.requested as a full broker does, 429,
// until the send's time runs out.
type queueFull struct{ fakeSender }

func (s *queueFull) Send(ctx context.Context, e event.Event) protocol.Result {
	if e.Type() == events.TypeChunkRequested {
		<-ctx.Done()
		return host.Errorf(http.StatusTooManyRequests, "queue full: %v", ctx.Err())
	}
	return s.fakeSender.Send(ctx, e)
}

// ctxStore fails a write whose context has ended, as a store across the
// network does.
type ctxStore struct{ store.Store }

func (s ctxStore) Put(ctx context.Context, ref store.Ref, digest string, attempt int, c store.Chunk) (store.Update, error) {
	if err := ctx.Err(); err != nil {
		return store.Update{}, err
	}
	return s.Store.Put(ctx, ref, digest, attempt, c)
}

// TestUnsentChunksRecordedAfterSendTimeout: the chunks a broker kept
// refusing until the send's time ran out are recorded dead, so the batch
// fails at once and its resubmission prices it again; they were recorded
// with the ended context, which a networked store refuses, and the batch
// stayed pending until its deadline.
func TestUnsentChunksRecordedAfterSendTimeout(t *testing.T) {
	st := ctxStore{store.NewMem(store.MemOptions{})}
	f := ingress.New(ingress.Options{Sender: &queueFull{}, Store: st, SendTimeout: 50 * time.Millisecond})
	data, err := batch.Sample(batch.SampleSpec{Type: "european", N: 10, ID: "bp"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Submit(context.Background(), ingress.Submission{Data: data}); host.Status(err) != http.StatusServiceUnavailable {
		t.Fatalf("submit to a full broker: %v, want 503", err)
	}
	sum, err := st.Summary(context.Background(), store.RefOf("bp"))
	if err != nil || sum.State() != store.StateFailed {
		t.Fatalf("after its chunks could not be sent: %v, state %s; want failed", err, sum.State())
	}
}

// TestUnsentBatchLeftToAnnounce: when ingress's record of the chunks it
// could not send ends the batch, it gives back the claim to announce that
// end, which the store granted it, so that an aggregator's sweep announces
// it; ingress kept the claim, sending nothing, and no batch.completed ever
// went out.
func TestUnsentBatchLeftToAnnounce(t *testing.T) {
	st := store.NewMem(store.MemOptions{})
	srv, s := newServer(t, ingress.Options{Store: st})
	s.failType = events.TypeChunkRequested
	data, err := batch.Sample(batch.SampleSpec{Type: "european", N: 10, ID: "lost"})
	if err != nil {
		t.Fatal(err)
	}
	if code, _, body := post(t, plain(t, srv.URL+"/batches", data)); code != http.StatusServiceUnavailable {
		t.Fatalf("%d %s, want 503", code, body)
	}
	ctx := context.Background()
	sum, err := st.Summary(ctx, store.RefOf("lost"))
	if err != nil || sum.State() != store.StateFailed || sum.Announced {
		t.Fatalf("after no chunk could be sent: %v, state %s, announced %v; want failed, its announcement unclaimed", err, sum.State(), sum.Announced)
	}
	if over, err := st.Overdue(ctx, time.Now(), 10); err != nil || len(over) != 1 || over[0] != store.RefOf("lost") {
		t.Errorf("the sweep's list: %v, %v; want the batch", over, err)
	}
}
