package console_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pricefn/pricefn/console"
)

// setBatch puts text in the submit page's input as typing would.
func setBatch(b *tab, text string) {
	b.t.Helper()
	js, _ := json.Marshal(text)
	eval[bool](b, `(() => { const ta = document.querySelector('#batch-json'); ta.value = `+string(js)+`; ta.dispatchEvent(new Event('input')); return true; })()`)
}

// TestConsoleFaultPathWithSpace: a rejection naming a key with a space
// (a curve named "US D") is marked in the input (h5 F8: the path stopped
// at the space and nothing was marked).
func TestConsoleFaultPathWithSpace(t *testing.T) {
	gw := startEngine(t, "", 0)
	b := newBrowser(t)
	b.do("open the submit page", chromedp.Navigate(gw+"/ui/"))
	b.wait("the form", `document.querySelectorAll('#example option').length > 5`)
	setBatch(b, "{\"valuationDate\": \"2026-11-25\",\n \"market\": {\"curves\": {\"US\": {\"rate\": 0.04}, \"US D\": {\"rate\": \"high\"}}},\n"+
		" \"trades\": [{\"id\": \"T1\", \"type\": \"fra\", \"curve\": \"US D\", \"start\": \"2027-01-01\", \"end\": \"2027-07-01\", \"rate\": 0.05, \"notional\": 1e6}]}")
	b.do("submit", chromedp.Click(chromedp.ID("submit-batch")))
	b.wait("the fault", `document.querySelector('#fault-message')?.textContent.includes('US D')`)
	msg := eval[string](b, `document.querySelector('#fault-message').textContent`)
	where := eval[string](b, `document.querySelector('#batch-fault code.path')?.textContent || ''`)
	mark := eval[string](b, `document.querySelector('#mirror mark')?.textContent || ''`)
	if where != "market.curves.US D.rate" || mark != `"high"` {
		t.Errorf("fault %q shown at %q marking %q; want market.curves.US D.rate marking \"high\"", msg, where, mark)
	}
}

