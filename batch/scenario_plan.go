package batch

import (
	"fmt"
	"math"
)

// The scenario cost model of PlanChunks, in nanoseconds of one core, on
// top of each trade's own cost (Job.Cost).
const (
	// ScenarioValuationOverhead is the cost of one trade in one scenario
	// beyond its engine's: binding it to the scenario market, adding its
	// npv and P&L to the sums.
	ScenarioValuationOverhead = 150
	// ScenarioOverhead is the cost of one scenario in one chunk: building
	// its market, carrying it in the chunk and its sums in the reply.
	ScenarioOverhead = 20_000
	// MaxChunkScenarios caps the scenarios of one chunk, so that its
	// event and its reply stay small (some 150 bytes of shifts and of sums
	// a scenario) and a batch of cheap trades still spreads.
	MaxChunkScenarios = 1000
	// maxDetailCells caps trades x scenarios of one chunk under
	// scenarioDetail "trades", whose results carry every trade's npv in
	// every scenario: some 5 MB of JSON.
	maxDetailCells = 250_000
	// minScenarioTile is the fewest scenarios PlanChunks aims to give a
	// scenario chunk: its trades are decoded and valued in the base market
	// once for them, which such a tile makes small beside the scenarios.
	minScenarioTile = 16
)

// ChunkSpec is one chunk of a batch's plan (PlanChunks): trades [Lo, Hi)
// and, for a scenario chunk, scenarios [ScenarioLo, ScenarioHi).
type ChunkSpec struct {
	Lo, Hi int
	// Scenario marks a scenario chunk: its pricer returns the exact sums
	// of its trades in its scenarios (ScenarioPartials) and no trade
	// results. A chunk that is not one is a base chunk: its trades'
	// results, with their scenarioNpv under scenarioDetail "trades".
	Scenario               bool
	ScenarioLo, ScenarioHi int
}

// PlanChunks splits the work of b, compiled as j, into chunks of about
// opt.TargetCost of estimated work each. A batch without scenarios is
// split as Plan splits it, into base chunks. Under N scenarios the work is
// trades x scenarios: the trades are cut into blocks and each block's
// scenarios into equal ranges (range p of m is [p N / m, (p+1) N / m)),
// so that 100 trades x 10,000 scenarios spreads over pricers as well as
// 1,000,000 trades x 1 scenario. Each block is its scenario chunks, in
// scenario order, then its base chunk: the chunks' first trades
// (ChunkOffsets) never decrease, and a chunk's trades run to the next
// chunk's first trade only for a base chunk, which is how a store that
// knows chunks by their offsets tells them apart (a scenario chunk holds
// no trade results). The plan depends only on the batch and opt; results
// do not depend on it. A plan of more than opt.ChunksLimit() chunks is cut
// short once past it, which its caller refuses: the whole of it may not
// fit in memory.
//
// It panics if j was not compiled from b.
func PlanChunks(b *Batch, j *Job, opt ChunkOptions) []ChunkSpec {
	n, ns := len(b.Trades), len(b.Scenarios.List)
	if j.Len() != n {
		panic(fmt.Sprintf("batch: PlanChunks: job has %d trades, batch %d", j.Len(), n))
	}
	if ns == 0 || j.scen == nil {
		return specsOf(Plan(b, j, opt), n)
	}
	if n == 0 {
		// No trades, no blocks: the scenarios alone, in scenario chunks
		// of no trades, whose (zero) sums still give every scenario its
		// entry and the risk its statistics, as Price does.
		m := (ns + MaxChunkScenarios - 1) / MaxChunkScenarios
		out := make([]ChunkSpec, m)
		for p := range out {
			out[p] = ChunkSpec{Scenario: true, ScenarioLo: p * ns / m, ScenarioHi: (p + 1) * ns / m}
		}
		return out
	}
	target, maxTrades, maxBytes := opt.limits()
	detail := j.ScenarioDetail()
	var offsets []int
	if detail {
		// A base chunk values its trades in every scenario.
		offsets = packTrades(b, func(i int) float64 {
			return j.Cost(i) + TradeOverhead + float64(ns)*(j.Cost(i)+ScenarioValuationOverhead)
		}, target, min(maxTrades, max(maxDetailCells/ns, 1)), maxBytes)
	} else {
		offsets = packTrades(b, func(i int) float64 { return j.Cost(i) + TradeOverhead },
			target/float64(min(ns, minScenarioTile)+1), maxTrades, maxBytes)
	}
	var out []ChunkSpec
	for k, lo := range offsets {
		hi := n
		if k+1 < len(offsets) {
			hi = offsets[k+1]
		}
		var base, per float64
		for i := lo; i < hi; i++ {
			base += j.Cost(i) + TradeOverhead
			per += j.Cost(i) + ScenarioValuationOverhead
		}
		per += ScenarioOverhead
		tile := min(max(math.Floor((target-base)/per), 1), MaxChunkScenarios)
		m := int(math.Ceil(float64(ns) / tile))
		for p := range m {
			out = append(out, ChunkSpec{Lo: lo, Hi: hi, Scenario: true, ScenarioLo: p * ns / m, ScenarioHi: (p + 1) * ns / m})
		}
		out = append(out, ChunkSpec{Lo: lo, Hi: hi})
		if len(out) > opt.ChunksLimit() {
			return out
		}
	}
	return out
}

