package ingress_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/protocol"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/functions/ingress"
	"github.com/pricefn/pricefn/internal/logtest"
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

// TestSendsEndAtTheDeadline: a broker that keeps refusing the chunks
// (a full queue) is tried until the batch's deadline, not past it: ingress
// went on sending a batch with a 1 s deadline for SendTimeout (2 minutes),
// after it had ended, and its end waited behind its own chunks.
func TestSendsEndAtTheDeadline(t *testing.T) {
	st := store.NewMem(store.MemOptions{})
	f := ingress.New(ingress.Options{Sender: &queueFull{}, Store: st, SendTimeout: time.Minute})
	data := []byte(`{"id":"short","deadline":"1s","valuationDate":"2026-11-25","market":{"curves":{"C":{"rate":0.01}}},
		"trades":[{"id":"F1","type":"fra","curve":"C","notional":1e6,"rate":0.01,"start":"2027-05-25","end":"2027-11-25"}]}`)
	start := time.Now()
	if _, err := f.Submit(context.Background(), ingress.Submission{Data: data}); host.Status(err) != http.StatusServiceUnavailable {
		t.Fatalf("submit to a full broker: %v, want 503", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("sends went on for %s, past the batch's 1 s deadline", took)
	}
	if sum, err := st.Summary(context.Background(), store.RefOf("short")); err != nil || sum.State() != store.StateFailed {
		t.Fatalf("after its chunks could not be sent by its deadline: %v, %+v", err, sum)
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

// TestResubmissionSendsWhatACrashLeftUnsent: a batch claimed whose ingress
// stopped before it had sent every chunk (killed between the claim and
// the sends) is sent again when it is submitted again: its chunks with no
// outcome, not those priced; the answer was "exists", nothing was sent,
// and the batch waited for its deadline to fail. A batch whose first
// ingress may still be sending it, or recorded sent, is not sent again.
func TestResubmissionSendsWhatACrashLeftUnsent(t *testing.T) {
	data, err := batch.Sample(batch.SampleSpec{Type: "european", N: 10, ID: "crash"})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 10)
	for i := range ids {
		ids[i] = fmt.Sprintf("E%d", i)
	}
	ctx := context.Background()
	for _, c := range []struct {
		name       string
		claimed    time.Duration // before the resubmission
		beat       time.Duration // the sending ingress's last sign of life, before it (0: none)
		sent       bool
		outcome    time.Duration // chunk 0's outcome, before it (0: at the claim)
		stallAfter time.Duration // ingress.Options.StallAfter
		wantSends  int           // chunk.requested sent again
	}{
		{"stopped while sending", time.Minute, 0, false, 0, 0, 1},
		// Silent for ResendAfter (15 s): a resubmission used to wait
		// for SendTimeout and 10 s more (here 30 s) after the claim.
		{"silent since its claim 25 s ago", 25 * time.Second, 0, false, 0, 0, 1},
		{"silent since a sign of life 20 s ago", time.Minute, 20 * time.Second, false, 0, 0, 1},
		// A live ingress may still be sending, its broker answering 429:
		// its signs of life say so.
		{"still sending: a sign of life 4 s ago", time.Minute, 4 * time.Second, false, 0, 0, 0},
		{"claimed 10 s ago", 10 * time.Second, 0, false, 0, 0, 0},
		{"sent in full", time.Minute, 0, true, 0, 2 * time.Minute, 0},
		// Sent, then silent: its queued chunks were lost (an in-memory
		// broker restarted); it waited for its deadline. Only where the
		// broker may lose them (StallAfter set: pricefn dev's).
		{"sent, no outcome for 3 minutes", 4 * time.Minute, 0, true, 3 * time.Minute, 2 * time.Minute, 1},
		{"sent, no outcome for 3 minutes, a broker that keeps its queue", 4 * time.Minute, 0, true, 3 * time.Minute, 0, 0},
		{"sent, an outcome a minute ago", 4 * time.Minute, 0, true, time.Minute, 2 * time.Minute, 0},
		// Past its deadline (5 minutes): the aggregator ends it.
		{"stopped while sending, past its deadline", 6 * time.Minute, 0, false, 0, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := store.NewMem(store.MemOptions{})
			srv, s := newServer(t, ingress.Options{Store: st, Chunk: batch.ChunkOptions{MaxTrades: 5}, SendTimeout: 20 * time.Second, StallAfter: c.stallAfter})
			ref := store.RefOf("crash")
			claimedAt := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC).Add(-c.claimed) // newServer's clock, less
			if _, err := st.Claim(ctx, store.Batch{Ref: ref, Digest: events.Digest(data), TradeIDs: ids, ChunkOffsets: []int{0, 5},
				SubmittedAt: claimedAt, Deadline: claimedAt.Add(5 * time.Minute)}); err != nil {
				t.Fatal(err)
			}
			// Chunk 0 had gone and was priced before the ingress stopped.
			arrived := claimedAt
			if c.outcome > 0 {
				arrived = claimedAt.Add(c.claimed - c.outcome)
			}
			if _, err := st.Put(ctx, ref, events.Digest(data), 1, store.Chunk{Index: 0, State: store.ChunkPriced, Results: []byte(`{"id":"E0","npv":1}`), ArrivedAt: arrived}); err != nil {
				t.Fatal(err)
			}
			if c.sent {
				if err := st.Sent(ctx, ref, events.Digest(data), 1, claimedAt); err != nil {
					t.Fatal(err)
				}
			}
			if c.beat > 0 {
				if err := st.Sending(ctx, ref, events.Digest(data), 1, claimedAt.Add(c.claimed-c.beat)); err != nil {
					t.Fatal(err)
				}
			}
			code, _, body := post(t, plain(t, srv.URL+"/batches", data))
			if code/100 != 2 || !strings.Contains(body, `"existing":true`) {
				t.Fatalf("resubmission: %d %s", code, body)
			}
			var chunks []int
			for _, e := range s.events() {
				if e.Type() == events.TypeChunkRequested {
					cr, err := events.Decode[events.ChunkRequested](e, events.TypeChunkRequested)
					if err != nil {
						t.Fatal(err)
					}
					chunks = append(chunks, cr.Index)
				}
			}
			if len(chunks) != c.wantSends || c.wantSends == 1 && chunks[0] != 1 {
				t.Fatalf("chunks sent again: %v, want %d (chunk 1, the one with no outcome)", chunks, c.wantSends)
			}
			sum, err := st.Summary(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			if c.wantSends > 0 && (sum.SentAt.IsZero() || !sum.SubmittedAt.Equal(claimedAt) || sum.Attempt != 1) {
				t.Errorf("after sending again: sent at %v, submitted at %v (want %v), attempt %d", sum.SentAt, sum.SubmittedAt, claimedAt, sum.Attempt)
			}
		})
	}
}

// slowBroker takes each chunk.requested after a pause: a busy broker.
type slowBroker struct {
	fakeSender
	pause time.Duration
}

func (s *slowBroker) Send(ctx context.Context, e event.Event) protocol.Result {
	if e.Type() == events.TypeChunkRequested {
		time.Sleep(s.pause)
	}
	return s.fakeSender.Send(ctx, e)
}

// resubmitWhileSending submits batch id of four single-trade chunks to an
// ingress on st whose broker takes 400 ms a chunk (ResendAfter 300 ms),
// submits it again after wait, while the first is still sending, and
// returns the ids of the chunk.requested events the broker got.
func resubmitWhileSending(t *testing.T, id string, st store.Store, wait time.Duration) []string {
	t.Helper()
	data, err := batch.Sample(batch.SampleSpec{Type: "european", N: 4, ID: id})
	if err != nil {
		t.Fatal(err)
	}
	broker := &slowBroker{pause: 400 * time.Millisecond}
	fn := ingress.New(ingress.Options{Store: st, Sender: broker, Chunk: batch.ChunkOptions{MaxTrades: 1}, SendLimit: 1, ResendAfter: 300 * time.Millisecond})
	srv := httptest.NewServer(fn.Routes(nil))
	defer srv.Close()
	first := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(plain(t, srv.URL+"/batches", data))
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	time.Sleep(wait)
	code, _, body := post(t, plain(t, srv.URL+"/batches", data))
	if code/100 != 2 || !strings.Contains(body, `"existing":true`) {
		t.Fatalf("resubmission: %d %s", code, body)
	}
	if code := <-first; code/100 != 2 {
		t.Fatalf("first submission: %d", code)
	}
	var chunks []string
	for _, e := range broker.events() {
		if e.Type() == events.TypeChunkRequested {
			chunks = append(chunks, e.ID())
		}
	}
	return chunks
}

// An ingress still sending to a slow broker gives signs of life, and a
// resubmission meanwhile, long past ResendAfter from the claim, sends
// nothing again.
func TestResubmissionLeavesALiveSenderAlone(t *testing.T) {
	st := store.NewMem(store.MemOptions{})
	if chunks := resubmitWhileSending(t, "slow", st, 800*time.Millisecond); len(chunks) != 4 { // two chunks sent, two to go
		t.Errorf("chunk.requested sent %d times (%v), want each of 4 once", len(chunks), chunks)
	}
	sum, err := st.Summary(context.Background(), store.RefOf("slow"))
	if err != nil || sum.SentAt.IsZero() || sum.SendingAt.IsZero() {
		t.Errorf("summary %+v, %v: want it sent, with signs of life", sum, err)
	}
}

// slowClaimStore takes its time over the first claim: a large batch's
// trade ids going to a remote store.
type slowClaimStore struct {
	*store.Mem
	claims atomic.Int32
	pause  time.Duration
}

func (s *slowClaimStore) Claim(ctx context.Context, b store.Batch) (store.Claim, error) {
	if s.claims.Add(1) == 1 {
		time.Sleep(s.pause)
	}
	return s.Mem.Claim(ctx, b)
}

// Silence is counted from the request's start: an ingress whose claim
// took most of ResendAfter, and whose first sign of life came ResendAfter/3
// after it, was taken for silent, and its chunks were sent twice.
func TestResubmissionAfterASlowClaim(t *testing.T) {
	st := &slowClaimStore{Mem: store.NewMem(store.MemOptions{}), pause: 250 * time.Millisecond}
	if chunks := resubmitWhileSending(t, "slowclaim", st, 320*time.Millisecond); len(chunks) != 4 { // claimed at 250 ms
		t.Errorf("chunk.requested sent %d times (%v), want each of 4 once: the live ingress's chunks were sent again", len(chunks), chunks)
	}
}

// staleClaim answers its first claim as a Redis store can when the batch
// ends between the claim script and the read of its state: the batch as
// it is, "failed".
type staleClaim struct {
	store.Store
	once bool
}

func (s *staleClaim) Claim(ctx context.Context, b store.Batch) (store.Claim, error) {
	if !s.once {
		s.once = true
		return store.Claim{Attempt: 1, State: store.StateFailed}, nil
	}
	return s.Store.Claim(ctx, b)
}

// TestClaimThatSawTheEndIsMadeAgain: a resubmission whose claim found the
// batch running, ended failed by the time its state was read, is claimed
// again and priced as attempt 2; it was answered "submitted before ...
// (failed): not priced again", and its client got attempt 1's failures.
func TestClaimThatSawTheEndIsMadeAgain(t *testing.T) {
	mem := store.NewMem(store.MemOptions{})
	data, err := batch.Sample(batch.SampleSpec{Type: "european", N: 4, ID: "raced"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ref := store.RefOf("raced")
	if _, err := mem.Claim(ctx, store.Batch{Ref: ref, Digest: events.Digest(data), TradeIDs: []string{"E0", "E1", "E2", "E3"}, ChunkOffsets: []int{0}, SubmittedAt: time.Now(), Deadline: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Put(ctx, ref, events.Digest(data), 1, store.Chunk{Index: 0, State: store.ChunkDead, Reason: "deadline passed"}); err != nil {
		t.Fatal(err)
	}
	if err := mem.Announced(ctx, ref, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	f := ingress.New(ingress.Options{Sender: &fakeSender{}, Store: &staleClaim{Store: mem}})
	rc, err := f.Submit(ctx, ingress.Submission{Data: data})
	if err != nil || rc.Attempt != 2 || rc.Existing {
		t.Fatalf("resubmission: %+v %v, want attempt 2", rc, err)
	}
}

// TestSendTimeBeforeTheChunks: a send whose time runs out before the
// chunks are made (between two groups) is a failure: the chunks not made
// are recorded dead, and the client gets a 503. The loop ended without an
// error, the batch was recorded sent with none of those chunks sent, and
// it waited for its deadline.
func TestSendTimeBeforeTheChunks(t *testing.T) {
	st := store.NewMem(store.MemOptions{})
	f := ingress.New(ingress.Options{Sender: &fakeSender{}, Store: st, SendTimeout: time.Nanosecond})
	data, err := batch.Sample(batch.SampleSpec{Type: "european", N: 10, ID: "late"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Submit(context.Background(), ingress.Submission{Data: data}); host.Status(err) != http.StatusServiceUnavailable {
		t.Fatalf("submit with no time to send: %v, want 503", err)
	}
	sum, err := st.Summary(context.Background(), store.RefOf("late"))
	if err != nil || sum.State() != store.StateFailed || !sum.SentAt.IsZero() {
		t.Fatalf("after its chunks could not be sent: %v, state %s, sent at %v; want failed, not sent", err, sum.State(), sum.SentAt)
	}
}

// TestResubmissionKeepsTheBatchTrace: a batch submitted again under
// another trace (another client's request, one ingress minted) keeps its
// own: the log line saying it is not priced again, and the events of the
// chunks sent again, carry the batch's traceparent, as every log line and
// event of the batch does (README); they carried the new submission's,
// which nothing else of the batch has.
func TestResubmissionKeepsTheBatchTrace(t *testing.T) {
	const first = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	const second = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	var logs logtest.Buffer
	st := store.NewMem(store.MemOptions{})
	srv, s := newServer(t, ingress.Options{Store: st, Log: zerolog.New(&logs), Chunk: batch.ChunkOptions{MaxTrades: 5}})
	submit := func(data []byte, tp string) ingress.Receipt {
		req := plain(t, srv.URL+"/batches", data)
		req.Header.Set("traceparent", tp)
		code, _, body := post(t, req)
		var rc ingress.Receipt
		if code != http.StatusAccepted || json.Unmarshal([]byte(body), &rc) != nil {
			t.Fatalf("%d %s, want 202", code, body)
		}
		return rc
	}
	// Submitted, then again with the same content: not priced again.
	done, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 3, ID: "again"})
	submit(done, first)
	if rc := submit(done, second); !rc.Existing {
		t.Fatalf("resubmission %+v, want existing", rc)
	}
	again := 0
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if strings.HasPrefix(entry["message"].(string), "batch submitted again") {
			again++
			if entry[events.ExtTraceParent] != first {
				t.Errorf("resubmission logged under %v, want the batch's trace %s: %s", entry[events.ExtTraceParent], first, line)
			}
		}
	}
	if again != 1 {
		t.Errorf("%d \"submitted again\" lines, want 1:\n%s", again, logs.String())
	}

	// Claimed a minute ago by an ingress that stopped before sending: its
	// chunks go again, under the batch's trace.
	crashed, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 10, ID: "crashed"})
	ids := make([]string, 10)
	for i := range ids {
		ids[i] = fmt.Sprintf("E%d", i)
	}
	claimedAt := time.Date(2026, 11, 25, 8, 59, 0, 0, time.UTC) // newServer's clock, less a minute
	if _, err := st.Claim(context.Background(), store.Batch{Ref: store.RefOf("crashed"), Digest: events.Digest(crashed), TradeIDs: ids,
		ChunkOffsets: []int{0, 5}, SubmittedAt: claimedAt, Deadline: claimedAt.Add(5 * time.Minute), TraceParent: first}); err != nil {
		t.Fatal(err)
	}
	before := len(s.events())
	if rc := submit(crashed, second); !rc.Existing || rc.TraceParent != first {
		t.Errorf("resubmission sending again %+v, want existing under the batch's trace %s", rc, first)
	}
	resent := s.events()[before:]
	if len(resent) == 0 {
		t.Fatal("nothing sent again")
	}
	// The warning gives the claim's age in seconds, named so (zerolog's
	// Dur gave milliseconds as "claimedAgo").
	if !strings.Contains(logs.String(), `"claimedSecondsAgo":60,`) {
		t.Errorf("no resend warning with \"claimedSecondsAgo\":60:\n%s", logs.String())
	}
	for _, e := range resent {
		if got := e.Extensions()[events.ExtTraceParent]; got != first {
			t.Errorf("%s %s sent again under %v, want the batch's trace %s", e.Type(), e.ID(), got, first)
		}
	}
}

// The broker is internal, as the store is: a send that failed is told to
// the client (the 503) and to the tenant (each unsent chunk's reason,
// repeated in its trades' errors) without the broker's address, which
// the log keeps. The Sender's error named its URL, and net/http's the
// address dialled, in both.
func TestSendFailureNamesNoBrokerAddress(t *testing.T) {
	broker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Ce-Type") == events.TypeChunkRequested {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer broker.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // a port nothing listens on: connection refused
	for _, c := range []struct {
		name, sink, want string
	}{
		{"chunks refused", broker.URL, "to the broker: status 503: busy"},
		{"broker down", down.URL, "to the broker: no answer: connection refused"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logs logtest.Buffer
			st := store.NewMem(store.MemOptions{})
			f := ingress.New(ingress.Options{Store: st, Log: zerolog.New(&logs),
				Sender: host.NewSender(c.sink+"/", host.SenderOptions{Retries: -1})})
			srv := httptest.NewServer(f.Routes(nil))
			defer srv.Close()
			data, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 10, ID: "b"})
			code, _, body := post(t, plain(t, srv.URL+"/batches", data))
			addr := strings.TrimPrefix(c.sink, "http://")
			if code != http.StatusServiceUnavailable || strings.Contains(body, addr) || !strings.Contains(body, c.want) {
				t.Fatalf("%d %s, want a 503 saying %q without %s", code, body, c.want, addr)
			}
			sum, err := st.Summary(context.Background(), store.RefOf("b"))
			if err != nil || len(sum.Chunks) != 1 {
				t.Fatalf("%+v %v", sum, err)
			}
			if r := sum.Chunks[0].Reason; strings.Contains(r, addr) || !strings.Contains(r, c.want) {
				t.Fatalf("chunk's reason %q, want %q without %s", r, c.want, addr)
			}
			if !strings.Contains(logs.String(), addr) {
				t.Fatalf("the log does not name the broker %s:\n%s", addr, logs.String())
			}
		})
	}
}

