package aggregator_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/protocol"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/api"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/aggregator"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/internal/logtest"
	"github.com/pricefn/pricefn/store"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// batchTrace is the trace context ingress records for the batches of the
// deadline tests.
const batchTrace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

// claimWithDeadline claims the fixture's batch id with a deadline, as
// ingress does, and posts its batch.accepted.
func (f *fixture) claimWithDeadline(t *testing.T, id string, deadline time.Time) {
	t.Helper()
	c, err := f.store.Claim(context.Background(), store.Batch{Ref: store.RefOf(id), TradeIDs: tradeIDs, ChunkOffsets: offsets,
		SubmittedAt: submitAt, Deadline: deadline, TraceParent: batchTrace})
	if err != nil {
		t.Fatal(err)
	}
	f.mustPost(t, "/", mustEvent(t, events.TypeBatchAccepted, id+"/accepted", id, events.BatchAccepted{
		BatchID: id, Attempt: c.Attempt, Trades: len(tradeIDs), ChunkOffsets: offsets, SubmittedAt: submitAt, Deadline: deadline}))
}

// A batch whose deadline passes with chunks missing ends partial when it
// is read, naming the missing trades, with one batch.completed; a chunk
// arriving later is acknowledged and changes nothing.
func TestDeadlineEndsBatchOnRead(t *testing.T) {
	clk := &clock{now: submitAt}
	f := newFixtureWith(t, func(o *aggregator.Options) { o.Now = clk.Now })
	f.claimWithDeadline(t, "b1", submitAt.Add(time.Minute))
	f.mustPost(t, "/", pricedEvent(t, "b1", 0))
	if st := f.status(t, "b1"); st.State != api.StateRunning || st.Timings.Deadline == nil {
		t.Fatalf("before the deadline: %+v", st)
	}
	clk.set(submitAt.Add(2 * time.Minute))
	st := f.status(t, "b1")
	if st.State != api.StatePartial || st.Missing != 4 || st.ChunksFailed != 2 ||
		!strings.Contains(st.FailedChunks[0].Reason, "deadline passed") {
		t.Fatalf("after the deadline: %+v", st)
	}
	cs := f.awaitCompletions(t, 1)
	if len(cs) != 1 || cs[0].State != api.StatePartial || strings.Join(cs[0].MissingTradeIDs, ",") != "T3,T4,T5,T6" {
		t.Fatalf("completions %+v", cs)
	}
	// Ended by a read, not an event: the batch's own trace.
	if tp := f.sender.events()[0].Extensions()[events.ExtTraceParent]; tp != batchTrace {
		t.Errorf("batch.completed traceparent %v, want the batch's %s", tp, batchTrace)
	}
	f.mustPost(t, "/", pricedEvent(t, "b1", 1))
	if st := f.status(t, "b1"); st.State != api.StatePartial || st.Late != 1 || st.ChunksFailed != 2 {
		t.Errorf("after a late chunk: %+v", st)
	}
	if len(f.completions(t)) != 1 {
		t.Error("a late chunk announced the batch again")
	}
	code, body := f.get(t, "/batches/b1/results")
	if code != 200 || !strings.Contains(body, `"id":"T0","npv":1`) || !strings.Contains(body, "trade T3: not priced: chunk 1 failed: deadline passed") {
		t.Errorf("results: %d %s", code, body)
	}
}

