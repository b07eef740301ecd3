package host_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
)

// TestInProcess: a request to the transport's host is served by its
// handler in process (method, path, headers, body, the caller's context;
// the response's status, headers and body whole), one to another host
// goes over the network, and a handler that panics is an error.
func TestInProcess(t *testing.T) {
	type ctxKey struct{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /fn/{name}", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !host.InProcessRequest(r) || r.Context().Value(ctxKey{}) != "caller" {
			http.Error(w, "not the caller's request", http.StatusInternalServerError)
			return
		}
		w.Header().Set("X-Echo", r.Header.Get("X-In")+" "+r.PathValue("name"))
		w.Header().Set("Content-Length", "9")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, strings.ToUpper(string(body)))
		io.WriteString(w, "!")
	})
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })
	called := 0
	mux.HandleFunc("GET /late", func(w http.ResponseWriter, r *http.Request) {
		called++
		w.Header().Set("X-Host", r.Host)
		w.WriteHeader(http.StatusTeapot)
		w.Header().Set("X-Late", "set after the status") // not sent, as net/http
	})
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if host.InProcessRequest(r) {
			t.Error("a request over the network marked in process")
		}
		io.WriteString(w, "remote")
	}))
	defer remote.Close()
	client := &http.Client{Transport: &host.InProcess{Handler: mux, Host: "internal:1"}}

	ctx := context.WithValue(context.Background(), ctxKey{}, "caller")
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://internal:1/fn/pricer", strings.NewReader("a chunk"))
	req.Header.Set("X-In", "hello")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || string(body) != "A CHUNK!" || resp.Header.Get("X-Echo") != "hello pricer" || resp.ContentLength != 8 {
		t.Errorf("%d %q %q (length %d)", resp.StatusCode, body, resp.Header.Get("X-Echo"), resp.ContentLength)
	}
	if resp, err := client.Get("http://internal:1/nowhere"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown path: %v, %v", resp, err)
	}
	if _, err := client.Get("http://internal:1/panic"); err == nil || !strings.Contains(err.Error(), "the handler failed") {
		t.Errorf("a panicking handler: %v, want an error", err)
	}
	late, _ := http.NewRequest(http.MethodGet, "http://internal:1/late", nil)
	late.Host = "pricer.example"
	if resp, err := client.Do(late); err != nil || resp.StatusCode != http.StatusTeapot || resp.Header.Get("X-Late") != "" || resp.Header.Get("X-Host") != "pricer.example" {
		t.Errorf("late header: %v, %v", resp, err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	late = late.WithContext(cancelled)
	if _, err := client.Do(late); err == nil || called != 1 {
		t.Errorf("a cancelled request: %v, handler called %d times, want an error and once", err, called)
	}
	resp, err = client.Get(remote.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "remote" {
		t.Errorf("another host: %q", body)
	}
}

// TestInProcessBodyOwned: an in-process response's body gives its bytes
// to a reader in this process (events.OwnedData): events.ReadData takes
// the rest after a partial read; each byte is read once.
func TestInProcessBodyOwned(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /reply", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "a reply of some bytes")
	})
	client := &http.Client{Transport: &host.InProcess{Handler: mux, Host: "internal:1"}}
	resp, err := client.Get("http://internal:1/reply")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := resp.Body.(events.OwnedData); !ok {
		t.Fatalf("the body %T is not events.OwnedData", resp.Body)
	}
	head := make([]byte, 2)
	if _, err := io.ReadFull(resp.Body, head); err != nil || string(head) != "a " {
		t.Fatalf("first bytes %q, %v", head, err)
	}
	rest, err := events.ReadData(resp.Body)
	if err != nil || string(rest) != "reply of some bytes" {
		t.Fatalf("the rest %q, %v", rest, err)
	}
	if n, err := resp.Body.Read(head); n != 0 || err != io.EOF {
		t.Errorf("after the take: %d, %v, want EOF", n, err)
	}
}

