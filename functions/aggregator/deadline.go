package aggregator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/store"
)

// sweepLimit bounds the overdue batches one sweep ends.
const sweepLimit = 100

// Run ends the batches whose deadline passes with chunks missing, until
// ctx ends: every SweepEvery it asks the store for overdue batches, ends
// each partial (its missing chunks dead: "deadline passed") and announces
// it. Every replica may run it: the store grants each announcement once.
// A read of a batch past its deadline ends it too, so that a replica
// scaled to zero between reads is no excuse for a batch to wait.
func (f *Function) Run(ctx context.Context) error {
	t := time.NewTicker(f.opt.SweepEvery)
	defer t.Stop()
	// The sweeps in a row that failed to look for batches: logged the
	// first time, then the 2nd, 4th, 8th..., as a batch's failures to end
	// (f.failing).
	var lookups streak
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		refs, err := f.opt.Store.Overdue(ctx, f.opt.Now(), sweepLimit)
		if err != nil {
			if n, log := lookups.fail(err); log {
				f.opt.Log.Error().Err(err).Int("failures", n).Msg("looking for batches past their deadline (failing again, logged less and less often)")
			}
			continue
		}
		lookups = streak{}
		for _, ref := range refs {
			if _, err := readEnded(ctx, f, ref, f.opt.Store.Tally, tallyEnding, false); err != nil {
				if n, log := f.failing.count(ref, err); log {
					f.opt.Log.Error().Err(err).Str("batchid", ref.ID).Int("failures", n).Msg("ending a batch past its deadline (failing again, logged less and less often)")
				}
			}
		}
		// A batch no longer listed has been ended (by another replica)
		// or forgotten.
		f.failing.keep(refs)
	}
}

// repeats counts the failures in a row to end or announce each batch, so
// that the log tells a failure the first time, then the 2nd, 4th, 8th...:
// while the broker was down, the sweep (every SweepEvery) and each read
// of a batch whose end was not announced logged an error and an info line
// (229 lines for one batch in three minutes). The zero value is ready.
type repeats struct {
	mu sync.Mutex
	n  map[store.Ref]*streak
}

// streak is the failures in a row of one thing: how many, and how many
// since the failure last changed its kind (failureKind), which decides
// what is logged, so that a new failure is logged at once however long
// the one before went on.
type streak struct {
	total, same int
	kind        string
}

// fail counts failure err, and reports how many in a row there were and
// whether this one is logged: the first of its kind, then the 2nd, 4th,
// 8th... of that kind.
func (s *streak) fail(err error) (int, bool) {
	if k := failureKind(err); k != s.kind {
		s.kind, s.same = k, 0
	}
	s.total++
	s.same++
	return s.total, logged(s.same)
}

// failureKind tells err's kind of failure: its message, but of a sender's
// error the status and the failure in words naming no address
// (host.Unaddressed), where the message names the event, whose ID each
// attempt's event has of its own, and of a network failure (the store's)
// the operation and its cause, where the message names the local port,
// each connection's own ("read tcp 10.0.0.2:41234->10.0.0.5:6379: i/o
// timeout"). It looks into a host.Errorf's error too, whose wrapped error
// errors.As does not reach.
func failureKind(err error) string {
	for e := err; e != nil; {
		var se *host.SendError
		var op *net.OpError
		var r *cehttp.Result
		switch {
		case errors.As(e, &se):
			errors.As(host.Unaddressed(se), &se)
			return fmt.Sprintf("%d %v", se.Code, se.Err)
		case errors.As(e, &op):
			return fmt.Sprintf("%s %s %v: %v", op.Op, op.Net, op.Addr, op.Err)
		case errors.As(e, &r):
			e = fmt.Errorf(r.Format, r.Args...)
		default:
			e = nil
		}
	}
	return err.Error()
}

// fail counts failure err for ref, and reports how many in a row and
// whether this one is logged.
func (r *repeats) fail(ref store.Ref, err error) (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == nil {
		r.n = map[store.Ref]*streak{}
	}
	s := r.n[ref]
	if s == nil {
		s = &streak{}
		r.n[ref] = s
	}
	return s.fail(err)
}

// quiet reports whether ref has failed before and its next failure is
// not logged: neither are the lines of the attempt.
func (r *repeats) quiet(ref store.Ref) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.n[ref]
	return s != nil && !logged(s.same+1)
}

// count is fail, unless err is an announcement's failure that announce
// counted already.
func (r *repeats) count(ref store.Ref, err error) (int, bool) {
	if c, ok := errors.AsType[*countedFailure](err); ok {
		return c.n, c.logged
	}
	return r.fail(ref, err)
}

// countedFailure is the error of an announcement whose failure announce
// counted (repeats.fail) before it gave the claim back: n in a row, and
// whether this one is logged.
type countedFailure struct {
	err    error
	n      int
	logged bool
}

func (c *countedFailure) Error() string { return c.err.Error() }
func (c *countedFailure) Unwrap() error { return c.err }

// done forgets ref's failures, and returns how many there were.
func (r *repeats) done(ref store.Ref) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.n[ref]
	delete(r.n, ref)
	if s == nil {
		return 0
	}
	return s.total
}

// keep forgets the failures of the batches not in refs.
func (r *repeats) keep(refs []store.Ref) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for ref := range r.n {
		if !slices.Contains(refs, ref) {
			delete(r.n, ref)
		}
	}
}

// logged reports whether the nth failure in a row of the same thing is
// logged: the first, then each at a power of two, less and less often.
func logged(n int) bool { return n&(n-1) == 0 }

