package console_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/auth"
	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/config"
	"github.com/pricefn/pricefn/events/broker"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/functions/launch"
)

// screenshots is where the browser tests keep a PNG of each page they
// visit, for a person to look at (ignored by git).
const screenshots = "testdata/out"

// chromium returns Debian's chromium, or fails the test saying how to
// install it (make deps does).
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("PRICEFN_CHROMIUM"), "chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatal("console: the browser tests need Debian's chromium: apt-get install chromium (make deps installs it), or set PRICEFN_CHROMIUM")
	return ""
}

// startEngine serves the whole engine as pricefn dev does, its gateway
// (the console included) on an httptest server; tokens, when not empty,
// is a tokens file's content. With stagger, the n-th chunk delivered to
// the pricer waits n times stagger first, so that a person (or a test)
// can watch the batch move.
func startEngine(t *testing.T, tokens string, stagger time.Duration) string {
	t.Helper()
	var guard *auth.Guard
	if tokens != "" {
		file := filepath.Join(t.TempDir(), "tokens")
		os.WriteFile(file, []byte(tokens), 0o600)
		tk, err := auth.LoadTokens(file, time.Hour, nil)
		if err != nil {
			t.Fatal(err)
		}
		guard = auth.NewGuard(nil, tk, zerolog.Nop(), nil)
	}
	internal := httptest.NewUnstartedServer(nil)
	eng, err := launch.NewEngine(launch.EngineOptions{
		InternalURL: "http://" + internal.Listener.Addr().String(),
		Config:      config.Dev{Split: config.Split{ChunkTrades: 3}},
		Log:         zerolog.Nop(),
		Guard:       guard,
		Broker: func(c *broker.Config) {
			c.Sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var delivered atomic.Int64
	internal.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if stagger > 0 && strings.HasPrefix(r.URL.Path, "/pricer/") {
			time.Sleep(time.Duration(delivered.Add(1)) * stagger)
		}
		eng.Internal.ServeHTTP(w, r)
	})
	internal.Start()
	gw := httptest.NewServer(host.New(host.Options{Handler: eng.Gateway}).Handler())
	t.Cleanup(func() {
		eng.Aggregator.Drain()
		gw.Close()
		eng.Broker.Shutdown(context.Background())
		internal.Close()
	})
	return gw.URL
}

// tab is one browser tab of a test.
type tab struct {
	t    *testing.T
	ctx  context.Context
	name string
}

// theBrowser is the one chromium the package's tests share: starting one
// takes seconds on this machine, and each test has a browser context of
// its own (newBrowser), as isolated as a fresh profile.
var theBrowser struct {
	sync.Once
	ctx     context.Context // its first tab's
	cancel  func()
	dataDir string
	err     error
}

// TestMain ends the shared browser once the tests are done.
func TestMain(m *testing.M) {
	code := m.Run()
	if theBrowser.cancel != nil {
		theBrowser.cancel()
		os.RemoveAll(theBrowser.dataDir)
	}
	os.Exit(code)
}

// sharedBrowser starts chromium headless, once, with the flags this
// machine needs (no background networking: the machine has no network).
func sharedBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromium(t)
	theBrowser.Do(func() {
		if theBrowser.dataDir, theBrowser.err = os.MkdirTemp("", "console-chromium-"); theBrowser.err != nil {
			return
		}
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(path),
			chromedp.Flag("headless", true),
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.Flag("disable-quic", true),
			chromedp.NoFirstRun,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.Flag("hide-scrollbars", true),
			chromedp.UserDataDir(theBrowser.dataDir),
			chromedp.WindowSize(1360, 900),
		}
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(actx)
		theBrowser.ctx, theBrowser.cancel = ctx, func() { cancel(); cancelAlloc() }
		// The first call starts the browser and opens the tab: no
		// timeout on it.
		theBrowser.err = chromedp.Do(ctx, chromedp.Navigate("about:blank"))
	})
	if theBrowser.err != nil {
		t.Fatalf("starting chromium: %v", theBrowser.err)
	}
	return theBrowser.ctx
}

