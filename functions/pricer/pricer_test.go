package pricer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/functions/pricer"
)

const chunkBatch = `{"id":"b1","valuationDate":"2026-11-25","measures":["npv","delta"],
"market":{"curves":{"USD":{"rate":0.05}},"underlyings":{"ACME":{"spot":100,"vol":0.25,"curve":"USD"}}},
"trades":[
 {"id":"T1","type":"european","underlying":"ACME","right":"call","strike":100,"expiry":"2027-11-25"},
 {"id":"T2","type":"european","underlying":"ACME","right":"put","strike":-5,"expiry":"2027-11-25"},
 {"id":"T3","type":"nosuch"}]}`

func chunkEvent(t *testing.T, batchJSON string) event.Event {
	t.Helper()
	data := `{"batchId":"b1","index":2,"chunks":5,"offset":40,"batch":` + batchJSON + `,"requestedAt":"2026-11-25T09:00:00Z","digest":"sha256:abc"}`
	e := cloudevents.NewEvent()
	e.SetType(events.TypeChunkRequested)
	e.SetSource("/test")
	e.SetID("b1/chunk/2")
	e.SetExtension(events.ExtBatchID, "b1")
	e.SetExtension(events.ExtTraceParent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if err := e.SetData(cloudevents.ApplicationJSON, []byte(data)); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestHandlePricesChunk(t *testing.T) {
	f := pricer.New(pricer.Options{Name: "p1"})
	reply, err := f.Handle(context.Background(), chunkEvent(t, chunkBatch))
	if err != nil {
		t.Fatal(err)
	}
	// The reply's type differs from the pricer's trigger's, so it cannot
	// loop back to the pricer.
	if reply.Type() != events.TypeChunkPriced || reply.Type() == events.TypeChunkRequested {
		t.Fatalf("reply type %q", reply.Type())
	}
	if reply.ID() != "b1/chunk/2/priced" || events.BatchID(*reply) != "b1" || reply.Extensions()[events.ExtTraceParent] == nil {
		t.Errorf("reply id %q, batchid %q, extensions %v", reply.ID(), events.BatchID(*reply), reply.Extensions())
	}
	if i, ok := events.ChunkIndex(*reply); !ok || i != 2 { // what the broker logs as its chunk
		t.Errorf("ChunkIndex of the reply %q = %d, %v, want 2", reply.ID(), i, ok)
	}
	c, err := events.Decode[events.ChunkPriced](*reply, events.TypeChunkPriced)
	if err != nil {
		t.Fatal(err)
	}
	if c.BatchID != "b1" || c.Index != 2 || c.Chunks != 5 || c.Offset != 40 || c.PricedBy != "p1" || c.Digest != "sha256:abc" {
		t.Errorf("chunk.priced %+v", c)
	}
	// Per-trade errors are results; the results equal in-process pricing.
	b, err := batch.DecodeBytes([]byte(chunkBatch))
	if err != nil {
		t.Fatal(err)
	}
	want, err := batch.Price(context.Background(), b, batch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The results are the bytes the aggregator keeps, and the totals
	// theirs.
	exp, err := batch.AppendResultsArray(nil, want.Results)
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Results) != string(exp) {
		t.Errorf("results\n got %s\nwant %s", c.Results, exp)
	}
	var totals batch.ChunkTotaler
	totals.Add(want.Results, b.Underlyings())
	if wt := totals.Partials(); !reflect.DeepEqual(c.TotalPartials, wt) || len(wt[""]) == 0 {
		t.Errorf("totals %v, want %v", c.TotalPartials, wt)
	}
	rs, err := c.DecodeResults()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rs[1].Error, "trade T2") || !strings.Contains(rs[2].Error, "trade T3") {
		t.Errorf("want errors for T2 and T3, got %+v", rs)
	}
}

func TestHandleRejectsUnreadableChunks(t *testing.T) {
	f := pricer.New(pricer.Options{})
	wrongType := chunkEvent(t, chunkBatch)
	wrongType.SetType(events.TypeChunkPriced)
	otherBatch := chunkEvent(t, chunkBatch)
	otherBatch.SetExtension(events.ExtBatchID, "b2")
	cases := map[string]event.Event{
		"wrong type":         wrongType,
		"batchid mismatch":   otherBatch,
		"malformed batch":    chunkEvent(t, `{"valuationDate":"2026-11-25","trades":[{"id":"T1"`),
		"misspelt field":     chunkEvent(t, `{"valuationDate":"2026-11-25","tardes":[]}`),
		"unknown underlying": chunkEvent(t, `{"valuationDate":"2026-11-25","trades":[{"id":"T1","type":"european","underlying":"X"}]}`),
		"no valuation date":  chunkEvent(t, `{"trades":[]}`),
	}
	for name, e := range cases {
		reply, err := f.Handle(context.Background(), e)
		if reply != nil || host.Status(err) != http.StatusBadRequest {
			t.Errorf("%s: reply %v, err %v (status %d), want a 400", name, reply, err, host.Status(err))
		}
	}
}

// A trade id with control characters, quotes and non-ASCII text is valid
// JSON input; its results must be valid JSON too, not a 500 that the broker
// retries and then dead-letters with the whole chunk.
func TestHandleOddTradeIDs(t *testing.T) {
	ids := []string{"T\u0001", `q"uote\back`, "tab\tnl\n", "ünï\u2028cöde", "bell\a"}
	trades := make([]string, len(ids))
	for i, id := range ids {
		q, _ := json.Marshal(id)
		trades[i] = `{"id":` + string(q) + `,"type":"european","underlying":"ACME","right":"call","strike":100,"expiry":"2027-11-25"}`
	}
	doc := `{"valuationDate":"2026-11-25","market":{"curves":{"USD":{"rate":0.05}},"underlyings":{"ACME":{"spot":100,"vol":0.25,"curve":"USD"}}},"trades":[` + strings.Join(trades, ",") + `]}`
	f := pricer.New(pricer.Options{Name: "p1"})
	reply, err := f.Handle(context.Background(), chunkEvent(t, doc))
	if err != nil {
		t.Fatalf("odd ids: %v (status %d)", err, host.Status(err))
	}
	if !json.Valid(reply.Data()) {
		t.Fatalf("reply is not valid JSON: %s", reply.Data())
	}
	c, err := events.Decode[events.ChunkPriced](*reply, events.TypeChunkPriced)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := c.DecodeResults()
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if rs[i].ID != id || rs[i].Error != "" || rs[i].NPV <= 0 {
			t.Errorf("result %d: id %q (want %q), error %q, npv %v", i, rs[i].ID, id, rs[i].Error, rs[i].NPV)
		}
	}
}

