package batch

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// encodeBlock is the most trades a worker of PriceBlocks prices and
// encodes at a time: some 100 KB of results and as much of their JSON,
// within a core's cache while they are encoded and summed. A smaller
// batch is cut into at least four blocks a worker, of 8 trades or more,
// so that a few costly trades (Monte Carlo, FD) spread over every core
// too.
const encodeBlock = 512

// blockPool keeps PriceBlocks' blocks between calls: a pricer prices
// chunk after chunk. A block whose encoding took more than maxPooledBlock
// bytes is not kept.
var blockPool = sync.Pool{New: func() any { return new(PricedBlock) }}

const maxPooledBlock = 1 << 20

// scratchPool keeps the compile workers' scratch (compileScratch: a
// block's compiled trades, their slabs, the dates parsed) between
// PriceBlocks calls of lazy jobs: some 350 KB of fresh memory a
// 10,000-trade chunk otherwise, a pricer's chunk after chunk.
var scratchPool = sync.Pool{New: func() any { return new(compileScratch) }}

// PriceTo prices b as Price does and writes the results document to w,
// byte for byte what Price's Results.MarshalJSON and a newline are. The
// workers price and encode blocks of trades in parallel, and the blocks
// are written in order as they are done: the results are never all in
// memory, decoded or encoded, nor are the compiled trades (each is
// compiled just before it is priced: CompileLazily), and the encoding
// (most of a cheap batch's time: shortest float formatting) takes every
// core. A batch with scenarios is priced by Price and written whole. On an
// error (ctx ends, w fails) what was written is left unterminated, not a
// document.
func PriceTo(ctx context.Context, b *Batch, opt Options, w io.Writer) error {
	j, err := CompileLazily(b, opt.Engines)
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
	return j.PriceBlocks(ctx, opt, nil, func(b *PricedBlock) error { return rw.WriteEncoded(b.Encoded) })
}

// PricedBlock is a block of consecutive trades of a job, priced and
// encoded (PriceBlocks).
type PricedBlock struct {
	// Lo is the input index of the block's first trade.
	Lo int
	// Results are the block's results, in input order.
	Results []TradeResult
	// Encoded is Results as AppendResults encodes them.
	Encoded []byte
}

// BlockTiming asks PriceBlocks to time the trades: Timed is told, from
// the workers (concurrently), how long each run of at most 8 consecutive
// trades took, a run never spanning two values of Types (Types[i] is trade
// i's kind, for the caller): took its wall time, cpu the CPU time its
// worker's thread spent on it. The two differ when more workers price
// than there are cores (PriceBlocks of several chunks at once, each on
// every core, or other processes on them): each worker's wall time then
// counts the time it waited for a core. cpu is a block's thread CPU time
// shared among its runs by their wall time (where a thread's CPU time
// cannot be read, it is took).
type BlockTiming struct {
	Types []string
	Timed func(lo, hi int, took, cpu time.Duration)
}

// timedRun is a run of trades priceRange timed, reported once their
// block's CPU time is known.
type timedRun struct {
	lo, hi int
	took   time.Duration
}