// Run ends overdue batches that nobody reads; each chunk the deadline
// made dead counts as expired (it counted one a batch).
func TestDeadlineSweep(t *testing.T) {
	clk := &clock{now: submitAt}
	reg := prometheus.NewRegistry()
	f := newFixtureWith(t, func(o *aggregator.Options) { o.Now, o.SweepEvery, o.Registerer = clk.Now, time.Millisecond, reg })
	f.claimWithDeadline(t, "b1", submitAt.Add(time.Minute))
	f.claimWithDeadline(t, "b2", submitAt.Add(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.fn.Run(ctx) }()
	clk.set(submitAt.Add(2 * time.Minute))
	for deadline := time.Now().Add(5 * time.Second); len(f.sender.events()) == 0 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cs := f.completions(t)
	if len(cs) != 1 || cs[0].BatchID != "b1" || cs[0].State != api.StateFailed || cs[0].Missing != 7 {
		t.Fatalf("completions %+v, want b1 failed", cs)
	}
	if tp := f.sender.events()[0].Extensions()[events.ExtTraceParent]; tp != batchTrace {
		t.Errorf("batch.completed traceparent %v, want the batch's %s", tp, batchTrace)
	}
	if st := f.status(t, "b2"); st.State != api.StatePending {
		t.Errorf("b2 before its deadline: %s", st.State)
	}
	if v, _ := metricValue(t, reg, "pricefn_aggregator_chunks_total", map[string]string{"outcome": "expired"}); v != float64(len(offsets)) {
		t.Errorf("expired chunks %v, want b1's %d", v, len(offsets))
	}
}

// A batch.completed whose send failed at the deadline is sent by a later
// sweep: the claim given back, no delivery would come to take it again
// (the batch had ended failed with none sent).
func TestDeadlineSweepRetriesFailedAnnouncement(t *testing.T) {
	clk := &clock{now: submitAt}
	f := newFixtureWith(t, func(o *aggregator.Options) { o.Now, o.SweepEvery = clk.Now, time.Millisecond })
	f.claimWithDeadline(t, "b1", submitAt.Add(time.Minute))
	f.sender.mu.Lock()
	f.sender.fail = host.Errorf(http.StatusServiceUnavailable, "broker briefly down") // the next send only
	f.sender.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.fn.Run(ctx) }()
	clk.set(submitAt.Add(2 * time.Minute))
	for deadline := time.Now().Add(5 * time.Second); len(f.sender.events()) == 0 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
	}
	time.Sleep(20 * time.Millisecond) // more sweeps: no second announcement
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cs := f.completions(t)
	if len(cs) != 1 || cs[0].BatchID != "b1" || cs[0].State != api.StateFailed {
		t.Fatalf("completions %+v, want b1 failed, once", cs)
	}
	if st := f.status(t, "b1"); st.State != api.StateFailed {
		t.Errorf("state %s", st.State)
	}
}

// stuckSender is an aggregator's sender whose sends hang until released,
// then fail: an aggregator that dies mid-send, as the store sees it.
type stuckSender struct {
	entered, release chan struct{}
	unstick          sync.Once
}

// fail ends the stuck send.
func (s *stuckSender) fail() { s.unstick.Do(func() { close(s.release) }) }

func (s *stuckSender) Send(ctx context.Context, e event.Event) protocol.Result {
	close(s.entered)
	<-s.release
	return host.Errorf(http.StatusServiceUnavailable, "broker gone")
}

