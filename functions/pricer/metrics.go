package pricer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
)

// metrics are the pricer's Prometheus metrics. Trade types are label
// values from batch.TradeTypes (others count as "other"), failure reasons
// the classes of failureClass: every label set is bounded.
type metrics struct {
	chunk    prometheus.Histogram
	trades   *prometheus.CounterVec // type, outcome
	failures *prometheus.CounterVec // type, reason
	busy     *prometheus.CounterVec // type
	perTrade *prometheus.HistogramVec
	// scenarios counts a risk run's valuations (a trade in a scenario),
	// by trade type, and scenarioBusy their time: not in trades or busy,
	// which count the base market's.
	scenarios    *prometheus.CounterVec // type
	scenarioBusy prometheus.Counter
	rejected     *prometheus.CounterVec
	expired      prometheus.Counter
	requests     *host.Requests
	// types maps a trade type to its index in names; names ends with
	// "other".
	types map[string]int
	names []string
}

// The reasons of pricefn_events_rejected_total{function="pricer"}.
const (
	rejectMalformed    = "malformed"     // not a chunk.requested the pricer can read
	rejectInvalidBatch = "invalid_batch" // the chunk's batch does not compile
)

// The classes of a failed trade (label reason of
// pricefn_pricer_trade_failures_total).
const (
	failTerms      = "terms"       // the trade's own terms, or its engine refused them
	failMarketData = "market_data" // the market data it uses cannot price it
	failNotFinite  = "not_finite"  // a measure came out NaN or infinite
	failInternal   = "internal"    // the engine panicked
)

// failureClass classifies a trade's error result by the wording package
// batch gives each kind of fault.
func failureClass(msg string) string {
	switch {
	case strings.Contains(msg, "internal error in the pricing engine"):
		return failInternal
	case strings.Contains(msg, " is not finite"):
		return failNotFinite
	case strings.Contains(msg, ": market."), strings.Contains(msg, " unusable: "):
		return failMarketData
	}
	return failTerms
}

// newMetrics makes the metrics and registers them with reg, when not nil,
// every label value the pricer can use starting at zero, and the counts
// of curves, the pricer's curve cache.
func newMetrics(reg prometheus.Registerer, curves *batch.CurveCache) *metrics {
	names := append(batch.TradeTypes(), "other")
	m := &metrics{
		chunk: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pricefn_pricer_chunk_seconds",
			Help:    "Time to price one chunk, decode to reply.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 15), // 1 ms to 6 min (a risk run's chunk)
		}),
		trades: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pricefn_pricer_trades_total",
			Help: "Trades priced, by trade type and outcome (priced, or failed with an error result).",
		}, []string{"type", "outcome"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pricefn_pricer_trade_failures_total",
			Help: "Trades that priced to an error result, by trade type and reason class: terms (the trade's own terms, or its engine refused them), market_data, not_finite, internal (the engine panicked).",
		}, []string{"type", "reason"}),
		busy: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pricefn_pricer_trade_seconds_total",
			Help: "Time spent pricing trades, by trade type, in seconds of one core: its rate is the cores busy with that type, its ratio to pricefn_pricer_trades_total the mean cost of a trade.",
		}, []string{"type"}),
		perTrade: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pricefn_pricer_trade_duration_seconds",
			Help:    "Time to price one trade, by trade type: each observation is the mean over a run of at most 8 consecutive trades of the type (timing each trade alone would cost as much as a European's pricing).",
			Buckets: prometheus.ExponentialBuckets(1e-7, 3, 19), // 100 ns to 39 s (an Asian of millions of paths)
		}, []string{"type"}),
		scenarios: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pricefn_pricer_scenario_valuations_total",
			Help: "Valuations of a trade in a risk run's scenario, by trade type (pricefn_pricer_trades_total counts the base market's).",
		}, []string{"type"}),
		scenarioBusy: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pricefn_pricer_scenario_seconds_total",
			Help: "Time spent valuing trades in risk runs' scenarios, in seconds of one core (its rate is the cores busy with scenarios; pricefn_pricer_trade_seconds_total counts the base market's).",
		}),
		expired: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pricefn_pricer_chunks_expired_total",
			Help: "Chunks skipped, not priced, because their batch's deadline had passed (by more than the pricer's late grace): the batch had ended without them.",
		}),
		rejected: host.NewRejections("pricer", reg, rejectMalformed, rejectInvalidBatch),
		requests: host.NewRequests("pricer", reg),
		types:    make(map[string]int, len(names)),
		names:    names,
	}
	for i, t := range names {
		m.types[t] = i
		m.trades.WithLabelValues(t, "priced")
		m.trades.WithLabelValues(t, "failed")
		for _, r := range []string{failTerms, failMarketData, failNotFinite, failInternal} {
			m.failures.WithLabelValues(t, r)
		}
		m.busy.WithLabelValues(t)
		m.perTrade.WithLabelValues(t)
		m.scenarios.WithLabelValues(t)
	}
	if reg != nil {
		reg.MustRegister(m.chunk, m.trades, m.failures, m.busy, m.perTrade, m.scenarios, m.scenarioBusy, m.expired,
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "pricefn_pricer_curve_builds_total",
				Help: "Bootstrapped curves built: each is built once for the chunks that carry it (a batch's), while the pricer's curve cache keeps it (in pricefn dev, shared with ingress, those ingress built too).",
			}, func() float64 { return float64(curves.Builds()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "pricefn_pricer_curve_reuses_total",
				Help: "Bootstrapped curves a chunk took from the pricer's curve cache, built for an earlier chunk (or being built for one), instead of building them.",
			}, func() float64 { return float64(curves.Reuses()) }))
	}
	return m
}

