package auth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/auth"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/internal/logtest"
	"github.com/pricefn/pricefn/metricstest"
)

func TestParseTokens(t *testing.T) {
	ids, err := auth.ParseTokens([]byte("# comment\n\nalpha-0123456789abc alpha\nbeta-0123456789abcd beta read # reader\nsys-0123456789abcdef alpha sign,submit\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 3 || ids[0].Tenant != "alpha" || !slices.Equal(ids[0].Scopes, []string{"submit", "read"}) ||
		!slices.Equal(ids[1].Scopes, []string{"read"}) || !slices.Equal(ids[2].Scopes, []string{"sign", "submit"}) {
		t.Errorf("identities %+v", ids)
	}
	// A '#' within a token is the token's, a comment starts after a space.
	if ids, err := auth.ParseTokens([]byte("alpha#0123456789abc alpha\t# the team\n")); err != nil || len(ids) != 1 || ids[0].Tenant != "alpha" {
		t.Errorf("a token with a '#': %v %+v", err, ids)
	}
	if ids, err := auth.ParseTokens([]byte("alpha-0123456789abc " + strings.Repeat("t", 63) + "\n")); err != nil || len(ids[0].Tenant) != 63 {
		t.Errorf("a tenant of 63 characters: %v", err)
	}
	for _, c := range []struct{ file, want string }{
		{"short alpha\n", "line 1: token shorter than 16"},
		{"alpha-0123456789abc\n", "line 1: want TOKEN TENANT"},
		{"\nalpha-0123456789abc Alpha/x\n", `line 2: tenant "Alpha/x"`},
		{"alpha-0123456789abc alpha write\n", `scope "write"`},
		{"alpha-0123456789abc a\nalpha-0123456789abc b\n", "line 2: token repeated from line 1"},
		{"alpha-0123456789abc " + strings.Repeat("t", 64) + "\n", `line 1: tenant "tttt`},
	} {
		_, err := auth.ParseTokens([]byte(c.file))
		var pe *auth.ParseError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "0123456789abc") {
			t.Errorf("%q: %v, want a ParseError with %q and no token", c.file, err, c.want)
		}
	}
}

func writeTokens(t *testing.T, path, data string) {
	t.Helper()
	// Rename into place, as Kubernetes updates a mounted Secret.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// The file is read again when it changes; a broken file keeps the tokens
// in force and is reported.
func TestTokensReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	writeTokens(t, path, "first-0123456789abc alpha\n")
	var reported []error
	tokens, err := auth.LoadTokens(path, time.Nanosecond, func(err error) { reported = append(reported, err) })
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := tokens.Lookup("first-0123456789abc"); !ok || id.Tenant != "alpha" {
		t.Fatalf("lookup %+v %v", id, ok)
	}
	if _, ok := tokens.Lookup("first-0123456789ab"); ok {
		t.Error("a prefix of a token matched")
	}
	writeTokens(t, path, "second-0123456789abcdef beta\n")
	if _, ok := tokens.Lookup("first-0123456789abc"); ok {
		t.Error("a removed token still works")
	}
	if id, ok := tokens.Lookup("second-0123456789abcdef"); !ok || id.Tenant != "beta" {
		t.Errorf("new token: %+v %v", id, ok)
	}
	writeTokens(t, path, "broken\n")
	if _, ok := tokens.Lookup("second-0123456789abcdef"); !ok || len(reported) == 0 {
		t.Errorf("a broken file dropped the tokens in force (reported %v)", reported)
	}
	if _, err := auth.LoadTokens(filepath.Join(t.TempDir(), "none"), 0, nil); err == nil {
		t.Error("no error for a missing file")
	}
	empty := filepath.Join(t.TempDir(), "empty")
	writeTokens(t, empty, "# nobody\n")
	if _, err := auth.LoadTokens(empty, 0, nil); !errors.Is(err, auth.ErrNoTokens) {
		t.Errorf("empty file: %v", err)
	}
}

func TestRequire(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	writeTokens(t, path, "alpha-0123456789abc alpha\nreader-0123456789abc alpha read\n")
	tokens, err := auth.LoadTokens(path, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := auth.NewGuard(nil, tokens, zerolog.Nop(), nil)
	h := g.Require(auth.ScopeSubmit, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("tenant " + host.TenantOf(r.Context())))
	}))
	for _, c := range []struct {
		header string
		code   int
		body   string
	}{
		{"", 401, "bearer token is required"},
		{"Basic abc", 401, "bearer token is required"},
		{"Bearer wrong-0123456789abc", 401, "not valid"},
		{"Bearer reader-0123456789abc", 403, "lacks the submit scope"},
		{"Bearer alpha-0123456789abc", 200, "tenant alpha"},
		{"bearer alpha-0123456789abc", 200, "tenant alpha"}, // the scheme is case-insensitive
		{"BEARER alpha-0123456789abc", 200, "tenant alpha"},
		{"Bearerless alpha-0123456789abc", 401, "bearer token is required"},
	} {
		req := httptest.NewRequest(http.MethodPost, "/batches", nil)
		if c.header != "" {
			req.Header.Set("Authorization", c.header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.code || !strings.Contains(rec.Body.String(), c.body) {
			t.Errorf("%q: %d %s, want %d %q", c.header, rec.Code, rec.Body, c.code, c.body)
		}
		if c.code == 401 && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%q: no WWW-Authenticate", c.header)
		}
	}
}