// PriceBlocks prices the job's trades as Price does, on opt.Workers cores
// (0: GOMAXPROCS), in blocks of consecutive trades, each priced and
// encoded by one worker, and calls use with each block in input order, on
// the calling goroutine. use keeps nothing of a block past its return:
// its memory serves a later block. At most 2 blocks a worker are held at
// once, so the results are never all in memory, decoded or encoded, and
// their encoding (most of a cheap trade's time: shortest float
// formatting) takes every core. A lazy job's trades (CompileLazily) are
// compiled by the worker that prices them, a block at a time, into memory
// that serves its next block. timing, when set, times the trades. It
// stops at the first error of use, or when ctx ends (an error too).
func (j *Job) PriceBlocks(ctx context.Context, opt Options, timing *BlockTiming, use func(*PricedBlock) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("batch: pricing %s: %w", j.ID, err)
	}
	if j.planOnly {
		panic("batch: a job of CompilePlan prices no trade")
	}
	n := j.Len()
	workers := opt.workers()
	starts := blockStarts(n, workers)
	blocks := len(starts) - 1
	workers = max(min(workers, blocks), 1)
	type run struct {
		b   *PricedBlock
		err error
	}
	done := make([]chan run, blocks) // block k, when encoded
	for k := range done {
		done[k] = make(chan run, 1)
	}
	// free holds the blocks' memory: 2 a worker. A worker takes one before
	// it claims the next block, and blocks are claimed in order, so the
	// block use waits for always has its memory: it is not held by the
	// blocks after it.
	free := make(chan *PricedBlock, 2*workers)
	for range cap(free) {
		free <- blockPool.Get().(*PricedBlock)
	}
	defer func() { // once the workers are done: the blocks given back
		for {
			select {
			case b := <-free:
				// Without the results' strings, and not kept when a
				// block's results took much room.
				if cap(b.Encoded) <= maxPooledBlock {
					clear(b.Results[:cap(b.Results)])
					blockPool.Put(b)
				}
			default:
				return
			}
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			size := 0 // bytes of the last block encoded: the next one's room
			// A lazy job's trades, compiled a block at a time into
			// memory that serves the next block, and the next call's.
			var sc *compileScratch
			if j.lazy != nil {
				sc = scratchPool.Get().(*compileScratch)
				defer func() {
					sc.release()
					scratchPool.Put(sc)
				}()
			}
			var runs []timedRun // the runs of a block, when timing
			for {
				var b *PricedBlock
				select {
				case b = <-free:
				case <-ctx.Done():
					return
				}
				if opt.acquire(ctx) != nil {
					free <- b
					return
				}
				k := int(next.Add(1)) - 1
				if k >= blocks || ctx.Err() != nil {
					opt.release()
					free <- b
					return
				}
				lo, hi := starts[k], starts[k+1]
				if cap(b.Results) < hi-lo {
					b.Results = make([]TradeResult, starts[1]) // the first is the longest
				}
				b.Lo, b.Results = lo, b.Results[:hi-lo]
				clear(b.Results)
				var trades []compiled
				if j.lazy != nil {
					trades = j.lazy.block(lo, hi, sc)
				} else {
					trades = j.trades[lo:hi]
				}
				if !j.priceRange(ctx, lo, trades, b.Results, timing, &runs) {
					opt.release()
					return // ended: use's loop stops on ctx too
				}
				if size == 0 {
					size = ResultsSize(b.Results)
				}
				var err error
				if cap(b.Encoded) < size+size/8 {
					b.Encoded = make([]byte, 0, size+size/8)
				}
				b.Encoded, err = AppendResults(b.Encoded[:0], b.Results)
				opt.release()
				size = len(b.Encoded)
				done[k] <- run{b, err}
			}
		})
	}
	var err error
	for k := 0; k < blocks && err == nil; k++ {
		select {
		case r := <-done[k]:
			err = r.err
			if err == nil {
				err = use(r.b)
			}
			free <- r.b
		case <-ctx.Done():
		}
		if err == nil && ctx.Err() != nil {
			err = fmt.Errorf("batch: pricing %s: %w", j.ID, ctx.Err())
		}
	}
	cancel()
	wg.Wait()
	return err
}

// blockStarts cuts n trades into the blocks PriceBlocks prices, for
// workers: each the remaining trades over 4 workers' worth, at least
// block and at most encodeBlock, so that the last blocks are short. Cut
// evenly (a quarter of a worker's share each), a chunk of 831 FD
// Americans was cut in blocks of 125 ms, and a worker that ended its
// last block first could wait that long for the other, its core idle,
// when the two had not started together (the cores shared with another
// chunk: Options.Cores). It returns the first trade of each block, then
// n.
func blockStarts(n, workers int) []int {
	starts := []int{0}
	for lo := 0; lo < n; {
		lo += min(n-lo, blockLenFor(n-lo, workers))
		starts = append(starts, lo)
	}
	return starts
}

// blockLenFor is the length of the next block with left trades to price
// on workers: left over 4 workers' worth, at least block, at most
// encodeBlock (blockStarts).
func blockLenFor(left, workers int) int {
	return min(encodeBlock, max(block, left/(4*workers)))
}

// priceRange prices trades, the job's from input index lo on, into rs,
// timed as timing asks (runs holds the runs until the range's CPU time is
// known: memory the caller keeps for its next range); it reports false if
// ctx ended first.
func (j *Job) priceRange(ctx context.Context, lo int, trades []compiled, rs []TradeResult, timing *BlockTiming, runs *[]timedRun) bool {
	hi := lo + len(trades)
	if timing != nil {
		// The thread's CPU time is this goroutine's while it holds it.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cpu0, ok := threadCPU()
		*runs = (*runs)[:0]
		defer func() {
			var wall time.Duration
			for _, r := range *runs {
				wall += r.took
			}
			ratio := 1.0
			if cpu1, ok1 := threadCPU(); ok && ok1 && wall > 0 {
				ratio = min(float64(cpu1-cpu0)/float64(wall), 1)
			}
			for _, r := range *runs {
				timing.Timed(r.lo, r.hi, r.took, time.Duration(float64(r.took)*ratio))
			}
		}()
	}
	for i := lo; i < hi; {
		if i > lo && ctx.Err() != nil {
			return false
		}
		end := min(i+block, hi)
		var start time.Time
		if timing != nil {
			for k := i + 1; k < end; k++ {
				if timing.Types[k] != timing.Types[i] {
					end = k
					break
				}
			}
			start = time.Now()
		}
		for k := i; k < end; k++ {
			j.priceOne(&trades[k-lo], &rs[k-lo])
		}
		if timing != nil {
			*runs = append(*runs, timedRun{i, end, time.Since(start)})
		}
		i = end
	}
	return ctx.Err() == nil
}