// newBrowser returns a tab of the shared browser in a browser context of
// the test's own (its storage, cookies and downloads apart from other
// tests'), closed when the test ends.
func newBrowser(t *testing.T) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(sharedBrowser(t), chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	if err := os.MkdirAll(screenshots, 0o755); err != nil {
		t.Fatal(err)
	}
	return &tab{t: t, ctx: ctx}
}

// downloadDir returns where the tab's downloads land.
func (b *tab) downloadDir(t *testing.T) string {
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(b.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
		BrowserContextID: chromedp.FromContext(b.ctx).BrowserContextID,
	}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// do runs the steps within 20 s.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v (see the screenshots in console/%s)", what, err, screenshots)
	}
}

// eval evaluates a JavaScript expression into T.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// wait waits until the expression is true, through page loads, saving a
// screenshot if it never is.
func (b *tab) wait(what, expr string) {
	b.t.Helper()
	var err error
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		var ok bool
		ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
	}
	b.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
	b.t.Fatalf("waiting for %s (%s): %v; page text: %.600s", what, expr, err, eval[string](b, `document.body.innerText`))
}

// shot saves a screenshot of the whole page as testdata/out/NAME.png.
func (b *tab) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	// The body's box, measured now: the whole page as laid out.
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("body")))
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(screenshots, name+".png"), png, 0o644); err != nil {
		b.t.Error(err)
	}
}

// row is one row of the results table as the page shows it.
type row struct {
	ID    string            `json:"id"`
	Err   bool              `json:"err"`
	Error string            `json:"error"`
	Cells map[string]string `json:"cells"` // measure -> text shown
}

const readTable = `Array.from(document.querySelectorAll('#results-table tbody tr[data-id]')).map(tr => ({
	id: tr.querySelector('th').textContent,
	err: tr.classList.contains('err'),
	error: tr.querySelector('td.error')?.textContent || '',
	cells: Object.fromEntries(Array.from(tr.querySelectorAll('td[data-measure]')).map(td => [td.dataset.measure, td.textContent])),
}))`

// priced prices the batch in process, as pricefn price does, and returns
// its results as the JSON document reads (trade id and measures).
func priced(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	b, err := batch.DecodeBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := batch.Price(context.Background(), b, batch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := rs.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Results []map[string]any }
	if err := json.Unmarshal(doc, &out); err != nil {
		t.Fatal(err)
	}
	return out.Results
}

// agrees reports whether text shows v to the digits shown: within half a
// unit of its last digit.
func agrees(text string, v float64) bool {
	shown, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return false
	}
	mant, exp, _ := strings.Cut(text, "e")
	e := 0
	if exp != "" {
		e, _ = strconv.Atoi(exp)
	}
	decimals := 0
	if _, frac, ok := strings.Cut(mant, "."); ok {
		decimals = len(frac)
	}
	tol := 0.5*math.Pow(10, float64(e-decimals)) + 1e-12*math.Abs(v)
	return math.Abs(shown-v) <= tol
}

// checkTable checks that the page's results table holds want's trades in
// input order, each measure shown as pricefn price gives it, and errors
// highlighted.
func checkTable(t *testing.T, got []row, want []map[string]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("results table has %d rows, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.ID != w["id"] {
			t.Errorf("row %d: trade %q, want %q", i, g.ID, w["id"])
			continue
		}
		if msg, ok := w["error"].(string); ok {
			if !g.Err || g.Error != msg {
				t.Errorf("trade %s: error %q (highlighted %v), want %q highlighted", g.ID, g.Error, g.Err, msg)
			}
			continue
		}
		n := 0
		for k, v := range w {
			f, ok := v.(float64)
			if !ok {
				continue // id, cashflows
			}
			n++
			if !agrees(g.Cells[k], f) {
				t.Errorf("trade %s: %s shown %q, pricefn price gives %v", g.ID, k, g.Cells[k], f)
			}
		}
		if n == 0 || len(g.Cells) != n || g.Err {
			t.Errorf("trade %s: cells %v, want the %d measures of %v", g.ID, g.Cells, n, w)
		}
	}
}

