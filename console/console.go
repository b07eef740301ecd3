// Package console serves pricefn's web console under /ui/: a submit page
// (paste, upload or pick an example batch), a batch page (state, counts,
// timings, live progress read from GET /batches/{id}/events, a per-chunk
// timeline, totals by underlying, the results table, the P&L histogram of
// a batch with scenarios) and the list of the tenant's recent batches.
//
// The pages are static files embedded in the binary: hand-written HTML,
// CSS and JavaScript modules, no build step and no third-party code. They
// call the public API from the browser (same origin), so the console needs
// no route of its own beyond its files, and with tokens every call carries
// the user's token as Authorization: Bearer, like any other client's. The
// files hold no data, so the console itself is not behind a token.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
)

// Prefix is the path the console is served under: mount Handler there.
const Prefix = "/ui/"

//go:embed assets examples
var files embed.FS

// contentSecurityPolicy keeps the pages to their own files: no inline
// script, no other origin, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// file is one embedded file, ready to serve.
type file struct {
	data []byte
	etag string
}

// handler serves the console.
type handler struct {
	files map[string]file // by path under Prefix: "assets/app.js", "examples/index.json"
}

var _ http.Handler = (*handler)(nil)

// Example describes one example batch of GET /ui/examples/index.json.
type Example struct {
	// Name is the file name without ".json" ("european").
	Name string `json:"name"`
	// Path is where the file is served ("/ui/examples/european.json").
	Path string `json:"path"`
	// Trades counts the batch's trades; Types lists their types.
	Trades int      `json:"trades"`
	Types  []string `json:"types"`
}

// Handler returns the console's handler, for a mux to mount at Prefix:
//
//	GET /ui/, /ui/batches, /ui/batches/{id}   the pages (one HTML shell)
//	GET /ui/assets/...                        scripts, styles, icon
//	GET /ui/examples/index.json               the example batches (Example)
//	GET /ui/examples/NAME.json                one example batch
//
// It panics if the embedded files are broken: a build fault.
func Handler() http.Handler {
	h := &handler{files: map[string]file{}}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		h.add(p, data)
		return nil
	})
	if err == nil {
		err = h.indexExamples()
	}
	if err != nil {
		panic(fmt.Sprintf("console: embedded files: %v", err))
	}
	return h
}

func (h *handler) add(p string, data []byte) {
	sum := sha256.Sum256(data)
	h.files[p] = file{data: data, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// indexExamples writes examples/index.json from the example files.
func (h *handler) indexExamples() error {
	list := []Example{}
	for p, f := range h.files {
		name, ok := strings.CutPrefix(p, "examples/")
		if !ok || path.Ext(name) != ".json" {
			continue
		}
		var b struct {
			Trades []struct {
				Type string `json:"type"`
			} `json:"trades"`
		}
		if err := json.Unmarshal(f.data, &b); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		e := Example{Name: strings.TrimSuffix(name, ".json"), Path: Prefix + p, Trades: len(b.Trades), Types: []string{}}
		for _, t := range b.Trades {
			if !slices.Contains(e.Types, t.Type) {
				e.Types = append(e.Types, t.Type)
			}
		}
		list = append(list, e)
	}
	slices.SortFunc(list, func(a, b Example) int { return strings.Compare(a.Name, b.Name) })
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	h.add("examples/index.json", append(data, '\n'))
	return nil
}

// page reports whether p (under Prefix) is one of the console's pages.
func page(p string) bool {
	switch p {
	case "", "batches", "batches/":
		return true
	}
	id, ok := strings.CutPrefix(p, "batches/")
	return ok && id != "" && !strings.Contains(id, "/")
}

// ServeHTTP serves the pages and files; anything else under Prefix is a
// 404.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("console: %s %s: method not allowed (allowed: GET, HEAD)", r.Method, r.URL.Path))
		return
	}
	p, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		writeError(w, http.StatusNotFound, "console: no such page: "+r.URL.Path)
		return
	}
	name := p
	if page(p) {
		name = "assets/index.html"
	}
	f, found := h.files[name]
	if !found || strings.HasSuffix(name, "/") {
		writeError(w, http.StatusNotFound, "console: no such page: "+r.URL.Path)
		return
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	// Revalidated on every load (a 304 thanks to the ETag), so a new
	// binary's pages are never mixed with an old one's scripts.
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", f.etag)
	// The files are small and served whole: without the headers of ranges
	// and of conditions other than If-None-Match, ServeContent answers 200
	// or 304 only, never its own plain-text 416 or 412.
	for _, k := range []string{"Range", "If-Range", "If-Match", "If-Unmodified-Since"} {
		r.Header.Del(k)
	}
	http.ServeContent(w, r, path.Base(name), time.Time{}, bytes.NewReader(f.data))
}

// writeError answers code with {"error": msg}, as every route of the
// engine answers an error.
func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
