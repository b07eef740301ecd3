package batch

import "testing"

// TestBlockStarts: PriceBlocks' blocks cover the trades once, in order,
// each of at most encodeBlock trades and of block or more but the last,
// never longer than the one before; their length follows what remains,
// so that the last ones are short (a worker waits at most a block of 8
// costly trades for the other at the end) and a large batch is cut in
// blocks of encodeBlock until its last few thousand trades.
func TestBlockStarts(t *testing.T) {
	for _, c := range []struct {
		n, workers int
		first, end int // the first block's length; the longest the last two may be
		most       int // the most blocks
	}{
		{n: 0, workers: 2, most: 0},
		{n: 1, workers: 2, first: 1, end: 1, most: 1},
		{n: 30, workers: 2, first: 8, end: 8, most: 4},
		{n: 831, workers: 2, first: 103, end: 8, most: 40},
		{n: 2000, workers: 2, first: 250, end: 8, most: 50},
		{n: 100_000, workers: 2, first: encodeBlock, end: 8, most: 100_000/encodeBlock + 40},
		{n: 100, workers: 1000, first: 8, end: 8, most: 13},
	} {
		s := blockStarts(c.n, c.workers)
		if s[0] != 0 || s[len(s)-1] != c.n || len(s)-1 > c.most {
			t.Errorf("%d trades, %d workers: %d blocks from %d to %d, want %d at most from 0 to %d", c.n, c.workers, len(s)-1, s[0], s[len(s)-1], c.most, c.n)
			continue
		}
		for k := 1; k < len(s); k++ {
			l := s[k] - s[k-1]
			switch {
			case l < 1 || l > encodeBlock:
				t.Errorf("%d trades, %d workers: block %d of %d trades", c.n, c.workers, k-1, l)
			case k < len(s)-1 && l < block:
				t.Errorf("%d trades, %d workers: block %d of %d trades, not the last", c.n, c.workers, k-1, l)
			case k > 1 && l > s[k-1]-s[k-2]:
				t.Errorf("%d trades, %d workers: block %d of %d trades, longer than the one before", c.n, c.workers, k-1, l)
			}
		}
		if len(s) > 1 && s[1] != c.first {
			t.Errorf("%d trades, %d workers: the first block of %d trades, want %d", c.n, c.workers, s[1], c.first)
		}
		for k := max(1, len(s)-2); k < len(s); k++ {
			if l := s[k] - s[k-1]; l > c.end {
				t.Errorf("%d trades, %d workers: block %d of the last two of %d trades, want %d at most", c.n, c.workers, k-1, l, c.end)
			}
		}
	}
}
