package console_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/pricefn/pricefn/console"
)

// standIn is an API serving one batch to the console as the engine does,
// its event stream fed by the test: each string sent on events is one
// whole server-sent event. Closing gone plays an engine restarted with a
// memory store: the stream drops and every later call about the batch is
// a 404.
type standIn struct {
	url      string
	events   chan string
	gone     chan struct{}
	status   atomic.Pointer[string] // the status document served, which the test may change
	calls    atomic.Int64           // calls about the batch: status, results and stream
	statuses atomic.Int64           // status documents served
	streams  atomic.Int64           // event streams opened
}

func newStandIn(t *testing.T, id, status, results string) *standIn {
	t.Helper()
	s := &standIn{events: make(chan string), gone: make(chan struct{})}
	s.status.Store(&status)
	isGone := func() bool {
		select {
		case <-s.gone:
			return true
		default:
			return false
		}
	}
	notFound := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"error":"aggregator: batch %s not found"}`, id)
	}
	serve := func(read func() string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			s.calls.Add(1)
			doc := read()
			if isGone() || doc == "" {
				notFound(w)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, doc)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/ui/", console.Handler())
	mux.HandleFunc("GET /batches", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"batches":[]}`) })
	mux.HandleFunc("GET /batches/"+id, serve(func() string { s.statuses.Add(1); return *s.status.Load() }))
	mux.HandleFunc("GET /batches/"+id+"/results", serve(func() string { return results }))
	mux.HandleFunc("GET /batches/"+id+"/events", func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		s.streams.Add(1)
		if isGone() {
			notFound(w)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "retry: 50\n\n")
		w.(http.Flusher).Flush()
		for {
			select {
			case e := <-s.events:
				fmt.Fprint(w, e)
				w.(http.Flusher).Flush()
			case <-s.gone:
				return // the engine went down: the connection drops
			case <-r.Context().Done():
				return
			}
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		select {
		case <-s.gone:
		default:
			close(s.gone)
		}
		srv.Close()
	})
	s.url = srv.URL
	return s
}

// chunkEvent is the event of chunk i of a running batch of n chunks.
func chunkEvent(id string, i, n int) string {
	return fmt.Sprintf("id: 1/%d\nevent: chunk\ndata: {\"batchId\":%q,\"attempt\":1,\"index\":%d,\"state\":\"priced\",\"firstTrade\":%d,\"trades\":1,"+
		"\"deliveredAt\":\"2026-11-25T09:00:00.5Z\",\"pricedAt\":\"2026-11-25T09:00:01Z\",\"recordedAt\":\"2026-11-25T09:00:01Z\",\"pricingSeconds\":0.5,\"deliveries\":1,"+
		"\"progress\":{\"state\":\"running\",\"trades\":%d,\"priced\":%d,\"pending\":%d,\"chunks\":%d,\"chunksDone\":%d}}\n\n",
		i, id, i, i, n, i+1, n-i-1, n, i+1)
}

// observe counts, from now on, the DOM mutations of the elements sel
// matches (their text and children), in window[name]; it reports whether
// sel matched anything.
func observe(b *tab, name, sel string) bool {
	return eval[bool](b, fmt.Sprintf(`(() => {
		const els = document.querySelectorAll(%q);
		window[%q] = 0;
		for (const el of els) new MutationObserver((ms) => { window[%q] += ms.length; }).observe(el, {childList: true, characterData: true, subtree: true});
		return els.length > 0;
	})()`, sel, name, name))
}

