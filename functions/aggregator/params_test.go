package aggregator_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestUnknownQueryParameterRefused: a query parameter a GET route does not
// take is a 400 naming it and the ones the route takes; mistyped
// (?wiat=30s, ?strem=true), it was ignored, the results answered at once,
// not streamed. A parameter given twice is a 400 too (of ?wait=1s&wait=30s
// the first was taken). The parameters each route takes still work.
func TestUnknownQueryParameterRefused(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	for i := range offsets {
		f.mustPost(t, "/", pricedEvent(t, "b1", i))
	}
	for _, tc := range []struct{ path, want string }{
		{"/batches/b1/results?wiat=30s", `aggregator: GET /batches/{id}/results: unknown query parameter \"wiat\" (known: wait, stream, timeline, from, limit)`},
		{"/batches/b1/results?wait=1s&strem=true", `unknown query parameter \"strem\" (known: wait, stream,`},
		{"/batches/b1?wait=1s&timeline=true&z=1&a=2", `aggregator: GET /batches/{id}: unknown query parameter \"a\" (known: wait, timeline, from, limit)`},
		{"/batches/b1?stream=true", `GET /batches/{id}: unknown query parameter \"stream\"`},
		{"/batches?lmit=5", `aggregator: GET /batches: unknown query parameter \"lmit\" (known: limit)`},
		{"/batches/b1/events?wait=30s", `aggregator: GET /batches/{id}/events: unknown query parameter \"wait\": it takes none`},
		{"/batches/b1/results?wait=1s&wait=30s", `aggregator: GET /batches/{id}/results: query parameter \"wait\" given 2 times: give it once`},
		{"/batches?limit=5&limit=500", `query parameter \"limit\" given 2 times`},
	} {
		code, body := f.get(t, tc.path)
		if code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s: %d %.300s, want a 400 with %s", tc.path, code, body, tc.want)
		}
	}
	for _, path := range []string{
		"/batches/b1/results?wait=1s&timeline=true&from=0&limit=5",
		"/batches/b1/results?stream=true",
		"/batches/b1?wait=1s&timeline=true&from=1&limit=2",
		"/batches?limit=5",
		"/batches/b1/events",
	} {
		if code, body := f.get(t, path); code != http.StatusOK {
			t.Errorf("GET %s: %d %.300s, want 200", path, code, body)
		}
	}
}

// TestWaitWithoutDurationRefused: ?wait with no duration (?wait, ?wait=)
// is a 400, as a bad one is; it was taken for no wait, the results of a
// running batch answered at once with a 202. So is the list's ?limit=. A bad one is quoted cut: it
// came back whole, 100,000 bytes of it.
func TestWaitWithoutDurationRefused(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	for _, q := range []string{"wait", "wait="} {
		code, body := f.get(t, "/batches/b1/results?"+q)
		if want := `aggregator: wait \"\": want a Go duration such as 30s`; code != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("?%s: %d %.300s, want a 400 with %s", q, code, body, want)
		}
	}
	// A negative wait is a Go duration: it was refused as not one.
	if code, body := f.get(t, "/batches/b1?wait=-1s"); code != http.StatusBadRequest || !strings.Contains(body, `aggregator: wait \"-1s\": want 0 or more, such as 30s`) {
		t.Errorf("?wait=-1s: %d %.300s, want a 400 asking for 0 or more", code, body)
	}
	// As the timeline's limit: ?limit= was the default, 50 batches.
	if code, body := f.get(t, "/batches?limit="); code != http.StatusBadRequest || !strings.Contains(body, `aggregator: limit \"\": want 1 to 500`) {
		t.Errorf("?limit=: %d %.300s, want a 400", code, body)
	}
	code, body := f.get(t, "/batches/b1?wait="+strings.Repeat("9", 100_000))
	if code != http.StatusBadRequest || len(body) > 400 || !strings.Contains(body, `99...\"`) {
		t.Errorf("a long wait: %d, %d bytes %.300s, want a 400 quoting it cut", code, len(body), body)
	}
}

// TestMalformedQueryRefused: a query that does not parse, a ';' between
// parameters or a '%' not escaping two hex digits, is a 400 quoting it;
// the pair it spoiled was dropped without a word (url.URL.Query), so
// ?wiat=30s; answered at once and ?timeline=true;x=1 had no timeline.
func TestMalformedQueryRefused(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	// Finished, so that a query taken as none answers at once.
	for i := range offsets {
		f.mustPost(t, "/", pricedEvent(t, "b1", i))
	}
	for _, tc := range []struct{ path, want string }{
		{"/batches/b1?timeline=true;x=1", `aggregator: GET /batches/{id}: query \"timeline=true;x=1\": invalid semicolon separator in query`},
		{"/batches/b1/results?wiat=30s;", `aggregator: GET /batches/{id}/results: query \"wiat=30s;\": invalid semicolon separator in query`},
		{"/batches/b1/results?wait=%zz", `aggregator: GET /batches/{id}/results: query \"wait=%zz\": invalid URL escape \"%zz\"`},
		{"/batches?limit=5;", `aggregator: GET /batches: query \"limit=5;\"`},
		{"/batches/b1/events?x=%", `aggregator: GET /batches/{id}/events: query \"x=%\"`},
	} {
		code, body := f.get(t, tc.path)
		if code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s: %d %.300s, want a 400 with %s", tc.path, code, body, tc.want)
		}
	}
}