// An aggregator that dies holding the claim to announce a batch's end
// (here: stuck in its send) does not leave the end unannounced: once the
// claim's lease lapses, another aggregator's sweep announces it, once,
// and records it made, so that the first one's late release changes
// nothing. Before the lease, no batch.completed was ever sent.
func TestDeadlineSweepAnnouncesForADeadAnnouncer(t *testing.T) {
	clk := &clock{now: time.Now()} // the store's clock is the real one
	f := newFixtureWith(t, func(o *aggregator.Options) { o.Now, o.SweepEvery = clk.Now, time.Millisecond })
	stuck := &stuckSender{entered: make(chan struct{}), release: make(chan struct{})}
	dying := aggregator.New(aggregator.Options{Store: f.store, Sender: stuck, Log: zerolog.Nop(), Now: time.Now})
	dsrv := httptest.NewServer(dying.Routes(zerolog.Nop(), nil))
	defer dsrv.Close()
	defer stuck.fail() // before the server's Close waits for it

	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	f.mustPost(t, "/", pricedEvent(t, "b1", 0))
	f.mustPost(t, "/", pricedEvent(t, "b1", 1))
	req, err := cehttp.NewHTTPRequestFromEvent(context.Background(), dsrv.URL+"/", pricedEvent(t, "b1", 2))
	if err != nil {
		t.Fatal(err)
	}
	posted := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			posted <- 0
			return
		}
		resp.Body.Close()
		posted <- resp.StatusCode
	}()
	<-stuck.entered // it holds the claim

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.fn.Run(ctx) }()
	time.Sleep(30 * time.Millisecond) // sweeps within the lease
	if n := len(f.sender.events()); n != 0 {
		t.Fatalf("%d announcements within the claim's lease, want none", n)
	}
	clk.set(time.Now().Add(store.AnnounceLease + time.Second))
	for deadline := time.Now().Add(5 * time.Second); len(f.sender.events()) == 0 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
	}
	if n := len(f.sender.events()); n != 1 {
		t.Fatalf("%d announcements once the lease lapsed, the holder still stuck: want 1", n)
	}
	stuck.fail()
	if code := <-posted; code != http.StatusServiceUnavailable {
		t.Errorf("the stuck aggregator's delivery: %d, want 503", code)
	}
	clk.set(time.Now().Add(3 * store.AnnounceLease))
	time.Sleep(30 * time.Millisecond) // more sweeps: no second announcement
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cs := f.completions(t)
	if len(cs) != 1 || cs[0].BatchID != "b1" || cs[0].Attempt != 1 || cs[0].Priced != 6 {
		t.Fatalf("completions %+v, want b1's, once", cs)
	}
	sum, err := f.store.Summary(context.Background(), store.RefOf("b1"))
	if err != nil || !sum.Announced || sum.AnnouncedAt.IsZero() || !sum.AnnounceBy.IsZero() {
		t.Errorf("summary after the announcement: %+v, %v; want it recorded made", sum, err)
	}
}

