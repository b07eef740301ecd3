package engine

import (
	"encoding/csv"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
	"github.com/pricefn/pricefn/pricing/market"
)

// refValDate is the valuation date of the engine-level tests, the reference batches' date.
var refValDate = dates.New(2026, 11, 25)

// equityMarket returns a market on refValDate with one underlying "X" on the flat curve "C".
func equityMarket(spot, r, q, vol float64) *pricing.Market {
	return &pricing.Market{
		ValuationDate: refValDate,
		Curves:        map[string]pricing.YieldCurve{"C": market.NewFlatCurve(r)},
		Underlyings:   map[string]pricing.Underlying{"X": {Spot: spot, DividendYield: q, Vol: vol, Curve: "C"}},
	}
}

// withinAbsOrRel reports whether a and b differ by at most abs or by at
// most rel times the larger magnitude, as gonum's scalar.EqualWithinAbsOrRel.
func withinAbsOrRel(a, b, abs, rel float64) bool {
	d := math.Abs(a - b)
	return d <= abs || d <= rel*math.Max(math.Abs(a), math.Abs(b))
}

// refRow is one row of a literature reference table, by column name.
type refRow struct {
	t    *testing.T
	line int
	cols map[string]string
}

// readRefTable reads a reference table of testdata with a header line.
func readRefTable(t *testing.T, name string) []refRow {
	t.Helper()
	fh, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	rows := make([]refRow, 0, len(recs)-1)
	for i, rec := range recs[1:] {
		cols := make(map[string]string, len(rec))
		for j, h := range recs[0] {
			cols[h] = rec[j]
		}
		rows = append(rows, refRow{t: t, line: i + 2, cols: cols})
	}
	return rows
}

// str returns column c.
func (r refRow) str(c string) string {
	v, ok := r.cols[c]
	if !ok {
		r.t.Fatalf("line %d: no column %q", r.line, c)
	}
	return v
}

// num returns column c as a number.
func (r refRow) num(c string) float64 {
	v, err := strconv.ParseFloat(r.str(c), 64)
	if err != nil {
		r.t.Fatalf("line %d: column %s: %v", r.line, c, err)
	}
	return v
}

// nums returns column c as a ;-separated list of numbers.
func (r refRow) nums(c string) []float64 {
	var out []float64
	for _, f := range strings.Split(r.str(c), ";") {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			r.t.Fatalf("line %d: column %s: %v", r.line, c, err)
		}
		out = append(out, v)
	}
	return out
}

// isCall reports whether column option_type is Call.
func (r refRow) isCall() bool { return r.str("option_type") == "Call" }

// errorField names the field an engine's error is about: an *InputError's
// Field, or a *MarketError's item and field as the path
// "market.underlyings.X.vol" ("market.curves.C" for a whole curve), or ""
// for any other error.
func errorField(err error) string {
	var in *pricing.InputError
	var me *pricing.MarketError
	switch {
	case errors.As(err, &me):
		path := "market.curves." + me.Name
		if me.Kind == "underlying" {
			path = "market.underlyings." + me.Name
		}
		if me.Field != "" {
			path += "." + me.Field
		}
		return path
	case errors.As(err, &in):
		return in.Field
	}
	return ""
}
