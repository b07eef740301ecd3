package batch

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/pricefn/pricefn/pricing"
)

// stdString is what encoding/json writes for s, without HTML escaping.
func stdString(t testing.TB, s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "T1", "T\u0001", "\x00\x1f\x7f", `"quoted"`, `back\slash`, "\n\r\t\b\f",
		"ünïcödé", "\u2028\u2029", "bad \xff utf8 \xc3", "<html>&", "emoji \U0001F600", "bell\a",
	} {
		got := string(appendString(nil, s))
		if want := stdString(t, s); got != want {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("appendString(%q) = %s is not valid JSON", s, got)
		}
	}
}

// FuzzResultsRoundTrip: any id and error text survive a trip through the
// results document and encoding/json.
func FuzzResultsRoundTrip(f *testing.F) {
	for _, s := range []string{"T1", "T\u0001", "\xff", "\u2028", `"\`} {
		f.Add(s, s+" failed")
	}
	f.Fuzz(func(t *testing.T, id, msg string) {
		if got, want := string(appendString(nil, id)), stdString(t, id); got != want {
			t.Fatalf("appendString(%q) = %s, want %s", id, got, want)
		}
		rs := Results{BatchID: id, Results: []TradeResult{{ID: id, Error: msg}, {ID: id}}}
		rs.Results[1].SetValue(pricing.NPV, 1.5)
		data, err := json.Marshal(rs)
		if err != nil {
			t.Fatal(err)
		}
		var back Results
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("results for id %q do not read back: %v\n%s", id, err, data)
		}
		wantID := []rune(id) // invalid UTF-8 reads back as U+FFFD
		if string(wantID) != back.BatchID || back.Results[0].ID != back.BatchID || back.Results[1].ID != back.BatchID {
			t.Errorf("ids %q / %q, want %q", back.BatchID, back.Results[0].ID, string(wantID))
		}
		if back.Results[0].Error != string([]rune(msg)) && msg != "" {
			t.Errorf("error %q, want %q", back.Results[0].Error, msg)
		}
	})
}

// A zero is written 0, never -0, and a batch without an id has no
// "batchId" in its results.
func TestResultsNoNegativeZeroNoEmptyID(t *testing.T) {
	r := TradeResult{ID: "T1"}
	r.SetValue(pricing.NPV, 1)
	r.SetValue(pricing.Delta, math.Copysign(0, -1))
	data, err := Results{Results: []TradeResult{r}}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), "{\"results\":[\n{\"id\":\"T1\",\"npv\":1,\"delta\":0}\n]}"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	var sb strings.Builder
	rw := NewResultsWriter(&sb, "")
	rw.Write(r)
	rw.Close()
	if !strings.HasPrefix(sb.String(), `{"results":[`) {
		t.Errorf("writer: %s", sb.String())
	}
}

// A result read back: every measure, and the faults named.
func TestTradeResultUnmarshal(t *testing.T) {
	var r TradeResult
	if err := json.Unmarshal([]byte(`{"id":"T\u00e9","npv":1.5,"delta":-2e-7,"error":""}`), &r); err != nil {
		t.Fatal(err)
	}
	if r.ID != "Té" || r.NPV != 1.5 || r.Delta != -2e-7 || !r.Set.Has(pricing.Delta) {
		t.Errorf("read %+v", r)
	}
	for doc, want := range map[string]string{
		`{"id":"T","npv":1,"npv":2}`: `duplicate key "npv"`,
		`{"id":"T","id":"U"}`:        `duplicate key "id"`,
		`{"id":"T","npvv":1}`:        `result key "npvv"`,
		`{"id":"T","npv":"1"}`:       "npv",
		`{"id":5}`:                   "id",
	} {
		if err := json.Unmarshal([]byte(doc), &r); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", doc, err, want)
		}
	}
}