// A broker answering 429 to a batch.completed is retried until the send's
// context ends. The sweep's context never ends: one such send held the
// sweep for good, no other batch past its deadline was ended, and once the
// claim's lease lapsed the next replica's sweep was held by the same send,
// which both then made. The send is now bounded within the lease and its
// claim released when given up.
func TestAnnouncementHeldByBackpressureIsGivenUp(t *testing.T) {
	var blocked atomic.Bool
	blocked.Store(true)
	var mu sync.Mutex
	accepted := map[string]int{}
	broker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if blocked.Load() {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		mu.Lock()
		accepted[r.Header.Get("Ce-Id")]++
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer broker.Close()
	fast := func(ctx context.Context, d time.Duration) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
			return nil
		}
	}
	st := store.NewMem(store.MemOptions{})
	now := time.Now()
	claim := func(id string) {
		t.Helper()
		if _, err := st.Claim(context.Background(), store.Batch{Ref: store.RefOf(id), TradeIDs: tradeIDs, ChunkOffsets: offsets,
			SubmittedAt: now.Add(-time.Hour), Deadline: now.Add(-time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	// A send given up at AnnounceTimeout may have reached the broker and
	// is made again: at least once, by design. 250 ms keeps a loaded
	// machine's slow answer (under the race detector) from being one.
	fn := aggregator.New(aggregator.Options{Store: st, Log: zerolog.Nop(), SweepEvery: time.Millisecond, AnnounceTimeout: 250 * time.Millisecond,
		Sender: host.NewSender(broker.URL, host.SenderOptions{Sleep: fast})})
	claim("b1")
	claim("b2")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- fn.Run(ctx) }()
	ended := func() bool {
		for _, id := range []string{"b1", "b2"} {
			if sum, err := st.Summary(context.Background(), store.RefOf(id)); err != nil || !sum.Done() {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(5 * time.Second); !ended() && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
	}
	if !ended() {
		t.Fatal("a batch past its deadline not ended: the sweep is held by another's announcement")
	}
	blocked.Store(false)
	// Each announced and recorded so; then more sweeps send nothing. (A
	// send given up at AnnounceTimeout as the broker took it is made
	// again: at least once, by design, so a count of 2 is no fault; one
	// that goes on growing is.)
	recorded := func() bool {
		for _, id := range []string{"b1", "b2"} {
			if sum, err := st.Summary(context.Background(), store.RefOf(id)); err != nil || !sum.Announced || !sum.AnnounceBy.IsZero() {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(5 * time.Second); !recorded() && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
	}
	mu.Lock()
	before := maps.Clone(accepted)
	mu.Unlock()
	time.Sleep(50 * time.Millisecond) // more sweeps: nothing sent again
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !recorded() || before["b1/completed"] < 1 || before["b2/completed"] < 1 || !maps.Equal(before, accepted) {
		t.Errorf("batch.completed taken by the broker: %v once recorded announced, %v after more sweeps: want each at least once, and no more after", before, accepted)
	}
}

// A read that ends a batch past its deadline answers with the ended batch
// whatever the broker does with its batch.completed: the read used to send
// it first, and answered 503 when the send failed (or waited out the
// broker's 429s), though the results were there. The announcement is
// retried once its claim is given back.
func TestReadEndsBatchWhileBrokerRefuses(t *testing.T) {
	clk := &clock{now: submitAt}
	f := newFixtureWith(t, func(o *aggregator.Options) { o.Now = clk.Now })
	f.claimWithDeadline(t, "b1", submitAt.Add(time.Minute))
	f.mustPost(t, "/", pricedEvent(t, "b1", 0))
	f.sender.mu.Lock()
	f.sender.fail = host.Errorf(http.StatusServiceUnavailable, "broker briefly down") // the next send only
	f.sender.mu.Unlock()
	clk.set(submitAt.Add(2 * time.Minute))
	if st := f.status(t, "b1"); st.State != api.StatePartial || st.Missing != 4 {
		t.Fatalf("read after the deadline, the broker refusing: %+v", st)
	}
	code, body := f.get(t, "/batches/b1/results")
	if code != http.StatusOK || !strings.Contains(body, "deadline passed") {
		t.Fatalf("results after the deadline, the broker refusing: %d %s", code, body)
	}
	// The failed send gave the claim back; a later read takes it.
	var cs []events.BatchCompleted
	for deadline := time.Now().Add(5 * time.Second); len(cs) == 0 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		f.status(t, "b1")
		cs = f.completions(t)
	}
	time.Sleep(20 * time.Millisecond)
	if cs = f.completions(t); len(cs) != 1 || cs[0].State != api.StatePartial {
		t.Fatalf("completions %+v, want b1 partial, once", cs)
	}
}

// Every log line about a batch its deadline ended, by a read or by the
// sweep, carries the batch's traceparent, as those of its events do.
func TestDeadlineLogsCarryTrace(t *testing.T) {
	for _, sweep := range []bool{false, true} {
		var logs logtest.Buffer
		clk := &clock{now: submitAt}
		f := newFixtureWith(t, func(o *aggregator.Options) {
			o.Now, o.Log, o.SweepEvery = clk.Now, zerolog.New(&logs), time.Millisecond
		})
		f.claimWithDeadline(t, "b1", submitAt.Add(time.Minute))
		before := len(logs.String()) // the batch.accepted of the test carries no trace
		clk.set(submitAt.Add(2 * time.Minute))
		if sweep {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- f.fn.Run(ctx) }()
			for deadline := time.Now().Add(5 * time.Second); len(f.sender.events()) == 0 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		} else if st := f.status(t, "b1"); st.State != api.StateFailed {
			t.Fatalf("after the deadline: %s", st.State)
		}
		f.awaitCompletions(t, 1)
		lines := 0
		for _, line := range strings.Split(strings.TrimSpace(logs.String()[before:]), "\n") {
			var entry map[string]any
			if err := json.Unmarshal([]byte(line), &entry); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			if entry["batchid"] != "b1" {
				continue
			}
			lines++
			if entry[events.ExtTraceParent] != batchTrace {
				t.Errorf("sweep %v: log line without the batch's traceparent: %s", sweep, line)
			}
		}
		if !strings.Contains(logs.String(), "deadline passed") || lines == 0 {
			t.Errorf("sweep %v: no log line of the deadline ending b1:\n%s", sweep, logs.String())
		}
	}
}

// failingSender fails its first failFor sends, counting them.
type failingSender struct {
	mu       sync.Mutex
	failFor  int
	failures int
	sent     []event.Event
}

func (s *failingSender) Send(ctx context.Context, e event.Event) protocol.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failures < s.failFor {
		s.failures++
		return host.Errorf(http.StatusServiceUnavailable, "broker down")
	}
	s.sent = append(s.sent, e)
	return nil
}

// While the broker is down, the sweep fails to announce an ended batch
// every SweepEvery: it logged an error and an info line each time (229
// lines for one batch in three minutes). The first failure is logged, as
// it was, then the repeats at the 2nd, 4th, 8th... failure, and the
// announcement once made.
func TestDeadlineSweepLogsRepeatedFailuresLessOften(t *testing.T) {
	const failures = 40
	down := make([]error, failures)
	for i := range down {
		down[i] = host.Errorf(http.StatusServiceUnavailable, "broker down")
	}
	sent, logs := sweepFailing(t, down...)
	if sent != 1 {
		t.Fatalf("%d sent after %d failed sends, want 1", sent, failures)
	}
	var errs, infos []float64
	ended := false
	for _, entry := range logEntries(t, logs) {
		switch msg, _ := entry["message"].(string); {
		case strings.HasPrefix(msg, "ending a batch past its deadline"):
			n, _ := entry["failures"].(float64)
			errs = append(errs, n)
		case strings.HasPrefix(msg, "announcing an end whose announcement failed"):
			infos = append(infos, 0)
		case msg == "announced the end of a batch past its deadline after failing":
			ended = entry["failures"] == float64(failures)
		}
	}
	// Failures 1, 2, 4, 8, 16 and 32 (the first was the deadline's own,
	// announced at once; the 39 next are those of an unannounced end).
	if want := []float64{1, 2, 4, 8, 16, 32}; !slices.Equal(errs, want) || len(infos) > len(want) || !ended {
		t.Fatalf("failures logged %v (want %v), %d info lines (want at most %d), end logged %v:\n%s", errs, want, len(infos), len(want), ended, logs)
	}
}

// logEntries returns the entries of a JSON log, one a line.
func logEntries(t *testing.T, log string) []map[string]any {
	t.Helper()
	var entries []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		entries = append(entries, entry)
	}
	return entries
}

// changingSender fails as errs say, one a send, then sends.
type changingSender struct {
	mu   sync.Mutex
	errs []error
	sent int
}

func (s *changingSender) Send(ctx context.Context, e event.Event) protocol.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		return err
	}
	s.sent++
	return nil
}