// specsOf returns the base chunks of Plan's offsets over n trades.
func specsOf(offsets []int, n int) []ChunkSpec {
	out := make([]ChunkSpec, len(offsets))
	for k, lo := range offsets {
		hi := n
		if k+1 < len(offsets) {
			hi = offsets[k+1]
		}
		out[k] = ChunkSpec{Lo: lo, Hi: hi}
	}
	return out
}

// packTrades cuts the trades of b into consecutive blocks of at most
// target of cost(i) each (a trade costlier alone is a block of its own),
// maxTrades trades and maxBytes of trade JSON, as Plan does, and returns
// each block's first trade.
func packTrades(b *Batch, cost func(i int) float64, target float64, maxTrades, maxBytes int) []int {
	var offsets []int
	var sum float64
	var n, size int
	for i := range b.Trades {
		c := cost(i)
		s := len(b.Trades[i].Raw)
		if n == 0 || sum+c > target || n+1 > maxTrades || size+s > maxBytes {
			offsets = append(offsets, i)
			sum, n, size = 0, 0, 0
		}
		sum += c
		n++
		size += s
	}
	return offsets
}

// ChunkOffsets returns each chunk's first trade: the offsets a store keeps
// (store.Batch.ChunkOffsets), which never decrease.
func ChunkOffsets(specs []ChunkSpec) []int {
	out := make([]int, len(specs))
	for k, c := range specs {
		out[k] = c.Lo
	}
	return out
}

// ScenarioRanges returns the scenario range [lo, hi) of each chunk of a
// plan of a batch of trades trades that a store knows by its offsets
// alone: the scenario chunks of a block (the chunks of its offset before
// its base chunk, the last) split its n scenarios as PlanChunks does; base
// chunks get [0, 0). A batch of no trades is one block of scenario chunks
// only. It is how the aggregator places the scenarios of a chunk that
// died.
func ScenarioRanges(offsets []int, trades, n int) [][2]int {
	out := make([][2]int, len(offsets))
	for k := 0; k < len(offsets); {
		e := k
		for e+1 < len(offsets) && offsets[e+1] == offsets[k] {
			e++
		}
		m := e - k // the block's scenario chunks; chunk e is its base chunk
		if trades == 0 {
			m++ // no base chunk
		}
		for p := range m {
			out[k+p] = [2]int{p * n / m, (p + 1) * n / m}
		}
		k = e + 1
	}
	return out
}

