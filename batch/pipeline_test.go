package batch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/fsum"
)

// mixedBatch is a batch of equity and rates trades on a mixed market, with
// one trade that fails.
func mixedBatch(t *testing.T) *batch.Batch {
	t.Helper()
	doc := `{"id": "M", "valuationDate": "2026-11-25", "measures": ["npv", "delta", "pv01"], "market": {
	"curves": {"USD": {"rate": 0.05}, "EUR": {"zeros": [{"date": "2027-11-25", "rate": 0.03}]}, "JPY": {"rate": 0.001}},
	"underlyings": {"ACME": {"spot": 100, "vol": 0.25, "curve": "USD"}, "GLOBEX": {"spot": 50, "vol": 0.3, "curve": "USD", "dividendYield": 0.01}}},
	"trades": [
	{"id": "E1", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25"},
	{"id": "E2", "type": "european", "underlying": "GLOBEX", "right": "put", "strike": 55, "expiry": "2027-05-25", "quantity": -2},
	{"id": "F1", "type": "fra", "curve": "EUR", "notional": 1e6, "rate": 0.03, "start": "2027-05-25", "end": "2027-11-25", "position": "long"},
	{"id": "BAD", "type": "european", "underlying": "ACME", "right": "call", "strike": -1, "expiry": "2027-11-25"},
	{"id": "E3", "type": "european", "underlying": "ACME", "right": "put", "strike": 90, "expiry": "2028-11-25"}]}`
	b, err := batch.DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestChunkJSONIsSubset: a chunk built by concatenation decodes to the
// chunk Subset describes, and json.Marshal of a Subset is that document.
func TestChunkJSONIsSubset(t *testing.T) {
	b := mixedBatch(t)
	for _, r := range [][2]int{{0, 5}, {0, 2}, {2, 3}, {3, 5}, {4, 5}} {
		got, err := b.AppendChunkJSON(nil, r[0], r[1])
		if err != nil {
			t.Fatal(err)
		}
		viaJSON, err := json.Marshal(b.Subset(r[0], r[1]))
		if err != nil {
			t.Fatal(err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, got); err != nil {
			t.Fatalf("chunk %v is not JSON: %v", r, err)
		}
		if compact.String() != string(viaJSON) {
			t.Errorf("chunk %v: AppendChunkJSON and json.Marshal(Subset) differ:\n%s\n%s", r, compact.String(), viaJSON)
		}
		cb, err := batch.DecodeBytes(got)
		if err != nil {
			t.Fatalf("chunk %v does not decode: %v", r, err)
		}
		want := b.Subset(r[0], r[1])
		if cb.ID != want.ID || cb.ValuationDate != want.ValuationDate || !reflect.DeepEqual(cb.Measures, want.Measures) ||
			!reflect.DeepEqual(cb.Market.Curves, want.Market.Curves) || !reflect.DeepEqual(cb.Market.Underlyings, want.Market.Underlyings) {
			t.Errorf("chunk %v decodes to %+v, want %+v", r, cb, want)
		}
		for i := range cb.Trades {
			if !bytes.Equal(cb.Trades[i].Raw, want.Trades[i].Raw) {
				t.Errorf("chunk %v trade %d: %s, want %s", r, i, cb.Trades[i].Raw, want.Trades[i].Raw)
			}
		}
	}
	// A market entry set by hand is encoded from its fields.
	rate := 0.02
	b.Market.Curves["GBP"] = batch.CurveData{Rate: &rate}
	doc, err := json.Marshal(b)
	if err != nil || !strings.Contains(string(doc), `"GBP":{"rate":0.02}`) {
		t.Errorf("marshal with a curve set by hand: %v\n%s", err, doc)
	}
}

// TestChunkTotals checks the totals of a chunk against sums by hand: per
// underlying and for all, errors left out, rates trades in all only.
func TestChunkTotals(t *testing.T) {
	b := mixedBatch(t)
	rs, err := batch.Price(context.Background(), b, batch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	unds := b.Underlyings()
	if want := []string{"ACME", "GLOBEX", "", "ACME", "ACME"}; !reflect.DeepEqual(unds, want) {
		t.Fatalf("underlyings %q, want %q", unds, want)
	}
	got := batch.ChunkTotals(rs.Results, unds)
	r := rs.Results
	if r[3].Error == "" {
		t.Fatal("trade BAD priced")
	}
	want := map[string]map[string]float64{
		"":       {"npv": r[0].NPV + r[1].NPV + r[2].NPV + r[4].NPV, "delta": r[0].Delta + r[1].Delta + r[4].Delta, "pv01": r[2].PV01},
		"ACME":   {"npv": r[0].NPV + r[4].NPV, "delta": r[0].Delta + r[4].Delta},
		"GLOBEX": {"npv": r[1].NPV, "delta": r[1].Delta},
	}
	if len(got) != len(want) {
		t.Fatalf("totals %v, want %v", got, want)
	}
	for u, sums := range want {
		if len(got[u]) != len(sums) {
			t.Errorf("%q: %v, want %v", u, got[u], sums)
		}
		for m, v := range sums {
			if math.Abs(got[u][m]-v) > 1e-9*math.Max(1, math.Abs(v)) {
				t.Errorf("%q %s = %v, want %v", u, m, got[u][m], v)
			}
		}
	}
	if rt := batch.ChunkTotals(nil, nil); len(rt) != 1 || len(rt[""]) != 0 {
		t.Errorf("no results: %v", rt)
	}
	// Two npvs of 1e308 add past float64: that sum is left out, the rest
	// stays (and the totals encode).
	huge := make([]batch.TradeResult, 2)
	for i := range huge {
		huge[i].ID = fmt.Sprint("H", i)
		huge[i].SetValue(pricing.NPV, 1e308)
		huge[i].SetValue(pricing.Delta, 0.5)
	}
	ht := batch.ChunkTotals(huge, []string{"ACME", "ACME"})
	if _, ok := ht[""]["npv"]; ok || ht[""]["delta"] != 1 || ht["ACME"]["delta"] != 1 {
		t.Errorf("overflowing totals %v", ht)
	}
	if _, err := json.Marshal(ht); err != nil {
		t.Error(err)
	}
}

// TestScanResults: the scan of encoded results gives the ids, the failed
// count and the run AppendResults wrote, also after the JSON was
// compacted on its way, and refuses what is not a list of results.
func TestScanResults(t *testing.T) {
	b := mixedBatch(t)
	rs, err := batch.Price(context.Background(), b, batch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	arr, err := batch.AppendResultsArray(nil, rs.Results)
	if err != nil {
		t.Fatal(err)
	}
	run, err := batch.AppendResults(nil, rs.Results)
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, arr); err != nil {
		t.Fatal(err)
	}
	// Laid out as AppendResultsArray writes them but for the last
	// element: the run is rebuilt from there.
	i := bytes.LastIndex(arr, []byte(",\n"))
	mixed := append(append(append([]byte{}, arr[:i]...), ", \n\t"...), arr[i+2:]...)
	for _, data := range [][]byte{arr, compact.Bytes(), mixed} {
		sc, err := batch.ScanResults(data)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"E1", "E2", "F1", "BAD", "E3"}; !reflect.DeepEqual(sc.IDs.Strings(), want) || sc.Failed != 1 {
			t.Errorf("ids %q failed %d, want %q and 1", sc.IDs.Strings(), sc.Failed, want)
		}
		if !bytes.Equal(sc.Run, run) {
			t.Errorf("run\n%s\nwant\n%s", sc.Run, run)
		}
		if shared := &sc.Run[0] == &data[1]; shared != (&data[0] == &arr[0]) {
			t.Errorf("run shares the data: %v, want it only for AppendResultsArray's layout", shared)
		}
	}
	if sc, err := batch.ScanResults([]byte("[]")); err != nil || len(sc.Run) != 0 || sc.IDs.Len() != 0 {
		t.Errorf("[]: %+v, %v", sc, err)
	}
	for in, want := range map[string]string{
		``:                                 "empty",
		`{}`:                               "want a JSON array",
		`[1]`:                              "result 0: must be an object",
		`[{"id":"A"},{"npv":1}]`:           "result 1: no id",
		`[{"id":3}]`:                       "result 0: id must be a string",
		`[{"id":"A","id":"B"}]`:            `result 0: duplicate key "id"`,
		`[{"id":"A"},{"id":"B","npvv":1}]`: `result 1: unknown key "npvv"`,
		`[{"id":"A","npv":"x"}]`:           "result 0: npv must be a JSON number, got JSON string",
		`[{"id":"A","npv":null}]`:          "result 0: npv must be a JSON number, got JSON null",
		`[{"id":"A","cashflows":7}]`:       "result 0: cashflows must be a JSON array, got JSON number",
		`[{"id":"A","scenarioNpv":{}}]`:    "result 0: scenarioNpv must be a JSON array, got JSON object",
		`[{"id":"A","error":5}]`:           "result 0: error must be a non-empty string, got JSON number",
		`[{"id":"A","error":null}]`:        "result 0: error must be a non-empty string, got JSON null",
		`[{"id":"A","error":""}]`:          "result 0: error must be a non-empty string, got JSON string",
		`[{"id":"A","npv":1e}]`:            "malformed JSON",
		`[{"id":"A"}] x`:                   "unexpected data",
		`[{"id":"A","npv":[1,2,}]`:         "malformed JSON",
	} {
		if _, err := batch.ScanResults([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", in, err, want)
		}
	}
}

// TestResultsWriterMatchesMarshal: the streamed document, from results or
// from encoded runs, is byte for byte Results.MarshalJSON (and a newline),
// with its buffer from the pool, and a write after Close fails.
func TestResultsWriterMatchesMarshal(t *testing.T) {
	b := mixedBatch(t)
	rs, err := batch.Price(context.Background(), b, batch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := rs.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		var out bytes.Buffer
		w := batch.NewResultsWriter(&out, rs.BatchID)
		if err := w.Write(rs.Results[:2]...); err != nil {
			t.Fatal(err)
		}
		run, _ := batch.AppendResults(nil, rs.Results[2:])
		if err := w.WriteEncoded(run); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if out.String() != string(want)+"\n" {
			t.Fatalf("round %d:\n%s\nwant\n%s", round, out.String(), want)
		}
		if err := w.Write(rs.Results[0]); err == nil {
			t.Fatal("write after Close accepted")
		}
	}
}

// TestDropTerms: a batch without its decoded terms writes the same chunks
// (priced the same once decoded again), and refuses to compile them.
func TestDropTerms(t *testing.T) {
	b := mixedBatch(t)
	want, err := b.AppendChunkJSON(nil, 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	b.DropTerms()
	got, err := b.AppendChunkJSON(nil, 1, 4)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("chunk after DropTerms\n%s (%v)\nwant\n%s", got, err, want)
	}
	job, err := batch.Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := job.Price(context.Background(), batch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if !strings.Contains(r.Error, "terms were dropped") {
			t.Errorf("trade %s: %+v, want an error", r.ID, r)
		}
	}
}

// TestChunkTotalerManyUnderlyings: results on more underlyings than the
// totaler keeps at hand, shuffled and added in runs, sum as by hand.
func TestChunkTotalerManyUnderlyings(t *testing.T) {
	const n = 1000
	rs := make([]batch.TradeResult, n)
	unds := make([]string, n)
	want := map[string]float64{}
	for i := range rs {
		rs[i].ID = fmt.Sprint("T", i)
		rs[i].SetValue(pricing.NPV, float64(i))
		unds[i] = fmt.Sprint("U", (i*7919)%11)
		want[unds[i]] += float64(i)
	}
	var tot batch.ChunkTotaler
	for lo := 0; lo < n; lo += 300 {
		hi := min(lo+300, n)
		tot.Add(rs[lo:hi], unds[lo:hi])
	}
	got := tot.Totals()
	if len(got) != len(want)+1 || got[""]["npv"] != float64(n*(n-1)/2) {
		t.Fatalf("%d totals, all %v", len(got), got[""])
	}
	for u, v := range want {
		if got[u]["npv"] != v {
			t.Errorf("%s: %v, want %v", u, got[u]["npv"], v)
		}
	}
}

// TestChunkTotalsExact: a chunk's totals are its results' exact sums
// rounded once, and its partials, from any cut of the results into
// chunks, add up to the same bits: what makes a batch's totals in its
// status independent of its chunks.
func TestChunkTotalsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const n = 2000
	rs := make([]batch.TradeResult, n)
	unds := make([]string, n)
	want := map[string]*fsum.Sum{"": new(fsum.Sum), "U0": new(fsum.Sum), "U1": new(fsum.Sum)}
	for i := range rs {
		rs[i].ID = fmt.Sprint("T", i)
		// npvs from 1e-9 to 1e9, either sign: float sums lose digits.
		v := (rng.Float64() - 0.5) * math.Pow(10, float64(rng.IntN(19)-9))
		rs[i].SetValue(pricing.NPV, v)
		want[""].Add(v)
		if k := rng.IntN(3); k < 2 {
			unds[i] = fmt.Sprint("U", k)
			want[unds[i]].Add(v)
		}
	}
	whole := batch.ChunkTotals(rs, unds)
	for u, s := range want {
		if got := whole[u]["npv"]; got != s.Value() {
			t.Errorf("%q: %v, want %v", u, got, s.Value())
		}
	}
	for trial := range 5 {
		// Chunks of random sizes, their partials added in reverse.
		var parts []map[string]map[string][]float64
		for lo := 0; lo < n; {
			hi := min(n, lo+1+rng.IntN(400))
			var c batch.ChunkTotaler
			c.Add(rs[lo:hi], unds[lo:hi])
			parts = append(parts, c.Partials())
			lo = hi
		}
		for u, s := range want {
			var sum fsum.Sum
			for k := len(parts) - 1; k >= 0; k-- {
				for _, p := range parts[k][u]["npv"] {
					sum.Add(p)
				}
			}
			if got := sum.Value(); got != s.Value() {
				t.Errorf("trial %d, %d chunks, %q: %v, want %v", trial, len(parts), u, got, s.Value())
			}
		}
	}
}

// TestChunkTotalsByMeasure: each measure of TotalMeasures sums its own
// field, and only the results that set it count.
func TestChunkTotalsByMeasure(t *testing.T) {
	rs := make([]batch.TradeResult, 2)
	for i, m := range batch.TotalMeasures {
		rs[0].SetValue(m, float64(i+1))
	}
	rs[1].SetValue(pricing.Gamma, 0.5)
	got := batch.ChunkTotals(rs, []string{"X", ""})
	for i, m := range batch.TotalMeasures {
		want := float64(i + 1)
		if m == pricing.Gamma {
			want += 0.5
		}
		if v, ok := got[""][m.String()]; !ok || v != want {
			t.Errorf("%s: %v (%v), want %v", m, v, ok, want)
		}
		if v := got["X"][m.String()]; v != float64(i+1) {
			t.Errorf("X %s: %v, want %v", m, v, i+1)
		}
	}
	if len(got) != 2 || len(got[""]) != len(batch.TotalMeasures) {
		t.Errorf("totals %v", got)
	}
}

// TestChunkTotalsPastFloat64: sums whose float64 running sum overflows are
// exact all the same, and a sum beyond float64's range is left out of the
// totals and marked, an empty list, in the partials.
func TestChunkTotalsPastFloat64(t *testing.T) {
	rs := make([]batch.TradeResult, 4)
	for i, v := range []float64{1e308, 1e308, -1e308, 5} {
		rs[i].ID = fmt.Sprint("T", i)
		rs[i].SetValue(pricing.NPV, v)
		rs[i].SetValue(pricing.Delta, math.MaxFloat64)
	}
	var tot batch.ChunkTotaler
	tot.Add(rs, []string{"A", "A", "A", "B"})
	got, p := tot.Totals(), tot.Partials()
	if got[""]["npv"] != 1e308+5 || got["A"]["npv"] != 1e308 || got["B"]["npv"] != 5 {
		t.Errorf("npv totals %v", got)
	}
	if _, ok := got[""]["delta"]; ok || len(p[""]["delta"]) != 0 || p[""]["delta"] == nil {
		t.Errorf("delta past float64: totals %v, partials %v", got[""], p[""])
	}
	if v := p["B"]["delta"]; len(v) != 1 || v[0] != math.MaxFloat64 {
		t.Errorf("B's delta partials %v", v)
	}
}
