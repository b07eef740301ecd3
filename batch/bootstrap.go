package batch

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/market"
)

// bootstrapWire is one instrument of a {"bootstrap": [...]} curve
// (docs/rates.md): a deposit or a par swap, ending on maturity or after
// tenor from start.
type bootstrapWire struct {
	rollsWire
	Type     string   `json:"type"`
	Rate     *float64 `json:"rate"`
	Start    string   `json:"start,omitempty"`
	Maturity string   `json:"maturity,omitempty"`
	Tenor    string   `json:"tenor,omitempty"`
	// deposits only
	DayCount string `json:"dayCount,omitempty"`
	// swaps only
	swapLegsWire
}

func (w *bootstrapWire) setField(k string, v value) (bool, error) {
	switch k {
	case "type":
		return true, v.str("type", &w.Type)
	case "rate":
		return true, v.num("rate", &w.Rate)
	case "start":
		return true, v.str("start", &w.Start)
	case "maturity":
		return true, v.str("maturity", &w.Maturity)
	case "tenor":
		return true, v.str("tenor", &w.Tenor)
	case "dayCount":
		return true, v.str("dayCount", &w.DayCount)
	}
	return anyField(k, v, &w.rollsWire, &w.swapLegsWire)
}

// maxBootstrapInstruments bounds the instruments of one bootstrapped
// curve. Each swap's pillar is solved repricing that swap, so a curve's
// build grows with its instruments times their coupons: 1,000 swaps of
// monthly legs out to 200 years build in up to 2 s, where 5,000 took
// 7 s and 20,000 (a 2.3 MB batch) a minute, in the first chunk on the
// curve that a pricer gets (CurveCache keeps it for the others), past the
// pricer's delivery timeout.
const maxBootstrapInstruments = 1000

// DefaultMaxBootstrapInstruments is the default bound of the bootstrap
// instruments of the curves one batch's trades use, in all
// (Engines.MaxBootstrapInstruments): a batch's check and plan (ingress's
// compile, in the submitting request) builds each of them once, up to
// some 2 s of one core for a curve of 1,000 swaps of monthly legs out
// to 200 years, and so does the first chunk a pricer gets on them. At the
// bound the worst takes some 18 s: within ingress's attempt timeout of
// 110 s, and a chunk's of 40 s (charts/pricefn), which twice as many
// would not leave room in. Realistic curve sets, tens of curves of tens
// to a few hundred instruments (say 30 of 50, 1,500, built in well under
// a second), fit with room.
const DefaultMaxBootstrapInstruments = 10_000

// ErrBootstrapBound is the cause of the batch *Error of a batch whose
// trades use bootstrapped curves of more instruments, in all, than
// Engines.MaxBootstrapInstruments allows (ingress answers it with a 413).
var ErrBootstrapBound = errors.New("too many bootstrap instruments")

// checkBootstrapBound returns the *Error of a batch whose curves called
// used list more than most bootstrap instruments in all, counted before
// any is built; a curve counts at most the instruments a curve may have
// (its build stops there).
func checkBootstrapBound(curves map[string]CurveData, used *names, most int) error {
	total := 0
	for _, name := range used.list {
		c, ok := curves[name]
		if !ok || c.Bootstrap == nil {
			continue
		}
		total += bootstrapInstruments(c.Bootstrap)
	}
	if total <= most {
		return nil
	}
	return &Error{Field: "market.curves", Reason: fmt.Sprintf(
		"the curves its trades use list %d bootstrap instruments in all, more than the limit of %d for one batch (each curve is built to check and plan it): split its trades into batches on fewer of the curves",
		total, most), Err: ErrBootstrapBound}
}

// bootstrapInstruments counts the instruments of a bootstrapped curve's
// list, raw, up to the most a curve may have (maxBootstrapInstruments:
// a longer list's build stops there, reading, before any solve); 0 when
// it is not a list.
func bootstrapInstruments(raw json.RawMessage) int {
	s := scanner{data: raw}
	list, err := s.value(0)
	if err != nil || list.kind != kindArray {
		return 0
	}
	n := 0
	list.elements("", func(int, value) error {
		if n == maxBootstrapInstruments {
			return errStopCount
		}
		n++
		return nil
	})
	return n
}

// errStopCount ends bootstrapInstruments' walk of a list.
var errStopCount = errors.New("counted enough")

// The cost model of a bootstrapped curve's build (bootstrapCostNS), in
// nanoseconds of one core, measured on curves of 30 to 1,000 deposits and
// swaps of monthly to annual legs out to 200 years, built or failing
// (each from 0.5x to 1.3x of it, in the thread's CPU time: the wall time
// of a build on a busy machine is more, 2.4x on two cores shared by five
// runnable threads).
const (
	// bootstrapReadNS is the cost of one discount factor its instruments
	// read (market.PiecewiseCurve.BuildReads): each pillar's solve
	// reprices its instrument ten times or so, on a curve of more pillars
	// to search the more of them.
	bootstrapReadNS = 300
	// bootstrapInstrumentNS is the cost of reading an instrument and
	// setting its solve up.
	bootstrapInstrumentNS = 3_000
	// bootstrapSetUpNS is the part of bootstrapReadNS that setting an
	// instrument up (its schedule) costs, before any solve: what a build
	// that fails early costs for each discount factor of every
	// instrument it set up (market.BootstrapError.SetUpReads), some 45 ns
	// measured.
	bootstrapSetUpNS = 45
)

