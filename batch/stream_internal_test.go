package batch

import (
	"bytes"
	"context"
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
		if cap(blk.room) != c.blockLen || st.workers != c.running || cap(st.free) != 2*c.running+2 {
			t.Errorf("%d trades on %d workers: blocks of %d on %d workers (%d blocks), want %d on %d",
				c.trades, c.workers, cap(blk.room), st.workers, cap(st.free), c.blockLen, c.running)
		}
	}
	// 30 trades of 400 bytes, the first measured: 30 counted, not 120.
	trade := `{"id": "A", "pad": "` + strings.Repeat("x", 400-22) + `"}`
	list := "[" + strings.Repeat(trade+",\n", 29) + trade + "]}"
	st := &streamer{opt: Options{Workers: 2}}
	st.size([]byte(list), 0)
	if blk := <-st.free; cap(blk.room) != 8 || st.workers != 2 {
		t.Errorf("30 trades of 400 bytes on 2 workers: blocks of %d on %d workers, want 8 on 2", cap(blk.room), st.workers)
	}
}

// TestStreamCutsWhatRemains: the stream cuts its blocks by the trades
// left, as PriceBlocks does (blockStarts): the first as long as
// PriceBlocks' first, none longer, and the last ones of 8 trades, where
// cut evenly a worker could wait a whole block (a quarter of its share:
// 125 ms of 831 FD Americans on 2 cores) for the other at the end.
func TestStreamCutsWhatRemains(t *testing.T) {
	const n, workers = 831, 2
	data, err := Sample(SampleSpec{Type: "european", N: n, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	b, err := DecodeBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := PriceTo(context.Background(), b, Options{Workers: workers}, &want); err != nil {
		t.Fatal(err)
	}
	// StreamPriceTo, the blocks' lengths seen as the decoder hands them on.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got bytes.Buffer
	st := &streamer{ctx: ctx, cancel: cancel, opt: Options{Workers: workers}, w: &got}
	d := decoder{s: scanner{data: data, in: newInterner()}}
	var lens []int
	d.stream = func(b *Batch, trades []Trade) ([]Trade, error) {
		if trades != nil {
			lens = append(lens, len(trades))
		}
		return st.take(&d, b, trades)
	}
	_, err = d.batch(true)
	if st.work != nil {
		close(st.work)
		close(st.order)
	}
	st.wg.Wait()
	if err != nil || st.failed || st.rw.Close() != nil || !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("streamed: %v, failed %v, %d bytes, the same as PriceTo's %d: %v", err, st.failed, got.Len(), want.Len(), bytes.Equal(got.Bytes(), want.Bytes()))
	}
	starts := blockStarts(n, workers)
	sum := 0
	for k, l := range lens {
		sum += l
		if l > lens[0] || (l < block && k < len(lens)-1) {
			t.Errorf("block %d of %d trades (the first of %d)", k, l, lens[0])
		}
	}
	// The trades counted at the first one's bytes: about n.
	if sum != n || abs(lens[0]-starts[1]) > starts[1]/8 || abs(len(lens)-(len(starts)-1)) > 4 {
		t.Errorf("%d trades in %d blocks, the first of %d; want %d in about %d, the first of about %d", sum, len(lens), lens[0], n, len(starts)-1, starts[1])
	}
	for _, l := range lens[max(0, len(lens)-2):] {
		if l > block {
			t.Errorf("the last two blocks of %v, want %d trades at most", lens[max(0, len(lens)-2):], block)
			break
		}
	}
}

func abs(x int) int { return max(x, -x) }
