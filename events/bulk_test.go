package events_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/pricing"
)

const chunkDoc = `{"valuationDate":"2026-11-25","measures":["npv","delta"],` +
	`"market":{"curves":{"USD":{"rate":0.05}},"underlyings":{"ACME":{"spot":100,"vol":0.25,"curve":"USD"}}},` +
	`"trades":[{"id":"T1","type":"european","underlying":"ACME","right":"call","strike":100,"expiry":"2027-11-25"},` +
	`{"id":"T\"2","type":"european","underlying":"ACME","right":"put","strike":90,"expiry":"2027-05-25"}]}`

// sameJSON reports whether a and b hold the same JSON value, whatever
// the order of their members.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return reflect.DeepEqual(va, vb)
}

// TestBulkEncodingIsEncodingJSONs: New writes the data of chunk.requested
// and chunk.priced by splicing their large member in, and the result is
// the value of the document encoding/json writes; Decode reads it back to the same
// value, the large member cut out of the data, not copied.
func TestBulkEncodingIsEncodingJSONs(t *testing.T) {
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	b, err := batch.DecodeBytes([]byte(chunkDoc))
	if err != nil {
		t.Fatal(err)
	}
	b.ID = "b1"
	req := events.ChunkRequested{BatchID: "b1", Attempt: 2, Index: 1, Chunks: 3, Offset: 10, Batch: *b, RequestedAt: at, Digest: "sha256:x"}
	e, err := events.New(events.TypeChunkRequested, "/test", "1", "b1", req)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, e.Data(), plain) {
		t.Errorf("chunk.requested data\n%s\nwant encoding/json's\n%s", e.Data(), plain)
	}
	gotReq, err := events.Decode[events.ChunkRequested](e, events.TypeChunkRequested)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(gotReq)
	if string(again) != string(plain) {
		t.Errorf("chunk.requested decoded to\n%s\nwant\n%s", again, plain)
	}

	var rs []batch.TradeResult
	for i, id := range []string{"T1", "T\"2", "T3"} {
		r := batch.TradeResult{ID: id}
		if i == 2 {
			r.Error = "trade T3: strike must be > 0"
		} else {
			r.SetValue(pricing.NPV, 1.25+float64(i))
			r.SetValue(pricing.Delta, 0.5)
		}
		rs = append(rs, r)
	}
	priced := events.ChunkPriced{BatchID: "b1", Attempt: 2, Index: 1, Chunks: 3, Offset: 10, RequestedAt: at, StartedAt: at, FinishedAt: at.Add(time.Second), PricedBy: "p", Digest: "sha256:x"}
	if err := priced.SetResults(rs, []string{"ACME", "", "ACME"}); err != nil {
		t.Fatal(err)
	}
	if want := map[string]map[string][]float64{"": {"npv": {3.5}, "delta": {1}}, "ACME": {"npv": {1.25}, "delta": {0.5}}}; !reflect.DeepEqual(priced.TotalPartials, want) || priced.Totals != nil {
		t.Errorf("totals %v %v, want partials %v", priced.Totals, priced.TotalPartials, want)
	}
	e, err = events.New(events.TypeChunkPriced, "/test", "2", "b1", priced)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err = json.Marshal(priced); err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, e.Data(), plain) {
		t.Errorf("chunk.priced data\n%s\nwant encoding/json's\n%s", e.Data(), plain)
	}
	gotPriced, err := events.Decode[events.ChunkPriced](e, events.TypeChunkPriced)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := json.Marshal(gotPriced); string(again) != string(plain) {
		t.Errorf("chunk.priced decoded to\n%s\nwant\n%s", again, plain)
	}
	// The results were checked as they were decoded; results set since
	// are checked anew.
	sc, err := gotPriced.ScanResults()
	if err != nil || !reflect.DeepEqual(sc.IDs.Strings(), []string{"T1", "T\"2", "T3"}) || sc.Failed != 1 {
		t.Errorf("scan of the decoded results: %v, %d failed (%v)", sc.IDs.Strings(), sc.Failed, err)
	}
	other := gotPriced
	other.Results = json.RawMessage(`[{"id":"X","npv":1}]`)
	if sc, err := other.ScanResults(); err != nil || !reflect.DeepEqual(sc.IDs.Strings(), []string{"X"}) {
		t.Errorf("scan of results set after decoding: %v (%v), want [X]", sc.IDs.Strings(), err)
	}
	if i := bytes.Index(e.Data(), gotPriced.Results); i < 0 || &e.Data()[i] != &gotPriced.Results[0] {
		t.Error("the decoded results are a copy of the data, not a part of it")
	}
	back, err := gotPriced.DecodeResults()
	if err != nil || !reflect.DeepEqual(back, rs) {
		t.Errorf("results %+v (%v), want %+v", back, err, rs)
	}
}

