package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/aggregator"
	"github.com/pricefn/pricefn/functions/ingress"
)

// runSubmit implements "pricefn submit [FILE] --url URL".
func runSubmit(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("submit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://localhost:8080", "the engine's gateway")
	structured := fs.Bool("structured", false, "send the CloudEvent in structured mode (default binary)")
	out := fs.String("out", "", "write results to this file instead of stdout")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up waiting for the results after this long")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	lostAfter := fs.Duration("lost-after", time.Minute, "give up when the engine has not known the accepted batch (404) for this long")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pricefn submit [flags] [FILE]\n\nSends a batch (FILE, or stdin) to a running engine as an io.pricefn.batch.submitted\nCloudEvent, shows progress on stderr, waits for the results and prints them\n(as pricefn price does). Exits non-zero when the batch is rejected or does\nnot complete.\n\nflags:")
		fs.PrintDefaults()
	}
	files, err := parseArgs(fs, args)
	if err != nil || len(files) > 1 {
		if err == nil {
			fs.Usage()
		}
		return errUsage
	}
	in, name := stdin, "stdin"
	if len(files) == 1 && files[0] != "-" {
		f, err := os.Open(files[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in, name = f, files[0]
	}
	data, err := io.ReadAll(in)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	client := &http.Client{}
	progress := stderr
	if *quiet {
		progress = io.Discard
	}

	rc, err := postBatch(ctx, client, *base, data, *structured)
	if err != nil {
		return err
	}
	fmt.Fprintf(progress, "batch %s accepted: %d trades in %d chunks\n", rc.BatchID, rc.Trades, rc.Chunks)
	statusURL, err := resolve(*base, rc.StatusURL)
	if err != nil {
		return err
	}
	results, err := waitResults(ctx, client, statusURL, *lostAfter, progress)
	if err != nil {
		return fmt.Errorf("batch %s: %w", rc.BatchID, err)
	}
	if *out != "" {
		err = os.WriteFile(*out, results, 0o644)
	} else {
		_, err = stdout.Write(results)
	}
	if err != nil {
		return err
	}
	st, err := getStatus(ctx, client, statusURL)
	if err != nil {
		return fmt.Errorf("batch %s: %w", rc.BatchID, err)
	}
	fmt.Fprintf(progress, "batch %s %s: %d trades, %d priced, %d with errors, %d not priced, in %.3fs\n",
		st.BatchID, st.State, st.Trades, st.Priced, st.Failed, st.Missing, st.Timings.DurationSeconds)
	if st.State != aggregator.StateCompleted {
		return fmt.Errorf("batch %s ended %s: %d trades not priced (their results say why)", st.BatchID, st.State, st.Missing)
	}
	return nil
}

// postBatch sends data as a batch.submitted CloudEvent to the gateway.
func postBatch(ctx context.Context, client *http.Client, base string, data []byte, structured bool) (*ingress.Receipt, error) {
	e := cloudevents.NewEvent()
	e.SetType(events.TypeBatchSubmitted)
	e.SetSource("/pricefn/submit")
	e.SetID(rand.Text())
	if err := e.SetData(cloudevents.ApplicationJSON, data); err != nil {
		return nil, err
	}
	if structured {
		ctx = binding.WithForceStructured(ctx)
	}
	target, err := resolve(base, "/")
	if err != nil {
		return nil, err
	}
	req, err := cehttp.NewHTTPRequestFromEvent(ctx, target, e)
	if err != nil {
		return nil, err
	}
	resp, body, err := do(client, req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusAccepted {
		return nil, fmt.Errorf("batch rejected (%s): %s", resp.Status, errorText(body))
	}
	var rc ingress.Receipt
	if err := json.Unmarshal(body, &rc); err != nil || rc.BatchID == "" {
		return nil, fmt.Errorf("unexpected answer from %s: %s", target, body)
	}
	if rc.StatusURL == "" {
		rc.StatusURL = resp.Header.Get("Location")
	}
	return &rc, nil
}

// waitResults long-polls the results until the batch is finished, showing
// its progress, and returns the results document. The engine answers 202
// a moment before the aggregator hears of the batch, so a 404 is asked
// again; a batch still unknown after lostAfter is lost (the aggregator
// restarted, or forgot it).
func waitResults(ctx context.Context, client *http.Client, statusURL string, lostAfter time.Duration, progress io.Writer) ([]byte, error) {
	last := ""
	var unknownSince time.Time
	for {
		code, body, err := get(ctx, client, statusURL+"/results?wait=2s")
		if err != nil {
			return nil, err
		}
		switch code {
		case http.StatusOK:
			return body, nil
		case http.StatusAccepted:
			unknownSince = time.Time{}
			var st aggregator.Status
			if json.Unmarshal(body, &st) == nil {
				line := fmt.Sprintf("%s: chunks %d/%d, trades %d/%d", st.State, st.ChunksDone, st.Chunks, st.Trades-st.Pending, st.Trades)
				if line != last {
					fmt.Fprintln(progress, line)
					last = line
				}
			}
		case http.StatusNotFound:
			if unknownSince.IsZero() {
				unknownSince = time.Now()
			} else if time.Since(unknownSince) > lostAfter {
				return nil, fmt.Errorf("results: the engine has not known the batch for %s: %s", lostAfter, errorText(body))
			}
			// Pause: a server that answers 404 at once must not be
			// polled in a tight loop.
			t := time.NewTimer(500 * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
		default:
			return nil, fmt.Errorf("results: %d %s: %s", code, http.StatusText(code), errorText(body))
		}
	}
}

// getStatus fetches the status document.
func getStatus(ctx context.Context, client *http.Client, statusURL string) (*aggregator.Status, error) {
	code, body, err := get(ctx, client, statusURL)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("status: %d %s: %s", code, http.StatusText(code), errorText(body))
	}
	var st aggregator.Status
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	return &st, nil
}

// get fetches url and returns the status code and body.
func get(ctx context.Context, client *http.Client, url string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, body, err := do(client, req)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, body, nil
}

// do sends req and reads the whole response.
func do(client *http.Client, req *http.Request) (*http.Response, []byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	return resp, body, nil
}

// resolve returns ref relative to base.
func resolve(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("--url %q: %w", base, err)
	}
	if b.Scheme == "" || b.Host == "" {
		return "", errors.New("--url: want an absolute URL such as http://localhost:8080")
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	return b.ResolveReference(r).String(), nil
}

// errorText returns the message of an {"error": "..."} body, or the body.
func errorText(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return e.Error
	}
	return string(body)
}