// SpecCost estimates the pricing work of chunk c of a plan of the job
// (PlanChunks), in nanoseconds of one core, as PlanChunks counts it: a
// base chunk's trades (and, under scenarioDetail "trades", each of them in
// every scenario), or a scenario chunk's trades in the base market and in
// each of its scenarios.
func (j *Job) SpecCost(c ChunkSpec) float64 {
	base := j.ChunkCost(c.Lo, c.Hi)
	var per float64
	for i := c.Lo; i < c.Hi; i++ {
		per += j.Cost(i) + ScenarioValuationOverhead
	}
	switch {
	case c.Scenario:
		return base + float64(c.ScenarioHi-c.ScenarioLo)*(per+ScenarioOverhead)
	case j.ScenarioDetail():
		return base + float64(j.Scenarios())*per
	}
	return base
}

// TotalCost estimates the pricing work of the whole job, in nanoseconds
// of one core: each trade's cost in the base market and in every scenario
// (twice under scenarioDetail "trades", whose base chunks value every
// scenario again), and bootstrapping its curves once. A pricer keeps the
// curves it built (CurveCache): the batch's other chunks, and its
// scenarios, which shift the built curve, use them as they are; pricers
// apart each build them, but at once. Plan does not count the build in a
// chunk's cost: whichever of its chunks a pricer gets first builds it, however
// the trades are cut, and a curve's build is bounded (1,000 instruments,
// some 2 s of one core at most) where a chunk must end within a request's timeout of 30 s.
func (j *Job) TotalCost() float64 {
	var c float64
	for i := range j.Len() {
		c += j.Cost(i)
	}
	ns := float64(j.Scenarios())
	if j.ScenarioDetail() {
		ns *= 2
	}
	return c*(1+ns) + j.curveNS
}

// CurveCost estimates the time bootstrapping the job's curve called name
// takes, in nanoseconds of one core: 0 for a curve that is not
// bootstrapped, or that no trade uses (not built); a curve whose build
// fails costs what the build did until it failed. It is the part of TotalCost the first
// chunk carrying the curve (Subset) that a pricer gets pays, on top of
// SpecCost; a curve no trade uses no chunk carries.
func (j *Job) CurveCost(name string) float64 { return j.curveCost[name] }

// ScenarioBlock places a scenario chunk's scenarios in its batch: the
// index of its first one, the batch's count, and the batch's risk
// request, which the pricer returns with the chunk's sums.
type ScenarioBlock struct {
	Offset int       `json:"offset"`
	Of     int       `json:"of"`
	Risk   *RiskSpec `json:"risk,omitempty"`
}

// ChunkOf returns the batch that chunk c of a plan of b carries: trades
// [c.Lo, c.Hi) with the market data they use (Subset) and, for a scenario
// chunk, scenarios [c.ScenarioLo, c.ScenarioHi), each with the shifts of
// that market only; a base chunk under scenarioDetail "trades" carries
// every scenario and the detail. Risk stays with the batch (ScenarioBlockOf).
//
// It panics if a range is out of bounds.
func (b *Batch) ChunkOf(c ChunkSpec) *Batch {
	out := b.Subset(c.Lo, c.Hi)
	var list []Scenario
	switch {
	case c.Scenario:
		list = b.Scenarios.List[c.ScenarioLo:c.ScenarioHi]
	case b.Scenarios.Detail == DetailTrades && len(b.Scenarios.List) > 0:
		list = b.Scenarios.List
		out.Scenarios.Detail = DetailTrades
	default:
		return out
	}
	out.Scenarios.List = make([]Scenario, len(list))
	for k := range list {
		out.Scenarios.List[k] = list[k].only(&out.Market)
	}
	return out
}

// ScenarioBlockOf returns where scenario chunk c sits among b's
// scenarios, nil for a base chunk.
func (b *Batch) ScenarioBlockOf(c ChunkSpec) *ScenarioBlock {
	if !c.Scenario {
		return nil
	}
	return &ScenarioBlock{Offset: c.ScenarioLo, Of: len(b.Scenarios.List), Risk: b.Scenarios.Risk}
}
