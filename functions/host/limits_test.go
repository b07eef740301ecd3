package host_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/functions/host"
)

// TestSlowBodyTimesOut: a client that sends headers and then trickles (or
// stops sending) its body does not hold the connection for ever: the
// server's ReadTimeout ends the read and the request is answered.
func TestSlowBodyTimesOut(t *testing.T) {
	h := host.HandlerFunc(func(ctx context.Context, e event.Event) (*event.Event, error) { return nil, nil })
	s := host.New(host.Options{Name: "test", Handler: host.Events(h, zerolog.Nop()), ReadTimeout: 100 * time.Millisecond})
	base := serve(t, s)

	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("POST / HTTP/1.1\r\nHost: x\r\nce-specversion: 1.0\r\nce-type: t\r\nce-source: /s\r\nce-id: 1\r\n" +
		"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"n\":"))
	// Without a read timeout the server waits for the 994 missing bytes
	// for ever; give up long before that.
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("the server is still waiting for the body after 10s")
		}
		return // the server closed the connection: also fine
	}
	resp.Body.Close()
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Errorf("slow body: %d, want a 4xx", resp.StatusCode)
	}
}

// TestMuxErrorsAreJSON: the mux's own 404 and 405 are {"error": ...};
// every answer says nosniff.
func TestMuxErrorsAreJSON(t *testing.T) {
	mux := host.NewMux()
	mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("thing")) })
	mux.HandleFunc("GET /dir/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("dir")) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, tt := range []struct {
		method, path string
		code         int
		body         string
	}{
		{http.MethodGet, "/things/1", http.StatusOK, "thing"},
		{http.MethodGet, "/dir", http.StatusOK, "dir"}, // the mux's redirect still works
		{http.MethodGet, "/nothing", http.StatusNotFound, `{"error":"host: GET /nothing: no such route"}`},
		{http.MethodPost, "/things/1", http.StatusMethodNotAllowed, `{"error":"host: POST /things/1: method not allowed (allowed: GET, HEAD)"}`},
	} {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		bufio.NewReader(resp.Body).WriteTo(&b)
		resp.Body.Close()
		if got := strings.TrimSpace(b.String()); resp.StatusCode != tt.code || got != tt.body {
			t.Errorf("%s %s: %d %s, want %d %s", tt.method, tt.path, resp.StatusCode, got, tt.code, tt.body)
		}
		if tt.code >= 400 && !json.Valid([]byte(b.String())) {
			t.Errorf("%s %s: body is not JSON", tt.method, tt.path)
		}
		// No answer is read by a browser as another type than it says:
		// an error quoting an id with markup stays JSON.
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s: X-Content-Type-Options %q, want nosniff", tt.method, tt.path, got)
		}
	}
}
