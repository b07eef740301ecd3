package batch

import (
	"fmt"
	"slices"
	"unsafe"
)

// The chunking defaults. A chunk is priced by one pricer request, which
// must end well inside a Knative request timeout (30 s on the Knative
// Functions runtime) even on one core: one second of estimated work per
// chunk leaves a wide margin for a cost model that is off by ten, and keeps
// chunks small enough to spread over many pricers.
const (
	// DefaultChunkCost is the estimated pricing time of one chunk on one
	// core, in nanoseconds.
	DefaultChunkCost = 1e9
	// DefaultChunkTrades caps the trades of one chunk, so that cheap trades
	// still make several chunks and each event stays a few MB.
	DefaultChunkTrades = 10_000
	// DefaultChunkBytes caps the trades' JSON in one chunk.
	DefaultChunkBytes = 4 << 20
	// DefaultMaxChunks caps the chunks of one batch (PlanChunks): each
	// is a record in the batch store and an event, some 1.2 KB of
	// ingress's memory in all (500,000 chunks: 620 MB), and a 1.6 MB
	// risk run of 1,000 costly Asians under 10,000 scenarios planned
	// 10 million of them.
	DefaultMaxChunks = 1_000_000
	// TradeOverhead is the per-trade cost of carrying a trade through a
	// chunk (decode, compile, encode the result, the events around it), in
	// nanoseconds of one core, that Plan adds to the engine's estimate
	// (Job.Cost): ChunkCost.
	TradeOverhead = 2_000
)

// ChunkCost returns the estimated time of pricing trades [lo, hi) of the
// job as one chunk, in nanoseconds of one core: each trade's Cost plus
// TradeOverhead, the figure Plan packs against ChunkOptions.TargetCost.
func (j *Job) ChunkCost(lo, hi int) float64 {
	var ns float64
	for i := lo; i < hi; i++ {
		ns += j.Cost(i) + TradeOverhead
	}
	return ns
}

// ChunkOptions tunes Plan. The zero value uses the defaults.
type ChunkOptions struct {
	// TargetCost is the estimated work of one chunk, in nanoseconds of one
	// core; 0 means DefaultChunkCost.
	TargetCost float64
	// MaxTrades caps the trades of one chunk; 0 means DefaultChunkTrades.
	MaxTrades int
	// MaxBytes caps the raw trade JSON of one chunk; 0 means
	// DefaultChunkBytes.
	MaxBytes int
	// MaxChunks caps the chunks of one batch, whose plan PlanChunks cuts
	// short past it; 0 means DefaultMaxChunks.
	MaxChunks int
}

// ChunksLimit returns o.MaxChunks, or its default.
func (o ChunkOptions) ChunksLimit() int {
	if o.MaxChunks <= 0 {
		return DefaultMaxChunks
	}
	return o.MaxChunks
}

// Plan splits the trades of b, compiled as j, into consecutive chunks of
// about opt.TargetCost of estimated work each (Job.Cost), so that a chunk of
// Monte Carlo Asians holds far fewer trades than a chunk of Europeans and
// every chunk takes about the same time. It returns the index of each
// chunk's first trade: chunk i holds trades [offsets[i], offsets[i+1]), the
// last one up to the end. A batch without trades has no chunks. A trade
// costlier than the target is a chunk of its own. Chunk boundaries never
// change results: each trade prices the same in any chunk.
//
// It panics if j was not compiled from b.
func Plan(b *Batch, j *Job, opt ChunkOptions) []int {
	if j.Len() != len(b.Trades) {
		panic(fmt.Sprintf("batch: Plan: job has %d trades, batch %d", j.Len(), len(b.Trades)))
	}
	target, maxTrades, maxBytes := opt.limits()
	return packTrades(b, func(i int) float64 { return j.Cost(i) + TradeOverhead }, target, maxTrades, maxBytes)
}

// limits returns o's bounds of a chunk, defaults in place of zeros.
func (o ChunkOptions) limits() (target float64, maxTrades, maxBytes int) {
	target, maxTrades, maxBytes = o.TargetCost, o.MaxTrades, o.MaxBytes
	if target <= 0 {
		target = DefaultChunkCost
	}
	if maxTrades <= 0 {
		maxTrades = DefaultChunkTrades
	}
	if maxBytes <= 0 {
		maxBytes = DefaultChunkBytes
	}
	return target, maxTrades, maxBytes
}

