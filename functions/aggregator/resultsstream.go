package aggregator

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/pricefn/pricefn/api"
	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/store"
)

// streamResults answers GET /batches/{id}/results?stream=true: a 200 as
// soon as the batch is known (an unknown one is waited for UnknownGrace,
// then a 404), then its results document written as its chunks get their
// outcomes, in input order: chunk i goes out once chunks 0 to i have
// theirs. The response ends when the batch is finished, by its deadline at
// the latest, and its bytes are the finished batch's document, as
// writeResults writes it. A client thus reads and checks the results while
// the last chunks are priced. A stream that cannot go on (a store fault,
// the server draining, the batch priced again meanwhile) is cut short, not
// ended: its JSON is incomplete, and the client asks again. It reads the
// batch's layout once, then at each change its tally and the outcomes
// recorded since (Store.Arrivals), keeping those of the chunks it cannot
// write yet: not every chunk's outcome at each.
func (f *Function) streamResults(w http.ResponseWriter, r *http.Request, ref store.Ref) {
	ctx := r.Context()
	grace := time.NewTimer(f.opt.UnknownGrace)
	defer grace.Stop()
	var (
		rw        *batch.ResultsWriter
		scenarios scenarioCollector
		attempt   int
		tp        string // the batch's trace context, for the log
		next      int    // the first chunk not written
		// lay is the batch's layout: its Header and ChunkOffsets, from
		// its first read (its Chunks dropped).
		lay *store.Summary
		// ahead holds the outcomes read of the chunks from next on, their
		// State and Reason, until they are written; pos is the position
		// (Store.Arrivals) of the first outcome not read yet.
		ahead = map[int]store.Chunk{}
		pos   int
		// deadline fires when the batch's deadline has passed.
		deadline *time.Timer
	)
	unpin := func() {}
	defer func() {
		unpin() // the batch, read from its first chunk on
		if deadline != nil {
			deadline.Stop()
		}
	}()
	flush := func() error {
		if err := rw.Flush(); err != nil {
			return err
		}
		return http.NewResponseController(w).Flush()
	}
	// start reads the batch's layout and its outcomes so far, and answers
	// 200, once it is known.
	start := func() (bool, error) {
		sum, err := f.current(ctx, ref)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return false, nil // waited for, UnknownGrace at most
		case err != nil:
			return false, err
		}
		attempt, tp = sum.Attempt, sum.TraceParent
		lay = &store.Summary{Header: sum.Header, ChunkOffsets: sum.ChunkOffsets}
		// Its outcomes are the first recorded, as many as it holds: the
		// next read starts past them.
		for i := range sum.Chunks {
			if c := &sum.Chunks[i]; c.State != store.ChunkWaiting {
				ahead[i] = store.Chunk{Index: i, State: c.State, Reason: c.Reason}
				pos++
			}
		}
		if !sum.Deadline.IsZero() { // current ends the batch then
			deadline = time.NewTimer(time.Until(sum.Deadline) + 10*time.Millisecond)
		}
		unpin = f.opt.Store.Pin(ctx, ref)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set(api.HeaderAttempt, strconv.Itoa(attempt))
		w.WriteHeader(http.StatusOK)
		rw = batch.NewResultsWriter(w, ref.ID)
		return true, flush()
	}
	// arrived reads the outcomes recorded since the last read (all of
	// them, where the store kept no order of them), a page at a time,
	// and keeps those of the chunks not written.
	arrived := func() error {
		for {
			a, err := f.opt.Store.Arrivals(ctx, ref, attempt, pos, streamPage)
			switch {
			case err != nil:
				return err
			case !a.SubmittedAt.Equal(lay.SubmittedAt):
				// Forgotten and claimed again, at the same attempt:
				// another batch's outcomes.
				return fmt.Errorf("%w: attempt %d claimed again", store.ErrStale, attempt)
			}
			for k := range a.Chunks {
				if c := &a.Chunks[k]; c.Index >= next {
					ahead[c.Index] = store.Chunk{Index: c.Index, State: c.State, Reason: c.Reason}
				}
			}
			if a.All {
				return nil // read again from the first at the next change
			}
			if pos += len(a.Chunks); len(a.Chunks) < streamPage {
				return nil
			}
		}
	}
	// advance writes the chunks that have their outcomes, in order, and
	// reports whether the document is complete.
	var readAt time.Time // the earliest the next read may start (restAfter)
	advance := func() (bool, error) {
		read := time.Now()
		if rw == nil {
			ok, err := start()
			readAt = restAfter(time.Since(read)) // stream.go
			if !ok || err != nil {
				return false, err
			}
		} else {
			// The deadline's end, and a batch priced again meanwhile,
			// from its tally: not every chunk's outcome.
			t, err := f.currentTally(ctx, ref)
			switch {
			case err != nil:
				return false, err
			case t.Attempt != attempt:
				return false, fmt.Errorf("%w: attempt %d, now %d", store.ErrStale, attempt, t.Attempt)
			}
			err = arrived()
			readAt = restAfter(time.Since(read))
			if err != nil {
				return false, err
			}
		}
		from := next
		for ; next < len(lay.ChunkOffsets); next++ {
			c, ok := ahead[next]
			if !ok {
				break
			}
			// A scenario chunk waits for its block's base chunk, the next
			// to write after it anyway.
			base := store.ChunkWaiting
			if j, ok := blockBase(lay, next); ok {
				base = ahead[j].State
				if j != next && base == store.ChunkWaiting {
					break
				}
			}
			if err := f.writeChunk(ctx, rw, lay, &c, base, &scenarios); err != nil {
				return false, err
			}
			delete(ahead, next)
		}
		if next == len(lay.ChunkOffsets) {
			if err := scenarios.finish(lay, rw); err != nil {
				return false, err
			}
			return true, rw.Close()
		}
		if next > from {
			return false, flush()
		}
		return false, nil
	}
	// fail ends the request on err: an error reply while nothing is sent,
	// else the stream cut short.
	fail := func(err error) {
		if rw == nil && ctx.Err() != nil {
			requestEnded(w, r)
			return
		}
		if rw == nil {
			host.WriteError(w, f.readError(ref.ID, tp, err))
			return
		}
		rw.Abort()
		if ctx.Err() == nil {
			f.opt.Log.Error().Err(err).Str("batchid", ref.ID).Int("chunk", next).Str(events.ExtTraceParent, tp).Msg("streaming results cut short")
		}
		panic(http.ErrAbortHandler)
	}
	for {
		changed, stop, err := f.opt.Store.Watch(ctx, ref)
		if err != nil {
			fail(err)
			return
		}
		done, err := advance()
		if !done && err == nil {
			var batchDeadline <-chan time.Time
			if deadline != nil {
				batchDeadline = deadline.C
			}
			select {
			case <-changed:
			case <-batchDeadline:
			case <-grace.C:
				if rw == nil {
					err = store.ErrNotFound
				}
			case <-ctx.Done():
				err = ctx.Err()
			case <-f.drain:
				err = errors.New("the server is stopping")
			}
			if err == nil && !f.rest(ctx, time.Until(readAt)) {
				err = cmp.Or(ctx.Err(), errors.New("the server is stopping"))
			}
		}
		stop()
		if err != nil {
			fail(err)
			return
		}
		if done {
			return
		}
	}
}