// sweepFailing runs the deadline sweep on a batch past its deadline whose
// end's announcement fails as errs say, one an attempt, until it is sent.
// It returns the events sent and the log.
func sweepFailing(t *testing.T, errs ...error) (int, string) {
	t.Helper()
	var logs logtest.Buffer
	clk := &clock{now: submitAt}
	s := &changingSender{errs: errs}
	f := newFixtureWith(t, func(o *aggregator.Options) {
		o.Now, o.Log, o.SweepEvery, o.Sender = clk.Now, zerolog.New(&logs), time.Millisecond, s
	})
	f.claimWithDeadline(t, "b1", submitAt.Add(time.Minute))
	clk.set(submitAt.Add(2 * time.Minute))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.fn.Run(ctx) }()
	sent := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.sent
	}
	for deadline := time.Now().Add(5 * time.Second); sent() == 0 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return sent(), logs.String()
}

// The sweep counted a batch's failures to end whatever they were: after
// five of a broker down, a new failure (the broker refusing the event)
// was not logged until the 8th failure in all, hidden behind the first.
// A failure of a new kind is logged at once, its repeats less often.
func TestDeadlineSweepLogsANewFailureAtOnce(t *testing.T) {
	down, refused := host.Errorf(http.StatusServiceUnavailable, "broker down"), host.Errorf(http.StatusRequestEntityTooLarge, "event too large")
	sent, logs := sweepFailing(t, down, down, down, down, down, refused, refused, refused)
	var logged []string
	for _, entry := range logEntries(t, logs) {
		msg, _ := entry["message"].(string)
		if !strings.HasPrefix(msg, "ending a batch past its deadline") {
			continue
		}
		n, _ := entry["failures"].(float64)
		e, _ := entry["error"].(string)
		kind := "down"
		if strings.Contains(e, "event too large") {
			kind = "refused"
		}
		logged = append(logged, fmt.Sprintf("%s %g", kind, n))
	}
	// Five failures of the broker down, then three of the event refused:
	// the 1st, 2nd and 4th of each kind logged, with the count in all.
	if want := []string{"down 1", "down 2", "down 4", "refused 6", "refused 7"}; sent != 1 || !slices.Equal(logged, want) {
		t.Fatalf("%d sent, failures logged %v, want 1 and %v:\n%s", sent, logged, want, logs)
	}
}

