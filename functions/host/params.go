package host

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// CheckParams returns a 400 naming the first query parameter of q (in
// sorted order) that is not one of known, and the ones the route takes:
// a parameter mistyped (?wiat=30s, ?strem=true) was ignored, the request
// answered at once or not streamed, with nothing to tell the client why.
// who is the message's prefix ("aggregator"), route its route ("GET
// /batches/{id}/results").
func CheckParams(q url.Values, who, route string, known ...string) error {
	var unknown []string
	for name := range q {
		if !slices.Contains(known, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	if len(known) == 0 {
		return Errorf(http.StatusBadRequest, "%s: %s: unknown query parameter %q: it takes none", who, route, Short(unknown[0]))
	}
	return Errorf(http.StatusBadRequest, "%s: %s: unknown query parameter %q (known: %s)", who, route, Short(unknown[0]), strings.Join(known, ", "))
}
