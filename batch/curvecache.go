package batch

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/market"
)

// DefaultCurveCachePillars bounds the pillars of the bootstrapped curves
// a CurveCache keeps unless told otherwise: a pillar is a date and two
// float64s, so some 1.3 MB of curves, 64 of the largest a batch may have
// (maxBootstrapInstruments) or thousands of a few dozen.
const DefaultCurveCachePillars = 1 << 16

// curveEntryWeight is what a curve counts against the cache's bound beside
// its pillars: its key, its entry and its error, as pillars.
const curveEntryWeight = 16

// CurveCache keeps the bootstrapped curves compiles have built, for later
// compiles of the same curve: a pricer prices a batch chunk by chunk, each
// chunk carrying the batch's curves, and bootstrapping a 1,000-instrument
// curve takes up to 2 s, in every chunk. A curve is the same when its
// valuation date, its field (market.curves.NAME.bootstrap, which its
// errors name) and its instruments' JSON are, byte for byte once
// compacted (curveKeyOf): it is then bootstrapped from the same quotes to
// the same bits, or fails with the same error, which is kept too. A built
// curve is never modified (market.PiecewiseCurve), so jobs on many
// goroutines share it. The cache keeps curves of at most its bound of
// pillars in all (each counted curveEntryWeight more), dropping the ones
// used least recently: bounded by their count, a batch's chunks each on
// more curves than the bound (or the chunks of as many batches, taken in
// turns) would find none built. It is safe for concurrent use: compiles
// that ask for a curve being built wait for that build instead of
// building it again.
type CurveCache struct {
	max    int // of weight
	mu     sync.Mutex
	byKey  map[curveKey]*list.Element // of *curveEntry
	order  *list.List                 // most recently used first
	weight int                        // the entries' in all
	// builds and reuses count the curves built and those served built.
	builds, reuses atomic.Int64
	// build bootstraps a curve: buildBootstrapCurve, but in tests.
	build func(field string, raw json.RawMessage, asOf dates.Date) (pricing.YieldCurve, error)
}

// curveKey is the SHA-256 of what makes a bootstrapped curve the same.
type curveKey [sha256.Size]byte

// curveEntry is one curve, built or being built: done is closed once
// curve, err and costNS (buildCostNS) are set. weight is what it counts
// against the bound, curveEntryWeight until it is built.
type curveEntry struct {
	key    curveKey
	done   chan struct{}
	curve  pricing.YieldCurve
	err    error
	costNS float64
	weight int
}

// NewCurveCache returns a cache of curves of at most pillars pillars in
// all; pillars <= 0 means DefaultCurveCachePillars. The curve used last
// is kept even alone past the bound.
func NewCurveCache(pillars int) *CurveCache {
	if pillars <= 0 {
		pillars = DefaultCurveCachePillars
	}
	return &CurveCache{max: pillars, byKey: map[curveKey]*list.Element{}, order: list.New(), build: buildBootstrapCurve}
}

// Builds returns how many curves the cache has bootstrapped.
func (c *CurveCache) Builds() int64 { return c.builds.Load() }

// Reuses returns how many times a curve the cache had built (or was
// building) served a compile instead of being bootstrapped again.
func (c *CurveCache) Reuses() int64 { return c.reuses.Load() }