// A network failure's message names the connection's local port, its
// own each time: the same failure, a read timing out, is no new one, and
// is logged less and less often.
func TestDeadlineSweepLogsATimeoutOnNewConnectionsLessOften(t *testing.T) {
	var errs []error
	for port := range 8 {
		errs = append(errs, fmt.Errorf("aggregator: store: %w", &net.OpError{Op: "read", Net: "tcp",
			Source: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 41000 + port},
			Addr:   &net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 6379}, Err: os.ErrDeadlineExceeded}))
	}
	sent, logs := sweepFailing(t, errs...)
	var logged []float64
	for _, entry := range logEntries(t, logs) {
		if msg, _ := entry["message"].(string); strings.HasPrefix(msg, "ending a batch past its deadline") {
			n, _ := entry["failures"].(float64)
			logged = append(logged, n)
		}
	}
	if want := []float64{1, 2, 4, 8}; sent != 1 || !slices.Equal(logged, want) {
		t.Fatalf("%d sent, failures logged %v, want 1 and %v:\n%s", sent, logged, want, logs)
	}
}

// overdueDown is a store whose Overdue fails until told otherwise,
// counting its calls.
type overdueDown struct {
	store.Store
	mu    sync.Mutex
	calls int
}

func (s *overdueDown) Overdue(ctx context.Context, now time.Time, limit int) ([]store.Ref, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	return nil, errors.New("redis down")
}

// A store down fails every sweep's look for overdue batches: logged the
// first time, then at the 2nd, 4th, 8th... failure, not every SweepEvery.
func TestDeadlineSweepLogsAStoreDownLessOften(t *testing.T) {
	var logs logtest.Buffer
	st := &overdueDown{Store: store.NewMem(store.MemOptions{})}
	f := newFixtureWith(t, func(o *aggregator.Options) {
		o.Log, o.SweepEvery, o.Store = zerolog.New(&logs), time.Millisecond, st
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.fn.Run(ctx) }()
	calls := func() int {
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.calls
	}
	for deadline := time.Now().Add(5 * time.Second); calls() < 20 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	n := calls()
	var logged []float64
	for _, entry := range logEntries(t, logs.String()) {
		if msg, _ := entry["message"].(string); strings.HasPrefix(msg, "looking for batches past their deadline") {
			failures, _ := entry["failures"].(float64)
			logged = append(logged, failures)
		}
	}
	var want []float64
	for i := 1; i <= n; i *= 2 {
		want = append(want, float64(i))
	}
	if !slices.Equal(logged, want) {
		t.Fatalf("%d failed looks logged at %v, want %v", n, logged, want)
	}
}

// Each read of a batch whose end is not announced tries again, in the
// background, while the broker is down: a client or a console polling it
// had a warning and an info line logged at each read. The failures are
// logged at the 1st, 2nd, 4th, 8th..., and the announcement once made.
func TestReadsLogRepeatedFailuresLessOften(t *testing.T) {
	var logs logtest.Buffer
	clk := &clock{now: submitAt}
	const failures = 40
	s := &failingSender{failFor: failures}
	f := newFixtureWith(t, func(o *aggregator.Options) { o.Now, o.Log, o.Sender = clk.Now, zerolog.New(&logs), s })
	f.claimWithDeadline(t, "b1", submitAt.Add(time.Minute))
	clk.set(submitAt.Add(2 * time.Minute))
	sent := func() (int, int) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.failures, len(s.sent)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if _, n := sent(); n > 0 {
			break
		}
		f.status(t, "b1")
	}
	if n, ok := sent(); n != failures || ok != 1 {
		t.Fatalf("%d failed sends and %d made, want %d and 1", n, ok, failures)
	}
	var warns []float64
	infos, announced := 0, false
	for deadline := time.Now().Add(5 * time.Second); !announced && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		warns, infos = nil, 0
		for _, entry := range logEntries(t, logs.String()) {
			switch msg, _ := entry["message"].(string); {
			case strings.HasPrefix(msg, "announcing the end of a batch a read ended failed"):
				n, _ := entry["failures"].(float64)
				warns = append(warns, n)
			case strings.HasPrefix(msg, "announcing an end whose announcement failed"):
				infos++
			case msg == "announced the end of a batch past its deadline after failing":
				announced = entry["failures"] == float64(failures)
			}
		}
	}
	// A read announces in the background (announceLater), so the lines
	// of two failures close together may come in either order: which
	// repeats are logged is the point, not their order.
	slices.Sort(warns)
	if want := []float64{1, 2, 4, 8, 16, 32}; !slices.Equal(warns, want) || infos > len(want) || !announced {
		t.Fatalf("failures logged %v (want %v), %d info lines (want at most %d), announcement logged %v:\n%s", warns, want, infos, len(want), announced, logs.String())
	}
}