// TestConsoleEngineDown: submitting with nothing in the input, or while
// the engine is down, says so without calling it a rejection or marking
// the input invalid (h5 F8: "Rejected: 0 no answer", aria-invalid).
func TestConsoleEngineDown(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/ui/", console.Handler())
	mux.HandleFunc("GET /batches", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"batches":[]}`) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	b := newBrowser(t)
	b.do("open the submit page", chromedp.Navigate(srv.URL+"/ui/"))
	b.wait("the form", `document.querySelectorAll('#example option').length > 5`)
	verdict := func(what, want string) {
		t.Helper()
		b.wait(what, `document.querySelector('#fault-message')?.textContent.includes(`+fmt.Sprintf("%q", want)+`)`)
		if h := eval[string](b, `document.querySelector('#batch-fault h2').textContent`); strings.Contains(h, "Rejected") {
			t.Errorf("%s: heading %q, but nothing was rejected", what, h)
		}
		if eval[bool](b, `document.querySelector('#batch-json').hasAttribute('aria-invalid')`) {
			t.Errorf("%s: the input is marked invalid", what)
		}
	}
	b.do("submit nothing", chromedp.Click(chromedp.ID("submit-batch")))
	verdict("empty input", "paste a batch")

	example, _ := os.ReadFile("../examples/european.json")
	setBatch(b, string(example))
	srv.Close() // the engine goes down
	b.do("submit", chromedp.Click(chromedp.ID("submit-batch")))
	verdict("engine down", "could not be reached")
	b.shot("11-engine-down")
}

// TestConsoleSubmitOnly: a token that may submit but not read stays on
// the submit page with the receipt, batch id included, and is told why
// (h5 F8: the page went to a batch page it could not read, and the
// receipt was lost); the receipt's counts of one are singular.
func TestConsoleSubmitOnly(t *testing.T) {
	const token = "console-submit-only-0123456789"
	gw := startEngine(t, token+" carol submit\n", 0)
	b := newBrowser(t)
	b.do("open the submit page", chromedp.Navigate(gw+"/ui/"))
	b.wait("the sign-in form", `!document.querySelector('#signin').hidden`)
	b.do("sign in", chromedp.SendKeys(chromedp.ID("token"), token), chromedp.Click(chromedp.CSS("#signin button[type=submit]")))
	b.wait("the examples", `document.querySelectorAll('#example option').length > 5 && document.querySelector('#signin').hidden`)
	example, _ := os.ReadFile("../examples/european.json")
	var doc map[string]any
	json.Unmarshal(example, &doc)
	doc["id"] = "carol-1"
	data, _ := json.Marshal(doc)
	setBatch(b, string(data))
	b.do("submit", chromedp.Click(chromedp.ID("submit-batch")))
	b.wait("the receipt", `document.querySelector('#submit-status')?.textContent.includes('cannot read')`)
	if p := eval[string](b, `location.pathname`); p != "/ui/" {
		t.Errorf("went to %s, a page this token cannot read", p)
	}
	if s := eval[string](b, `document.querySelector('#submit-status')?.textContent || ''`); !strings.Contains(s, "Accepted: batch carol-1") || !strings.Contains(s, "cannot read") {
		t.Errorf("receipt %q, want the batch id and why its page is not shown", s)
	}
	// Counts of one are singular (bb-console: "3 trades in 1 chunks").
	if s := eval[string](b, `document.querySelector('#submit-status').textContent + ' | ' + document.querySelector('#batch-fault').textContent`); strings.Count(s, "3 trades in 1 chunk.") != 2 {
		t.Errorf("receipt %q, want 3 trades in 1 chunk, twice", strings.Join(strings.Fields(s), " "))
	}
	b.shot("12-submit-only")
}

// TestConsoleRefusalNotAboutTheInput: a refusal that is not about the
// batch (no token, a token without the submit scope, the tenant's limit,
// an engine unavailable or failing) is a notice saying what to do, not
// "Rejected" with the input marked invalid; only 400, 409 (its id, in
// TestConsoleIDInUse), 413 and 415 are the input's fault (v2 F11).
func TestConsoleRefusalNotAboutTheInput(t *testing.T) {
	type answer struct {
		code       int
		retryAfter string
		msg        string
	}
	answers := make(chan answer, 1)
	mux := http.NewServeMux()
	mux.Handle("/ui/", console.Handler())
	mux.HandleFunc("GET /batches", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"batches":[]}`) })
	mux.HandleFunc("POST /batches", func(w http.ResponseWriter, r *http.Request) {
		a := <-answers
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.code)
		json.NewEncoder(w).Encode(map[string]string{"error": a.msg})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	b := newBrowser(t)
	b.do("open the submit page", chromedp.Navigate(srv.URL+"/ui/"))
	b.wait("the form", `document.querySelectorAll('#example option').length > 5`)
	example, _ := os.ReadFile("../examples/european.json")
	setBatch(b, string(example))

	for _, c := range []struct {
		answer
		want []string // in the notice
	}{
		{answer{401, "", "auth: no token"}, []string{"auth: no token", "sign in"}},
		{answer{403, "", "auth: the token of tenant alice lacks the submit scope"}, []string{"lacks the submit scope", "a token with the submit scope"}},
		{answer{429, "5", "ingress: batch b-1 not taken for now: the engine has 1 unfinished batch, and its limit of unfinished batches is 1: try again once one of them has finished"}, []string{"its limit of unfinished batches is 1", "try again in 5 s"}},
		{answer{503, "1", "ingress: reading bound"}, []string{"reading bound", "try again in 1 s"}},
		{answer{503, "", "ingress: batch store unavailable"}, []string{"store unavailable", "try again later"}},
		{answer{500, "", "internal error"}, []string{"internal error", "try again later"}},
		// Ingress's 503 for chunks it could not send is of a batch checked
		// and claimed; one whose own deadline ran out meanwhile is not to
		// be sent again as it is (pricefn submit's own reading of it).
		{answer{503, "", "ingress: batch b-1: sending chunks: 5 of 5 not sent, recorded dead (the batch ends without them; submit it again to price them): chunk 0: host: send io.pricefn.chunk.requested c-0 to the broker: status 503: full"},
			[]string{"status 503: full", "was checked", "submit it again later"}},
		{answer{503, "", "ingress: batch b-1: sending chunks: 5 of 5 not sent, recorded dead (the batch ends without them; submit it again to price them): the batch's deadline passed: chunk 0: no answer: context deadline exceeded"},
			[]string{"the batch's deadline passed", "was checked", "a later deadline, or split it"}},
		{answer{503, "", "ingress: batch b-1: telling the aggregator: the batch's deadline passed: host: send io.pricefn.batch.accepted a-1 to the broker: context deadline exceeded"},
			[]string{"the batch's deadline passed", "was checked", "a later deadline, or split it"}},
	} {
		what := fmt.Sprint(c.code)
		answers <- c.answer
		b.do("submit for a "+what, chromedp.Click(chromedp.ID("submit-batch")))
		b.wait("the verdict on a "+what, `document.querySelector('#fault-message')?.textContent.includes(`+fmt.Sprintf("%q", c.msg)+`)`)
		h := eval[string](b, `document.querySelector('#batch-fault h2').textContent`)
		msg := eval[string](b, `document.querySelector('#batch-fault').textContent`)
		if strings.Contains(h, "Rejected") {
			t.Errorf("%s: heading %q, but the batch was not checked", what, h)
		}
		for _, w := range c.want {
			if !strings.Contains(strings.ToLower(msg), strings.ToLower(w)) {
				t.Errorf("%s: notice %q, want it to say %q", what, msg, w)
			}
		}
		if eval[bool](b, `document.querySelector('#batch-json').hasAttribute('aria-invalid')`) {
			t.Errorf("%s: the input is marked invalid", what)
		}
		if strings.Contains(c.msg, "the batch's deadline passed") && strings.Contains(strings.ToLower(msg), "try again") {
			t.Errorf("%s: notice %q says to try again, which ends the same way", what, msg)
		}
	}
	b.shot("13-refused-not-input")

	// The input's own faults are still rejections, marked in the input.
	for _, code := range []int{400, 413, 415} {
		answers <- answer{code, "", "ingress: the input's fault " + fmt.Sprint(code)}
		b.do(fmt.Sprint("submit for a ", code), chromedp.Click(chromedp.ID("submit-batch")))
		b.wait(fmt.Sprint("the verdict on a ", code), fmt.Sprintf(`document.querySelector('#fault-message')?.textContent.includes('fault %d')`, code))
		if h := eval[string](b, `document.querySelector('#batch-fault h2').textContent`); !strings.Contains(h, fmt.Sprint("Rejected: ", code)) {
			t.Errorf("%d: heading %q, want a rejection", code, h)
		}
		if !eval[bool](b, `document.querySelector('#batch-json').getAttribute('aria-invalid') === 'true'`) {
			t.Errorf("%d: the input is not marked invalid", code)
		}
	}
}