// TestConsoleBatchRunningThenGone follows a running batch whose chunks
// come in ten a second, then plays an engine restart that forgets it. While it
// runs, the aria-live state badge is not rewritten with the same text,
// and the progress is announced in a polite live region at most every few
// seconds (findings h5 F6: "running" was written four times a second).
// Once the engine answers 404, the page says the batch is gone, in a
// final state unknown, and its clock, stream and status reads stop
// (h5 F3: "running" forever, Elapsed counting beside "not found").
// What it shows of the batch when last seen is the latest progress of
// the chunk events, everywhere, not the older status document, and no
// duration (v2 F10: the banner said 15 chunks, the progress text, the
// live region and the summary 0, beside a duration "not known").
func TestConsoleBatchRunningThenGone(t *testing.T) {
	const id, n = "run-1", 40
	status := fmt.Sprintf(`{"batchId":%q,"state":"running","attempt":1,"trades":%d,"priced":0,"failed":0,"missing":0,"pending":%d,"chunks":%d,"chunksDone":0,"chunksFailed":0,"duplicates":0,
		"timings":{"submittedAt":"2026-11-25T09:00:00Z","acceptedAt":"2026-11-25T09:00:00.001Z","deadline":"2026-11-26T09:00:00Z","durationSeconds":1.5,"pricingSeconds":0.25}}`, id, n, n, n)
	api := newStandIn(t, id, status, "")
	b := newBrowser(t)
	b.do("open the batch page", chromedp.Navigate(api.url+"/ui/batches/"+id))
	b.wait("the batch running, live", `document.querySelector('#state')?.textContent === 'running' && document.querySelector('#live')?.textContent.includes('live')`)

	if !observe(b, "stateWrites", "#state") {
		t.Fatal("no #state badge")
	}
	live := observe(b, "progressWrites", `#progress [aria-live], [aria-live]#progress-live, #progress-text[aria-live]`)
	start := time.Now()
	const sent = 15
	tick := time.NewTicker(100 * time.Millisecond)
	for i := range sent {
		<-tick.C
		api.events <- chunkEvent(id, i, n)
	}
	tick.Stop()
	b.wait("the chunks shown", fmt.Sprintf(`document.querySelector('#progress-text').textContent.startsWith('%d of %d')`, sent, n))
	window := time.Since(start)
	if w := eval[int](b, `window.stateWrites`); w != 0 {
		t.Errorf("the aria-live state badge was written %d times in %v while the batch stayed running, want 0", w, window.Round(time.Millisecond))
	}
	if !live {
		t.Error("no live region announces the progress")
	} else {
		// One announcement every 5 s at most, one more for the window's edges.
		if w, most := eval[int](b, `window.progressWrites`), 1+int(window/(5*time.Second)); w > most {
			t.Errorf("the progress was announced %d times in %v, want at most %d", w, window.Round(time.Millisecond), most)
		}
		if s := eval[string](b, `document.querySelector('#progress-live').getAttribute('aria-live')`); s != "polite" {
			t.Errorf("progress live region: aria-live %q, want polite", s)
		}
	}
	b.shot("09-batch-running")

	// The engine restarts and has forgotten the batch.
	close(api.gone)
	b.wait("the batch unknown", `document.querySelector('#state')?.textContent === 'unknown'`)
	if s := eval[string](b, `document.querySelector('#lost')?.textContent || ''`); !strings.Contains(s, "the engine no longer knows this batch") {
		t.Errorf("the page says %q of a batch the engine forgot", s)
	}
	if s := eval[string](b, `document.querySelector('#progress-live')?.textContent || ''`); !strings.Contains(s, "Unknown") {
		t.Errorf("the progress live region says %q, want the state unknown announced", s)
	}
	dts := eval[[]string](b, `Array.from(document.querySelectorAll('#summary dt')).map(dt => dt.textContent)`)
	if slices.Contains(dts, "Elapsed") || slices.Contains(dts, "Deadline") {
		t.Errorf("summary of a batch gone: %q, want no Elapsed clock nor Deadline", dts)
	}
	if s := eval[string](b, `document.querySelector('#live').textContent`); s != "" {
		t.Errorf("live marker %q after the batch is gone", s)
	}
	// Last seen: the 15 chunks of the events, not the status document's 0.
	if s := eval[string](b, `document.querySelector('#progress-text').textContent`); !strings.HasPrefix(s, "15 of 40 chunks") {
		t.Errorf("progress text %q of a batch last seen with 15 of 40 chunks done", s)
	}
	if s := eval[string](b, `document.querySelector('#progress-live').textContent`); !strings.Contains(s, "15 of 40 chunks") {
		t.Errorf("announced %q of a batch last seen with 15 of 40 chunks done", s)
	}
	summary := eval[map[string]string](b, `Object.fromEntries(Array.from(document.querySelectorAll('#summary div')).map(d => [d.querySelector('dt').textContent, d.querySelector('dd').textContent.replace(/\s+/g, ' ').trim()]))`)
	if s := summary["Chunks"]; !strings.HasPrefix(s, "15 / 40") {
		t.Errorf("summary chunks %q, want 15 / 40 as last seen", s)
	}
	if s := summary["Trades"]; !strings.Contains(s, "15 priced") || !strings.Contains(s, "25 pending") {
		t.Errorf("summary trades %q, want 15 priced and 25 pending as last seen", s)
	}
	if s := summary["Duration"]; strings.ContainsAny(s, "0123456789") || !strings.Contains(s, "not known") {
		t.Errorf("summary duration %q of a batch gone: want no figure, only that it is not known", s)
	}
	if s := summary["Pricing time"]; !strings.HasPrefix(s, "7.50 s") || strings.Contains(s, "parallel") {
		t.Errorf("summary pricing time %q, want the 15 chunks' 7.50 s and no parallelism of an unknown duration", s)
	}
	b.shot("10-batch-gone")
	// Nothing moves any more, and nothing more is asked of the engine.
	observe(b, "after", "#summary, #timeline, #state, #progress-text")
	calls := api.calls.Load()
	time.Sleep(1500 * time.Millisecond) // longer than the 1 s clock and the 50 ms retry
	if w := eval[int](b, `window.after`); w != 0 {
		t.Errorf("%d changes to the page of a batch gone in 1.5 s, want none (the clock stopped)", w)
	}
	if c := api.calls.Load(); c != calls {
		t.Errorf("%d more calls about a batch gone, want none", c-calls)
	}
}

// TestConsoleTotalsCatchUp: the totals and the pricing time, which the
// page reads from the status document at most once a second while chunks
// arrive, catch up with the chunks of a burst (bb-console: a chunk that
// came within the second of the last read was dropped, not put off, so a
// batch whose chunks came in a burst, then a slow one, showed the totals
// of the burst's first chunk, 10.85 beside the API's 54,142.65 with 15 of
// 31 chunks done, until the slow chunk ended the batch).
func TestConsoleTotalsCatchUp(t *testing.T) {
	const id, n = "burst-1", 4
	status := func(done int, npv, pricing float64) string {
		totals := ""
		if done > 0 {
			totals = fmt.Sprintf(`,"totals":{"all":{"npv":%v},"byUnderlying":{"ACME":{"npv":%v}}}`, npv, npv)
		}
		return fmt.Sprintf(`{"batchId":%q,"state":"running","attempt":1,"trades":%d,"priced":%d,"failed":0,"missing":0,"pending":%d,"chunks":%d,"chunksDone":%d,"chunksFailed":0,"duplicates":0,`+
			`"timings":{"submittedAt":"2026-11-25T09:00:00Z","deadline":"2026-11-26T09:00:00Z","pricingSeconds":%v}%s}`, id, n, done, n-done, n, done, pricing, totals)
	}
	api := newStandIn(t, id, status(0, 0, 0), "")
	b := newBrowser(t)
	b.do("open the batch page", chromedp.Navigate(api.url+"/ui/batches/"+id))
	b.wait("the batch running, live", `document.querySelector('#state')?.textContent === 'running' && document.querySelector('#live')?.textContent.includes('live')`)
	const shown = `document.querySelector('#totals tr.all td[data-measure="npv"]')?.textContent`
	const pricing = `Array.from(document.querySelectorAll('#summary div')).find(d => d.querySelector('dt').textContent === 'Pricing time')?.querySelector('b').textContent`

	// The first chunk: the status document is read at once.
	api.status.Store(ptr(status(1, 1.5, 0.5)))
	api.events <- chunkEvent(id, 0, n)
	b.wait("the first chunk's totals", shown+` === '1.500000'`)
	// Two more within the second: the next read waits for its end.
	api.status.Store(ptr(status(3, 4.5, 1.5)))
	api.events <- chunkEvent(id, 1, n)
	api.events <- chunkEvent(id, 2, n)
	b.wait("the three chunks shown", `document.querySelector('#progress-text').textContent.startsWith('3 of 4')`)
	b.wait("the totals of the three chunks", shown+` === '4.500000' && `+pricing+` === '1.50 s'`)
	if got := api.statuses.Load(); got != 3 {
		t.Errorf("the status document was read %d times, want 3: the page's, then once a second while chunks arrive", got)
	}
}