// bootstrapCostNS estimates the time building c took, in nanoseconds of
// one core: 2.3 s (1.7 s measured) for 1,000 swaps of monthly legs
// ending 117 to 200 years out, 1.2 s (1.3 s) for 1,000 of 2 months to 167
// years, 55 ms (37 ms) for 300 of quarterly legs to 75 years, 3.6 ms for
// 1,000 deposits.
func bootstrapCostNS(c *market.PiecewiseCurve) float64 {
	return float64(c.BuildReads())*bootstrapReadNS + float64(len(c.Pillars()))*bootstrapInstrumentNS
}

// buildCostNS estimates the time a bootstrapped curve's build took, in
// nanoseconds of one core, from what the build returned: the curve's
// (bootstrapCostNS) or, for a build that failed, that of setting up its
// instruments and of the solves it made up to the instrument that failed
// it, that one's included (market.BootstrapError): a curve failing its
// last instrument, or its final reprice check, cost a whole build, and
// one failing its first solve the set-up of every instrument (186 ms for
// 1,000 swaps of monthly legs out to 167 years).
func buildCostNS(c pricing.YieldCurve, err error) float64 {
	if pc, ok := c.(*market.PiecewiseCurve); ok {
		return bootstrapCostNS(pc)
	}
	var be *market.BootstrapError
	if errors.As(err, &be) {
		return float64(be.SetUpReads)*bootstrapSetUpNS + float64(be.Reads)*bootstrapReadNS + float64(be.Solved)*bootstrapInstrumentNS
	}
	return 0
}

// buildBootstrapCurve builds a curve from deposits and par swap rates:
// raw is the JSON list of instruments, field its path for messages.
func buildBootstrapCurve(field string, raw json.RawMessage, asOf dates.Date) (pricing.YieldCurve, error) {
	s := scanner{data: raw}
	list, err := s.value(0)
	if err == nil && list.kind != kindArray {
		err = errors.New("not a list")
	}
	if err != nil {
		return nil, &Error{Field: field, Reason: "must be a list of instruments", Err: err}
	}
	var quotes []market.Quote
	err = list.elements(field, func(i int, item value) error {
		if i == maxBootstrapInstruments {
			return &Error{Field: field, Reason: fmt.Sprintf("lists more than %d instruments, the most a curve may have", maxBootstrapInstruments)}
		}
		f := fmt.Sprintf("%s[%d]", field, i)
		var w bootstrapWire
		if err := item.decodeObject(&w); err != nil {
			var te *typeError
			if errors.As(err, &te) && te.field == "" {
				return &Error{Field: f, Reason: "must be an object, got JSON " + te.got, Err: err}
			}
			return &Error{Field: f, Reason: err.Error(), Err: err}
		}
		q, err := w.quote(asOf)
		if err != nil {
			return &Error{Field: f, Reason: err.Error(), Err: err}
		}
		quotes = append(quotes, q)
		return nil
	})
	if err != nil {
		return nil, asError(field, err)
	}
	if len(quotes) == 0 {
		return nil, batchErr(field, "must list at least one instrument")
	}
	c, err := market.Bootstrap(asOf, quotes)
	if err != nil {
		var be *market.BootstrapError
		if errors.As(err, &be) {
			return nil, &Error{Field: fmt.Sprintf("%s[%d]", field, be.Index), Reason: be.Err.Error(), Err: err}
		}
		return nil, &Error{Field: field, Reason: err.Error(), Err: err}
	}
	return c, nil
}