// TestConsoleIDInUse: a 409, the batch id in use by a batch of other
// content, is a rejection marking the input's id, with the engine's
// reason, not a notice leaving the input unmarked.
func TestConsoleIDInUse(t *testing.T) {
	gw := startEngine(t, "", 0)
	b := newBrowser(t)
	example, _ := os.ReadFile("../examples/european.json")
	var doc map[string]any
	if err := json.Unmarshal(example, &doc); err != nil {
		t.Fatal(err)
	}
	doc["id"] = "in-use-1"
	first, _ := json.MarshalIndent(doc, "", "  ")
	doc["valuationDate"] = "2026-11-26" // other content, the same id
	second, _ := json.MarshalIndent(doc, "", "  ")

	b.do("open the submit page", chromedp.Navigate(gw+"/ui/"))
	b.wait("the form", `document.querySelectorAll('#example option').length > 5`)
	setBatch(b, string(first))
	b.do("submit the first", chromedp.Click(chromedp.ID("submit-batch")))
	b.wait("its page", `location.pathname === '/ui/batches/in-use-1'`)

	b.do("open the submit page again", chromedp.Navigate(gw+"/ui/"))
	b.wait("the form", `document.querySelectorAll('#example option').length > 5`)
	setBatch(b, string(second))
	b.do("submit other content under its id", chromedp.Click(chromedp.ID("submit-batch")))
	b.wait("the verdict", `document.querySelector('#fault-message')?.textContent.includes('in use by a batch of other content')`)
	h := eval[string](b, `document.querySelector('#batch-fault h2').textContent`)
	msg := eval[string](b, `document.querySelector('#fault-message').textContent`)
	where := eval[string](b, `document.querySelector('#batch-fault code.path')?.textContent || ''`)
	mark := eval[string](b, `document.querySelector('#mirror mark')?.textContent || ''`)
	if !strings.Contains(h, "Rejected: 409") || !strings.Contains(msg, "submit it under another id") || where != "id" || mark != `"in-use-1"` {
		t.Errorf("heading %q, message %q, shown at %q marking %q; want a 409 rejection saying what to do at id, marking \"in-use-1\"", h, msg, where, mark)
	}
	if !eval[bool](b, `document.querySelector('#batch-json').getAttribute('aria-invalid') === 'true'`) {
		t.Errorf("the input is not marked invalid")
	}
	b.shot("14-id-in-use")
}