func ptr[T any](v T) *T { return &v }

// TestConsoleChunkTableDrawnOnce: opening the chunk table of a batch of
// more than 12 chunks draws it once (bb-console: each drawing of the page,
// one a second and one per chunk, added a listener for the table's
// opening, so that opening it drew it as many times: 29 after 8 s, a
// freeze of seconds for a long batch of many chunks).
func TestConsoleChunkTableDrawnOnce(t *testing.T) {
	const id, n = "table-1", 20
	running := fmt.Sprintf(`{"batchId":%q,"state":"running","attempt":1,"trades":%d,"priced":0,"failed":0,"missing":0,"pending":%d,"chunks":%d,"chunksDone":0,"chunksFailed":0,"duplicates":0,`+
		`"timings":{"submittedAt":"2026-11-25T09:00:00Z","deadline":"2026-11-26T09:00:00Z"}}`, id, n, n, n)
	api := newStandIn(t, id, running, "")
	b := newBrowser(t)
	b.do("open the batch page", chromedp.Navigate(api.url+"/ui/batches/"+id))
	b.wait("the batch running, live", `document.querySelector('#state')?.textContent === 'running' && document.querySelector('#live')?.textContent.includes('live')`)
	const sent = 4
	for i := range sent {
		api.events <- chunkEvent(id, i, n)
		b.wait("the chunk shown", fmt.Sprintf(`document.querySelector('#progress-text').textContent.startsWith('%d of %d')`, i+1, n))
	}
	// The batch ends: the page's clock stops, and nothing draws the
	// table but its opening.
	api.events <- "event: end\ndata: " + strings.Replace(running, `"state":"running"`, `"state":"partial"`, 1) + "\n\n"
	b.wait("the batch partial", `document.querySelector('#state')?.textContent === 'partial'`)
	if eval[bool](b, `document.querySelector('#chunk-details').open`) {
		t.Fatal("the chunk table of 20 chunks is open before the user opens it")
	}
	eval[bool](b, `(() => {
		window.tableDraws = 0;
		new MutationObserver((ms) => { window.tableDraws += ms.length; }).observe(document.querySelector('#chunk-table'), {childList: true});
		document.querySelector('#chunk-details summary').click();
		return true;
	})()`)
	b.wait("the chunk table", fmt.Sprintf(`document.querySelectorAll('#chunk-table tbody tr').length === %d`, sent))
	time.Sleep(100 * time.Millisecond) // any other drawing of the toggle's
	if got := eval[int](b, `window.tableDraws`); got != 1 {
		t.Errorf("opening the chunk table drew it %d times, want once", got)
	}
	// A chunk of one trade names it alone ("3,809–3,809 (1 trade)" before).
	if got := eval[string](b, `document.querySelector('#chunk-table tbody tr:nth-child(3) td:nth-child(2)').textContent`); got != "3 (1 trade)" {
		t.Errorf("the third chunk's trades: %q, want \"3 (1 trade)\"", got)
	}
}

// TestConsoleFinishedBatch: the totals show their figures as the results
// table does (6 decimals, 6 significant digits below 0.01), the duration
// says what it measures, and the CSV download neutralises text cells that
// a spreadsheet would read as a formula (h5 F8).
func TestConsoleFinishedBatch(t *testing.T) {
	const id = "done-1"
	status := fmt.Sprintf(`{"batchId":%q,"state":"completed","attempt":1,"trades":6,"priced":5,"failed":1,"missing":0,"pending":0,"chunks":1,"chunksDone":1,"chunksFailed":0,"duplicates":0,
		"timings":{"submittedAt":"2026-11-25T09:00:00Z","acceptedAt":"2026-11-25T09:00:00.001Z","completedAt":"2026-11-25T09:00:02Z","durationSeconds":2,"pricingSeconds":1.5},
		"totals":{"all":{"npv":-55134.60123456789,"vega":119.87119848519237},"byUnderlying":{"ACME":{"npv":0.00123456789,"vega":-3.25}}}}`, id)
	ids := []string{"=cmd|calc!A1", "+1", "-2", "@SUM(A1)", "\tTAB", "plain"}
	var rs []map[string]any
	for i, tid := range ids {
		rs = append(rs, map[string]any{"id": tid, "npv": -1.5 * float64(i+1)})
	}
	rs[5] = map[string]any{"id": "plain", "error": "=HYPERLINK(\"http://x\")"}
	results, _ := json.Marshal(map[string]any{"batchId": id, "results": rs})
	api := newStandIn(t, id, status, string(results))
	go func() { // the stream ends at once, as the engine's does for a finished batch
		select {
		case api.events <- fmt.Sprintf("id: 1/0\nevent: end\ndata: %s\n\n", strings.Join(strings.Fields(status), "")):
		case <-api.gone:
		}
	}()
	b := newBrowser(t)
	b.do("open the batch page", chromedp.Navigate(api.url+"/ui/batches/"+id))
	b.wait("the results table", `document.querySelectorAll('#results-table tbody tr[data-id]').length === 6`)

	totals := eval[map[string]string](b, `Object.fromEntries(Array.from(document.querySelectorAll('#totals tbody tr')).flatMap(tr =>
		Array.from(tr.querySelectorAll('td[data-measure]')).map(td => [tr.querySelector('th').textContent + ' ' + td.dataset.measure, td.textContent])))`)
	want := map[string]string{
		"all trades npv": "-55134.601235", "all trades vega": "119.871198",
		"ACME npv": "0.00123457", "ACME vega": "-3.250000",
	}
	for k, v := range want {
		if totals[k] != v {
			t.Errorf("totals %s: %q, want %q as the results table writes it", k, totals[k], v)
		}
	}
	dur := eval[string](b, `Array.from(document.querySelectorAll('#summary div')).find(d => d.querySelector('dt').textContent === 'Duration')?.textContent || ''`)
	if !strings.Contains(dur, "submission to completion") {
		t.Errorf("duration %q: durationSeconds runs from submission to completion", dur)
	}

	dir := b.downloadDir(t)
	b.do("download the CSV", chromedp.Click(chromedp.ID("dl-csv")))
	records, err := csv.NewReader(bytes.NewReader(waitFile(t, filepath.Join(dir, id+"-results.csv")))).ReadAll()
	if err != nil || len(records) != 7 {
		t.Fatalf("CSV: %q, %v", records, err)
	}
	wantIDs := []string{"'=cmd|calc!A1", "'+1", "'-2", "'@SUM(A1)", "'\tTAB", "plain"}
	for i, rec := range records[1:] {
		if rec[0] != wantIDs[i] {
			t.Errorf("CSV row %d: id %q, want %q", i+1, rec[0], wantIDs[i])
		}
		if i < 5 && rec[1] != fmt.Sprint(-1.5*float64(i+1)) {
			t.Errorf("CSV row %d: npv %q, want the number as it is", i+1, rec[1])
		}
	}
	if e := records[6][len(records[6])-1]; e != `'=HYPERLINK("http://x")` {
		t.Errorf("CSV error cell %q, want it neutralised", e)
	}
}

