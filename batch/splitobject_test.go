package batch_test

import (
	"context"
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

// TestTradeIDsAndResultsDocument: the ids a client checks its results by,
// read without decoding: those of a batch equal Decode's, those of its
// results document equal the results'.
func TestTradeIDsAndResultsDocument(t *testing.T) {
	b := mixedBatch(t)
	doc, err := b.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	ids, err := batch.TradeIDs(doc)
	if err != nil {
		t.Fatal(err)
	}
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
	if err != nil || !reflect.DeepEqual(sc.IDs, want) || sc.Failed != 1 {
		t.Errorf("results document: ids %q, %d failed, %v; want %q and 1", sc.IDs, sc.Failed, err, want)
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
