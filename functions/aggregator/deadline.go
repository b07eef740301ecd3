package aggregator

import (
	"context"
	"fmt"
	"time"

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
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		refs, err := f.opt.Store.Overdue(ctx, f.opt.Now(), sweepLimit)
		if err != nil {
			f.opt.Log.Error().Err(err).Msg("looking for batches past their deadline")
			continue
		}
		for _, ref := range refs {
			if _, err := f.expire(ctx, ref, nil); err != nil {
				f.opt.Log.Error().Err(err).Str("batchid", ref.ID).Msg("ending a batch past its deadline")
			}
		}
	}
}

// expire ends batch ref if its deadline has passed, and announces it, or
// announces an ended batch whose announcement claim was released. It
// returns the batch's summary, read again when it changed; sum, when not
// nil, is a summary already read.
func (f *Function) expire(ctx context.Context, ref store.Ref, sum *store.Summary) (*store.Summary, error) {
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
	if err != nil {
		return nil, err
	}
	if upd.Announce {
		if unannounced {
			f.opt.Log.Info().Str("batchid", ref.ID).Int("attempt", sum.Attempt).Msg("announcing an end whose announcement failed, or whose announcer died, before")
		} else {
			f.metrics.chunks.WithLabelValues("expired").Inc()
			f.opt.Log.Warn().Str("batchid", ref.ID).Int("attempt", sum.Attempt).Msg("deadline passed: batch ends partial")
		}
		if err := f.announce(ctx, ref, sum.Attempt, upd); err != nil {
			return nil, err
		}
	}
	return f.opt.Store.Summary(ctx, ref)
}