// TestConsoleDurations: durations are rounded before their unit is
// chosen (bb-ui: 119.6 s was "1 min 60 s", 59.97 s "60.0 s" and 0.9996 s
// "1000 ms").
func TestConsoleDurations(t *testing.T) {
	want := []struct {
		seconds float64
		shown   string
	}{
		{0.0042, "4.20 ms"}, {0.412, "412 ms"}, {0.9996, "1.00 s"}, {9.996, "10.0 s"}, {12.34, "12.3 s"},
		{59.97, "1 min 00 s"}, {119.6, "2 min 00 s"}, {123.4, "2 min 03 s"}, {3599.7, "60 min 00 s"},
	}
	var list []string
	for i, w := range want {
		list = append(list, fmt.Sprintf(`{"batchId":"d-%d","state":"completed","attempt":1,"trades":1,"chunks":1,"chunksDone":1,"submittedAt":"2026-11-25T09:00:00Z","durationSeconds":%v}`, i, w.seconds))
	}
	mux := http.NewServeMux()
	mux.Handle("/ui/", console.Handler())
	mux.HandleFunc("GET /batches", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"batches":[%s]}`, strings.Join(list, ","))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	b := newBrowser(t)
	b.do("open the batches page", chromedp.Navigate(srv.URL+"/ui/batches"))
	b.wait("the list", fmt.Sprintf(`document.querySelectorAll('table.batches tbody tr').length === %d`, len(want)))
	got := eval[[]string](b, `Array.from(document.querySelectorAll('table.batches tbody tr')).map(tr => tr.cells[5].textContent.trim())`)
	for i, w := range want {
		if got[i] != w.shown {
			t.Errorf("%v s shown %q, want %q", w.seconds, got[i], w.shown)
		}
	}
}

// TestConsoleMalformedBatchPath: a batch page address whose escape is not
// UTF-8 (/ui/batches/%E0%A4, a mistyped or crafted link) says there is no
// such page (bb-ui: decodeURIComponent threw before anything was drawn,
// and the page said "Loading…" for ever).
func TestConsoleMalformedBatchPath(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/ui/", console.Handler())
	mux.HandleFunc("GET /batches", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"batches":[]}`) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	b := newBrowser(t)
	b.do("open the page", chromedp.Navigate(srv.URL+"/ui/batches/%E0%A4"))
	b.wait("the not-found page", `document.querySelector('#main h1')?.textContent === 'Not found'`)
}

