package batch

import (
	"strings"
	"testing"
)

// TestStreamCutsAsPriceBlocks checks that the stream cuts a batch's
// trades into blocks as PriceBlocks does: a small batch of costly trades
// in blocks of 8 or more, at least four a worker, so that it takes every
// core (30 Asians took one core, twice PriceTo's time, in one block of
// 512); a large one in blocks of encodeBlock; no more workers than blocks.
func TestStreamCutsAsPriceBlocks(t *testing.T) {
	for _, c := range []struct {
		trades, workers   int // the list's bytes / 100, Options.Workers
		blockLen, running int
	}{
		{trades: 30, workers: 2, blockLen: 8, running: 2},
		{trades: 200, workers: 2, blockLen: 25, running: 2},
		{trades: 1, workers: 1000, blockLen: 8, running: 1},
		{trades: 100, workers: 1000, blockLen: 8, running: 13},
		{trades: 1 << 20, workers: 2, blockLen: encodeBlock, running: 2},
		{trades: 1 << 20, workers: 7, blockLen: encodeBlock, running: 7},
	} {
		st := &streamer{opt: Options{Workers: c.workers}}
		st.size(make([]byte, 100*c.trades-1), 0) // no trade to measure: 100 bytes a trade
		blk := <-st.free
		if cap(blk.trades) != c.blockLen || st.workers != c.running || cap(st.free) != 2*c.running+2 {
			t.Errorf("%d trades on %d workers: blocks of %d on %d workers (%d blocks), want %d on %d",
				c.trades, c.workers, cap(blk.trades), st.workers, cap(st.free), c.blockLen, c.running)
		}
	}
	// 30 trades of 400 bytes, the first measured: 30 counted, not 120.
	trade := `{"id": "A", "pad": "` + strings.Repeat("x", 400-22) + `"}`
	list := "[" + strings.Repeat(trade+",\n", 29) + trade + "]}"
	st := &streamer{opt: Options{Workers: 2}}
	st.size([]byte(list), 0)
	if blk := <-st.free; cap(blk.trades) != 8 || st.workers != 2 {
		t.Errorf("30 trades of 400 bytes on 2 workers: blocks of %d on %d workers, want 8 on 2", cap(blk.trades), st.workers)
	}
}