// TestConsole drives the console in chromium against the engine with
// tokens: sign in, submit an example from the page, watch it reach
// completed, compare the results table and the CSV download with pricefn
// price, and find the batch in the list.
func TestConsole(t *testing.T) {
	const token = "console-test-token-0123456789"
	gw := startEngine(t, token+" acme\n", 200*time.Millisecond)
	b := newBrowser(t)
	example, err := os.ReadFile("../examples/portfolio.json")
	if err != nil {
		t.Fatal(err)
	}
	want := priced(t, example)

	b.do("open the submit page", chromedp.Navigate(gw+"/ui/"))
	b.wait("the sign-in form", `!document.querySelector('#signin').hidden`)
	b.shot("01-sign-in")
	b.do("sign in", chromedp.SendKeys(chromedp.ID("token"), token), chromedp.Click(chromedp.CSS("#signin button[type=submit]")))
	b.wait("the examples", `document.querySelectorAll('#example option').length > 5 && document.querySelector('#signin').hidden`)
	if s := eval[string](b, `document.querySelector('#session').textContent`); !strings.Contains(s, "Signed in") {
		t.Errorf("session after signing in: %q", s)
	}

	b.do("load the portfolio example", chromedp.SetValue(chromedp.ID("example"), "/ui/examples/portfolio.json"), chromedp.Click(chromedp.ID("load-example")))
	b.wait("the example in the input", `document.querySelector('#batch-json').value.includes('"trades"')`)
	if got := eval[string](b, `document.querySelector('#batch-json').value`); got != string(example) {
		t.Errorf("the loaded example differs from examples/portfolio.json")
	}
	b.shot("02-submit")
	b.do("submit", chromedp.Click(chromedp.ID("submit-batch")))
	b.wait("the batch page", `location.pathname.startsWith('/ui/batches/')`)
	// Chunks come in one by one (200 ms apart): the page shows the batch
	// running, part done, before it completes.
	b.wait("the batch running", `document.querySelector('#state')?.textContent === 'running' &&
		+document.querySelector('#progress').getAttribute('aria-valuenow') > 0 && +document.querySelector('#progress').getAttribute('aria-valuenow') < 100 &&
		document.querySelectorAll('svg.timeline g.chunk.priced').length > 0 && document.querySelectorAll('svg.timeline g.chunk.waiting').length > 0`)
	b.shot("03-batch-running")
	b.wait("the state completed", `document.querySelector('#state')?.textContent === 'completed'`)
	b.wait("the results table", `document.querySelectorAll('#results-table tbody tr[data-id]').length > 0`)
	id := eval[string](b, `decodeURIComponent(location.pathname.split('/').pop())`)
	checkTable(t, eval[[]row](b, readTable), want)
	chunks := (len(want) + 2) / 3
	if n := eval[int](b, `document.querySelectorAll('svg.timeline g.chunk.priced').length`); n != chunks {
		t.Errorf("timeline: %d chunk rows, want %d", n, chunks)
	}
	if p := eval[string](b, `document.querySelector('#progress').getAttribute('aria-valuenow')`); p != "100" {
		t.Errorf("progress %v at the end, want 1", p)
	}
	if s := eval[string](b, `document.querySelector('#progress-text').textContent`); s != fmt.Sprintf("%d of %d chunks (100%%)", chunks, chunks) {
		t.Errorf("progress text %q", s)
	}
	if n := eval[int](b, `document.querySelectorAll('#totals tbody tr').length`); n != 3 { // ACME, GLOBEX, all trades
		t.Errorf("totals: %d rows, want ACME, GLOBEX and all trades", n)
	}
	if !eval[bool](b, `document.querySelector('#scenarios').hidden`) {
		t.Error("the P&L section shows for a batch without scenarios")
	}
	b.shot("04-batch")

	// Sorting by npv, descending on the second click.
	b.do("sort by npv", chromedp.Click(chromedp.CSS(`thead button[data-key="npv"]`)), chromedp.Click(chromedp.CSS(`thead button[data-key="npv"]`)))
	npvs := eval[[]float64](b, `Array.from(document.querySelectorAll('#results-table td[data-measure="npv"]')).map(td => Number(td.dataset.value))`)
	if len(npvs) != len(want) || !slices.IsSortedFunc(npvs, func(a, b float64) int { return -cmpFloat(a, b) }) {
		t.Errorf("npv sorted descending: %v", npvs)
	}
	if s := eval[string](b, `document.querySelector('th[data-key="npv"]').getAttribute('aria-sort')`); s != "descending" {
		t.Errorf("aria-sort of npv: %q", s)
	}

	// The CSV download holds every trade's measures to the last bit.
	dir := b.downloadDir(t)
	b.do("download the CSV", chromedp.Click(chromedp.ID("dl-csv")))
	data := waitFile(t, filepath.Join(dir, id+"-results.csv"))
	records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(records) != len(want)+1 {
		t.Fatalf("CSV: %d records, %v", len(records), err)
	}
	for i, w := range want {
		rec := records[i+1]
		if rec[0] != w["id"] {
			t.Errorf("CSV row %d: %q, want %q", i+1, rec[0], w["id"])
			continue
		}
		for k, name := range records[0] {
			if f, ok := w[name].(float64); ok {
				if got, err := strconv.ParseFloat(rec[k], 64); err != nil || got != f {
					t.Errorf("CSV %s %s: %q, want %v", rec[0], name, rec[k], f)
				}
			}
		}
	}

	b.do("open the batches page", chromedp.Navigate(gw+"/ui/batches"))
	b.wait("the batch in the list", fmt.Sprintf(`document.querySelector('tr[data-id=%q] .state')?.textContent === 'completed'`, id))
	b.shot("05-batches")
}