// quote converts one wire instrument, with the defaults of docs/rates.md.
func (w *bootstrapWire) quote(asOf dates.Date) (market.Quote, error) {
	if w.Rate == nil {
		return nil, fmt.Errorf("rate is required")
	}
	if err := pricing.CheckRate("rate", *w.Rate); err != nil {
		return nil, err
	}
	cal, conv, err := w.rolls(dates.ModifiedFollowing)
	if err != nil {
		return nil, err
	}
	start := cal.Adjust(asOf, dates.Following)
	if w.Start != "" {
		if start, err = requiredDate("start", w.Start); err != nil {
			return nil, err
		}
		if err := pricing.CheckHorizon("start", start, asOf); err != nil {
			return nil, err
		}
	}
	if (w.Maturity == "") == (w.Tenor == "") {
		return nil, fmt.Errorf("give exactly one of maturity (YYYY-MM-DD) or tenor (e.g. 6M, 5Y)")
	}
	var t tenor
	if w.Tenor != "" {
		if t, err = parseTenor(w.Tenor); err != nil {
			return nil, err
		}
	}
	switch w.Type {
	case "deposit":
		if w.swapLegsWire.given() {
			return nil, fmt.Errorf("a deposit takes dayCount, not the fixed and float leg fields of a swap")
		}
		d := market.Deposit{Start: start, Rate: *w.Rate}
		if d.DayCount, err = namedValue("dayCount", w.DayCount, dates.Act360, dates.ParseDayCount); err != nil {
			return nil, err
		}
		if w.Maturity != "" {
			d.End, err = requiredDate("maturity", w.Maturity)
		} else {
			d.End = t.depositEnd(start, cal, conv)
		}
		if err == nil {
			err = w.checkEnd(start, d.End, asOf)
		}
		return d, err
	case "swap":
		if w.DayCount != "" {
			return nil, fmt.Errorf("a swap takes fixedDayCount and floatDayCount, not dayCount")
		}
		l, err := w.legs()
		if err != nil {
			return nil, err
		}
		s := market.ParSwap{Start: start, Rate: *w.Rate, Calendar: cal, Convention: conv,
			FixedFrequency: l.fixedFrequency, FixedDayCount: l.fixedDayCount, FloatFrequency: l.floatFrequency, FloatDayCount: l.floatDayCount}
		switch {
		case w.Maturity != "":
			s.Maturity, err = requiredDate("maturity", w.Maturity)
		case t.unit == 'M' || t.unit == 'Y':
			s.Maturity = start.AddMonths(t.months())
		default:
			err = pricing.Invalid("tenor", pricing.Quoted(w.Tenor), "of a swap must be in months or years (M or Y)")
		}
		if err == nil {
			err = w.checkEnd(start, s.Maturity, asOf)
		}
		return s, err
	case "":
		return nil, fmt.Errorf("type is required (deposit or swap)")
	}
	return nil, pricing.Invalid("type", pricing.Quoted(w.Type), "must be deposit or swap")
}

// checkEnd checks that an instrument's end, from its maturity or its tenor
// from start, is within the horizon of pricing.CheckHorizon, naming the
// field it came from.
func (w *bootstrapWire) checkEnd(start, end, asOf dates.Date) error {
	if w.Maturity != "" {
		return pricing.CheckHorizon("maturity", end, asOf)
	}
	if pricing.CheckHorizon("tenor", end, asOf) != nil {
		return pricing.Invalid("tenor", pricing.Quoted(w.Tenor), fmt.Sprintf(
			"must end within %d years of the valuation date %s (from %s it ends on %s)", pricing.MaxYears, asOf, start, end))
	}
	return nil
}

// tenor is a period such as 2W or 6M: n units of D (business days), W
// (weeks), M (months) or Y (years).
type tenor struct {
	n    int
	unit byte
}

// parseTenor reads a tenor: a positive whole number then D, W, M or Y
// (either case: 3m is 3M, months), of at most 200 years (the horizon,
// which the tenor's end is checked against too; D counts business days
// one by one, so the count is bounded first).
func parseTenor(s string) (tenor, error) {
	bad := pricing.Invalid("tenor", pricing.Quoted(s), "must be a positive whole number of D, W, M or Y (or d, w, m, y), such as 1W, 6M or 10Y")
	if len(s) < 2 {
		return tenor{}, bad
	}
	unit := strings.ToUpper(s[len(s)-1:])[0]
	n, err := strconv.Atoi(s[:len(s)-1])
	most, ok := tenorMost(unit)
	if err != nil || n <= 0 || !ok {
		return tenor{}, bad
	}
	if n > most {
		return tenor{}, pricing.Invalid("tenor", pricing.Quoted(s), fmt.Sprintf("must be within 200 years: at most %d%c", most, unit))
	}
	return tenor{n: n, unit: unit}, nil
}

// tenorMost is the largest count of a tenor unit within 200 years (of
// business days, 261 a year, for D), and whether it is a unit.
func tenorMost(unit byte) (int, bool) {
	switch unit {
	case 'D':
		return 200 * 261, true
	case 'W':
		return 200 * 53, true
	case 'M':
		return 200 * 12, true
	case 'Y':
		return 200, true
	}
	return 0, false
}

func (t tenor) months() int {
	if t.unit == 'Y' {
		return 12 * t.n
	}
	return t.n
}

// depositEnd is QuantLib's Calendar::advance(start, tenor, conv): D counts
// business days; W, M and Y move the calendar date, then adjust by conv.
func (t tenor) depositEnd(start dates.Date, cal dates.Calendar, conv dates.Convention) dates.Date {
	switch t.unit {
	case 'D':
		return cal.Advance(start, t.n)
	case 'W':
		return cal.Adjust(start.AddDays(7*t.n), conv)
	}
	return cal.Adjust(start.AddMonths(t.months()), conv)
}