// TestConsoleKeyboardFocusKept: a control that the page draws again keeps
// the keyboard focus (bb-ui: the results pager's Next sent the focus to
// the page's body at each press, and the batches list, drawn again every
// 2 s while a batch runs, took it from the batch link a user had tabbed
// to).
func TestConsoleKeyboardFocusKept(t *testing.T) {
	const id, n = "many-1", 25000
	var rows []string
	for i := range n {
		rows = append(rows, fmt.Sprintf(`{"id":"T%d","npv":%d.5}`, i, i))
	}
	results := fmt.Sprintf(`{"batchId":%q,"results":[%s]}`, id, strings.Join(rows, ",\n"))
	status := fmt.Sprintf(`{"batchId":%q,"state":"completed","attempt":1,"trades":%d,"priced":%d,"failed":0,"missing":0,"pending":0,"chunks":1,"chunksDone":1,"chunksFailed":0,"duplicates":0,`+
		`"timings":{"submittedAt":"2026-11-25T09:00:00Z","completedAt":"2026-11-25T09:00:02Z","durationSeconds":2,"pricingSeconds":1.5}}`, id, n, n)
	api := newStandIn(t, id, status, results)
	b := newBrowser(t)
	b.do("open the batch page", chromedp.Navigate(api.url+"/ui/batches/"+id))
	go func() { api.events <- "event: end\ndata: " + status + "\n\n" }()
	b.wait("the pager", `document.querySelector('#pager button[data-page="1"]')`)
	b.do("press Next", chromedp.Focus(chromedp.CSS(`#pager button[data-page="1"]`)), chromedp.KeyEvent("\r"))
	b.wait("the second page", `document.querySelector('#pager span')?.textContent.startsWith('Rows 10,001')`)
	if f := eval[string](b, `document.activeElement.dataset.page || document.activeElement.tagName`); f != "1" {
		t.Errorf("after Next, the focus is on %q, want Next", f)
	}
	b.do("press Next again", chromedp.KeyEvent("\r"))
	b.wait("the last page", `document.querySelector('#pager span')?.textContent.startsWith('Rows 20,001')`)
	if f := eval[string](b, `document.activeElement.dataset.page || document.activeElement.tagName`); f != "-1" {
		t.Errorf("on the last page, the focus is on %q, want Previous (Next is disabled)", f)
	}

	// The batches list, with a batch running.
	var lists atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("/ui/", console.Handler())
	mux.HandleFunc("GET /batches", func(w http.ResponseWriter, r *http.Request) {
		lists.Add(1)
		fmt.Fprint(w, `{"batches":[{"batchId":"run-2","state":"running","attempt":1,"trades":9,"chunks":3,"chunksDone":1,"submittedAt":"2026-11-25T09:00:00Z","durationSeconds":1},`+
			`{"batchId":"done-1","state":"completed","attempt":1,"trades":9,"chunks":3,"chunksDone":3,"submittedAt":"2026-11-25T08:00:00Z","durationSeconds":2}]}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	b.do("open the batches page", chromedp.Navigate(srv.URL+"/ui/batches"))
	b.wait("the list", `document.querySelector('tr[data-id="done-1"] a')`)
	b.do("tab to a batch", chromedp.Focus(chromedp.CSS(`tr[data-id="done-1"] a`)))
	seen := lists.Load()
	for deadline := time.Now().Add(10 * time.Second); lists.Load() < seen+2 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
	}
	if lists.Load() < seen+2 {
		t.Fatalf("the list was read %d times more in 10 s, want it read again every 2 s", lists.Load()-seen)
	}
	if f := eval[string](b, `document.activeElement.closest('tr')?.dataset.id || document.activeElement.tagName`); f != "done-1" {
		t.Errorf("after the list was drawn again, the focus is on %q, want the link of done-1", f)
	}
}

// TestConsoleBatchesListRecovers: the batches list that an engine failed
// to serve (a restart, a 503) is read again and comes back without the
// user pressing Refresh (bb-ui: one failed read ended its refreshes for
// good, the error shown beside batches that went on running).
func TestConsoleBatchesListRecovers(t *testing.T) {
	var lists atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("/ui/", console.Handler())
	mux.HandleFunc("GET /batches", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("limit") == "100" && lists.Add(1) == 1 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"error":"aggregator: batch store unavailable"}`)
			return
		}
		fmt.Fprint(w, `{"batches":[{"batchId":"back-1","state":"completed","attempt":1,"trades":9,"chunks":3,"chunksDone":3,"submittedAt":"2026-11-25T08:00:00Z","durationSeconds":2}]}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	b := newBrowser(t)
	b.do("open the batches page", chromedp.Navigate(srv.URL+"/ui/batches"))
	b.wait("the error", `document.querySelector('#list .error-text')?.textContent.includes('store unavailable')`)
	b.wait("the list back", `document.querySelector('tr[data-id="back-1"]')`)
}

// TestConsoleLongBatchID: a batch id of 128 characters with no break in
// them (the longest the engine takes) wraps within the window on every
// page that shows it (bb-console: the batch page's heading widened the
// page to 1,872 px in a window of 1,345, the batches list pushed the
// state, counts and times of every batch out of view, and the receipt of
// a submit-only token widened the submit page to 2,058 px).
func TestConsoleLongBatchID(t *testing.T) {
	const reader, submitter = "console-long-id-reader-0123456789", "console-long-id-submitter-01234"
	gw := startEngine(t, reader+" dana\n"+submitter+" dana submit\n", 0)
	id := strings.Repeat("L", 60) + "." + strings.Repeat("x:", 33) + "Z"
	if len(id) != 128 {
		t.Fatalf("id of %d characters", len(id))
	}
	example, err := os.ReadFile("../examples/european.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.Unmarshal(example, &doc)
	doc["id"] = id
	data, _ := json.Marshal(doc)
	const fits = `document.documentElement.scrollWidth <= document.documentElement.clientWidth`

	b := newBrowser(t)
	b.do("open the submit page", chromedp.Navigate(gw+"/ui/"))
	b.wait("the sign-in form", `!document.querySelector('#signin').hidden`)
	b.do("sign in to submit only", chromedp.SendKeys(chromedp.ID("token"), submitter), chromedp.Click(chromedp.CSS("#signin button[type=submit]")))
	b.wait("the form", `document.querySelector('#signin').hidden && document.querySelector('#batch-json')`)
	setBatch(b, string(data))
	b.do("submit", chromedp.Click(chromedp.ID("submit-batch")))
	b.wait("the receipt", `document.querySelector('#submit-status')?.textContent.includes('cannot read')`)
	if !eval[bool](b, fits) {
		t.Errorf("the submit page with the receipt of batch %s is %v px wide in a window of %v", id,
			eval[int](b, `document.documentElement.scrollWidth`), eval[int](b, `document.documentElement.clientWidth`))
	}

	b.do("sign out", chromedp.Click(chromedp.ID("signout")))
	b.wait("the sign-in form", `!document.querySelector('#signin').hidden`)
	b.do("sign in to read", chromedp.SendKeys(chromedp.ID("token"), reader), chromedp.Click(chromedp.CSS("#signin button[type=submit]")))
	b.wait("signed in", `document.querySelector('#signin').hidden && document.querySelector('#batch-json')`)
	b.do("open the batch page", chromedp.Navigate(gw+"/ui/batches/"+id))
	b.wait("the results", `document.querySelectorAll('#results-table tbody tr[data-id]').length === 3`)
	if got := eval[string](b, `document.querySelector('h1 .batch-id').textContent`); got != id {
		t.Errorf("heading shows batch %q, want %q", got, id)
	}
	if !eval[bool](b, fits) {
		t.Errorf("the batch page is %v px wide in a window of %v", eval[int](b, `document.documentElement.scrollWidth`), eval[int](b, `document.documentElement.clientWidth`))
	}
	b.shot("15-long-batch-id")

	b.do("open the batches page", chromedp.Navigate(gw+"/ui/batches"))
	b.wait("the batch in the list", `document.querySelector('table.batches tbody tr')`)
	if !eval[bool](b, fits+` && (() => { const w = document.querySelector('#list .table-wrap'); return w.scrollWidth <= w.clientWidth; })()`) {
		t.Errorf("the batches list is %v px wide in its box of %v", eval[int](b, `document.querySelector('#list .table-wrap').scrollWidth`), eval[int](b, `document.querySelector('#list .table-wrap').clientWidth`))
	}
}

// TestConsoleTokenRefused: a token the engine stops taking while the page
// is open (removed from the tokens file) turns the session shown into a
// refused one, with a way to sign in again that draws the page again
// (bb-console: the header went on saying "Signed in", beside a batches
// list or a batch page that only quoted "auth: the token is not valid").
func TestConsoleTokenRefused(t *testing.T) {
	const old, fresh = "console-revoked-token-0123456789", "console-fresh-token-0123456789"
	var revoked atomic.Bool
	mux := http.NewServeMux()
	mux.Handle("/ui/", console.Handler())
	mux.HandleFunc("GET /batches", func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "Bearer "+fresh && (a != "Bearer "+old || revoked.Load()) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("WWW-Authenticate", "Bearer")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"auth: the token is not valid"}`)
			return
		}
		fmt.Fprint(w, `{"batches":[{"batchId":"kept-1","state":"completed","attempt":1,"trades":9,"chunks":3,"chunksDone":3,"submittedAt":"2026-11-25T08:00:00Z","durationSeconds":2}]}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	b := newBrowser(t)
	b.do("open the batches page", chromedp.Navigate(srv.URL+"/ui/batches"))
	b.wait("the sign-in form", `!document.querySelector('#signin').hidden`)
	b.do("sign in", chromedp.SendKeys(chromedp.ID("token"), old), chromedp.Click(chromedp.CSS("#signin button[type=submit]")))
	b.wait("the list", `document.querySelector('tr[data-id="kept-1"]') && document.querySelector('#session').textContent.includes('Signed in')`)

	revoked.Store(true)
	b.do("refresh the list", chromedp.Click(chromedp.ID("refresh")))
	b.wait("the refusal", `document.querySelector('#list .error-text')?.textContent.includes('not valid')`)
	if s := eval[string](b, `document.querySelector('#session').textContent`); strings.Contains(s, "Signed in") || !strings.Contains(s, "refused") {
		t.Errorf("the session reads %q once the engine refused the token, want it refused", strings.Join(strings.Fields(s), " "))
	}
	b.shot("16-token-refused")
	b.do("sign in again", chromedp.Click(chromedp.ID("signin-again")))
	b.wait("the sign-in form", `!document.querySelector('#signin').hidden`)
	b.do("sign in with another token", chromedp.SendKeys(chromedp.ID("token"), fresh), chromedp.Click(chromedp.CSS("#signin button[type=submit]")))
	b.wait("the list again", `document.querySelector('tr[data-id="kept-1"]') && !document.querySelector('#list .error-text') && document.querySelector('#session').textContent.includes('Signed in')`)
}

// TestConsoleElapsedOnTheEnginesClock: a running batch's elapsed time is
// the engine's, whatever the browser's clock says (bb-console: it was the
// browser's clock less the engine's submission time, so with an engine
// ten minutes ahead a batch 2 s old showed "-9 min 58 s" elapsed, and its
// chunks without an outcome a timeline running back from submission).
func TestConsoleElapsedOnTheEnginesClock(t *testing.T) {
	const id, n = "skew-1", 3
	ahead := time.Now().Add(10 * time.Minute) // the engine's clock
	status := fmt.Sprintf(`{"batchId":%q,"state":"running","attempt":1,"trades":%d,"priced":0,"failed":0,"missing":0,"pending":%d,"chunks":%d,"chunksDone":0,"chunksFailed":0,"duplicates":0,`+
		`"timings":{"submittedAt":%q,"deadline":%q,"durationSeconds":2,"pricingSeconds":0}}`,
		id, n, n, n, ahead.Add(-2*time.Second).UTC().Format(time.RFC3339Nano), ahead.Add(time.Hour).UTC().Format(time.RFC3339Nano))
	api := newStandIn(t, id, status, "")
	b := newBrowser(t)
	b.do("open the batch page", chromedp.Navigate(api.url+"/ui/batches/"+id))
	b.wait("the batch running", `document.querySelector('#state')?.textContent === 'running' && document.querySelector('svg.timeline')`)
	elapsed := eval[string](b, `Array.from(document.querySelectorAll('#summary div')).find(d => d.querySelector('dt').textContent === 'Elapsed')?.querySelector('b').textContent || ''`)
	secs, err := strconv.ParseFloat(strings.TrimSuffix(elapsed, " s"), 64)
	if err != nil || !strings.HasSuffix(elapsed, " s") || secs < 2 || secs > 5 {
		t.Errorf("elapsed %q of a batch that has run 2 s by the engine's clock", elapsed)
	}
	// The chunks without an outcome run from submission to now: the
	// timeline's axis spans 2 s and more.
	if last := eval[string](b, `Array.from(document.querySelectorAll('svg.timeline .tick-label')).pop()?.textContent || ''`); !strings.HasSuffix(last, " s") || strings.HasPrefix(last, "+0") {
		t.Errorf("the timeline's axis ends at %q, want the 2 s and more the batch has run", last)
	}
}

// TestConsoleTokenWithAStrayCharacter: a token pasted with a character
// that no token has and no header can carry (a zero-width space) is
// refused at the form saying which, not sent (bb-console: the sign-in
// form said "the engine does not answer: Failed to execute 'set' on
// 'Headers': String contains non ISO-8859-1 code point.").
func TestConsoleTokenWithAStrayCharacter(t *testing.T) {
	const token = "console-stray-token-0123456789"
	var asked atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("/ui/", console.Handler())
	mux.HandleFunc("GET /batches", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"auth: no token"}`)
			return
		}
		asked.Add(1)
		fmt.Fprint(w, `{"batches":[]}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	b := newBrowser(t)
	b.do("open the batches page", chromedp.Navigate(srv.URL+"/ui/batches"))
	b.wait("the sign-in form", `!document.querySelector('#signin').hidden`)
	b.do("sign in with a stray character", chromedp.SetValue(chromedp.ID("token"), token+"\u200b"), chromedp.Click(chromedp.CSS("#signin button[type=submit]")))
	b.wait("the form's error", `document.querySelector('#signin-error').textContent !== ''`)
	if s := eval[string](b, `document.querySelector('#signin-error').textContent`); !strings.Contains(s, "U+200B") || strings.Contains(s, "does not answer") {
		t.Errorf("the sign-in form says %q of a token with a zero-width space, want the character named", s)
	}
	b.do("sign in without it", chromedp.SetValue(chromedp.ID("token"), token), chromedp.Click(chromedp.CSS("#signin button[type=submit]")))
	b.wait("the list", `document.querySelector('#signin').hidden && document.querySelector('#list')?.textContent.includes('No batch yet')`)
	if asked.Load() == 0 {
		t.Error("the engine was never asked with the token")
	}
}

// TestConsoleTokenWithoutReadScope: the session of a token the engine
// refuses to read with (403) says that much, not what else it may do
// (bb-console: a token of the sign scope alone, which may not submit
// either, was shown "submit only").
func TestConsoleTokenWithoutReadScope(t *testing.T) {
	const token = "console-sign-only-token-0123456789"
	mux := http.NewServeMux()
	mux.Handle("/ui/", console.Handler())
	mux.HandleFunc("GET /batches", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"auth: no token"}`)
			return
		}
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"error":"auth: the token of tenant acme lacks the read scope"}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	b := newBrowser(t)
	b.do("open the submit page", chromedp.Navigate(srv.URL+"/ui/"))
	b.wait("the sign-in form", `!document.querySelector('#signin').hidden`)
	b.do("sign in", chromedp.SendKeys(chromedp.ID("token"), token), chromedp.Click(chromedp.CSS("#signin button[type=submit]")))
	b.wait("signed in", `document.querySelector('#session').textContent.includes('Signed in')`)
	if s := eval[string](b, `document.querySelector('#session').textContent`); strings.Contains(s, "submit") || !strings.Contains(s, "cannot read batches") {
		t.Errorf("session %q of a token refused the read scope: want that it cannot read, and no claim that it may submit", strings.Join(strings.Fields(s), " "))
	}
}

