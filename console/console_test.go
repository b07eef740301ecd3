package console_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pricefn/pricefn/console"
)

func get(t *testing.T, h http.Handler, method, path string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

// TestRoutes: every page is the HTML shell, assets have their types and
// the pages a content security policy that allows no other origin and no
// inline script; anything else is a 404, and only GET and HEAD are served.
func TestRoutes(t *testing.T) {
	h := console.Handler()
	for _, tt := range []struct {
		path, ctype, contains string
		code                  int
	}{
		{"/ui/", "text/html; charset=utf-8", `<script type="module" src="/ui/assets/js/app.js">`, 200},
		{"/ui/batches", "text/html; charset=utf-8", `<main id="main"`, 200},
		{"/ui/batches/b-123", "text/html; charset=utf-8", `<main id="main"`, 200},
		{"/ui/assets/js/app.js", "text/javascript; charset=utf-8", "import", 200},
		{"/ui/assets/console.css", "text/css; charset=utf-8", ":root", 200},
		{"/ui/assets/icon.svg", "image/svg+xml", "<svg", 200},
		{"/ui/examples/european.json", "application/json", `"valuationDate"`, 200},
		{"/ui/examples/index.json", "application/json", `"name": "portfolio"`, 200},
		{"/ui/batches/b-1/extra", "", "", 404},
		{"/ui/assets/nope.js", "", "", 404},
		{"/ui/assets/", "", "", 404},
		{"/ui/examples/", "", "", 404},
	} {
		resp := get(t, h, http.MethodGet, tt.path, nil)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != tt.code {
			t.Errorf("GET %s: %d, want %d", tt.path, resp.StatusCode, tt.code)
			continue
		}
		if tt.code != 200 {
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != tt.ctype || !strings.Contains(string(body), tt.contains) {
			t.Errorf("GET %s: %q, body %.80q; want %q holding %q", tt.path, ct, body, tt.ctype, tt.contains)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: Content-Security-Policy %q", tt.path, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("ETag") == "" {
			t.Errorf("GET %s: headers %v", tt.path, resp.Header)
		}
		// Revalidation answers 304 without the body.
		again := get(t, h, http.MethodGet, tt.path, map[string]string{"If-None-Match": resp.Header.Get("ETag")})
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %d, want 304", tt.path, again.StatusCode)
		}
	}
	if resp := get(t, h, http.MethodPost, "/ui/", nil); resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("POST /ui/: %d %v", resp.StatusCode, resp.Header)
	}
	// A range or a condition the console does not serve gets the whole
	// file, never ServeContent's plain-text 416 or 412.
	for _, hdr := range []map[string]string{{"Range": "bytes=99999999-"}, {"If-Match": `"nope"`}} {
		if resp := get(t, h, http.MethodGet, "/ui/", hdr); resp.StatusCode != http.StatusOK {
			t.Errorf("GET /ui/ with %v: %d", hdr, resp.StatusCode)
		}
	}
	// Every error is JSON, as the engine's other routes answer.
	if resp := get(t, h, http.MethodGet, "/ui/nope.txt", nil); resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GET /ui/nope.txt: %d %v", resp.StatusCode, resp.Header)
	}
}

// TestExamplesMatch: the console's copies of examples/ are the files
// themselves, and its index lists each with its trades.
func TestExamplesMatch(t *testing.T) {
	want, err := filepath.Glob("../examples/*.json")
	if err != nil || len(want) == 0 {
		t.Fatalf("no examples in ../examples: %v", err)
	}
	got, _ := filepath.Glob("examples/*.json")
	if len(got) != len(want) {
		t.Errorf("console/examples has %d files, examples/ %d: cp examples/*.json console/examples/", len(got), len(want))
	}
	resp := get(t, console.Handler(), http.MethodGet, "/ui/examples/index.json", nil)
	var index []console.Example
	if err := json.NewDecoder(resp.Body).Decode(&index); err != nil {
		t.Fatal(err)
	}
	byName := map[string]console.Example{}
	for _, e := range index {
		byName[e.Name] = e
	}
	for _, p := range want {
		orig, _ := os.ReadFile(p)
		name := filepath.Base(p)
		served := get(t, console.Handler(), http.MethodGet, "/ui/examples/"+name, nil)
		body, _ := io.ReadAll(served.Body)
		if !bytes.Equal(body, orig) {
			t.Errorf("/ui/examples/%s differs from examples/%s: cp examples/*.json console/examples/", name, name)
		}
		var b struct{ Trades []json.RawMessage }
		json.Unmarshal(orig, &b)
		e := byName[strings.TrimSuffix(name, ".json")]
		if e.Trades != len(b.Trades) || e.Path != "/ui/examples/"+name || len(e.Types) == 0 {
			t.Errorf("index entry of %s: %+v, want %d trades", name, e, len(b.Trades))
		}
	}
}
