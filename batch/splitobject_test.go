package batch_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/pricefn/pricefn/batch"
)

func TestSplitObject(t *testing.T) {
	for _, tc := range []struct {
		in, key    string
		rest, memb string
	}{
		{`{"a":1,"big":[1,2,{"x":"y"}],"b":"s"}`, "big", `{"a":1,"b":"s"}`, `[1,2,{"x":"y"}]`},
		{` { "big" : {"k":[]} , "a\u0062":true } `, "big", `{"ab":true}`, `{"k":[]}`},
		{`{"a":null}`, "big", `{"a":null}`, ``},
		{`{}`, "big", `{}`, ``},
	} {
		rest, member, err := batch.SplitObject([]byte(tc.in), tc.key)
		if err != nil || string(rest) != tc.rest || string(member) != tc.memb {
			t.Errorf("%s: rest %s, member %s, %v; want %s and %s", tc.in, rest, member, err, tc.rest, tc.memb)
		}
	}
	for in, want := range map[string]string{
		``:                        "empty document",
		`[]`:                      "want a JSON object, got JSON array",
		`{"a":1,"a":2}`:           `duplicate key "a"`,
		`{"a":1} {}`:              "malformed JSON at byte 8: invalid character '{' after top-level value",
		`{"a":[1,}`:               "malformed JSON at byte 8",
		`{"a":"\u00"}`:            "malformed JSON",
		`{"a":{"b":1,"b":2}}`:     `duplicate key "b"`,
		`{"a":1,"big":[1,2]`:      "malformed JSON",
		`{"big":[1,2],"big":[3]}`: `duplicate key "big"`,
	} {
		if _, _, err := batch.SplitObject([]byte(in), "big"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", in, err, want)
		}
	}
}

// TestSplitBatchAndResults: the member decoded in the splitting pass is
// what DecodeBytes and ScanResults make of it alone, and its faults are
// theirs, named.
func TestSplitBatchAndResults(t *testing.T) {
	doc := `{"valuationDate":"2026-11-25","market":{"underlyings":{"A":{"spot":100,"vol":0.2,"curve":"USD"}},"curves":{"USD":{"rate":0.01}}},` +
		`"trades":[{"id":"T1","type":"european","underlying":"A","right":"call","strike":100,"expiry":"2027-11-25"}]}`
	rest, b, err := batch.SplitBatch([]byte(`{"index":3,"batch":`+doc+`,"z":"s"}`), "batch")
	if err != nil || string(rest) != `{"index":3,"z":"s"}` {
		t.Fatalf("rest %s (%v)", rest, err)
	}
	alone, err := batch.DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := b.MarshalJSON()
	want, _ := alone.MarshalJSON()
	if string(got) != string(want) {
		t.Errorf("split batch %s, want %s", got, want)
	}
	if _, b, err := batch.SplitBatch([]byte(`{"index":3}`), "batch"); b != nil || err != nil {
		t.Errorf("no batch member: %v, %v", b, err)
	}
	for in, want := range map[string]string{
		`{"batch":{"valuationDate":"2026-11-25"}}`:                   "batch: trades: is required",
		`{"batch":{"valuationDate":"2026-11-25","trades":[],"x":1}}`: `batch: unknown field "x"`,
		`{"batch":{"valuationDate":"2026-11-25","trades":[}}`:        "batch: malformed JSON at byte 49",
		`{"batch":null}`: "batch: (document): must be an object, got JSON null",
		`{"batch":{"valuationDate":"2026-11-25","trades":[]},"batch":{}}`: `duplicate key "batch"`,
		`{"batch":{"valuationDate":"2026-11-25","trades":[]}, "a":[}`:     "malformed JSON at byte 58",
		`{"batch":{"valuationDate":"2026-11-25","trades":[]}} {}`:         "after top-level value",
	} {
		if _, _, err := batch.SplitBatch([]byte(in), "batch"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", in, err, want)
		}
	}

	// A chunk's ids were checked with its batch's: SplitChunk reads one
	// given twice, which SplitBatch refuses, and is SplitBatch otherwise.
	twice := `{"batch":{"valuationDate":"2026-11-25","market":{"underlyings":{"A":{"spot":100,"vol":0.2,"curve":"USD"}},"curves":{"USD":{"rate":0.01}}},` +
		`"trades":[{"id":"T1","type":"european","underlying":"A","right":"call","strike":100,"expiry":"2027-11-25"},{"id":"T1","type":"fra"}]}}`
	if _, _, err := batch.SplitBatch([]byte(twice), "batch"); err == nil || !strings.Contains(err.Error(), `"T1"`) {
		t.Errorf("SplitBatch of an id given twice: %v", err)
	}
	if _, b, err := batch.SplitChunk([]byte(twice), "batch"); err != nil || len(b.Trades) != 2 || b.Trades[1].ID != "T1" {
		t.Errorf("SplitChunk of an id given twice: %v", err)
	}
	if _, b, err := batch.SplitChunk([]byte(`{"index":3,"batch":`+doc+`}`), "batch"); err != nil || len(b.Trades) != 1 {
		t.Errorf("SplitChunk: %v", err)
	} else if got, _ := b.MarshalJSON(); string(got) != string(want) {
		t.Errorf("SplitChunk's batch %s, want %s", got, want)
	}

	arr := `[` + "\n" + `{"id":"T1","npv":1.5},` + "\n" + `{"id":"T2","error":"trade T2: no strike"}` + "\n" + `]`
	rest, member, sc, err := batch.SplitResults([]byte(`{"results":`+arr+`,"index":1}`), "results")
	if err != nil || string(rest) != `{"index":1}` || string(member) != arr {
		t.Fatalf("rest %s, member %s (%v)", rest, member, err)
	}
	scAlone, err := batch.ScanResults([]byte(arr))
	if err != nil || !reflect.DeepEqual(sc, scAlone) || sc.Failed != 1 || !reflect.DeepEqual(sc.IDs.Strings(), []string{"T1", "T2"}) {
		t.Errorf("split scan %+v, want ScanResults' %+v (%v)", sc, scAlone, err)
	}
	for in, want := range map[string]string{
		`{"results":{}}`:                      "batch: results: want a JSON array, got JSON object",
		`{"results":[{"id":"T1","npv":"x"}]}`: "batch: results: result 0: npv",
		`{"results":[{"id":"T1",]}`:           "batch: results: malformed JSON at byte 23",
	} {
		if _, _, _, err := batch.SplitResults([]byte(in), "results"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", in, err, want)
		}
	}
}