// TestResentChunksNameTheirAttemptsDeadline: a resubmission that sends
// again what a stopped ingress left unsent does so under that attempt's
// deadline; when it passes meanwhile, the 503 names that attempt's
// deadline, not "the batch's deadline passed", which tells pricefn submit
// and the console that posting again ends the same way: here a post once
// the attempt has ended starts one with a deadline of its own.
func TestResentChunksNameTheirAttemptsDeadline(t *testing.T) {
	data, err := batch.Sample(batch.SampleSpec{Type: "european", N: 10, ID: "resent"})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 10)
	for i := range ids {
		ids[i] = fmt.Sprintf("E%d", i)
	}
	st := store.NewMem(store.MemOptions{})
	srv, s := newServer(t, ingress.Options{Store: st, Chunk: batch.ChunkOptions{MaxTrades: 5}})
	s.holdType = events.TypeChunkRequested
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC) // newServer's clock
	claimedAt := now.Add(-time.Minute)                   // its ingress silent since
	if _, err := st.Claim(context.Background(), store.Batch{Ref: store.RefOf("resent"), Digest: events.Digest(data), TradeIDs: ids, ChunkOffsets: []int{0, 5},
		SubmittedAt: claimedAt, Deadline: now.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	code, _, body := post(t, plain(t, srv.URL+"/batches", data))
	want := "the deadline of attempt 1, whose unsent chunks this submission sent again, passed: "
	if code != http.StatusServiceUnavailable || !strings.Contains(body, want) || strings.Contains(body, "the batch's deadline passed") {
		t.Errorf("%d %s, want a 503 with %q", code, body, want)
	}
}