// TestConsoleBatchesListEngineDown: the batches list of an engine that
// stops answering says so, and asks again (bb-console: it read "Failed to
// fetch (asking again every 2 s)", the browser's words, which do not say
// whose the failure is).
func TestConsoleBatchesListEngineDown(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/ui/", console.Handler())
	mux.HandleFunc("GET /batches", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"batches":[{"batchId":"up-1","state":"completed","attempt":1,"trades":9,"chunks":3,"chunksDone":3,"submittedAt":"2026-11-25T08:00:00Z","durationSeconds":2}]}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	b := newBrowser(t)
	b.do("open the batches page", chromedp.Navigate(srv.URL+"/ui/batches"))
	b.wait("the list", `document.querySelector('tr[data-id="up-1"]')`)
	srv.Close() // the engine goes down
	b.do("refresh", chromedp.Click(chromedp.ID("refresh")))
	b.wait("the error", `document.querySelector('#list .error-text')`)
	if s := eval[string](b, `document.querySelector('#list .error-text').textContent`); !strings.Contains(s, "the engine does not answer") || !strings.Contains(s, "asking again") {
		t.Errorf("the list says %q of an engine down, want that it does not answer, asked again", s)
	}
}

// TestConsoleNothingPriced: a batch that ended with no trade priced, or
// with no trades at all, says so where its totals, chunks and results
// would be, rather than that they are to come (bb-console: a failed batch
// read "No trade priced yet.", and one of no trades "No chunk recorded
// yet." and "No trade matches.").
func TestConsoleNothingPriced(t *testing.T) {
	open := func(id, status, results string) *tab {
		t.Helper()
		api := newStandIn(t, id, status, results)
		go func() {
			select {
			case api.events <- "event: end\ndata: " + strings.Join(strings.Fields(status), "") + "\n\n":
			case <-api.gone:
			}
		}()
		b := newBrowser(t)
		b.do("open the batch page", chromedp.Navigate(api.url+"/ui/batches/"+id))
		b.wait("the results", `document.querySelector('#results-table tbody tr')`)
		return b
	}
	text := func(b *tab, sel string) string {
		return strings.Join(strings.Fields(eval[string](b, `document.querySelector(`+strconv.Quote(sel)+`).textContent`)), " ")
	}

	failed := `{"batchId":"failed-1","state":"failed","attempt":1,"trades":2,"priced":0,"failed":0,"missing":2,"pending":0,"chunks":1,"chunksDone":1,"chunksFailed":1,"duplicates":0,
		"failedChunks":[{"index":0,"trades":2,"reason":"deadline passed"}],
		"timings":{"submittedAt":"2026-11-25T09:00:00Z","completedAt":"2026-11-25T09:00:01Z","durationSeconds":1,"pricingSeconds":0}}`
	b := open("failed-1", failed, `{"batchId":"failed-1","results":[{"id":"A","error":"trade A: not priced"},{"id":"B","error":"trade B: not priced"}]}`)
	if s := text(b, "#totals"); strings.Contains(s, "yet") || !strings.Contains(s, "No trade was priced") {
		t.Errorf("totals of a failed batch: %q", s)
	}

	empty := `{"batchId":"empty-1","state":"completed","attempt":1,"trades":0,"priced":0,"failed":0,"missing":0,"pending":0,"chunks":0,"chunksDone":0,"chunksFailed":0,"duplicates":0,
		"timings":{"submittedAt":"2026-11-25T09:00:00Z","completedAt":"2026-11-25T09:00:00.001Z","durationSeconds":0.001,"pricingSeconds":0}}`
	b = open("empty-1", empty, `{"batchId":"empty-1","results":[]}`)
	for sel, want := range map[string]string{"#timeline": "The batch has no trades, so no chunks.", "#totals": "The batch has no trades.", "#results-table tbody": "The batch has no trades."} {
		if s := text(b, sel); s != want {
			t.Errorf("%s of a batch of no trades: %q, want %q", sel, s, want)
		}
	}
}