// TestBulkDecodingIsStrict: the data of a bulk type is held to what
// encoding/json's strict decoding holds the others to, and more: no key
// twice, nothing after the object.
func TestBulkDecodingIsStrict(t *testing.T) {
	decode := func(typ, data string) error {
		e := cloudevents.NewEvent()
		e.SetType(typ)
		e.SetSource("/test")
		e.SetID("1")
		if err := e.SetData(cloudevents.ApplicationJSON, []byte(data)); err != nil {
			t.Fatal(err)
		}
		var err error
		if typ == events.TypeChunkPriced {
			_, err = events.Decode[events.ChunkPriced](e, typ)
		} else {
			_, err = events.Decode[events.ChunkRequested](e, typ)
		}
		return err
	}
	for _, tc := range []struct{ typ, data, want string }{
		{events.TypeChunkPriced, `{"batchId":"b","resluts":[]}`, `unknown field "resluts"`},
		{events.TypeChunkPriced, `{"batchId":"b","results":[],"results":[]}`, `duplicate key "results"`},
		{events.TypeChunkPriced, `{"batchId":"b","index":"1","results":[]}`, "cannot unmarshal string"},
		{events.TypeChunkPriced, `{"batchId":"b","results":{"id":"T1"}}`, "results: want a JSON array"},
		{events.TypeChunkPriced, `{"batchId":"b","results":[]} {}`, "after top-level value"},
		{events.TypeChunkPriced, `{"batchId":"b","results":[{"id":"T1",]}`, "malformed JSON at byte"},
		{events.TypeChunkPriced, `[]`, "want a JSON object"},
		{events.TypeChunkRequested, `{"batchId":"b","batch":{"valuationDate":"2026-11-25","tardes":[]}}`, `batch: `},
		{events.TypeChunkRequested, `{"batchId":"b","batch":7}`, `batch: `},
		{events.TypeChunkRequested, `{"batchId":"b","offset":-0.5,"batch":{"valuationDate":"2026-11-25","trades":[]}}`, "cannot unmarshal number"},
	} {
		err := decode(tc.typ, tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: error %v, want %q", tc.typ, tc.data, err, tc.want)
		}
	}
	// The large member may be absent: the checks that need it are the
	// functions'.
	if err := decode(events.TypeChunkRequested, `{"batchId":"b"}`); err != nil {
		t.Errorf("chunk.requested without a batch: %v", err)
	}
}

// TestChunkPricedMadeAroundResults: the data of a chunk.priced whose
// results SetResults encoded is made around them (their bytes are the
// data's, not a copy) and is what encoding/json makes; a head too long for
// the room left before them (totals on many underlyings), or results set
// by hand, take the copying way to the same data.
func TestChunkPricedMadeAroundResults(t *testing.T) {
	for _, under := range []int{1, 12, 400} {
		c := events.ChunkPriced{BatchID: "b", Index: 3, Chunks: 4, Offset: 7, Digest: strings.Repeat("d", 64), RequestedAt: time.Unix(1, 0).UTC()}
		// A trade on each underlying, with npv and greeks of 17 digits
		// (the totals' partials as long as they come), and one that
		// failed.
		rs := []batch.TradeResult{{ID: "T0", Error: "no market"}}
		names := []string{"NONE"}
		for i := range under {
			names = append(names, "UNDERLYING-"+strings.Repeat("x", i%7)+string(rune('A'+i%26))+strings.Repeat("y", i/26))
			r := batch.TradeResult{ID: fmt.Sprint("T", i+1)}
			for k, m := range []pricing.Measure{pricing.NPV, pricing.Delta, pricing.Gamma, pricing.Vega, pricing.Theta, pricing.Rho} {
				r.SetValue(m, 1/(float64(i)+float64(k)+3))
			}
			rs = append(rs, r)
		}
		if err := c.SetResults(rs, names); err != nil {
			t.Fatal(err)
		}
		e, err := events.New(events.TypeChunkPriced, "/test", "1", "b", c)
		if err != nil {
			t.Fatal(err)
		}
		plain := c
		plain.Results = append(json.RawMessage(nil), c.Results...) // not SetResults' buffer
		want, err := json.Marshal(plain)
		if err != nil {
			t.Fatal(err)
		}
		if !sameJSON(t, e.Data(), want) {
			t.Errorf("%d underlyings: data %s, want %s", under, e.Data(), want)
		}
		at := bytes.Index(e.Data(), c.Results)
		shared := at >= 0 && &e.Data()[at] == &c.Results[0]
		// The room before the results: 8,192 bytes, for a dozen
		// underlyings and more.
		if fits := len(e.Data())-len(c.Results) < 8192; shared != fits || (under <= 12) != shared {
			t.Errorf("%d underlyings: data shares the results' bytes %v, want %v (%d bytes besides them)", under, shared, fits, len(e.Data())-len(c.Results))
		}
		// A second event from the same chunk copies: the first keeps
		// its data.
		first := string(e.Data())
		c.Attempt = 2
		e2, err := events.New(events.TypeChunkPriced, "/test", "2", "b", c)
		if err != nil || string(e.Data()) != first || bytes.Contains(e2.Data(), []byte(`"attempt"`)) == false {
			t.Errorf("%d underlyings: a second event changed the first's data (%v)", under, err)
		}
		c.Attempt = 0
		back, err := events.Decode[events.ChunkPriced](e, events.TypeChunkPriced)
		if err != nil || string(back.Results) != string(c.Results) || !reflect.DeepEqual(back.TotalPartials, c.TotalPartials) || len(back.TotalPartials) != under+1 {
			t.Errorf("%d underlyings: decoded %v, %s", under, err, back.Results)
		}
	}
}
