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

	sentIDs, err := tradeIDs(data)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	rc, err := postBatch(ctx, client, *base, data, *structured, progress)
	if err != nil {
		return err
	}
	if rc.Existing {
		fmt.Fprintf(progress, "batch %s was submitted before with the same content (%s): not priced again\n", rc.BatchID, rc.State)
	} else {
		fmt.Fprintf(progress, "batch %s accepted (attempt %d): %d trades in %d chunks\n", rc.BatchID, rc.Attempt, rc.Trades, rc.Chunks)
	}
	statusURL, err := resolve(*base, rc.StatusURL)
	if err != nil {
		return err
	}
	results, err := waitResults(ctx, client, statusURL, *lostAfter, progress)
	if err != nil {
		return fmt.Errorf("batch %s: %w", rc.BatchID, err)
	}
	if err := checkResults(results, sentIDs); err != nil {
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
// A connection failure, a 429 or a 5xx is retried with backoff, with the
// same event: the engine takes a batch sent twice as one.
func postBatch(ctx context.Context, client *http.Client, base string, data []byte, structured bool, progress io.Writer) (*ingress.Receipt, error) {
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
	var resp *http.Response
	var body []byte
	for attempt := 1; ; attempt++ {
		req, err := cehttp.NewHTTPRequestFromEvent(ctx, target, e)
		if err != nil {
			return nil, err
		}
		resp, body, err = do(client, req)
		retry := err != nil || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		if !retry {
			break
		}
		if attempt == submitRetries {
			if err != nil {
				return nil, fmt.Errorf("sending the batch to %s: %w (tried %d times)", target, err, attempt)
			}
			return nil, fmt.Errorf("batch not accepted (%s, tried %d times): %s", resp.Status, attempt, errorText(body))
		}
		why := ""
		if err != nil {
			why = err.Error()
		} else {
			why = resp.Status + ": " + errorText(body)
		}
		wait := backoff(attempt)
		fmt.Fprintf(progress, "sending the batch failed (%s): again in %s\n", why, wait)
		if err := sleepCtx(ctx, wait); err != nil {
			return nil, err
		}
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

// submitRetries is how many times submit tries a request that fails for
// want of a connection or with a 429 or 5xx.
const submitRetries = 6

// backoff is the wait before try attempt+1: 0.5 s doubling, at most 8 s.
func backoff(attempt int) time.Duration {
	return min(500*time.Millisecond<<(attempt-1), 8*time.Second)
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// tradeIDs reads the trade ids of a batch document, in order.
func tradeIDs(data []byte) ([]string, error) {
	var doc struct {
		Trades []struct {
			ID string `json:"id"`
		} `json:"trades"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not a batch: %w", err)
	}
	ids := make([]string, len(doc.Trades))
	for i, t := range doc.Trades {
		ids[i] = t.ID
	}
	return ids, nil
}

// checkResults checks that results hold one result per trade sent, in
// order: a results document of another batch (a stale id, a server bug)
// must not pass for this one's.
func checkResults(results []byte, sent []string) error {
	var doc struct {
		Results []struct {
			ID string `json:"id"`
		} `json:"results"`
	}
	if err := json.Unmarshal(results, &doc); err != nil {
		return fmt.Errorf("results are not a results document: %w", err)
	}
	if len(doc.Results) != len(sent) {
		return fmt.Errorf("results hold %d trades, the batch sent %d: they are not this batch's", len(doc.Results), len(sent))
	}
	for i, r := range doc.Results {
		if r.ID != sent[i] {
			return fmt.Errorf("result %d is for trade %q, the batch sent %q there: they are not this batch's", i, r.ID, sent[i])
		}
	}
	return nil
}

// waitResults long-polls the results until the batch is finished, showing
// its progress, and returns the results document. The engine answers 202
// a moment before the aggregator hears of the batch, so a 404 is asked
// again; a batch still unknown after lostAfter is lost (the aggregator
// restarted, or forgot it).
func waitResults(ctx context.Context, client *http.Client, statusURL string, lostAfter time.Duration, progress io.Writer) ([]byte, error) {
	last := ""
	var unknownSince time.Time
	failures := 0
	for {
		code, body, err := get(ctx, client, statusURL+"/results?wait=2s")
		if err != nil || code >= 500 || code == http.StatusTooManyRequests {
			// The engine may be restarting: ask again, with backoff.
			if failures++; failures == submitRetries || ctx.Err() != nil {
				if err == nil {
					err = fmt.Errorf("%d %s: %s", code, http.StatusText(code), errorText(body))
				}
				return nil, fmt.Errorf("results: %w (tried %d times)", err, failures)
			}
			if err := sleepCtx(ctx, backoff(failures)); err != nil {
				return nil, err
			}
			continue
		}
		failures = 0
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
				return nil, fmt.Errorf("the engine does not know the batch any more (for %s now: it restarted without a shared store, or forgot the batch after its retention); submit it again: %s", lostAfter, errorText(body))
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