// TestConsoleSubmitOnce: Ctrl+Enter pressed again while the batch is being
// submitted sends nothing more (bb-ui: the keyboard shortcut submitted
// the form past the disabled button, and a batch without an id was
// submitted, and priced, twice).
func TestConsoleSubmitOnce(t *testing.T) {
	var posts atomic.Int64
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle("/ui/", console.Handler())
	mux.HandleFunc("GET /batches", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"batches":[]}`) })
	mux.HandleFunc("POST /batches", func(w http.ResponseWriter, r *http.Request) {
		n := posts.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"ingress: batch: valuationDate: refused by post %d"}`, n)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(release)
	b := newBrowser(t)
	b.do("open the submit page", chromedp.Navigate(srv.URL+"/ui/"))
	b.wait("the form", `document.querySelectorAll('#example option').length > 5`)
	example, _ := os.ReadFile("../examples/european.json")
	setBatch(b, string(example))
	// The page's POSTs, counted as it makes them: a submission calls
	// fetch before its first await, so within the key's event.
	eval[bool](b, `(() => { window.posts = 0; const f = window.fetch;
		window.fetch = (url, opts) => { if (opts?.method === 'POST') window.posts++; return f(url, opts); }; return true; })()`)
	const ctrlEnter = `(document.querySelector('#batch-json').dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', ctrlKey: true, bubbles: true})), window.posts)`
	if n := eval[int](b, ctrlEnter); n != 1 {
		t.Fatalf("Ctrl+Enter made %d POSTs, want 1", n)
	}
	if n := eval[int](b, ctrlEnter); n != 1 {
		t.Errorf("Ctrl+Enter again while the batch is being submitted: %d POSTs, want 1 (the batch submitted twice)", n)
	}
}

