package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pricefn/pricefn/api"
)

// TestTraceShowsEveryChunk submits a batch of 4 chunks through the engine
// and follows it with pricefn trace: one row per chunk, each delivered,
// priced and recorded in that order, once.
func TestTraceShowsEveryChunk(t *testing.T) {
	url := startDev(t)
	file := filepath.Join(t.TempDir(), "b.json")
	if code, _, stderr := runCmd(t, "gen", "--type", "european", "-n", "150", "--id", "trace-1", "--out", file); code != 0 {
		t.Fatalf("gen: %d %s", code, stderr)
	}
	if code, _, stderr := runCmd(t, "submit", "--url", url, "--quiet", file); code != 0 {
		t.Fatalf("submit: %d %s", code, stderr)
	}
	code, out, stderr := runCmd(t, "trace", "trace-1", "--url", url)
	if code != 0 {
		t.Fatalf("trace: exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(out, "batch trace-1 completed (attempt 1): 150 trades in 4 chunks: 150 priced, 0 with errors") {
		t.Errorf("summary:\n%s", out)
	}
	// 150 trades of at most 40 a chunk: 40, 40, 40, 30.
	row := regexp.MustCompile(`(?m)^(\d)\s+(\d+)\s+priced\s+\+(\d+\.\d{3})s\s+\+(\d+\.\d{3})s\s+\+(\d+\.\d{3})s\s+\+(\d+\.\d{3})s\s+1\s+pricer\s+-$`)
	rows := row.FindAllStringSubmatch(out, -1)
	if len(rows) != 4 {
		t.Fatalf("%d chunk rows, want 4:\n%s", len(rows), out)
	}
	for i, r := range rows {
		if want := []string{"40", "40", "40", "30"}[i]; r[1] != string(rune('0'+i)) || r[2] != want {
			t.Errorf("row %d: chunk %s of %s trades, want chunk %d of %s", i, r[1], r[2], i, want)
		}
		sent, _ := strconv.ParseFloat(r[3], 64)
		d, _ := strconv.ParseFloat(r[4], 64)
		p, _ := strconv.ParseFloat(r[5], 64)
		rec, _ := strconv.ParseFloat(r[6], 64)
		if !(sent <= d && d <= p && p <= rec) {
			t.Errorf("chunk %d: sent %s, delivered %s, priced %s, recorded %s: not in order", i, r[3], r[4], r[5], r[6])
		}
	}

	code, out, stderr = runCmd(t, "trace", "--json", "--url", url, "trace-1")
	var st api.Status
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
		t.Fatalf("trace --json: exit %d, %s %.300s", code, stderr, out)
	}
	if len(st.Timeline) != 4 {
		t.Fatalf("timeline of %d chunks, want 4", len(st.Timeline))
	}
	for _, c := range st.Timeline {
		if c.RequestedAt == nil || c.RequestedAt.Before(st.Timings.SubmittedAt) {
			t.Errorf("chunk %d sent at %v, before the submission %v", c.Index, c.RequestedAt, st.Timings.SubmittedAt)
		}
	}
	for _, c := range st.Timeline {
		if c.DeliveredAt == nil || c.PricedAt == nil || c.RecordedAt == nil || c.QueuedSeconds == nil {
			t.Fatalf("chunk %d: %+v: want every time", c.Index, c)
		}
		if c.PricedAt.Before(*c.DeliveredAt) || c.RecordedAt.Before(*c.PricedAt) || *c.QueuedSeconds < 0 ||
			*c.QueuedSeconds != c.DeliveredAt.Sub(st.Timings.SubmittedAt).Seconds() {
			t.Errorf("chunk %d: %+v: times out of order", c.Index, c)
		}
	}

	code, _, stderr = runCmd(t, "trace", "--url", url, "no-such-batch")
	if code != 1 || !strings.Contains(stderr, "404") || !strings.Contains(stderr, "not found") {
		t.Errorf("unknown batch: exit %d, %s", code, stderr)
	}
	if code, _, _ := runCmd(t, "trace", "--url", url); code != 2 {
		t.Errorf("no batch: exit %d, want 2", code)
	}
}

// TestTraceNotes: a chunk delivered twice and a dead one say so, and so
// do outcomes that came after the deadline (the status's late count).
func TestTraceNotes(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	at := func(ms int) *time.Time { v := t0.Add(time.Duration(ms) * time.Millisecond); return &v }
	done := at(900)
	st := &api.Status{
		BatchID: "b", Attempt: 2, Duplicates: 1, Late: 3,
		Progress: api.Progress{State: api.StatePartial, Trades: 20, Priced: 9, Failed: 1, Missing: 10, Chunks: 2},
		Timings:  api.Timings{SubmittedAt: t0, AcceptedAt: *at(5), CompletedAt: done},
		Timeline: []api.ChunkTiming{
			{Index: 0, Trades: 10, State: "priced", Failed: 1, DeliveredAt: at(10), PricedAt: at(250), RecordedAt: at(260), PricedBy: "p-1", Deliveries: 2},
			{Index: 1, Trades: 10, State: "dead", RecordedAt: at(900), Deliveries: 1, Reason: "delivery failed to http://p with status 500:\n out of memory"},
		},
	}
	var buf bytes.Buffer
	if err := writeTimeline(&buf, st); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"batch b partial (attempt 2): 20 trades in 2 chunks: 9 priced, 1 with errors, 10 not priced, 0 pending",
		"accepted by the aggregator +0.005s, finished +0.900s; 1 duplicate absorbed; 3 late chunk outcomes ignored (after the deadline)\n",
		"+0.010s", "+0.250s", "+0.260s", "1 trade with errors; delivered again: 1 duplicate absorbed",
		"dead", "delivery failed to http://p with status 500: out of memory",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestTraceReadsEveryPage: an engine gives a status's timeline a page at a
// time (timelineNext says where the next starts); pricefn trace reads
// them all, and shows every chunk, not the first page's.
func TestTraceReadsEveryPage(t *testing.T) {
	const n, per = 7, 3
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		asked = append(asked, q.Get("from"))
		from, _ := strconv.Atoi(q.Get("from"))
		st := api.Status{BatchID: "paged", Attempt: 1, Progress: api.Progress{State: api.StateRunning, Trades: n, Pending: n, Chunks: n}}
		for i := from; i < min(from+per, n); i++ {
			st.Timeline = append(st.Timeline, api.ChunkTiming{Index: i, Trades: 1, State: "pending"})
		}
		if next := from + per; next < n {
			st.TimelineNext = &next
		}
		if q.Get("timeline") != "true" || r.URL.Path != "/batches/paged" {
			w.WriteHeader(http.StatusBadRequest)
		}
		json.NewEncoder(w).Encode(st)
	}))
	defer srv.Close()
	code, out, stderr := runCmd(t, "trace", "--json", "--url", srv.URL, "paged")
	var st api.Status
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
		t.Fatalf("trace --json: exit %d, %s %.300s", code, stderr, out)
	}
	if len(st.Timeline) != n || st.TimelineNext != nil {
		t.Fatalf("timeline of %d chunks (next %v), want %d", len(st.Timeline), st.TimelineNext, n)
	}
	for i, c := range st.Timeline {
		if c.Index != i {
			t.Errorf("chunk %d of the timeline is chunk %d", i, c.Index)
		}
	}
	if strings.Join(asked, ",") != "0,3,6" {
		t.Errorf("pages asked from %q, want 0,3,6", strings.Join(asked, ","))
	}
}
