package host

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// CheckParams returns a 400 naming the first query parameter of u's query
// (in sorted order) that is not one of known, and the ones the route
// takes: a parameter mistyped (?wiat=30s, ?strem=true) was ignored, the
// request answered at once or not streamed, with nothing to tell the
// client why. A known one given twice is a 400 too: of ?wait=1s&wait=30s
// the first was taken, the other ignored. So is a query that does not
// parse (?wait=30s;timeline=true, ?wait=%zz): url.URL.Query drops such a
// pair without a word. who is the message's prefix ("aggregator"), route
// its route ("GET /batches/{id}/results").
func CheckParams(u *url.URL, who, route string, known ...string) error {
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Errorf(http.StatusBadRequest, "%s: %s: query %q: %v", who, route, Short(u.RawQuery), err)
	}
	var unknown []string
	for name := range q {
		if !slices.Contains(known, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		for _, name := range known {
			if len(q[name]) > 1 {
				return Errorf(http.StatusBadRequest, "%s: %s: query parameter %q given %d times: give it once", who, route, name, len(q[name]))
			}
		}
		return nil
	}
	slices.Sort(unknown)
	if len(known) == 0 {
		return Errorf(http.StatusBadRequest, "%s: %s: unknown query parameter %q: it takes none", who, route, Short(unknown[0]))
	}
	return Errorf(http.StatusBadRequest, "%s: %s: unknown query parameter %q (known: %s)", who, route, Short(unknown[0]), strings.Join(known, ", "))
}
