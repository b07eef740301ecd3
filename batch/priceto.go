package batch

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
)

// encodeBlock is the most trades a worker of PriceTo prices and encodes
// at a time: a few hundred kilobytes of results. A smaller batch is cut
// into at least four blocks a worker, of 8 trades or more, so that a
// few costly trades (Monte Carlo, FD) spread over every core too.
const encodeBlock = 2048

// PriceTo prices b as Price does and writes the results document to w,
// byte for byte what Price's Results.MarshalJSON and a newline are. The
// workers price and encode blocks of trades in parallel, and the blocks
// are written in order as they are done: the results are never all in
// memory, decoded or encoded, and their encoding (most of a cheap batch's
// time: shortest float formatting) takes every core. A batch with
// scenarios is priced by Price and written whole. On an error (ctx ends,
// w fails) what was written is left unterminated, not a document.
func PriceTo(ctx context.Context, b *Batch, opt Options, w io.Writer) error {
	j, err := CompileWith(b, opt.Engines)
	if err != nil {
		return err
	}
	if j.scen != nil {
		rs, err := j.Price(ctx, opt)
		if err != nil {
			return err
		}
		res := &Results{BatchID: b.ID, Results: rs}
		if err := j.priceScenarioResults(ctx, opt, res); err != nil {
			return err
		}
		data, err := res.MarshalJSON()
		if err == nil {
			_, err = w.Write(append(data, '\n'))
		}
		return err
	}
	rw := NewResultsWriter(w, b.ID)
	if err := j.priceTo(ctx, opt, rw); err != nil {
		rw.Abort() // what was written stays unterminated: not a document
		return err
	}
	return rw.Close()
}

// priceTo prices the job's trades into rw, in blocks (PriceTo).
func (j *Job) priceTo(ctx context.Context, opt Options, rw *ResultsWriter) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("batch: pricing %s: %w", j.ID, err)
	}
	n := len(j.trades)
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	blockLen := min(encodeBlock, max(block, n/(4*workers)))
	blocks := (n + blockLen - 1) / blockLen
	workers = max(min(workers, blocks), 1)
	type run struct {
		enc []byte
		err error
	}
	done := make([]chan run, blocks) // block k's run, when encoded
	for k := range done {
		done[k] = make(chan run, 1)
	}
	// window bounds the blocks claimed and not yet written. Blocks are
	// claimed in order, so the next one to write is always being worked
	// on: the writer never waits for a block no worker may take.
	window := make(chan struct{}, 2*workers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			rs := make([]TradeResult, blockLen)
			size := 0 // bytes of the last block encoded: the next one's buffer
			for {
				select {
				case window <- struct{}{}:
				case <-ctx.Done():
					return
				}
				k := int(next.Add(1)) - 1
				if k >= blocks || ctx.Err() != nil {
					<-window
					return
				}
				lo, hi := k*blockLen, min((k+1)*blockLen, n)
				part := rs[:hi-lo]
				clear(part)
				for i := lo; i < hi; i++ {
					if (i-lo)%block == block-1 && ctx.Err() != nil {
						return // the writer stops on ctx too
					}
					j.priceOne(i, &part[i-lo])
				}
				if size == 0 {
					size = resultsSize(part)
				}
				enc, err := AppendResults(make([]byte, 0, size+size/8), part)
				size = len(enc)
				done[k] <- run{enc, err}
			}
		})
	}
	var err error
	for k := 0; k < blocks && err == nil; k++ {
		if ctx.Err() != nil { // ended while a block was written
			err = fmt.Errorf("batch: pricing %s: %w", j.ID, ctx.Err())
			break
		}
		select {
		case r := <-done[k]:
			err = r.err
			if err == nil {
				err = rw.WriteEncoded(r.enc)
			}
			<-window
		case <-ctx.Done():
			err = fmt.Errorf("batch: pricing %s: %w", j.ID, ctx.Err())
		}
	}
	cancel()
	wg.Wait()
	return err
}