// TestConsoleDeadChunksOfMany: the status names the first 100 dead
// chunks and counts them all (chunksFailed), and the list of dead chunks
// says it holds the first of them, not that they are all: a batch of 393
// dead chunks listed 100 under "Dead chunks".
func TestConsoleDeadChunksOfMany(t *testing.T) {
	const id = "dead-many"
	status := `{"batchId":"dead-many","state":"failed","attempt":1,"trades":3,"priced":0,"failed":0,"missing":3,"pending":0,"chunks":3,"chunksDone":3,"chunksFailed":3,"duplicates":0,
		"failedChunks":[{"index":0,"trades":1,"reason":"deadline passed"},{"index":1,"trades":1,"reason":"deadline passed"}],
		"timings":{"submittedAt":"2026-11-25T09:00:00Z","completedAt":"2026-11-25T09:00:01Z","durationSeconds":1,"pricingSeconds":0}}`
	api := newStandIn(t, id, status, `{"batchId":"dead-many","results":[{"id":"A","error":"not priced"},{"id":"B","error":"not priced"},{"id":"C","error":"not priced"}]}`)
	go func() {
		select {
		case api.events <- "event: end\ndata: " + strings.Join(strings.Fields(status), "") + "\n\n":
		case <-api.gone:
		}
	}()
	b := newBrowser(t)
	b.do("open the batch page", chromedp.Navigate(api.url+"/ui/batches/"+id))
	b.wait("the dead chunks", `document.querySelector('#failed-chunks h3')`)
	h := strings.Join(strings.Fields(eval[string](b, `document.querySelector('#failed-chunks h3').textContent`)), " ")
	if want := "Dead chunks (the first 2 of 3, by index)"; h != want {
		t.Errorf("dead chunks' heading: %q, want %q", h, want)
	}
	if n := eval[int](b, `document.querySelectorAll('#failed-chunks li').length`); n != 2 {
		t.Errorf("%d dead chunks listed, want the 2 named", n)
	}
}

