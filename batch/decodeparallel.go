package batch

import (
	"bytes"
	"runtime"
	"sync"
	"sync/atomic"
)

// A large batch's trades are read for DecodePlan (ingress's check and
// plan of a batch, on the critical path of every batch) on two cores: the
// second half from a seam, a guess at the start of a trade in the middle
// of the list, while the first half is read up to it. The guess is taken
// only if the first read meets it at the start of a trade, and the second
// read met no fault; else the first read goes on alone, as if there had
// been no guess. The batch, its faults and their words are DecodePlan's
// either way (TestDecodePlanParallel). The read of the terms (Decode, the
// pricer's) allocates too much to gain from a second core here.

// parallelMin is the size of the rest of a document from the trades on
// above which DecodePlan reads them on two cores.
const parallelMin = 1 << 20

// tradesHalf is the read of the trades from a seam to the end of the list.
type tradesHalf struct {
	seam   int // the offset of the trade the read begins with
	done   sync.WaitGroup
	stop   atomic.Bool // the first read will not take the second's trades
	trades []Trade
	array  []Trade // the array newTrades gave trades
	end    int     // the offset of the list's closing bracket
	ok     bool
}

// readSecondHalf starts the read of the second half of the trades list,
// whose opening bracket is at d.s.pos, on another goroutine; nil if the
// list is not worth it or no seam is found. A seam is a trade that begins
// a line after a comma (",\n{", the layout of pricefn gen and of most
// writers of large documents): a newline is never in a JSON string.
func (d *decoder) readSecondHalf() *tradesHalf {
	data, from := d.s.data, d.s.pos
	if !d.plan || len(data)-from < parallelMin || runtime.GOMAXPROCS(0) < 2 {
		return nil
	}
	mid := from + (len(data)-from)/2
	i := bytes.Index(data[mid:min(len(data), mid+1<<16)], []byte(",\n{"))
	if i < 0 {
		return nil
	}
	h := &tradesHalf{seam: mid + i + 2}
	h.done.Go(func() { h.read(data) })
	return h
}

// read reads the trades from h.seam to the end of the list.
func (h *tradesHalf) read(data []byte) {
	d := decoder{s: scanner{data: data, pos: h.seam, in: newInterner()}, plan: true}
	s := &d.s
	h.trades = newTrades(min((len(data)-h.seam)/100+1, 1<<20))
	h.array = h.trades
	for i := 0; i < MaxTrades && !h.stop.Load(); i++ {
		t, err := d.tradeAt(s.peek(), i)
		if err != nil {
			return // the first read meets it again, and words it
		}
		h.trades = append(h.trades, t)
		switch s.peek() {
		case ',':
			s.pos++
		case ']':
			h.end, h.ok = s.pos, true
			return
		default:
			return
		}
	}
}

// take returns the second half's trades if the first read is at the
// start of a trade at pos, with n trades before it: the seam was a
// trade's start, and the second read met no fault and no more trades
// than the limit. It waits for the second read.
func (h *tradesHalf) take(pos, n int) ([]Trade, bool) {
	if pos != h.seam {
		return nil, false
	}
	h.wait()
	if !h.ok || n+len(h.trades) > MaxTrades {
		return nil, false
	}
	return h.trades, true
}

// release gives the second half's array back, once its trades are
// copied (take).
func (h *tradesHalf) release() {
	if sameArray(h.trades, h.array) {
		releaseTrades(h.array, len(h.trades))
	}
	h.trades, h.array = nil, nil
}

// wait waits for the second read to end.
func (h *tradesHalf) wait() { h.done.Wait() }

// abandon stops the second read, if it still runs, and waits for it to
// end: a first read that ends (a fault, or a seam not met) before it.
func (h *tradesHalf) abandon() {
	h.stop.Store(true)
	h.done.Wait()
}
