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
// ended: its JSON is incomplete, and the client asks again.
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
	// advance writes the chunks that have their outcomes, in order, and
	// reports whether the document is complete.
	var readAt time.Time // the earliest the next read may start (restAfter)
	advance := func() (bool, error) {
		read := time.Now()
		sum, err := f.current(ctx, ref)
		readAt = restAfter(read) // stream.go
		switch {
		case errors.Is(err, store.ErrNotFound) && rw == nil:
			return false, nil // waited for, UnknownGrace at most
		case err != nil:
			return false, err
		case rw == nil:
			attempt, tp = sum.Attempt, sum.TraceParent
			if !sum.Deadline.IsZero() { // current ends the batch then
				deadline = time.NewTimer(time.Until(sum.Deadline) + 10*time.Millisecond)
			}
			unpin = f.opt.Store.Pin(ctx, ref)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set(api.HeaderAttempt, strconv.Itoa(attempt))
			w.WriteHeader(http.StatusOK)
			rw = batch.NewResultsWriter(w, ref.ID)
			if err := flush(); err != nil {
				return false, err
			}
		case sum.Attempt != attempt:
			return false, fmt.Errorf("%w: attempt %d, now %d", store.ErrStale, attempt, sum.Attempt)
		}
		from := next
		// A scenario chunk waits for its block's base chunk, the next
		// to write after it anyway.
		for ; next < len(sum.Chunks) && sum.Chunks[next].State != store.ChunkWaiting && !basePending(sum, next); next++ {
			if err := f.writeChunk(ctx, rw, sum, next, &scenarios); err != nil {
				return false, err
			}
		}
		if next == len(sum.Chunks) {
			if err := scenarios.finish(sum, rw); err != nil {
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