// typeIndex returns the index of trade type t in m.names.
func (m *metrics) typeIndex(t string) int {
	if i, ok := m.types[t]; ok {
		return i
	}
	return len(m.names) - 1
}

// price prices every trade of job as job.Price does, on opt's workers
// and cores, results in input order, timed by type
// (priceBlocks). It fails only if ctx ends first.
func (m *metrics) price(ctx context.Context, job *batch.Job, types []string, opt batch.Options) ([]batch.TradeResult, error) {
	out := make([]batch.TradeResult, job.Len())
	err := m.priceBlocks(ctx, job, types, opt, func(b *batch.PricedBlock) error {
		copy(out[b.Lo:], b.Results)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// priceBlocks prices job's trades in blocks (batch.Job.PriceBlocks), each
// handed to use in input order, and records the time each trade type
// takes: runs of at most 8 consecutive trades of one type (types[i] is
// trade i's), each timed with two clock reads, their wall time per trade
// in perTrade and their CPU time in busy (the wall time of workers
// sharing cores counted each core more than once).
func (m *metrics) priceBlocks(ctx context.Context, job *batch.Job, types []string, opt batch.Options, use func(*batch.PricedBlock) error) error {
	busy := make([]time.Duration, len(m.names))
	var mu sync.Mutex
	timed := func(lo, hi int, took, cpu time.Duration) {
		k := m.typeIndex(types[lo])
		m.perTrade.WithLabelValues(m.names[k]).Observe(took.Seconds() / float64(hi-lo))
		mu.Lock()
		busy[k] += cpu
		mu.Unlock()
	}
	err := job.PriceBlocks(ctx, opt, &batch.BlockTiming{Types: types, Timed: timed}, use)
	for k, d := range busy {
		if d > 0 {
			m.busy.WithLabelValues(m.names[k]).Add(d.Seconds())
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return fmt.Errorf("pricer: pricing batch %s: %w", job.ID, err)
	}
	return nil
}

// failClasses are the failure classes, in the order tally counts them.
var failClasses = [...]string{failTerms, failMarketData, failNotFinite, failInternal}

// tally counts the outcomes of a chunk's trades by type, recorded once
// the chunk is priced (record): a chunk cut short (and priced again) is
// not counted.
type tally struct {
	m              *metrics
	priced, failed []int
	classes        [][len(failClasses)]int // failed by type and class
}

// scenarioWork counts the valuations of p, a risk run's block of
// scenarios over trades of types types, and their time.
func (m *metrics) scenarioWork(p *batch.ScenarioPartials, types []string) {
	trades := make([]int, len(m.names)) // by type
	for _, typ := range types {
		trades[m.typeIndex(typ)]++
	}
	for k, n := range trades {
		if n > 0 {
			m.scenarios.WithLabelValues(m.names[k]).Add(float64(n * len(p.Scenarios)))
		}
	}
	m.scenarioBusy.Add(p.Busy.Seconds())
}

func (m *metrics) tally() *tally {
	n := len(m.names)
	return &tally{m: m, priced: make([]int, n), failed: make([]int, n), classes: make([][len(failClasses)]int, n)}
}

// add counts results, of trades of types types.
func (t *tally) add(results []batch.TradeResult, types []string) {
	k, last := 0, ""
	for i := range results {
		if i == 0 || types[i] != last { // a chunk's trades come in runs of a type
			k, last = t.m.typeIndex(types[i]), types[i]
		}
		if msg := results[i].Error; msg != "" {
			t.failed[k]++
			t.classes[k][slices.Index(failClasses[:], failureClass(msg))]++
			continue
		}
		t.priced[k]++
	}
}

// failures returns how many trades failed.
func (t *tally) failures() int {
	n := 0
	for _, f := range t.failed {
		n += f
	}
	return n
}

// record adds the counts to the trades and failures metrics.
func (t *tally) record() {
	for k, name := range t.m.names {
		for c, n := range t.classes[k] {
			if n > 0 {
				t.m.failures.WithLabelValues(name, failClasses[c]).Add(float64(n))
			}
		}
		if t.priced[k] > 0 {
			t.m.trades.WithLabelValues(name, "priced").Add(float64(t.priced[k]))
		}
		if t.failed[k] > 0 {
			t.m.trades.WithLabelValues(name, "failed").Add(float64(t.failed[k]))
		}
	}
}

// priceEncoded prices every trade of job as price does and returns the
// chunk's results array encoded into an events.NewResultsBuffer (sized by
// the first block's bytes a trade), their totals (underlyings[i] is trade
// i's) and their outcomes counted. The blocks go
// into the array as they come: the results are never all in memory as
// TradeResults.
func (m *metrics) priceEncoded(ctx context.Context, job *batch.Job, types, underlyings []string, opt batch.Options) ([]byte, *batch.ChunkTotaler, *tally, error) {
	var buf []byte // made at the first block, sized by its bytes a trade
	var totals batch.ChunkTotaler
	counts := m.tally()
	err := m.priceBlocks(ctx, job, types, opt, func(b *batch.PricedBlock) error {
		if buf == nil {
			// The trades left at the first block's bytes a trade, and a
			// sixteenth more: a reply in this process travels as it is
			// only when its array is snug (events.Snug, an eighth), and
			// a block's mean varies by a few percent.
			perTrade := len(b.Encoded)/max(len(b.Results), 1) + 1
			buf = append(events.NewResultsBuffer(64+len(b.Encoded)+(job.Len()-len(b.Results))*perTrade*17/16), '[')
		} else {
			buf = append(buf, ',')
		}
		buf = append(buf, b.Encoded...)
		hi := b.Lo + len(b.Results)
		var us []string
		if underlyings != nil {
			us = underlyings[b.Lo:hi]
		}
		totals.Add(b.Results, us)
		counts.add(b.Results, types[b.Lo:hi])
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	if buf == nil { // no trades
		buf = append(events.NewResultsBuffer(64), '[')
	}
	return append(buf, "\n]"...), &totals, counts, nil
}

// tradeTypes lists the type of each trade of b.
func tradeTypes(b *batch.Batch) []string {
	out := make([]string, len(b.Trades))
	for i := range b.Trades {
		out[i] = b.Trades[i].Type
	}
	return out
}
