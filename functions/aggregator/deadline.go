package aggregator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/events"
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
	// The sweeps in a row that failed, to look for batches and to end
	// each batch it lists: a failure is logged the first time, then the
	// 2nd, 4th, 8th... A broker down had the sweep log two lines a second
	// for each batch whose end it could not announce (229 for one batch
	// in three minutes).
	lookups := 0
	failing := map[store.Ref]int{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		refs, err := f.opt.Store.Overdue(ctx, f.opt.Now(), sweepLimit)
		if err != nil {
			if lookups++; logged(lookups) {
				f.opt.Log.Error().Err(err).Int("failures", lookups).Msg("looking for batches past their deadline (failing again, logged less and less often)")
			}
			continue
		}
		lookups = 0
		for _, ref := range refs {
			n := failing[ref]
			log := f.opt.Log
			if n > 0 && !logged(n+1) {
				log = zerolog.Nop()
			}
			if _, err := f.end(ctx, ref, nil, false, log); err != nil {
				failing[ref] = n + 1
				if logged(n + 1) {
					f.opt.Log.Error().Err(err).Str("batchid", ref.ID).Int("failures", n+1).Msg("ending a batch past its deadline (failing again, logged less and less often)")
				}
				continue
			}
			if n > 0 {
				f.opt.Log.Info().Str("batchid", ref.ID).Int("failures", n).Msg("ended a batch past its deadline after failing")
			}
			delete(failing, ref)
		}
		// A batch no longer listed has been ended (by another replica,
		// or a read) or forgotten.
		for ref := range failing {
			if !slices.Contains(refs, ref) {
				delete(failing, ref)
			}
		}
	}
}

// logged reports whether the nth failure in a row of the same thing is
// logged: the first, then each at a power of two, less and less often.
func logged(n int) bool { return n&(n-1) == 0 }

// expire is end for a read of batch ref (sum, its summary just read): the
// reader gets the batch as it now is at once, and an announcement the read
// was granted goes out in the background. A reader used to wait for the
// send, up to its timeout where the broker answered 429, and got a 503 for
// a batch whose results were there when the send failed.
func (f *Function) expire(ctx context.Context, ref store.Ref, sum *store.Summary) (*store.Summary, error) {
	return f.end(ctx, ref, sum, true, f.opt.Log)
}

// end ends batch ref if its deadline has passed, and announces it, or
// announces an ended batch whose announcement claim was released or has
// lapsed: in the background when later is set. It returns the batch's
// summary, read again when it changed; sum, when not nil, is a summary
// already read. It logs to log, which the sweep quiets for a batch it
// failed to end before.
func (f *Function) end(ctx context.Context, ref store.Ref, sum *store.Summary, later bool, log zerolog.Logger) (*store.Summary, error) {
	var err error
	if sum == nil {
		if sum, err = f.opt.Store.Summary(ctx, ref); err != nil {
			return nil, err
		}
	}
	now := f.opt.Now()
	// An ended batch whose announcement claim was released (its send
	// failed) or lapsed (its holder died) is announced here, where no
	// redelivery would: Expire grants the claim (and knows the batches it
	// does not grant it for).
	unannounced := sum.Unannounced(now)
	if !unannounced && (sum.Done() || sum.Deadline.IsZero() || !now.After(sum.Deadline)) {
		return sum, nil
	}
	reason := fmt.Sprintf("deadline passed: no outcome by %s", sum.Deadline.UTC().Format(time.RFC3339))
	upd, err := f.opt.Store.Expire(ctx, ref, sum.Attempt, now.UTC(), reason)
	if errors.Is(err, store.ErrStale) {
		// A resubmission claimed the next attempt since sum was read:
		// the batch is that attempt now (a status read answered 503
		// "event of an earlier attempt").
		return f.opt.Store.Summary(ctx, ref)
	}
	if err != nil {
		return nil, err
	}
	if upd.Announce {
		if unannounced {
			log.Info().Str("batchid", ref.ID).Int("attempt", sum.Attempt).Str(events.ExtTraceParent, sum.TraceParent).Msg("announcing an end whose announcement failed, or whose announcer died, before")
		} else {
			// Each chunk the deadline made dead (those without an outcome
			// when sum was read): it counted one a batch.
			f.metrics.chunks.WithLabelValues("expired").Add(float64(sum.Waiting()))
			log.Warn().Str("batchid", ref.ID).Int("attempt", sum.Attempt).Str(events.ExtTraceParent, sum.TraceParent).Msg("deadline passed: the chunks without an outcome are dead, and the batch ends")
		}
		if later {
			f.announceLater(ctx, ref, sum.Attempt, sum.TraceParent, upd)
		} else if err := f.announce(ctx, ref, sum.Attempt, upd); err != nil {
			return nil, err
		}
	}
	return f.opt.Store.Summary(ctx, ref)
}

// announceLater is announce in the background, on a context of its own
// (announce bounds the send). Should the process end first, the claim
// lapses (store.AnnounceLease) and a deadline sweep announces; should the
// send fail, the claim is released and the next sweep announces. tp is
// the batch's trace context, for the log.
func (f *Function) announceLater(ctx context.Context, ref store.Ref, attempt int, tp string, upd store.Update) {
	ctx = context.WithoutCancel(ctx)
	go func() {
		if err := f.announce(ctx, ref, attempt, upd); err != nil {
			f.opt.Log.Warn().Err(err).Str("batchid", ref.ID).Int("attempt", attempt).Str(events.ExtTraceParent, tp).Msg("announcing the end of a batch a read ended failed: the deadline sweep retries")
		}
	}()
}
