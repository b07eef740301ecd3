package batch

import (
	"time"
	"unsafe"

	"github.com/pricefn/pricefn/internal/kept"
)

// tradeArrays keeps the []Trade arrays of released batches (Batch.Release)
// for the next decodes: a server decodes a batch after another, and a new
// array of some 20 MB (100,000 trades) is faulted in page by page. In
// pricefn dev that doubled ingress's read of a batch (25 -> 40-80 ms) in
// one batch of two. Each array is kept cleared: what its trades pointed to
// is garbage.
var tradeArrays = kept.List[[]Trade]{Max: 64 << 20, Keep: 10 * time.Second, Size: tradesBytes}

// tradeBytes is the size of a Trade in an array.
const tradeBytes = int(unsafe.Sizeof(Trade{}))

func tradesBytes(ts []Trade) int { return cap(ts) * tradeBytes }

// tradesStep rounds the room asked of newTrades, so that an array serves
// batches (and chunks) of about the same size.
const tradesStep = 4096

// newTrades returns an empty []Trade with room for n trades, from a kept
// array when one has it.
func newTrades(n int) []Trade {
	n = (max(n, 1) + tradesStep - 1) / tradesStep * tradesStep
	if ts, ok := tradeArrays.Take(n*tradeBytes, false); ok {
		return ts
	}
	return make([]Trade, 0, n)
}

// releaseTrades keeps array, which newTrades made, for a later newTrades;
// its first used trades were written.
func releaseTrades(array []Trade, used int) {
	clear(array[:used])
	tradeArrays.Put(array[:0])
}

// sameArray reports whether a and b start at the same element of the same
// array, with the same capacity: a slice appended to without growing.
func sameArray(a, b []Trade) bool {
	return cap(a) > 0 && cap(a) == cap(b) && &a[:1][0] == &b[:1][0]
}

// Release gives the memory of the batch's trades back for later decodes
// (a server's next batch). Neither the batch nor any batch made from it
// (Subset, ChunkOf) is used after: it is for the owner of a batch that
// DecodeBytes or DecodePlan returned, done with it.
func (b *Batch) Release() {
	if b.array != nil {
		releaseTrades(b.array, len(b.Trades))
		b.array = nil
	}
	b.Trades = nil
}