// TestConsoleSilentStreamDropped: an event stream that goes silent, with
// not even the engine's keepalive comments coming (its other end gone
// without a word: a laptop asleep, a proxy's idle timeout), is dropped
// and asked for again, and the page follows the batch to its end
// (bb-console: the page read such a stream for ever, "● live" beside a
// batch that had long finished). The page's timeouts run 100 times faster
// here, so that the 45 s of silence the page allows take 0.45 s.
func TestConsoleSilentStreamDropped(t *testing.T) {
	const id = "silent-1"
	status := fmt.Sprintf(`{"batchId":%q,"state":"running","attempt":1,"trades":1,"priced":0,"failed":0,"missing":0,"pending":1,"chunks":1,"chunksDone":0,"chunksFailed":0,"duplicates":0,`+
		`"timings":{"submittedAt":"2026-11-25T09:00:00Z","deadline":"2026-11-26T09:00:00Z"}}`, id)
	done := strings.NewReplacer(`"state":"running"`, `"state":"completed"`, `"priced":0`, `"priced":1`, `"pending":1`, `"pending":0`, `"chunksDone":0`, `"chunksDone":1`).Replace(status)
	var streams atomic.Int64
	quit := make(chan struct{}) // closed when the test ends, so that a stream held open ends with it
	mux := http.NewServeMux()
	mux.Handle("/ui/", console.Handler())
	mux.HandleFunc("GET /batches", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"batches":[]}`) })
	mux.HandleFunc("GET /batches/"+id, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, status) })
	mux.HandleFunc("GET /batches/"+id+"/results", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"batchId":%q,"results":[{"id":"T1","npv":1.5}]}`, id)
	})
	mux.HandleFunc("GET /batches/"+id+"/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "retry: 50\n\n")
		w.(http.Flusher).Flush()
		if streams.Add(1) == 1 {
			select { // silent: the client must give up on it
			case <-r.Context().Done():
			case <-quit:
			}
			return
		}
		fmt.Fprintf(w, "event: end\ndata: %s\n\n", strings.Join(strings.Fields(done), ""))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(quit)
	b := newBrowser(t)
	if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `{ const st = window.setTimeout; window.setTimeout = (f, ms, ...a) => st(f, (ms || 0) / 100, ...a); }`,
	}); err != nil {
		t.Fatal(err)
	}
	b.do("open the batch page", chromedp.Navigate(srv.URL+"/ui/batches/"+id))
	b.wait("the batch running, live", `document.querySelector('#state')?.textContent === 'running' && document.querySelector('#live')?.textContent.includes('live')`)
	b.wait("the batch completed", `document.querySelector('#state')?.textContent === 'completed' && document.querySelector('#results-table tbody tr[data-id="T1"]')`)
	if n := streams.Load(); n != 2 {
		t.Errorf("%d event streams opened, want 2: the silent one, then the one that ended", n)
	}
}

// TestConsoleLateOutcomesShown: a chunk whose outcome comes after the
// deadline ended the batch is counted late by the engine, and the page,
// whose event stream ended with the batch, shows the count: it reads the
// status again for a while after such an end (the page never showed one:
// it stopped reading at the end event), also when the dead chunks the
// status names (the first 100) are not the deadline's (the page read
// again only when one named was). The page's timeouts run 100 times
// faster here.
func TestConsoleLateOutcomesShown(t *testing.T) {
	t.Run("named", func(t *testing.T) {
		testLateOutcomesShown(t, `"chunksFailed":1,"duplicates":0,`+
			`"failedChunks":[{"index":1,"trades":1,"reason":"deadline passed: no outcome by 2026-11-25T09:01:00Z"}],`)
	})
	// The status names the first 100 dead chunks (here the first 1):
	// those may have died otherwise, the deadline ending the others.
	t.Run("past the dead chunks named", func(t *testing.T) {
		testLateOutcomesShown(t, `"chunksFailed":2,"duplicates":0,`+
			`"failedChunks":[{"index":0,"trades":0,"reason":"dead-lettered: the pricer failed"}],`)
	})
}

func testLateOutcomesShown(t *testing.T, dead string) {
	const id = "late-1"
	status := fmt.Sprintf(`{"batchId":%q,"state":"partial","attempt":1,"trades":2,"priced":1,"failed":0,"missing":1,"pending":0,"chunks":2,"chunksDone":2,`+dead+
		`"timings":{"submittedAt":"2026-11-25T09:00:00Z","completedAt":"2026-11-25T09:01:00Z","durationSeconds":60,"pricingSeconds":0.5}}`, id)
	api := newStandIn(t, id, status, fmt.Sprintf(`{"batchId":%q,"results":[{"id":"A","npv":1},{"id":"B","error":"trade B: not priced"}]}`, id))
	go func() {
		select {
		case api.events <- "event: end\ndata: " + status + "\n\n":
		case <-api.gone:
		}
	}()
	b := newBrowser(t)
	if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `{ const st = window.setTimeout; window.setTimeout = (f, ms, ...a) => st(f, (ms || 0) / 100, ...a); }`,
	}); err != nil {
		t.Fatal(err)
	}
	b.do("open the batch page", chromedp.Navigate(api.url+"/ui/batches/"+id))
	b.wait("the batch ended partial", `document.querySelector('#state')?.textContent === 'partial' && document.querySelector('#results-table tbody tr')`)
	api.status.Store(ptr(strings.Replace(status, `"duplicates":0`, `"duplicates":0,"late":1`, 1)))
	b.wait("the late outcome shown", `document.querySelector('#summary').textContent.includes('1 late')`)
	if s := eval[string](b, `document.querySelector('#state').textContent`); s != "partial" {
		t.Errorf("state %q after the late outcome, want partial still: a late outcome changes nothing", s)
	}
}
