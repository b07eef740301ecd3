package host

import (
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// SameOrigin returns next refusing, with a 403, the requests a browser
// sends for a page of another origin (net/http's CrossOriginProtection:
// Sec-Fetch-Site, else Origin against Host). It guards the routes that
// submit a batch, GET /valQuery among them, which its check would pass as
// a safe method. Clients that are not browsers send neither header and
// pass; so do the console's own calls, which are same-origin. Without
// tokens, any page the user's browser loads could otherwise submit
// batches through a CORS "simple" request (text/plain, a form, an image's
// GET), which needs no preflight.
func SameOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		check := r
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			post := *r
			post.Method = http.MethodPost
			check = &post
		}
		if err := cop.Check(check); err != nil {
			WriteError(w, Errorf(http.StatusForbidden, "a page of another origin (%s) may not submit batches here: %v", Short(originOf(r)), err))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// originOf names where a cross-origin request came from, for its error.
func originOf(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" {
		return o
	}
	return "Sec-Fetch-Site: " + r.Header.Get("Sec-Fetch-Site")
}

// AddressHosts returns next answering only requests whose Host is an IP
// address or a loopback name (localhost, *.localhost), others with a 421.
// An open API (no tokens) is for whoever reaches its address; a page whose
// name an attacker's DNS points at that address (DNS rebinding: 127.0.0.1,
// or the LAN address of a laptop serving on every interface) is
// same-origin to the browser, and would read every batch otherwise. An
// address in Host names no one's DNS. The 421s are counted in
// MetricWrongHost on reg (nil counts none; the counter already there when
// another AddressHosts registered it), where a dashboard sees the attempts.
func AddressHosts(next http.Handler, reg prometheus.Registerer) http.Handler {
	wrong := wrongHostCounter(reg)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !addressHost(r.Host) {
			if wrong != nil {
				wrong.Inc()
			}
			WriteError(w, Errorf(http.StatusMisdirectedRequest, "Host %q is neither an address nor localhost: this engine has no tokens and answers requests by address or for localhost only (give it --tokens-file to serve names)", Short(r.Host)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// wrongHostCounter returns MetricWrongHost registered on reg, or the one
// registered there before (pricefn dev guards two servers with one
// registry); nil for a nil reg. It panics if another metric of the name is
// there: a programmer error.
func wrongHostCounter(reg prometheus.Registerer) prometheus.Counter {
	if reg == nil {
		return nil
	}
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Name: MetricWrongHost,
		Help: "Requests refused (421) by an engine without tokens for a Host that is neither an address nor localhost: DNS rebinding attempts, or a client that names the engine.",
	})
	if err := reg.Register(c); err != nil {
		var dup prometheus.AlreadyRegisteredError
		if !errors.As(err, &dup) {
			panic(err)
		}
		return dup.ExistingCollector.(prometheus.Counter)
	}
	return c
}

func addressHost(hostport string) bool {
	if hostport == "" { // HTTP/1.0: no name to rebind
		return true
	}
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	if i := strings.IndexByte(h, '%'); i >= 0 { // an IPv6 zone
		h = h[:i]
	}
	return net.ParseIP(h) != nil
}