// TestHandleSkipsChunksPastDeadline: a chunk delivered more than the late
// grace past its batch's deadline is not priced: the batch ended without
// it, and a queue of such chunks (an ended attempt's, behind a broker's
// bound on deliveries) held up a resubmission's until it too ended with
// nothing priced. Within the grace, or with no deadline, it is priced.
func TestHandleSkipsChunksPastDeadline(t *testing.T) {
	deadline := time.Date(2026, 11, 25, 9, 5, 0, 0, time.UTC)
	withDeadline := func() event.Event {
		e := chunkEvent(t, chunkBatch)
		var data map[string]any
		if err := json.Unmarshal(e.Data(), &data); err != nil {
			t.Fatal(err)
		}
		data["deadline"] = deadline.Format(time.RFC3339)
		raw, _ := json.Marshal(data)
		if err := e.SetData(cloudevents.ApplicationJSON, raw); err != nil {
			t.Fatal(err)
		}
		return e
	}
	for _, c := range []struct {
		name   string
		now    time.Time
		e      event.Event
		priced bool
	}{
		{"before the deadline", deadline.Add(-time.Minute), withDeadline(), true},
		{"within the grace", deadline.Add(pricer.DefaultLateGrace - time.Second), withDeadline(), true},
		{"past the grace", deadline.Add(pricer.DefaultLateGrace + time.Second), withDeadline(), false},
		{"no deadline", deadline.Add(time.Hour), chunkEvent(t, chunkBatch), true},
	} {
		reg := prometheus.NewRegistry()
		f := pricer.New(pricer.Options{Registerer: reg, Now: func() time.Time { return c.now }})
		reply, err := f.Handle(context.Background(), c.e)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if (reply != nil) != c.priced {
			t.Errorf("%s: reply %v, want priced %v", c.name, reply != nil, c.priced)
		}
		want := 1.0
		if c.priced {
			want = 0
		}
		if n := expiredCount(t, reg); n != want {
			t.Errorf("%s: %v chunks counted expired, want %v", c.name, n, want)
		}
	}
}

