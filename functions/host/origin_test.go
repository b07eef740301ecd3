package host_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/metricstest"
)

// TestSameOrigin: a submission a browser sends for a page of another
// origin is refused, GET (GET /valQuery submits) as well as POST; clients
// that are not browsers, and same-origin pages, pass.
func TestSameOrigin(t *testing.T) {
	srv := httptest.NewServer(host.SameOrigin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	})))
	defer srv.Close()
	self := srv.URL
	for _, c := range []struct {
		name, method string
		headers      map[string]string
		want         int
	}{
		{"curl", "POST", nil, http.StatusAccepted},
		{"same-origin page", "POST", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": self}, http.StatusAccepted},
		{"typed in the address bar", "GET", map[string]string{"Sec-Fetch-Site": "none"}, http.StatusAccepted},
		{"cross-site form", "POST", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}, http.StatusForbidden},
		{"same-site page of another port", "POST", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:1"}, http.StatusForbidden},
		{"cross-site image GET", "GET", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"older browser, Origin only", "POST", map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"older browser, its own origin", "POST", map[string]string{"Origin": self}, http.StatusAccepted},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+"/batches", strings.NewReader("{}"))
		req.Header.Set("Content-Type", "text/plain")
		for k, v := range c.headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, resp.StatusCode, body, c.want)
		}
		if c.want == http.StatusForbidden && !strings.Contains(string(body), "another origin") {
			t.Errorf("%s: %s does not say why", c.name, body)
		}
	}
}

// TestAddressHosts: only addresses and loopback names are answered, so
// that a page whose name resolves to the engine's address (DNS rebinding)
// reads nothing. The refusals are counted (they were in no metric), on one
// counter for two servers of one registry, as pricefn dev's.
func TestAddressHosts(t *testing.T) {
	reg := prometheus.NewRegistry()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "batches") })
	srv := httptest.NewServer(host.AddressHosts(ok, reg))
	defer srv.Close()
	other := httptest.NewServer(host.AddressHosts(ok, reg))
	defer other.Close()
	for h, want := range map[string]int{
		"127.0.0.1:8080":         http.StatusOK,
		"localhost:8080":         http.StatusOK,
		"LOCALHOST.":             http.StatusOK,
		"app.localhost:1":        http.StatusOK,
		"[::1]:8080":             http.StatusOK,
		"127.1.2.3":              http.StatusOK,
		"rebind.evil.example:80": http.StatusMisdirectedRequest,
		"evil.example":           http.StatusMisdirectedRequest,
		"10.0.0.1:8080":          http.StatusOK, // a LAN address: no one's DNS
		"[fe80::1%25eth0]:80":    http.StatusOK,
		"mylaptop.lan:8080":      http.StatusMisdirectedRequest,
		"localhost.evil.example": http.StatusMisdirectedRequest,
	} {
		req, _ := http.NewRequest("GET", srv.URL+"/batches", nil)
		req.Host = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: %d %s, want %d", h, resp.StatusCode, body, want)
		}
	}
	req, _ := http.NewRequest("GET", other.URL+"/batches", nil)
	req.Host = "rebind.evil.example"
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMisdirectedRequest {
		t.Fatalf("the other server: %v %v, want a 421", resp, err)
	} else {
		resp.Body.Close()
	}
	if v, found, err := metricstest.Value(reg, host.MetricWrongHost, nil); v != 5 || !found || err != nil {
		t.Errorf("%s %v (found %v, %v), want 5: the 421s of both servers", host.MetricWrongHost, v, found, err)
	}
}