// releaseHook is a store that calls hook after each Release.
type releaseHook struct {
	store.Store
	hook func()
}

func (r releaseHook) Release(ctx context.Context, ref store.Ref, attempt int, by time.Time) error {
	err := r.Store.Release(ctx, ref, attempt, by)
	r.hook()
	return err
}

// A read's announcement that failed gave its claim back and then counted
// its failure: a second read could take the claim and announce the batch
// in between, finding no failure to report, and the first failure then
// began a count for a batch already announced, with a stray warning (and
// TestReadsLogRepeatedFailuresLessOften failed now and then). The failure
// is counted before the claim goes back.
func TestAnnouncementFailureCountedBeforeTheClaimGoesBack(t *testing.T) {
	var logs logtest.Buffer
	clk := &clock{now: submitAt}
	s := &failingSender{failFor: 1}
	var f *fixture
	var once sync.Once
	f = newFixtureWith(t, func(o *aggregator.Options) {
		o.Now, o.Log, o.Sender = clk.Now, zerolog.New(&logs), s
		// After the first Release, a second read announces the batch
		// (the claim is free) before the first announcement goes on.
		o.Store = releaseHook{Store: o.Store, hook: func() {
			once.Do(func() {
				for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
					s.mu.Lock()
					n := len(s.sent)
					s.mu.Unlock()
					if n > 0 {
						return
					}
					f.status(t, "b1")
				}
			})
		}}
	})
	f.claimWithDeadline(t, "b1", submitAt.Add(time.Minute))
	clk.set(submitAt.Add(2 * time.Minute))
	f.status(t, "b1")
	var lines []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		lines = nil
		for _, entry := range logEntries(t, logs.String()) {
			msg, _ := entry["message"].(string)
			if strings.HasPrefix(msg, "announcing the end of a batch a read ended failed") || msg == "announced the end of a batch past its deadline after failing" {
				lines = append(lines, fmt.Sprintf("%s (%v)", msg[:20], entry["failures"]))
			}
		}
		if len(lines) >= 2 {
			break
		}
	}
	// The warning is the read's to log, once announce has returned: it
	// may come after the second read's line.
	slices.Sort(lines)
	if want := []string{"announced the end of (1)", "announcing the end o (1)"}; !slices.Equal(lines, want) {
		t.Fatalf("logged %q, want %q:\n%s", lines, want, logs.String())
	}
}