// TestConsoleLargeBatch: a batch file of 100,000 trades (24 MB) is held
// out of the editor, which it froze (bb-ui: 15 s for the text to show,
// then 4 s a key), and submitted as loaded; a rejection names its place
// by line; typing in the input replaces it.
func TestConsoleLargeBatch(t *testing.T) {
	example, err := os.ReadFile("../examples/portfolio.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(example, &doc); err != nil {
		t.Fatal(err)
	}
	some := doc["trades"].([]any)
	trades := make([]any, 100000)
	for i := range trades {
		tr := maps.Clone(some[i%len(some)].(map[string]any))
		tr["id"] = fmt.Sprintf("T%d", i)
		trades[i] = tr
	}
	doc["trades"] = trades
	data, _ := json.MarshalIndent(doc, "", "  ")
	file := filepath.Join(t.TempDir(), "large.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ui/", console.Handler())
	mux.HandleFunc("GET /batches", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"batches":[]}`) })
	mux.HandleFunc("POST /batches", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		if !bytes.Equal(body, data) {
			fmt.Fprintf(w, `{"error":"stand-in: got %d bytes, not the file's %d"}`, len(body), len(data))
			return
		}
		fmt.Fprint(w, `{"error":"ingress: batch: trades[99999].id: stand-in refusal"}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	b := newBrowser(t)
	b.do("open the submit page", chromedp.Navigate(srv.URL+"/ui/"))
	b.wait("the form", `document.querySelectorAll('#example option').length > 5`)
	b.do("upload the file", chromedp.SendKeys(chromedp.ID("file"), file))
	b.wait("its summary", `document.querySelector('#batch-info').textContent.includes('100,000 trades')`)
	if n := eval[int](b, `document.querySelector('#batch-json').value.length`); n != 0 {
		t.Errorf("the editor holds %d characters of a 24 MB batch", n)
	}
	if s := eval[string](b, `document.querySelector('#batch-info').textContent`); !strings.Contains(s, "Too large to edit here") {
		t.Errorf("summary %q does not say the batch is held out of the editor", s)
	}
	b.do("submit", chromedp.Click(chromedp.ID("submit-batch")))
	b.wait("the verdict", `document.querySelector('#fault-message')?.textContent.includes('refusal') || document.querySelector('#fault-message')?.textContent.includes('stand-in:')`)
	if msg := eval[string](b, `document.querySelector('#fault-message').textContent`); !strings.Contains(msg, "stand-in refusal") {
		t.Fatalf("verdict %q: the file was not sent as loaded", msg)
	}
	line := bytes.Count(data[:bytes.Index(data, []byte(`"T99999"`))], []byte("\n")) + 1
	if place := eval[string](b, `document.querySelector('#batch-fault').textContent`); !strings.Contains(place, fmt.Sprintf("line %d,", line)) {
		t.Errorf("verdict %q, want the place of trades[99999].id, line %d", place, line)
	}
	b.do("type over it", chromedp.SendKeys(chromedp.ID("batch-json"), "{"))
	b.wait("the input's summary", `document.querySelector('#batch-info').textContent.includes('not valid JSON yet')`)
	if s := eval[string](b, `document.querySelector('#batch-info').textContent`); strings.Contains(s, "Too large") || strings.Contains(s, "MB") {
		t.Errorf("after typing, summary %q: the held batch was not replaced", s)
	}
}

