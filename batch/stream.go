package batch

import (
	"context"
	"errors"
	"hash/maphash"
	"io"
	"slices"
	"sync"
)

// StreamPriceTo is DecodeBytes and PriceTo in one pass, for a document
// whose trades come last: its trades are read a block at a time, and each
// block is compiled, priced and encoded by a worker while the next is
// read, into memory that then serves a later block. No trade of the batch
// is held past its block: the memory a batch takes no longer grows with
// its trades (some 200 bytes a European, each byte fresh from the system
// in a short process, where the kernel's zeroing of new pages cost as
// much again as the decoder's writing them).
//
// It writes to w what PriceTo writes and reports true only for a batch
// that DecodeBytes and PriceTo would price without an error. For any
// other (a fault of the document or of the batch anywhere in it, even
// after the results it has written; a member after the trades; scenarios;
// a later trade using a curve the first ones do not; an error of ctx or
// w) it stops and reports false, and what it wrote is not a document:
// the caller then truncates w and prices the batch by DecodeBytes and
// PriceTo, which find the error and word it as always, or write the
// document whole. A caller that cannot take back what was written (a
// pipe, standard output) uses those two alone.
func StreamPriceTo(ctx context.Context, data []byte, opt Options, w io.Writer) bool {
	if len(data) > maxDocument {
		return false
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st := &streamer{ctx: ctx, cancel: cancel, opt: opt, w: w}
	d := decoder{s: scanner{data: data, in: newInterner()}}
	d.stream = func(b *Batch, trades []Trade) ([]Trade, error) { return st.take(&d, b, trades) }
	_, err := d.batch(true)
	if err == nil && st.job == nil {
		err = errNotStreamed // no trades: nothing gained
	}
	if err != nil {
		cancel()
	}
	// Every block read is written (or dropped) before the end.
	if st.work != nil {
		close(st.work)
		close(st.order)
	}
	st.wg.Wait()
	if err != nil || st.failed {
		if st.rw != nil {
			st.rw.Abort()
		}
		return false
	}
	return st.rw.Close() == nil && ctx.Err() == nil
}

// errNotStreamed stops StreamPriceTo's read of a batch it does not price
// as a stream: the batch is priced as a whole instead.
var errNotStreamed = errors.New("batch: not priced as a stream")

// streamer is the state of one StreamPriceTo.
type streamer struct {
	ctx     context.Context
	cancel  context.CancelFunc
	opt     Options
	guess   int // the batch's trades, guessed from its list's size
	w       io.Writer
	end     int // the document's length
	workers int // the workers started
	cut     int // the workers the blocks are cut for (blockStarts)
	first   int // the first block's trades: the most a block holds
	// from is the trades list's first byte, at the first trade,
	// perTrade the bytes measured of the first trade (with its comma and
	// newline): the trades left are guessed from the bytes left.
	from, perTrade int
	job            *Job // compiled from the batch's first block
	batch          *Batch
	rw             *ResultsWriter
	ids            idTags
	read           int // trades read so far
	// free holds the blocks not in use; work the blocks read, for the
	// workers; order the same blocks in the order read, for the writer.
	free, work, order chan *streamBlock
	cur               *streamBlock // the block being read
	wg                sync.WaitGroup
	failed            bool // the writer stopped: a block failed, or w
}

// streamBlock is a block of trades read together, and their results
// encoded.
type streamBlock struct {
	lo      int // the batch's index of its first trade
	trades  []Trade
	room    []Trade // the array trades are read into, of st.first
	wires   slabs   // the trades' wire forms
	floats  slab[float64]
	encoded []byte
	done    chan bool // the block is encoded, or not (false)
}

// take is the decoder's stream: it hands the block of trades just read
// to the workers and returns the array of the next.
func (st *streamer) take(d *decoder, b *Batch, trades []Trade) ([]Trade, error) {
	if st.free == nil {
		st.size(d.s.data, d.s.pos)
	}
	if trades != nil {
		if err := st.send(d, b, trades); err != nil {
			return nil, err
		}
	}
	select {
	case st.cur = <-st.free:
	case <-st.ctx.Done():
		return nil, errNotStreamed
	}
	// The block's wire forms and the numbers they point to, made while
	// it is read (d.wires, the interner's floats), are the block's until
	// it comes back to free. The numbers read before the trades (the
	// market's) stay where they are.
	st.cur.wires.rewind()
	st.cur.floats.rewind()
	d.wires, st.cur.wires = st.cur.wires, slabs{}
	d.s.in.floats, st.cur.floats = st.cur.floats, slab[float64]{}
	// Each trade written whole as it is read, as many as the block's
	// length: the decoder hands the block on when it is full.
	return st.cur.room[:0:st.blockLen(d.s.pos)], nil
}

// blockLen is the length of the block whose first trade is at or after
// data[pos], cut as blockStarts cuts PriceBlocks' blocks: the trades left
// (guessed from the bytes left, at the bytes a trade read so far) over 4
// workers' worth, at least block and at most the first block's. The last
// blocks are short, so that no worker waits long for another at the end.
func (st *streamer) blockLen(pos int) int {
	per := st.perTrade
	if st.read > 0 && pos > st.from {
		per = max((pos-st.from)/st.read, 1)
	}
	left := (st.end - pos) / per
	return min(st.first, blockLenFor(left, st.cut))
}

// size makes the blocks and the ids' set for the trades list whose
// opening bracket is data[pos]. The blocks are cut as PriceBlocks cuts
// them (blockStarts; blockLen): a batch of few trades into at least four
// a worker, of 8 trades or more, so that a few costly trades (Monte
// Carlo, FD) spread over every core, each block the trades left over 4
// workers' worth, so that the last ones are short; and no more workers
// than blocks, so that a batch of a few trades makes no thousands of
// blocks whatever workers the caller asks for. The trades are counted as
// if all were the size of the first (a costly trade is often several
// times the 100 bytes DecodeBytes guesses a trade), then at the bytes a
// trade read so far; the ids' set takes the 100 bytes, which overcounts
// none but tiny trades.
func (st *streamer) size(data []byte, pos int) {
	rest := len(data) - pos
	st.guess = rest/100 + 1
	n := st.guess
	first := scanner{data: data, pos: pos + 1} // no interner: read, not kept
	first.ws()
	st.from, st.end, st.perTrade = first.pos, len(data), 100
	if from := first.pos; first.peek() == '{' {
		if _, err := first.value(0); err == nil {
			st.perTrade = first.pos - from + 2 // and its comma and newline
			n = rest/st.perTrade + 1
		}
	}
	workers := st.opt.workers()
	// The first block as blockStarts cuts it, but for no fewer trades
	// than block: n is a guess.
	st.cut, st.first = workers, blockLenFor(n, workers)
	st.workers = max(min(workers, len(blockStarts(n, workers))-1), 1)
	st.ids = newIDTags(st.guess)
	// The blocks in flight: being read, compiled and priced, or written.
	// A block is taken from free before it is read, so that work and
	// order, as long as free, never hold the reader up.
	st.free = make(chan *streamBlock, 2*st.workers+2)
	for range cap(st.free) {
		st.free <- &streamBlock{room: make([]Trade, 0, st.first), done: make(chan bool, 1)}
	}
	st.work = make(chan *streamBlock, cap(st.free))
	st.order = make(chan *streamBlock, cap(st.free))
}

// send hands the block st.cur, whose trades are trades, to the workers
// and the writer; the first block compiles the job, which every block
// after must fit.
func (st *streamer) send(d *decoder, b *Batch, trades []Trade) error {
	blk := st.cur
	blk.lo, blk.trades = st.read, trades
	blk.wires, d.wires = d.wires, slabs{}
	blk.floats, d.s.in.floats = d.s.in.floats, slab[float64]{}
	st.read += len(trades)
	for i := range trades {
		if !st.ids.add(trades[i].ID) {
			return errNotStreamed // maybe an id given twice: uniqueIDs tells
		}
	}
	if st.job == nil {
		first := *b
		first.Trades = trades
		j, err := CompileLazily(&first, st.opt.Engines)
		if err != nil || j.scen != nil {
			return errNotStreamed
		}
		st.job, st.batch = j, b
		st.rw = NewResultsWriter(st.w, b.ID)
		st.start()
	} else if !st.fits(trades) {
		return errNotStreamed
	}
	st.work <- blk
	st.order <- blk
	return nil
}

// fits reports whether the job, compiled from the batch's first block,
// prices trades as the job compiled from the whole batch would: they name
// no underlying or curve the market lacks, and use no curve the first
// block did not (no other was built).
func (st *streamer) fits(trades []Trade) bool {
	m := &st.batch.Market
	if checkRefs(trades, 0, m) != nil {
		return false
	}
	_, curves := marketUse(trades, m)
	for _, c := range curves.list {
		if !st.job.lazy.used.has(c) {
			return false
		}
	}
	return true
}

// start starts the workers, which compile, price and encode the blocks,
// and the writer, which writes them in order.
func (st *streamer) start() {
	j := st.job
	for range st.workers {
		st.wg.Go(func() {
			var cs []compiled
			var sc compileScratch
			var rs []TradeResult
			size := 0 // bytes of the last block encoded: the next one's room
			for blk := range st.work {
				if st.ctx.Err() != nil {
					blk.done <- false
					continue
				}
				n := len(blk.trades)
				sc.sl.rewind()
				sc.dates.reserve(st.guess)
				cs = slices.Grow(cs[:0], n)[:n]
				for i := range cs {
					compileTrade(&cs[i], &blk.trades[i], j.lazy.env, j.lazy.broken, &sc)
				}
				rs = slices.Grow(rs[:0], n)[:n]
				clear(rs)
				if !j.priceRange(st.ctx, blk.lo, cs, rs, nil, nil) {
					blk.done <- false
					continue
				}
				if size == 0 {
					size = ResultsSize(rs)
				}
				if cap(blk.encoded) < size+size/8 {
					// Made once a block, with room for the others'.
					blk.encoded = make([]byte, 0, size+size/4)
				}
				var err error
				blk.encoded, err = AppendResults(blk.encoded[:0], rs)
				size = len(blk.encoded)
				blk.done <- err == nil
			}
		})
	}
	st.wg.Go(func() {
		for blk := range st.order {
			if ok := <-blk.done; ok && !st.failed {
				st.failed = st.rw.WriteEncoded(blk.encoded) != nil
			} else if !ok {
				st.failed = true
			}
			if st.failed {
				st.cancel()
			}
			st.free <- blk
		}
	})
}

// idTags is uniqueIDs' set of the ids' hashes, made as the trades are
// read: each slot holds the high 32 bits of a hash (its tag), the low bits
// choose the slot. Its room is fixed, from the batch's size: a batch of
// more trades than fit goes back to uniqueIDs, as does one whose ids meet
// in the set with equal tags (most likely an id given twice).
type idTags struct {
	seed  maphash.Seed
	slots []uint32
	n     int
}

// newIDTags returns a set with room for some n ids at least.
func newIDTags(n int) idTags {
	size := 16
	for size < 2*n {
		size *= 2
	}
	return idTags{seed: maphash.MakeSeed(), slots: makeFaulted[uint32](size)}
}

// add adds id's hash, reporting false if the set is full (two thirds) or
// a tag equal to its own is on its way.
func (s *idTags) add(id string) bool {
	if s.n++; 3*s.n > 2*len(s.slots) {
		return false
	}
	h := maphash.String(s.seed, id)
	tag := uint32(h>>32) | 1 // 0 marks an empty slot
	mask := uint64(len(s.slots) - 1)
	for k := h & mask; ; k = (k + 1) & mask {
		switch s.slots[k] {
		case 0:
			s.slots[k] = tag
			return true
		case tag:
			return false
		}
	}
}