// current reads batch ref as it now is: its summary, ended on the way
// when its deadline has passed (readEnded). The reader gets the batch as
// it now is at once, and an announcement the read was granted goes out in
// the background: a reader used to wait for the send, up to its timeout
// where the broker answered 429, and got a 503 for a batch whose results
// were there when the send failed.
func (f *Function) current(ctx context.Context, ref store.Ref) (*store.Summary, error) {
	return readEnded(ctx, f, ref, f.opt.Store.Summary, summaryEnding, true)
}

// currentTally is current's Tally: what a status reads, in time that does
// not grow with the batch's chunks.
func (f *Function) currentTally(ctx context.Context, ref store.Ref) (*store.Tally, error) {
	return readEnded(ctx, f, ref, f.opt.Store.Tally, tallyEnding, true)
}

// ending is what readEnded reads of a batch, from its Summary or its Tally.
type ending struct {
	attempt     int
	deadline    time.Time
	traceParent string
	waiting     int
	// unannounced is Summary.Unannounced at the time end reads.
	unannounced bool
}

// summaryEnding and tallyEnding are the ending of a batch read at now.
func summaryEnding(sum *store.Summary, now time.Time) ending {
	return ending{attempt: sum.Attempt, deadline: sum.Deadline, traceParent: sum.TraceParent, waiting: sum.Waiting(), unannounced: sum.Unannounced(now)}
}

func tallyEnding(t *store.Tally, now time.Time) ending {
	return ending{attempt: t.Attempt, deadline: t.Deadline, traceParent: t.TraceParent, waiting: t.Waiting(), unannounced: t.Unannounced(now)}
}

// readEnded reads batch ref by read (its Summary, or its Tally, which
// the deadline sweep and a status read take: the Summary, every chunk's
// outcome, would be read for nothing), ends it if its deadline has passed
// and announces it, or announces an ended batch whose announcement claim
// was released or has lapsed: in the background when later is set. It
// returns the batch read again when that changed it. For a batch that
// failed to end before, it logs as f.failing says.
func readEnded[T any](ctx context.Context, f *Function, ref store.Ref, read func(context.Context, store.Ref) (*T, error), ending func(*T, time.Time) ending, later bool) (*T, error) {
	v, err := read(ctx, ref)
	if err != nil {
		return nil, err
	}
	now := f.opt.Now()
	changed, err := f.endBatch(ctx, ref, ending(v, now), now, later)
	if err != nil {
		return nil, err
	}
	if !changed {
		return v, nil
	}
	return read(ctx, ref)
}

// endBatch is readEnded of batch ref, e read of it at now: it reports whether
// it may have changed the batch (to be read again).
func (f *Function) endBatch(ctx context.Context, ref store.Ref, e ending, now time.Time, later bool) (bool, error) {
	// An ended batch whose announcement claim was released (its send
	// failed) or lapsed (its holder died) is announced here, where no
	// redelivery would: Expire grants the claim (and knows the batches it
	// does not grant it for).
	if !e.unannounced && (e.waiting == 0 || e.deadline.IsZero() || !now.After(e.deadline)) {
		return false, nil
	}
	log := f.opt.Log
	if f.failing.quiet(ref) {
		log = zerolog.Nop()
	}
	reason := fmt.Sprintf("deadline passed: no outcome by %s", e.deadline.UTC().Format(time.RFC3339))
	upd, err := f.opt.Store.Expire(ctx, ref, e.attempt, now.UTC(), reason)
	if errors.Is(err, store.ErrStale) {
		// A resubmission claimed the next attempt since the batch was
		// read: the batch is that attempt now (a status read answered 503
		// "event of an earlier attempt").
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if upd.Announce {
		if e.unannounced {
			log.Info().Str("batchid", ref.ID).Int("attempt", e.attempt).Str(events.ExtTraceParent, e.traceParent).Msg("announcing an end whose announcement failed, or whose announcer died, before")
		} else {
			// Each chunk the deadline made dead (those without an outcome
			// when the batch was read): it counted one a batch.
			f.metrics.chunks.WithLabelValues("expired").Add(float64(e.waiting))
			log.Warn().Str("batchid", ref.ID).Int("attempt", e.attempt).Str(events.ExtTraceParent, e.traceParent).Msg("deadline passed: the chunks without an outcome are dead, and the batch ends")
		}
		if later {
			f.announceLater(ctx, ref, e.attempt, e.traceParent, upd)
		} else {
			if err := f.announce(ctx, ref, e.attempt, upd, true); err != nil {
				return false, err
			}
			f.announced(ref)
		}
	}
	return true, nil
}

// announceLater is announce in the background, on a context of its own
// (announce bounds the send). Should the process end first, the claim
// lapses (store.AnnounceLease) and a deadline sweep announces; should the
// send fail, the claim is released and the next sweep announces. tp is
// the batch's trace context, for the log.
func (f *Function) announceLater(ctx context.Context, ref store.Ref, attempt int, tp string, upd store.Update) {
	ctx = context.WithoutCancel(ctx)
	go func() {
		if err := f.announce(ctx, ref, attempt, upd, true); err != nil {
			if n, log := f.failing.count(ref, err); log {
				f.opt.Log.Warn().Err(err).Str("batchid", ref.ID).Int("attempt", attempt).Str(events.ExtTraceParent, tp).Int("failures", n).Msg("announcing the end of a batch a read ended failed: the deadline sweep retries (failing again, logged less and less often)")
			}
			return
		}
		f.announced(ref)
	}()
}

// announced logs the end of ref announced once it had failed before.
func (f *Function) announced(ref store.Ref) {
	if n := f.failing.done(ref); n > 0 {
		f.opt.Log.Info().Str("batchid", ref.ID).Int("failures", n).Msg("announced the end of a batch past its deadline after failing")
	}
}
