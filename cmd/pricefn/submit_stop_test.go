package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// runInterrupted runs args with a context that a SIGINT ends once
// started is closed (or received from), as main's does.
func runInterrupted(t *testing.T, started <-chan struct{}, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithCancelCause(t.Context())
	go func() {
		select {
		case <-started:
			cancel(signalled{os.Interrupt})
		case <-ctx.Done():
		}
	}()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, strings.NewReader(""), &stdout, &stderr)
	cancel(nil)
	return code, stderr.String()
}

// TestSubmitInterrupted: a SIGINT is said once, as an interruption, not
// retried as a send failure, with exit 130; once the batch is accepted,
// the message says it may still run and how to follow it.
func TestSubmitInterrupted(t *testing.T) {
	posted, polled := make(chan struct{}), make(chan struct{})
	var acceptNow bool
	mux := http.NewServeMux()
	mux.HandleFunc("POST /batches", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if !acceptNow {
			close(posted)
			<-r.Context().Done() // no receipt before the interrupt
			return
		}
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"batchId":"b","attempt":1,"trades":1,"chunks":1,"statusUrl":"/batches/b"}`)
	})
	mux.HandleFunc("GET /batches/b/results", func(w http.ResponseWriter, r *http.Request) {
		close(polled)
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	file := oneTradeBatch(t)

	code, stderr := runInterrupted(t, posted, "submit", "--url", srv.URL, "--quiet", file)
	if want := "pricefn submit: interrupted while sending the batch to " + srv.URL + "/batches, before the engine's receipt\n"; code != 130 || stderr != want {
		t.Errorf("while sending: exit %d, stderr %q; want 130, %q", code, stderr, want)
	}

	acceptNow = true
	code, stderr = runInterrupted(t, polled, "submit", "--url", srv.URL, "--resubmit-after", "0", file)
	want := "pricefn submit: interrupted waiting for the results: batch b was accepted and may still run on the engine: follow it with pricefn trace b --url " + srv.URL + " (its status: " + srv.URL + "/batches/b)\n"
	if code != 130 || !strings.HasSuffix(stderr, want) || strings.Contains(stderr, "again in") || strings.Count(stderr, "interrupt") != 1 {
		t.Errorf("waiting: exit %d, stderr %q; want 130, ending %q", code, stderr, want)
	}

	// Other commands: one line, the same exit status.
	blocked := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(blocked)
		<-r.Context().Done()
	}))
	defer hang.Close()
	code, stderr = runInterrupted(t, blocked, "trace", "--url", hang.URL, "b")
	if code != 130 || stderr != "pricefn trace: interrupted\n" {
		t.Errorf("trace: exit %d, stderr %q; want 130, %q", code, stderr, "pricefn trace: interrupted\n")
	}
	for _, asJSON := range []string{"--json=false", "--json"} {
		blocked = make(chan struct{})
		var once sync.Once
		hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body) // for the server to see the client go
			once.Do(func() { close(blocked) })
			<-r.Context().Done()
		}))
		code, stderr = runInterrupted(t, blocked, "loadgen", "--url", hang.URL, "--rate", "5", "--duration", "10s", "--quiet", asJSON)
		hang.Close()
		if code != 130 || stderr != "pricefn loadgen: interrupted\n" {
			t.Errorf("loadgen %s: exit %d, stderr %q; want 130, %q", asJSON, code, stderr, "pricefn loadgen: interrupted\n")
		}
	}
}

// TestSubmitSaysWhatTimedOut: when --timeout runs out, submit says so,
// with the last failure or state it saw, not "context deadline exceeded".
func TestSubmitSaysWhatTimedOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String() // nothing listens there once closed
	l.Close()
	code, _, stderr := runCmd(t, "submit", "--timeout", "1s", "--url", closed, oneTradeBatch(t))
	last := stderr[strings.LastIndex(strings.TrimSuffix(stderr, "\n"), "\n")+1:]
	want := "pricefn submit: gave up after --timeout 1s sending the batch to http://" + closed + "/batches: attempt "
	if code != 1 || !strings.HasPrefix(last, want) || !strings.HasSuffix(last, " failed: Post \"http://"+closed+"/batches\": dial tcp "+closed+": connect: connection refused\n") || strings.Contains(stderr, "deadline") {
		t.Errorf("unreachable: exit %d, stderr %q; want 1, ending %q... failed: Post ...: connection refused", code, stderr, want)
	}

	f := newFakeEngine(t, "", 1000) // running for 20 s
	start := time.Now()
	code, _, stderr = runCmd(t, "submit", "--timeout", "300ms", "--url", f.ingress.URL, oneTradeBatch(t))
	want = "pricefn submit: gave up after --timeout 300ms waiting for the results (last seen: running: 0 of 1 chunk done, 0 of 1 trade); batch b was accepted and may still run on the engine: follow it with pricefn trace b --url " + f.aggregator.URL + " (its status: " + f.aggregator.URL + "/batches/b)\n"
	if code != 1 || !strings.HasSuffix(stderr, want) || strings.Contains(stderr, "deadline") || time.Since(start) > 5*time.Second {
		t.Errorf("running: exit %d, stderr %q; want 1, ending %q", code, stderr, want)
	}

	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	code, _, stderr = runCmd(t, "trace", "--timeout", "200ms", "--url", hang.URL, "b")
	want = "pricefn trace: batch b: gave up after --timeout 200ms: " + hang.URL + "/batches/b?timeline=true did not answer\n"
	if code != 1 || stderr != want {
		t.Errorf("trace: exit %d, stderr %q; want 1, %q", code, stderr, want)
	}
}

// TestSubmitHidesTheURLsPassword: a password in --url (basic auth to a
// gateway behind a prefix) is not printed; it was, in the sending line and
// in the --timeout and Ctrl-C messages, beside Go's own redacted copy.
func TestSubmitHidesTheURLsPassword(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String() // nothing listens there once closed
	l.Close()
	code, _, stderr := runCmd(t, "submit", "--timeout", "1s", "--url", "http://user:s3cret@"+closed+"/pricefn", oneTradeBatch(t))
	if code != 1 || strings.Contains(stderr, "s3cret") || !strings.Contains(stderr, "http://user:xxxxx@"+closed+"/pricefn/batches") {
		t.Errorf("exit %d, stderr %q: want 1 and the URL with its password hidden", code, stderr)
	}
}

// TestSubmitTimedOutAfterTheReceipt: --timeout running out before any
// status came says the batch was accepted, as its receipt did; it said
// "no answer from the engine yet".
func TestSubmitTimedOutAfterTheReceipt(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, `{"batchId":"b","attempt":1,"trades":1,"chunks":1,"statusUrl":"/batches/b","resultsUrl":"/batches/b/results"}`)
			return
		}
		<-r.Context().Done() // the wait never answers
	}))
	defer srv.Close()
	code, _, stderr := runCmd(t, "submit", "--timeout", "300ms", "--url", srv.URL, oneTradeBatch(t))
	if code != 1 || !strings.Contains(stderr, "(last seen: accepted, 1 trade in 1 chunk, and no status yet)") || strings.Contains(stderr, "no answer from the engine") {
		t.Errorf("exit %d, stderr %q: want 1, last seen accepted", code, stderr)
	}
}