// TestConsoleUploadSentAsLoaded: a batch file with CRLF line ends, sent
// unedited, is sent byte for byte (bb-ui: the editor turned its line ends
// into LF, so the engine saw other content, and a file with an id that
// pricefn submit had sent was refused with a 409), and a byte the engine
// names in it is marked where it is in the editor.
func TestConsoleUploadSentAsLoaded(t *testing.T) {
	example, err := os.ReadFile("../examples/european.json")
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.ReplaceAll(bytes.ReplaceAll(example, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
	file := filepath.Join(t.TempDir(), "crlf.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(data, []byte(`"trades"`))
	bodies := make(chan []byte, 1)
	mux := http.NewServeMux()
	mux.Handle("/ui/", console.Handler())
	mux.HandleFunc("GET /batches", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"batches":[]}`) })
	mux.HandleFunc("POST /batches", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		bodies <- body
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"ingress: batch: malformed JSON at byte %d: stand-in refusal"}`, at)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	b := newBrowser(t)
	b.do("open the submit page", chromedp.Navigate(srv.URL+"/ui/"))
	b.wait("the form", `document.querySelectorAll('#example option').length > 5`)
	b.do("upload the file", chromedp.SendKeys(chromedp.ID("file"), file))
	b.wait("the file in the input", `document.querySelector('#batch-json').value.includes('"trades"')`)
	b.do("submit", chromedp.Click(chromedp.ID("submit-batch")))
	if body := <-bodies; !bytes.Equal(body, data) {
		t.Errorf("sent %d bytes (%d CRs), not the file's %d (%d CRs)", len(body), bytes.Count(body, []byte("\r")), len(data), bytes.Count(data, []byte("\r")))
	}
	b.wait("the verdict", `document.querySelector('#fault-message')?.textContent.includes('stand-in refusal')`)
	if got := eval[string](b, `(() => { const m = document.querySelector('#mirror mark'); return m ? m.textContent + m.nextSibling.textContent.slice(0, 7) : ''; })()`); got != `"trades"` {
		t.Errorf("marked %q, want the quote that opens \"trades\"", got)
	}
}

// TestConsoleNoAnswer: an engine that takes the batch and goes away before
// answering is not said to have received nothing (bb-ui: the notice said
// "the batch was not submitted", and a batch without an id sent again on
// that word is priced twice).
func TestConsoleNoAnswer(t *testing.T) {
	var posts atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("/ui/", console.Handler())
	mux.HandleFunc("GET /batches", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"batches":[]}`) })
	mux.HandleFunc("POST /batches", func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		posts.Add(1) // taken: then the connection drops, without an answer
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	b := newBrowser(t)
	b.do("open the submit page", chromedp.Navigate(srv.URL+"/ui/"))
	b.wait("the form", `document.querySelectorAll('#example option').length > 5`)
	example, _ := os.ReadFile("../examples/european.json")
	setBatch(b, string(example))
	b.do("submit", chromedp.Click(chromedp.ID("submit-batch")))
	b.wait("the notice", `document.querySelector('#fault-message')`)
	notice := eval[string](b, `document.querySelector('#batch-fault').textContent`)
	if posts.Load() == 0 {
		t.Fatal("the stand-in got no batch")
	}
	if strings.Contains(notice, "not submitted") || !strings.Contains(notice, "may have been taken") {
		t.Errorf("notice %q: the engine took the batch; want it said that it may have", notice)
	}
}

// TestConsoleExampleNotLoaded: an example the engine does not serve, or
// cannot be asked for (down), leaves the input as it was and says why
// (bb-console: an error answer was put in the input as the batch, and an
// engine down did nothing a user could see).
func TestConsoleExampleNotLoaded(t *testing.T) {
	var failing atomic.Bool
	h := console.Handler()
	mux := http.NewServeMux()
	mux.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() && strings.HasPrefix(r.URL.Path, "/ui/examples/european") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"error":"console: the example is not there"}`)
			return
		}
		h.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /batches", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"batches":[]}`) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	b := newBrowser(t)
	b.do("open the submit page", chromedp.Navigate(srv.URL+"/ui/"))
	b.wait("the form", `document.querySelectorAll('#example option').length > 5`)
	const typed = `{"valuationDate": "2026-11-25", "trades": []}`
	setBatch(b, typed)
	load := func(what, want string) {
		t.Helper()
		b.do("load the example", chromedp.SetValue(chromedp.ID("example"), "/ui/examples/european.json"), chromedp.Click(chromedp.ID("load-example")))
		b.wait(what, `document.querySelector('#fault-message')?.textContent.includes(`+fmt.Sprintf("%q", want)+`)`)
		if h := eval[string](b, `document.querySelector('#batch-fault h2').textContent`); h != "Example not loaded" {
			t.Errorf("%s: heading %q, want Example not loaded", what, h)
		}
		if got := eval[string](b, `document.querySelector('#batch-json').value`); got != typed {
			t.Errorf("%s: the input holds %q, want it as typed", what, got)
		}
	}
	failing.Store(true)
	load("the example's error", "the example is not there")
	failing.Store(false)
	b.do("load the example", chromedp.SetValue(chromedp.ID("example"), "/ui/examples/european.json"), chromedp.Click(chromedp.ID("load-example")))
	b.wait("the example in the input", `document.querySelector('#batch-json').value.includes('"trades"') && document.querySelector('#batch-json').value !== `+fmt.Sprintf("%q", typed))
	if eval[bool](b, `!!document.querySelector('#fault-message')`) {
		t.Error("the notice stays beside the example loaded")
	}
	setBatch(b, typed)
	srv.Close() // the engine goes down
	load("the engine down", "Failed to fetch")
}