// TestTradeIDsAndResultsDocument: the ids a client checks its results by,
// read without decoding: those of a batch equal Decode's, those of its
// results document equal the results'.
func TestTradeIDsAndResultsDocument(t *testing.T) {
	b := mixedBatch(t)
	doc, err := b.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	l, err := batch.TradeIDs(doc)
	if err != nil {
		t.Fatal(err)
	}
	ids := l.Strings()
	var want []string
	for _, tr := range b.Trades {
		want = append(want, tr.ID)
	}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("trade ids %q, want %q", ids, want)
	}
	rs, err := batch.Price(context.Background(), b, batch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := rs.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := batch.ScanResultsDocument(out)
	if err != nil || !reflect.DeepEqual(sc.IDs.Strings(), want) || sc.Failed != 1 {
		t.Errorf("results document: ids %q, %d failed, %v; want %q and 1", sc.IDs.Strings(), sc.Failed, err, want)
	}
	for in, want := range map[string]string{
		`{"trades":[{"id":"A"},{"type":"european"}]}`: "trade 1: no id",
		`{"trades":[{"id":7}]}`:                       "trade 0: id must be a string",
		`{"trades":[{"id":"A"},3]}`:                   "invalid character '3' looking for beginning of object",
		`{"trades":{}}`:                               "trades: malformed JSON",
	} {
		if _, err := batch.TradeIDs([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("TradeIDs %s: error %v, want %q", in, err, want)
		}
	}
	// A fault outside the trades is not blamed on them.
	for _, in := range []string{`{"a":[1,2}],"trades":[]}`, `{"trades":[],"x":1,"x":2}`} {
		if _, err := batch.TradeIDs([]byte(in)); err == nil || strings.Contains(err.Error(), "trades") {
			t.Errorf("TradeIDs %s: error %v, want one that does not name the trades", in, err)
		}
	}
	for in, want := range map[string]string{
		`{"batchId":"b"}`:                  `no "results"`,
		`{"batchId":"b","results":[{}]}`:   "result 0: no id",
		`{"batchId":"b","results":[]`:      "malformed JSON",
		`{"batchId":"b","results":[]} [] `: "malformed JSON",
		`{"results":[],"results":[]}`:      `duplicate key "results"`,
		`{"results":{}}`:                   "want a JSON array, got JSON object",
	} {
		if _, err := batch.ScanResultsDocument([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ScanResultsDocument %s: error %v, want %q", in, err, want)
		}
	}
}

// TestTradeIDsMany: TradeIDs of documents of many trades, whose ids
// change length on the way (an empty one too) and whose other members may
// follow the trades, gives every id, in order; NewIDs of them gives the
// same.
func TestTradeIDsMany(t *testing.T) {
	doc := func(long, short int, after string) ([]byte, []string) {
		var b strings.Builder
		var want []string
		b.WriteString(`{"trades":[`)
		for i := range long + short {
			id := fmt.Sprintf("T%d", i)
			switch {
			case i < long:
				id += strings.Repeat("x", 200)
			case i == long+7:
				id = ""
			}
			if i > 0 {
				b.WriteString(",\n")
			}
			fmt.Fprintf(&b, `{"id":%q,"type":"european","strike":%d}`, id, i)
			want = append(want, id)
		}
		b.WriteString("]" + after + "}")
		return []byte(b.String()), want
	}
	for _, c := range []struct{ long, short int }{{0, 0}, {0, 1}, {0, 4095}, {0, 4096}, {0, 4097}, {0, 30000}, {5000, 30000}, {4096, 1}, {1, 20000}} {
		for _, after := range []string{"", `,"market":{"curves":{"USD":{"rate":0.05}},"pad":"` + strings.Repeat("p", 1<<20) + `"}`} {
			d, want := doc(c.long, c.short, after)
			l, err := batch.TradeIDs(d)
			if err != nil {
				t.Fatalf("%d long, %d short ids: %v", c.long, c.short, err)
			}
			if len(want) == 0 {
				want = []string{}
			}
			got := l.Strings()
			if nl := batch.NewIDs(want); l.Len() != len(want) || !reflect.DeepEqual(nl.Strings(), want) || nl.Len() != len(want) {
				t.Errorf("%d long, %d short ids: Len %d, NewIDs %d", c.long, c.short, l.Len(), nl.Len())
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%d long, %d short ids (%d bytes after): %d ids, want %d", c.long, c.short, len(after), len(got), len(want))
			}
		}
	}
}