// Subset returns the batch of trades [lo, hi) of b, carrying only the
// market data those trades use: the curves and underlyings they name and
// the curves of those underlyings. It keeps b's id, valuation date and
// measures, and shares the raw JSON of the trades and market entries with
// b (MarshalJSON writes them as they are).
//
// It panics if the range is out of bounds.
func (b *Batch) Subset(lo, hi int) *Batch {
	trades := b.Trades[lo:hi:hi]
	out := &Batch{ID: b.ID, ValuationDate: b.ValuationDate, Measures: b.Measures, Trades: trades}
	underlyings, curves := marketUse(trades, &b.Market)
	for _, name := range underlyings.list {
		if u, ok := b.Market.Underlyings[name]; ok {
			if out.Market.Underlyings == nil {
				out.Market.Underlyings = map[string]UnderlyingData{}
			}
			out.Market.Underlyings[name] = u
			if raw, ok := b.Market.rawUnderlyings[name]; ok {
				if out.Market.rawUnderlyings == nil {
					out.Market.rawUnderlyings = map[string][]byte{}
				}
				out.Market.rawUnderlyings[name] = raw
			}
		}
	}
	for _, name := range curves.list {
		if c, ok := b.Market.Curves[name]; ok {
			if out.Market.Curves == nil {
				out.Market.Curves = map[string]CurveData{}
			}
			out.Market.Curves[name] = c
			if raw, ok := b.Market.rawCurves[name]; ok {
				if out.Market.rawCurves == nil {
					out.Market.rawCurves = map[string][]byte{}
				}
				out.Market.rawCurves[name] = raw
			}
		}
	}
	return out
}

// marketUse returns the names of the underlyings and the curves trades
// use, each once, in the order first named: the curves they name and the
// curves of those of their underlyings that m has. The names of either
// may be missing from m (a batch-level fault Compile reports).
func marketUse(trades []Trade, m *MarketData) (underlyings, curves names) {
	// A batch's trades name few, over and over, and a name is looked up
	// in the maps once.
	for i := range trades {
		t := &trades[i]
		for _, c := range t.Curves {
			curves.add(c)
		}
		if t.Underlying != "" {
			underlyings.add(t.Underlying)
		}
	}
	for _, name := range underlyings.list {
		if u, ok := m.Underlyings[name]; ok && u.Curve != "" {
			curves.add(u.Curve)
		}
	}
	return underlyings, curves
}

// names is a set of names in the order first added: a list while it is
// short, with a map beside it once it is not.
type names struct {
	list []string
	set  map[string]struct{}
	// known holds names added, each in a slot chosen by the address of
	// its bytes. The decoder's strings of one name share their bytes, so
	// a name the trades give over and over is found there again by a
	// test that comes out the same at almost every trade, where a look in
	// the list came out one way or another with the order of the trades
	// (a mispredicted branch or two a trade, most of marketUse's time).
	known [32]string
}

func (n *names) add(name string) {
	slot := &n.known[knownSlot(name)]
	if len(name) > 0 && len(*slot) == len(name) && unsafe.StringData(*slot) == unsafe.StringData(name) {
		return // the same bytes: the same name
	}
	*slot = name
	if n.set == nil {
		for _, x := range n.list {
			if x == name {
				return
			}
		}
		if n.list = append(n.list, name); len(n.list) > 16 {
			n.set = make(map[string]struct{}, 2*len(n.list))
			for _, x := range n.list {
				n.set[x] = struct{}{}
			}
		}
		return
	}
	if _, ok := n.set[name]; !ok {
		n.set[name] = struct{}{}
		n.list = append(n.list, name)
	}
}

// knownSlot returns the slot of names.known for name: a hash of the
// address of its bytes.
func knownSlot(name string) uint64 {
	return uint64(uintptr(unsafe.Pointer(unsafe.StringData(name)))) * 0x9e3779b97f4a7c15 >> (64 - 5)
}

// has reports whether name was added.
func (n *names) has(name string) bool {
	if n.set != nil {
		_, ok := n.set[name]
		return ok
	}
	return slices.Contains(n.list, name)
}

// DropTerms releases the terms Decode read of every trade, keeping what
// splitting b into chunks needs: each trade's JSON, id, type and market
// references. A splitter that has compiled b to plan its chunks holds its
// trades in half the memory while it sends them. Compile fails every
// trade of b afterwards.
func (b *Batch) DropTerms() {
	for i := range b.Trades {
		if b.Trades[i].fault() == nil { // a fault is kept, to be told
			b.Trades[i].terms = nil
		}
	}
}