// expiredCount is pricefn_pricer_chunks_expired_total in reg.
func expiredCount(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == "pricefn_pricer_chunks_expired_total" {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("no pricefn_pricer_chunks_expired_total")
	return 0
}

// TestChunkPricedLogGivesSeconds: "chunk priced" gives the chunk's time in
// seconds under a name that says so, as the aggregator's "batch finished"
// does; it gave zerolog's Dur, milliseconds, as "took".
func TestChunkPricedLogGivesSeconds(t *testing.T) {
	var logs bytes.Buffer // Handle logs before it returns, on this goroutine
	start := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	reads := 0
	now := func() time.Time { // the chunk starts, then 1.5 s later ends
		reads++
		return start.Add(time.Duration(reads-1) * 1500 * time.Millisecond)
	}
	f := pricer.New(pricer.Options{Log: zerolog.New(&logs).Level(zerolog.DebugLevel), Now: now})
	if _, err := f.Handle(context.Background(), chunkEvent(t, chunkBatch)); err != nil {
		t.Fatal(err)
	}
	var entry map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(logs.Bytes()), &entry); err != nil || entry["message"] != "chunk priced" {
		t.Fatalf("log %q (%v), want one \"chunk priced\" line", logs.String(), err)
	}
	if _, took := entry["took"]; took || entry["seconds"] != 1.5 {
		t.Errorf("chunk priced logged %s, want \"seconds\":1.5", logs.String())
	}
}

// TestHandleRefusesBatchIDsNoBatchHas: a chunk whose batchId no batch can
// have (over 128 bytes, a '/') is refused as unreadable (400), its error
// bounded: a 100,000-byte one was compiled for and quoted whole, in the
// answer and the log line, twice where the batch did not compile.
func TestHandleRefusesBatchIDsNoBatchHas(t *testing.T) {
	f := pricer.New(pricer.Options{})
	for _, id := range []string{strings.Repeat("Y", 100_000), "desk/eod"} {
		e := chunkEvent(t, `{"valuationDate":"2026-11-25","measures":["nope"],"trades":[]}`)
		e.SetExtension(events.ExtBatchID, nil)
		var data map[string]any
		if err := json.Unmarshal(e.Data(), &data); err != nil {
			t.Fatal(err)
		}
		data["batchId"] = id
		raw, _ := json.Marshal(data)
		if err := e.SetData(cloudevents.ApplicationJSON, raw); err != nil {
			t.Fatal(err)
		}
		reply, err := f.Handle(context.Background(), e)
		if msg := host.Message(err); reply != nil || host.Status(err) != http.StatusBadRequest || len(msg) > 1000 || !strings.Contains(msg, "batch id") {
			t.Errorf("batchId of %d bytes: reply %v, status %d, error of %d bytes %.200q; want a 400 naming the batch id, under 1,000 bytes", len(id), reply, host.Status(err), len(msg), msg)
		}
	}
}

// TestLongTraceParentLoggedCut: a chunk's traceparent is the sender's, of
// any length, and its log lines carry it: cut as an error quotes a value
// (a 100,000-byte one was logged whole).
func TestLongTraceParentLoggedCut(t *testing.T) {
	var logs bytes.Buffer // Handle logs before it returns, on this goroutine
	f := pricer.New(pricer.Options{Log: zerolog.New(&logs).Level(zerolog.DebugLevel)})
	e := chunkEvent(t, chunkBatch)
	e.SetExtension(events.ExtTraceParent, strings.Repeat("t", 100_000))
	if _, err := f.Handle(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(logs.String())
	if len(line) > 2000 || !strings.Contains(line, "chunk priced") || !strings.Contains(line, `"traceparent":"ttt`) {
		t.Errorf("logged in %d bytes, want one \"chunk priced\" line under 2,000 with the traceparent's start: %.300s", len(line), line)
	}
}