// TestRequireRefusesTwoTokens: a request of two Authorization headers was
// served as the first one's tenant, where a proxy in front may check the
// last one; it is a 400 (RFC 6750's invalid_request), whichever comes
// first, over HTTP. Each is logged and counted under its own reason,
// two_tokens (it was neither logged nor told from an unknown token).
func TestRequireRefusesTwoTokens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	writeTokens(t, path, "alpha-0123456789abc alpha\nbravo-0123456789abc bravo\n")
	tokens, err := auth.LoadTokens(path, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs logtest.Buffer
	reg := prometheus.NewRegistry()
	g := auth.NewGuard(nil, tokens, zerolog.New(&logs), reg)
	srv := httptest.NewServer(g.Require(auth.ScopeRead, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("tenant " + host.TenantOf(r.Context())))
	})))
	defer srv.Close()
	for _, pair := range [][]string{
		{"Bearer alpha-0123456789abc", "Bearer bravo-0123456789abc"},
		{"Bearer alpha-0123456789abc", "Bearer alpha-0123456789abc"},
		{"Basic abc", "Bearer alpha-0123456789abc"},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/batches", nil)
		req.Header["Authorization"] = pair
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "given twice") ||
			resp.Header.Get("WWW-Authenticate") != `Bearer realm="pricefn", error="invalid_request"` {
			t.Errorf("%q: %d %s %q, want a 400 saying the header is given twice", pair, resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"))
		}
	}
	for reason, want := range map[string]float64{"two_tokens": 3, "bad_token": 0} {
		if v, _, err := metricstest.Value(reg, "pricefn_auth_rejected_total", map[string]string{"kind": "request", "reason": reason}); v != want || err != nil {
			t.Errorf("pricefn_auth_rejected_total{reason=%q} %v (%v), want %v", reason, v, err, want)
		}
	}
	if n := strings.Count(logs.String(), `"security":true,"path":"/batches"`); n != 3 || !strings.Contains(logs.String(), "Authorization header given twice") {
		t.Errorf("%d refusals logged, want 3 saying the header is given twice:\n%s", n, logs.String())
	}
}

func FuzzParseTokens(f *testing.F) {
	f.Add([]byte("alpha-0123456789abc alpha submit,read\n# c\n"))
	f.Add([]byte("x y z\n\n#\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ids, err := auth.ParseTokens(data)
		if err != nil {
			return
		}
		for _, id := range ids {
			if id.Tenant == "" || len(id.Scopes) == 0 {
				t.Fatalf("identity %+v from %q", id, data)
			}
		}
	})
}

// TestRequireEndsARequestWhoseTokenIsRevoked: a request still running (a
// results or event stream) ends once its token is removed from the tokens
// file; it ran on until the batch ended. A request whose token stays runs
// on, past several checks.
func TestRequireEndsARequestWhoseTokenIsRevoked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	writeTokens(t, path, "kept-0123456789abcdef alpha read\nleaving-0123456789abc alpha read\n")
	tokens, err := auth.LoadTokens(path, time.Nanosecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := auth.NewGuard(nil, tokens, zerolog.Nop(), nil)
	g.RecheckEvery = 10 * time.Millisecond
	causes := make(chan error, 2)
	srv := httptest.NewServer(g.Require(auth.ScopeRead, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		select { // a stream: until the client or the guard ends it
		case <-r.Context().Done():
			causes <- context.Cause(r.Context())
		case <-time.After(5 * time.Second):
			causes <- nil
		}
	})))
	defer srv.Close()
	open := func(token string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/batches/b/events", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("open with %s: %v %v", token, resp, err)
		}
		return resp
	}
	kept := open("kept-0123456789abcdef")
	defer kept.Body.Close()
	leaving := open("leaving-0123456789abc")
	defer leaving.Body.Close()
	time.Sleep(50 * time.Millisecond) // checks pass while both tokens stand
	writeTokens(t, path, "kept-0123456789abcdef alpha read\n")
	select {
	case err := <-causes:
		if !errors.Is(err, auth.ErrTokenRevoked) {
			t.Fatalf("the first request to end ended for %v, want ErrTokenRevoked", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the request of a removed token still runs 3 s after its removal")
	}
	select {
	case err := <-causes:
		t.Errorf("the request of a token kept ended too (%v)", err)
	case <-time.After(100 * time.Millisecond):
	}
}