// TestInProcessEventNotCopied: an event sent by a Sender through an
// InProcess transport reaches its handler (host.Events) with the sender's
// own bytes as its data, not a copy; one over the body limit is still a
// 413.
func TestInProcessEventNotCopied(t *testing.T) {
	var got []byte
	var given bool
	h := host.Events(host.HandlerFunc(func(ctx context.Context, e event.Event) (*event.Event, error) {
		got, given = e.Data(), host.DataGiven(ctx)
		return nil, nil
	}), zerolog.Nop())
	mux := http.NewServeMux()
	mux.Handle("POST /fn", h)
	mux.Handle("POST /small", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, err := host.ReadEvent(w, r, 8); err != nil {
			host.WriteError(w, err)
		}
	}))
	client := &http.Client{Transport: &host.InProcess{Handler: mux, Host: "internal:1"}}
	e := cloudevents.NewEvent()
	e.SetType("io.pricefn.test")
	e.SetSource("/test")
	e.SetID("1")
	if err := e.SetData(cloudevents.ApplicationJSON, []byte(`{"some":"data of a chunk"}`)); err != nil {
		t.Fatal(err)
	}
	if err := host.NewSender("http://internal:1/fn", host.SenderOptions{Client: client, Retries: -1}).Send(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if string(got) != string(e.Data()) || &got[0] != &e.Data()[0] || !given {
		t.Errorf("the handler's data %q is not the sender's own bytes, given to it (DataGiven %v)", got, given)
	}
	// Over a network the data is a request's body, read into a buffer
	// the next request reuses: not given.
	srv := httptest.NewServer(mux)
	defer srv.Close()
	if err := host.NewSender(srv.URL+"/fn", host.SenderOptions{Retries: -1}).Send(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if string(got) != string(e.Data()) || given {
		t.Errorf("over a network: data %q, DataGiven %v, want the data not given", got, given)
	}
	err := host.NewSender("http://internal:1/small", host.SenderOptions{Client: client, Retries: -1}).Send(context.Background(), e)
	if host.Status(err) != http.StatusRequestEntityTooLarge {
		t.Errorf("an event over the limit: %v, want a 413", err)
	}
}

// TestSenderOverNetworkKeepsLength: marking an event's data as owned
// changes nothing over a network: the request has its Content-Length (not
// chunked), with data and without.
func TestSenderOverNetworkKeepsLength(t *testing.T) {
	type seen struct {
		length  int64
		chunked bool
	}
	got := make(chan seen, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got <- seen{r.ContentLength, len(r.TransferEncoding) > 0}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	for _, data := range [][]byte{[]byte(`{"a":1}`), nil} {
		e := cloudevents.NewEvent()
		e.SetType("io.pricefn.test")
		e.SetSource("/test")
		e.SetID("1")
		if data != nil {
			if err := e.SetData(cloudevents.ApplicationJSON, data); err != nil {
				t.Fatal(err)
			}
		}
		if err := host.NewSender(srv.URL, host.SenderOptions{Retries: -1}).Send(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		if s := <-got; s.length != int64(len(data)) || s.chunked {
			t.Errorf("data %q: Content-Length %d, chunked %v; want %d, not chunked", data, s.length, s.chunked, len(data))
		}
	}
}

// TestInProcessReplyNotCopied: a handler's reply goes back to an
// in-process caller as the reply's own data, not a copy of it, unless its
// array is much larger (what the caller keeps would keep it all); a reply
// written by other means is still the bytes written.
func TestInProcessReplyNotCopied(t *testing.T) {
	data := []byte(`{"results":"of a chunk"}`)
	reply := func(data []byte) http.Handler {
		return host.Events(host.HandlerFunc(func(ctx context.Context, e event.Event) (*event.Event, error) {
			r := cloudevents.NewEvent()
			r.SetType("io.pricefn.test.reply")
			r.SetSource("/test")
			r.SetID("r1")
			if err := r.SetData(cloudevents.ApplicationJSON, data); err != nil {
				return nil, err
			}
			return &r, nil
		}), zerolog.Nop())
	}
	roomy := append(make([]byte, 0, 10*len(data)), data...)
	mux := http.NewServeMux()
	mux.Handle("POST /fn", reply(data))
	mux.Handle("POST /roomy", reply(roomy))
	mux.Handle("POST /plain", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(data) }))
	client := &http.Client{Transport: &host.InProcess{Handler: mux, Host: "internal:1"}}
	e := cloudevents.NewEvent()
	e.SetType("io.pricefn.test")
	e.SetSource("/test")
	e.SetID("1")
	for _, path := range []string{"/fn", "/roomy", "/plain"} {
		req, err := cehttp.NewHTTPRequestFromEvent(context.Background(), "http://internal:1"+path, e)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got := resp.Body.(events.OwnedData).TakeData()
		if resp.StatusCode != http.StatusOK || string(got) != string(data) {
			t.Fatalf("%s: %d %q, want the reply's data", path, resp.StatusCode, got)
		}
		if same := &got[0] == &data[0] || &got[0] == &roomy[0]; same != (path == "/fn") {
			t.Errorf("%s: the body is the reply's own bytes: %v, want %v", path, same, path == "/fn")
		}
	}
}