// TestConsoleOpenEngine drives the console against an engine without
// tokens, as pricefn dev runs by default: a bad batch shows its error and
// the place it names next to the input, and the page of a batch submitted
// with curl lists every trade, its error highlighted and filterable.
func TestConsoleOpenEngine(t *testing.T) {
	gw := startEngine(t, "", 0)
	b := newBrowser(t)

	b.do("open the submit page", chromedp.Navigate(gw+"/ui/"))
	b.wait("the form", `document.querySelectorAll('#example option').length > 5`)
	if !eval[bool](b, `document.querySelector('#signin').hidden`) {
		t.Error("an engine without tokens asks to sign in")
	}
	const syntaxBatch = "{\"valuationDate\": \"2026-11-25\",\n \"trades\": [{\"id\": \"a\" \"type\": 1}]}"
	bad := []struct{ name, batch, path, mark, message string }{
		{"measure", "{\n  \"valuationDate\": \"2026-11-25\",\n  \"measures\": [\"npv\", \"npvv\"],\n  \"trades\": []\n}\n",
			"measures[1]", `"npvv"`, `unknown measure "npvv"`},
		{"underlying", "{\"valuationDate\": \"2026-11-25\", \"market\": {\"curves\": {\"USD\": {\"rate\": 0.05}}},\n" +
			" \"trades\": [{\"id\": \"T1\", \"type\": \"fra\", \"curve\": \"USD\", \"start\": \"2027-01-01\", \"end\": \"2027-07-01\", \"rate\": 0.05, \"notional\": 1e6},\n" +
			"  {\"id\": \"T2\", \"type\": \"european\", \"underlying\": \"NOPE\", \"right\": \"call\", \"strike\": 100, \"expiry\": \"2027-11-25\"}]}",
			"trades[1].underlying", `"NOPE"`, `unknown underlying "NOPE"`},
		{"syntax", syntaxBatch, fmt.Sprintf("byte %d", strings.Index(syntaxBatch, `"type"`)), `"`, "malformed JSON"},
	}
	for _, c := range bad {
		js, _ := json.Marshal(c.batch)
		eval[bool](b, `(() => { const ta = document.querySelector('#batch-json'); ta.value = `+string(js)+`; ta.dispatchEvent(new Event('input')); return true; })()`)
		b.do("submit the bad batch", chromedp.Click(chromedp.ID("submit-batch")))
		b.wait("the error of "+c.name, `document.querySelector('#fault-message')?.textContent.includes(`+strconv.Quote(c.message)+`)`)
		msg := eval[string](b, `document.querySelector('#fault-message').textContent`)
		where := eval[string](b, `document.querySelector('#batch-fault code.path')?.textContent || ''`)
		mark := eval[string](b, `document.querySelector('#mirror mark')?.textContent || ''`)
		if !strings.Contains(msg, c.message) || where != c.path || mark != c.mark {
			t.Errorf("%s: message %q at %q marking %q; want %q at %q marking %q", c.name, msg, where, mark, c.message, c.path, c.mark)
		}
		if eval[string](b, `document.querySelector('#batch-json').getAttribute('aria-invalid')`) != "true" ||
			!strings.Contains(eval[string](b, `document.querySelector('#batch-json').getAttribute('aria-describedby')`), "batch-fault") {
			t.Errorf("%s: the input is not marked invalid and described by the fault", c.name)
		}
		// Next to the input: the verdict's box starts beside the editor's.
		if !eval[bool](b, `(() => { const e = document.querySelector('.editor').getBoundingClientRect(), f = document.querySelector('#batch-fault').getBoundingClientRect();
			return f.left >= e.right && f.left - e.right < 40 && f.top < e.bottom && f.bottom > e.top; })()`) {
			t.Errorf("%s: the fault is not next to the input", c.name)
		}
		if c.name == "underlying" {
			b.shot("06-bad-batch")
		}
		if t.Failed() {
			break
		}
	}
	// Show in the input selects what the error names.
	b.do("show the fault", chromedp.Click(chromedp.ID("show-fault")))
	if sel := eval[string](b, `(() => { const ta = document.querySelector('#batch-json'); return ta.value.slice(ta.selectionStart, ta.selectionEnd); })()`); sel != `"` {
		t.Errorf("selection after Show in the input: %q", sel)
	}

	// A batch with a failing trade, submitted with curl: its page lists
	// every trade and highlights the error.
	example, _ := os.ReadFile("../examples/european.json")
	var doc map[string]any
	json.Unmarshal(example, &doc)
	trades := doc["trades"].([]any)
	doc["trades"] = append(trades, map[string]any{"id": "EU-BAD", "type": "european", "underlying": "ACME", "right": "call", "strike": -5, "expiry": "2027-11-25"})
	doc["id"] = "console-errors"
	data, _ := json.Marshal(doc)
	resp, err := http.Post(gw+"/batches", "application/json", bytes.NewReader(data))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /batches: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	want := priced(t, data)
	b.do("open the batch page", chromedp.Navigate(gw+"/ui/batches/console-errors"))
	b.wait("the results table", `document.querySelectorAll('#results-table tbody tr[data-id]').length === 4`)
	checkTable(t, eval[[]row](b, readTable), want)
	if s := eval[string](b, `document.querySelector('#state').textContent`); s != "completed" {
		t.Errorf("state %q: a trade's error does not fail its batch", s)
	}
	b.shot("07-batch-with-error")
	b.do("show errors only", chromedp.Click(chromedp.CSS(`label[for="show-err"]`)))
	if ids := eval[[]string](b, `Array.from(document.querySelectorAll('#results-table tbody tr[data-id]')).map(tr => tr.dataset.id)`); !slices.Equal(ids, []string{"EU-BAD"}) {
		t.Errorf("errors only: %v", ids)
	}
	b.do("filter by id", chromedp.Click(chromedp.CSS(`label[for="show-all"]`)), chromedp.SendKeys(chromedp.ID("results-filter"), "EU-2"))
	if ids := eval[[]string](b, `Array.from(document.querySelectorAll('#results-table tbody tr[data-id]')).map(tr => tr.dataset.id)`); !slices.Equal(ids, []string{"EU-2"}) {
		t.Errorf("filtered by EU-2: %v", ids)
	}
	b.do("open an unknown batch", chromedp.Navigate(gw+"/ui/batches/never-submitted"))
	b.wait("its 404", `document.querySelector('#main .error-text')?.textContent.includes('No batch never-submitted')`)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// waitFile waits for a download to land.
func waitFile(t *testing.T, path string) []byte {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		if data, err := os.ReadFile(path); err == nil && len(data) > 0 {
			return data
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	t.Fatalf("no download at %s (the folder has %v)", path, entries)
	return nil
}
