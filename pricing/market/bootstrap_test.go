package market

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/pricefn/pricefn/pricing/dates"
)

type qlQuote struct {
	Type     string  `json:"type"`
	Rate     float64 `json:"rate"`
	Tenor    string  `json:"tenor"`
	Start    string  `json:"start"`
	Maturity string  `json:"maturity"`
	Pillar   string  `json:"pillar"`
}

type qlCase struct {
	AsOf            string    `json:"asOf"`
	Calendar        string    `json:"calendar"`
	Convention      string    `json:"convention"`
	DepositDayCount string    `json:"depositDayCount"`
	FixedFrequency  string    `json:"fixedFrequency"`
	FixedDayCount   string    `json:"fixedDayCount"`
	FloatFrequency  string    `json:"floatFrequency"`
	FloatDayCount   string    `json:"floatDayCount"`
	Quotes          []qlQuote `json:"quotes"`
	Discounts       [][2]any  `json:"discounts"`
}

func date(t *testing.T, s string) dates.Date {
	t.Helper()
	d, err := dates.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// quotes turns a QuantLib case into Bootstrap's inputs: deposits with
// QuantLib's dates, swaps from start to start plus tenor, unadjusted.
func (c *qlCase) quotes(t *testing.T) []Quote {
	t.Helper()
	var err error
	must := func(e error) {
		if e != nil {
			t.Fatal(e)
		}
	}
	var sw ParSwap
	sw.Calendar, err = dates.ParseCalendar(c.Calendar)
	must(err)
	sw.Convention, err = dates.ParseConvention(c.Convention)
	must(err)
	sw.FixedFrequency, err = dates.ParseFrequency(c.FixedFrequency)
	must(err)
	sw.FloatFrequency, err = dates.ParseFrequency(c.FloatFrequency)
	must(err)
	sw.FixedDayCount, err = dates.ParseDayCount(c.FixedDayCount)
	must(err)
	sw.FloatDayCount, err = dates.ParseDayCount(c.FloatDayCount)
	must(err)
	depDC, err := dates.ParseDayCount(c.DepositDayCount)
	must(err)
	var qs []Quote
	for _, q := range c.Quotes {
		start := date(t, q.Start)
		if q.Type == "deposit" {
			qs = append(qs, Deposit{Start: start, End: date(t, q.Maturity), Rate: q.Rate, DayCount: depDC})
			continue
		}
		n, err := strconv.Atoi(q.Tenor[:len(q.Tenor)-1])
		must(err)
		if strings.HasSuffix(q.Tenor, "Y") {
			n *= 12
		}
		s := sw
		s.Start, s.Maturity, s.Rate = start, start.AddMonths(n), q.Rate
		qs = append(qs, s)
	}
	return qs
}

func readQLCases(t *testing.T) []qlCase {
	t.Helper()
	data, err := os.ReadFile("testdata/bootstrap_quantlib.json")
	if err != nil {
		t.Fatal(err)
	}
	var cs []qlCase
	if err := json.Unmarshal(data, &cs); err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestBootstrapQuantLib compares discount factors with QuantLib 1.29's
// PiecewiseLogLinearDiscount on the same deposits and par swaps, every 37
// days out to the last pillar, and the pillar dates themselves.
func TestBootstrapQuantLib(t *testing.T) {
	for _, c := range readQLCases(t) {
		asOf := date(t, c.AsOf)
		curve, err := Bootstrap(asOf, c.quotes(t))
		if err != nil {
			t.Fatalf("%s: %v", c.AsOf, err)
		}
		for i, p := range curve.Pillars() {
			if want := c.Quotes[i].Pillar; p.String() != want {
				t.Errorf("%s: pillar %d = %s, QuantLib %s", c.AsOf, i, p, want)
			}
		}
		// QuantLib solves each pillar to 1e-12 in rate: allow 1e-11 x years.
		for _, row := range c.Discounts {
			d := date(t, row[0].(string))
			want := row[1].(float64)
			tm := dates.YearFraction365(asOf, d)
			if got := curve.Discount(tm); math.Abs(got-want) > 1e-11*math.Max(tm, 1) {
				t.Errorf("%s: DF(%s) = %.15g, QuantLib %.15g (diff %.2g)", c.AsOf, d, got, want, got-want)
			}
		}
	}
}

// TestBootstrapReprices checks every input's implied rate on the curve, in
// shuffled input order, against its quote within 1e-10 (the bound;
// the bootstrap guarantees 1e-12).
func TestBootstrapReprices(t *testing.T) {
	for _, c := range readQLCases(t) {
		asOf := date(t, c.AsOf)
		qs := c.quotes(t)
		for i, j := 0, len(qs)-1; i < j; i, j = i+2, j-2 { // any order
			qs[i], qs[j] = qs[j], qs[i]
		}
		curve, err := Bootstrap(asOf, qs)
		if err != nil {
			t.Fatalf("%s: %v", c.AsOf, err)
		}
		for i, q := range qs {
			h, err := q.helper(asOf)
			if err != nil {
				t.Fatal(err)
			}
			if got := h.implied(curve); math.Abs(got-h.quote()) > 1e-10 {
				t.Errorf("%s: instrument %d reprices to %.15g, quote %.15g", c.AsOf, i, got, h.quote())
			}
		}
		if got := curve.Discount(0); got != 1 {
			t.Errorf("Discount(0) = %v, want 1", got)
		}
	}
}

func TestPiecewiseCurveInterpolation(t *testing.T) {
	asOf := date(t, "2026-11-25")
	// Two deposits from today: flat forwards f1 to the first pillar, then f2.
	q := []Quote{
		Deposit{Start: asOf, End: asOf + 365, Rate: 0.02, DayCount: dates.Act365Fixed},
		Deposit{Start: asOf, End: asOf + 730, Rate: 0.03, DayCount: dates.Act365Fixed},
	}
	c, err := Bootstrap(asOf, q)
	if err != nil {
		t.Fatal(err)
	}
	l1 := -math.Log(1 + 0.02)
	l2 := -math.Log(1 + 0.03*2)
	tests := []struct {
		t, want, tol float64
	}{
		{0, 1, 0},
		{0.5, math.Exp(0.5 * l1), 1e-15},
		{1, math.Exp(l1), 1e-15},
		{1.5, math.Exp(l1 + 0.5*(l2-l1)), 1e-15},
		{2, math.Exp(l2), 1e-15},
		{3, math.Exp(l2 + (l2 - l1)), 1e-15}, // last forward continues
	}
	for _, tt := range tests {
		if got := c.Discount(tt.t); math.Abs(got-tt.want) > tt.tol {
			t.Errorf("Discount(%v) = %.17g, want %.17g", tt.t, got, tt.want)
		}
	}
	if got, want := c.ZeroRate(0), -l1; math.Abs(got-want) > 1e-15 {
		t.Errorf("ZeroRate(0) = %v, want %v", got, want)
	}
}

func TestBootstrapErrors(t *testing.T) {
	asOf := date(t, "2026-11-25")
	dep := func(start, end dates.Date, r float64) Deposit {
		return Deposit{Start: start, End: end, Rate: r, DayCount: dates.Act360}
	}
	swap := ParSwap{Start: asOf, Maturity: asOf.AddMonths(24), Rate: 0.03,
		FixedFrequency: dates.Annual, FixedDayCount: dates.Thirty360, FloatFrequency: dates.Semiannual,
		FloatDayCount: dates.Act360, Calendar: dates.TARGET, Convention: dates.ModifiedFollowing}
	badSwap := swap
	badSwap.Maturity = asOf - 10
	tests := []struct {
		name  string
		q     []Quote
		index int
		want  string
		// setUp, solved and reads are the work done before the fault.
		setUp, solved, reads int
	}{
		{"same pillar", []Quote{dep(asOf, asOf+90, 0.01), dep(asOf+30, asOf+90, 0.02)}, 1, "same pillar", 4, 1, 2},
		{"end before start", []Quote{dep(asOf, asOf-1, 0.01)}, 0, "must be after start", 0, 0, 0},
		{"starts in the past", []Quote{dep(asOf-5, asOf+90, 0.01)}, 0, "before the valuation date", 0, 0, 0},
		{"not finite", []Quote{dep(asOf, asOf+90, math.NaN())}, 0, "finite", 0, 0, 0},
		{"swap maturity before start", []Quote{dep(asOf, asOf+90, 0.01), badSwap}, 1, "maturity", 2, 0, 0},
		{"no day count", []Quote{Deposit{Start: asOf, End: asOf + 90, Rate: 0.01}}, 0, "day count", 0, 0, 0},
		{"unreachable rate", []Quote{dep(asOf, asOf+90, -50)}, 0, "reprices", 2, 1, 2},
		{"unreachable last rate", []Quote{dep(asOf, asOf+180, -50), dep(asOf, asOf+90, 0.01), swap}, 0, "reprices", 18, 2, 4},
		{"nil quote", []Quote{nil}, 0, "no instrument", 0, 0, 0},
	}
	for _, tt := range tests {
		_, err := Bootstrap(asOf, tt.q)
		var be *BootstrapError
		if !errors.As(err, &be) || be.Index != tt.index || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want a BootstrapError on instrument %d containing %q", tt.name, err, tt.index, tt.want)
		} else if be.SetUpReads != tt.setUp || be.Solved != tt.solved || be.Reads != tt.reads {
			t.Errorf("%s: set up %d discount factors, solved %d reading %d; want %d, %d and %d", tt.name, be.SetUpReads, be.Solved, be.Reads, tt.setUp, tt.solved, tt.reads)
		}
	}
	if _, err := Bootstrap(asOf, nil); err == nil {
		t.Error("Bootstrap with no quotes succeeded")
	}
}

// TestBuildReads: a curve counts the discount factors its instruments
// read, which batch's cost estimate of its build is made of: a deposit's
// two, a 2-year swap's two annual fixed coupons and four semiannual
// floating ones of three each.
func TestBuildReads(t *testing.T) {
	asOf := date(t, "2026-11-25")
	swap := ParSwap{Start: asOf, Maturity: asOf.AddMonths(24), Rate: 0.03,
		FixedFrequency: dates.Annual, FixedDayCount: dates.Thirty360, FloatFrequency: dates.Semiannual,
		FloatDayCount: dates.Act360, Calendar: dates.TARGET, Convention: dates.ModifiedFollowing}
	c, err := Bootstrap(asOf, []Quote{Deposit{Start: asOf, End: asOf + 90, Rate: 0.03, DayCount: dates.Act360}, swap})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.BuildReads(); got != 2+2+4*3 {
		t.Errorf("BuildReads = %d, want 16", got)
	}
}