// TestConsoleSubmitTokenRefused: a submission refused for a token the
// engine stopped taking says to sign in again from the header, which
// keeps the input, and the batch submitted after it is the one typed
// (bb-console: the notice said to reload the page, which may clear the
// input, for the sign-in form).
func TestConsoleSubmitTokenRefused(t *testing.T) {
	const old, fresh = "console-refused-submit-0123456789", "console-fresh-submit-0123456789"
	var revoked atomic.Bool
	var sent atomic.Value
	authorized := func(r *http.Request) bool {
		a := r.Header.Get("Authorization")
		return a == "Bearer "+fresh || (a == "Bearer "+old && !revoked.Load())
	}
	refuse := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"auth: the token is not valid"}`)
	}
	mux := http.NewServeMux()
	mux.Handle("/ui/", console.Handler())
	mux.HandleFunc("GET /batches", func(w http.ResponseWriter, r *http.Request) {
		if !authorized(r) {
			refuse(w)
			return
		}
		fmt.Fprint(w, `{"batches":[]}`)
	})
	mux.HandleFunc("POST /batches", func(w http.ResponseWriter, r *http.Request) {
		if !authorized(r) {
			refuse(w)
			return
		}
		body, _ := io.ReadAll(r.Body)
		sent.Store(string(body))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"batchId":"fresh-1","trades":1,"chunks":1}`)
	})
	mux.HandleFunc("GET /batches/fresh-1", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"batchId":"fresh-1","state":"pending","attempt":1,"trades":1,"chunks":1,"chunksDone":0}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	b := newBrowser(t)
	b.do("open the submit page", chromedp.Navigate(srv.URL+"/ui/"))
	b.wait("the sign-in form", `!document.querySelector('#signin').hidden`)
	b.do("sign in", chromedp.SendKeys(chromedp.ID("token"), old), chromedp.Click(chromedp.CSS("#signin button[type=submit]")))
	b.wait("the form", `document.querySelector('#signin').hidden && document.querySelector('#batch-json')`)
	const typed = `{"valuationDate": "2026-11-25", "trades": [], "id": "typed-by-hand"}`
	setBatch(b, typed)

	revoked.Store(true)
	b.do("submit", chromedp.Click(chromedp.ID("submit-batch")))
	b.wait("the notice", `document.querySelector('#fault-message')?.textContent.includes('not valid')`)
	if s := eval[string](b, `document.querySelector('#fault-advice')?.textContent || ''`); !strings.Contains(s, "Sign in again") || strings.Contains(s, "reload") {
		t.Errorf("advice %q for a token refused, want Sign in again, which keeps the input", s)
	}
	b.do("sign in again", chromedp.Click(chromedp.ID("signin-again")))
	b.wait("the sign-in form", `!document.querySelector('#signin').hidden`)
	b.do("sign in with another token", chromedp.SendKeys(chromedp.ID("token"), fresh), chromedp.Click(chromedp.CSS("#signin button[type=submit]")))
	b.wait("signed in", `document.querySelector('#signin').hidden && document.querySelector('#session').textContent.includes('Signed in')`)
	if got := eval[string](b, `document.querySelector('#batch-json').value`); got != typed {
		t.Fatalf("the input holds %q after signing in again, want it as typed", got)
	}
	b.do("submit again", chromedp.Click(chromedp.ID("submit-batch")))
	b.wait("the batch page", `location.pathname === '/ui/batches/fresh-1'`)
	if got, _ := sent.Load().(string); got != typed {
		t.Errorf("submitted %q, want the batch typed", got)
	}
}

// TestConsoleLongFaultPath: the place a rejection names, a path through a
// key of 200 characters with no break in them, wraps within the verdict's
// box (bb-console: it ran out of the box and widened the submit page to
// 2,855 px in a window of 1,345).
func TestConsoleLongFaultPath(t *testing.T) {
	gw := startEngine(t, "", 0)
	b := newBrowser(t)
	b.do("open the submit page", chromedp.Navigate(gw+"/ui/"))
	b.wait("the form", `document.querySelectorAll('#example option').length > 5`)
	key := strings.Repeat("U", 200)
	setBatch(b, `{"valuationDate": "2026-11-25", "trades": [], "market": {"underlyings": {"`+key+`": {"spot": "1"}}}}`)
	b.do("submit", chromedp.Click(chromedp.ID("submit-batch")))
	b.wait("the fault", `document.querySelector('#batch-fault code.path')`)
	if p := eval[string](b, `document.querySelector('#batch-fault code.path').textContent`); p != "market.underlyings."+key+".spot" {
		t.Errorf("the fault is placed at %q", p)
	}
	if !eval[bool](b, `(() => { const f = document.querySelector('#batch-fault').getBoundingClientRect(), p = document.querySelector('#batch-fault code.path').getBoundingClientRect();
		return p.right <= f.right && document.documentElement.scrollWidth <= document.documentElement.clientWidth; })()`) {
		t.Errorf("the fault's place runs out of its box: the page is %v px wide in a window of %v",
			eval[int](b, `document.documentElement.scrollWidth`), eval[int](b, `document.documentElement.clientWidth`))
	}
}