// bootstrap is buildBootstrapCurve, the curve built once and then served
// from the cache to compiles of the same scope (Engines.CurveScope), with
// the estimated cost of its build (buildCostNS), whoever built it. A nil
// cache builds every time.
func (c *CurveCache) bootstrap(scope, field string, raw json.RawMessage, asOf dates.Date) (curve pricing.YieldCurve, costNS float64, err error) {
	if c == nil {
		curve, err = buildBootstrapCurve(field, raw, asOf)
		return curve, buildCostNS(curve, err), err
	}
	k := curveKeyOf(scope, field, raw, asOf)
	c.mu.Lock()
	if el, ok := c.byKey[k]; ok {
		c.order.MoveToFront(el)
		c.mu.Unlock()
		c.reuses.Add(1)
		e := el.Value.(*curveEntry)
		<-e.done
		return e.curve, e.costNS, e.err
	}
	e := &curveEntry{key: k, done: make(chan struct{}), weight: curveEntryWeight}
	c.byKey[k] = c.order.PushFront(e)
	c.weight += e.weight
	c.evict()
	c.mu.Unlock()
	c.builds.Add(1)
	defer close(e.done)
	defer func() {
		if p := recover(); p != nil {
			// A bug: the compiles waiting for this curve get it as the
			// curve's error, as the trades on it do, and the next
			// compile tries again.
			e.curve, e.err = nil, &Error{Field: field, Reason: fmt.Sprintf("internal error bootstrapping it: %v", p)}
			curve, err = e.curve, e.err
			c.drop(e)
		}
	}()
	e.curve, e.err = c.build(field, raw, asOf)
	e.costNS = buildCostNS(e.curve, e.err)
	if e.err != nil {
		// Kept as its message alone: its cause may hold the bad value
		// the message cuts (a tenor of megabytes, a *pricing.InputError's
		// Value), which the entry's weight does not count, and the trades
		// on the curve read its field and reason (UnusableError).
		e.err = messageOnly(field, e.err)
	}
	if pc, ok := e.curve.(*market.PiecewiseCurve); ok {
		c.settle(e, curveEntryWeight+len(pc.Pillars()))
	}
	return e.curve, e.costNS, e.err
}

// messageOnly returns err as an *Error of its field and reason, without
// its cause.
func messageOnly(field string, err error) *Error {
	be := asError(field, err)
	return &Error{Field: be.Field, Reason: be.Reason}
}

// settle sets the weight of e, built, and drops the curves used least
// recently past the bound.
func (c *CurveCache) settle(e *curveEntry, weight int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[e.key]; ok && el.Value == e { // not dropped meanwhile
		c.weight += weight - e.weight
		e.weight = weight
		c.evict()
	}
}

// evict drops the curves used least recently while the cache is past its
// bound, but the one used last. c.mu is held.
func (c *CurveCache) evict() {
	for c.weight > c.max && c.order.Len() > 1 {
		last := c.order.Back()
		c.order.Remove(last)
		e := last.Value.(*curveEntry)
		delete(c.byKey, e.key)
		c.weight -= e.weight
	}
}

// drop removes e from the cache, if it is still there.
func (c *CurveCache) drop(e *curveEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[e.key]; ok && el.Value == e {
		c.order.Remove(el)
		delete(c.byKey, e.key)
		c.weight -= e.weight
	}
}

// curveKeyOf hashes a bootstrapped curve's scope, valuation date, field
// and instruments, the scope's and the field's lengths first so that no
// two differ only in where one ends. The instruments are compacted first:
// a chunk carries them re-encoded, without the whitespace of the document
// ingress read, and space between JSON tokens changes nothing of the
// curve nor of its errors (a fault that quotes a byte offset, malformed
// JSON or a duplicate key, rejects the batch as it is decoded).
func curveKeyOf(scope, field string, raw json.RawMessage, asOf dates.Date) curveKey {
	var compact bytes.Buffer
	compact.Grow(len(raw))
	if json.Compact(&compact, raw) == nil {
		raw = compact.Bytes()
	}
	h := sha256.New()
	var n [24]byte
	binary.LittleEndian.PutUint64(n[:8], uint64(asOf))
	binary.LittleEndian.PutUint64(n[8:], uint64(len(scope)))
	binary.LittleEndian.PutUint64(n[16:], uint64(len(field)))
	h.Write(n[:])
	h.Write([]byte(scope))
	h.Write([]byte(field))
	h.Write(raw)
	var k curveKey
	h.Sum(k[:0])
	return k
}
