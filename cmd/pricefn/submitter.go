package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/pricefn/pricefn/api"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
)

// submitter talks to a running engine for pricefn submit: it sends the
// batch and follows it to its results, showing progress.
type submitter struct {
	client *http.Client
	// token, when set, is sent as "Authorization: Bearer TOKEN" on every
	// request.
	token    string
	progress io.Writer
	// start is when submit began: progress lines show the time since.
	start time.Time
	// lostAfter is how long the batch may be unknown (404) before submit
	// gives up.
	lostAfter time.Duration
	// heartbeat is how long a progress line may go unrepeated while
	// nothing changes.
	heartbeat time.Duration
	// resultsRoom is the room the read of the results starts with: about
	// their size, so that a document of tens of megabytes is not read
	// into a buffer that doubles (each doubling new memory, cleared and
	// faulted in, and a copy).
	resultsRoom int
	// stream, when set, takes the results document as it arrives.
	stream *resultsStream
	// announceEvery is how often a batch whose last end is being
	// announced is asked again at first (then less often); 0 means 2 s.
	announceEvery time.Duration
	// resultsAttempt is the attempt the last results read held, as the
	// engine says (api.HeaderAttempt); "" from an engine that does not.
	resultsAttempt string
	// eventID is the id of the batch.submitted event, made at the first
	// post and kept for every other: the engine takes the batch sent
	// again as the same one (a batch without an id is named after it).
	eventID string
	// traceParent is the W3C trace context of the batch.submitted event,
	// made with eventID and sent on every post: a batch refused and sent
	// again (a 429, a 503) is one trace, the refusals' log lines and the
	// batch's own, not a trace a post.
	traceParent string
	// last is the last failure or state submit saw, for the message when
	// --timeout runs out. Only the goroutine that sends the batch and
	// waits for its results sets it: the nudge's posts (wait false) leave
	// it alone.
	last string
}

// errAnnounced is the answer to a post of a batch that has just ended.
var errAnnounced = errors.New("the batch's last attempt has ended and its end is being announced")

// announceWait is how long submit asks again a batch whose last end is
// being announced: the claim of an aggregator that stopped lapses after
// store.AnnounceLease (2 minutes), with a margin.
const announceWait = 2*time.Minute + 30*time.Second

// submitRetries is how many times submit tries a request that fails for
// want of a connection or with a 429 or 5xx.
const submitRetries = 6

// elapsed is the time since submit began.
func (s *submitter) elapsed() time.Duration { return time.Since(s.start) }

// authorize adds the bearer token to req.
func (s *submitter) authorize(req *http.Request) {
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
}

// refused returns the error of a 401 or 403 answer, nil for others: no
// retry can change it.
func (s *submitter) refused(code int, body []byte) error {
	if code != http.StatusUnauthorized && code != http.StatusForbidden {
		return nil
	}
	if s.token == "" {
		return fmt.Errorf("the engine wants a token (%d %s: %s): pass --token or set $PRICEFN_TOKEN", code, http.StatusText(code), errorText(body))
	}
	return fmt.Errorf("the engine refused the token: %d %s: %s", code, http.StatusText(code), errorText(body))
}

// postBatch sends data as a batch.submitted CloudEvent to target, the
// gateway's (or ingress's) POST /batches: ingress's own POST / is the
// broker's event receiver when it runs alone, with an empty 202.
// A connection failure, a 429 or a 5xx is retried with backoff, with the
// same event: the engine takes a batch sent twice as one.
//
// With wait false, a batch whose last attempt ended and whose end is being
// announced is given up at once (errAnnounced): the nudge's posts, which
// must not start the next attempt of a batch that has just ended.
func (s *submitter) postBatch(ctx context.Context, target string, p payload, structured, wait bool) (*api.Receipt, error) {
	e := cloudevents.NewEvent()
	e.SetType(events.TypeBatchSubmitted)
	e.SetSource("/pricefn/submit")
	if s.eventID == "" {
		s.eventID = rand.Text()
		s.traceParent = host.TraceParent("")
	}
	e.SetID(s.eventID)
	e.SetExtension(events.ExtTraceParent, s.traceParent)
	if p.file == "" {
		if err := e.SetData(cloudevents.ApplicationJSON, p.data); err != nil {
			return nil, err
		}
	} else {
		e.SetDataContentType(cloudevents.ApplicationJSON) // the body is the file
	}
	if structured {
		ctx = binding.WithForceStructured(ctx)
	}
	var resp *http.Response
	var body []byte
	var announcing time.Time // since when the engine answers "being announced"
	announces := 0
	for attempt := 1; ; attempt++ {
		req, err := cehttp.NewHTTPRequestFromEvent(ctx, target, e)
		if err != nil {
			return nil, err
		}
		if p.file != "" {
			f, err := p.open()
			if err != nil {
				return nil, err
			}
			req.Body, req.ContentLength = f, p.size // closed by the client
			// Sent again as it is on a redirect, or on a kept connection
			// the server had closed.
			req.GetBody = func() (io.ReadCloser, error) { return p.open() }
		}
		s.authorize(req)
		resp, body, err = do(s.client, req, 0)
		if errors.Is(err, errChanged) {
			return nil, err // sending it again would not mend it
		}
		if err != nil && ctx.Err() != nil {
			return nil, err // stopped: not a failure to try again
		}
		retry := err != nil || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		if !retry {
			break
		}
		if err == nil && resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(errorText(body), "the batch's deadline passed") {
			// The batch's own deadline ran out while ingress sent its
			// chunks (ingress's message): each post again would start an
			// attempt that ends the same way.
			return nil, fmt.Errorf("batch not accepted (%s): %s: give the batch a later deadline, or split it", resp.Status, errorText(body))
		}
		if err == nil && resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(errorText(body), "is being announced") {
			// The batch's last attempt ended and the aggregator holding
			// its announcement may have stopped: the claim lapses after
			// store.AnnounceLease, and the next attempt can start then.
			// Asked again until then (announceWait), not given up on.
			if !wait {
				return nil, errAnnounced
			}
			s.last = "the batch's last attempt ended and its end is being announced"
			if announcing.IsZero() {
				announcing = time.Now()
				fmt.Fprintf(s.progress, "the batch's last attempt ended and its end is being announced (by an aggregator that may have stopped: at most 2 minutes): asking again, less often as it goes on\n")
			}
			if time.Since(announcing) < announceWait {
				attempt-- // not a failure of the engine's
				// Each ask uploads the batch: less often as it goes on.
				every := cmp.Or(s.announceEvery, 2*time.Second)
				if err := sleepCtx(ctx, min(every<<min(announces, 3), 8*every)); err != nil {
					return nil, err
				}
				announces++
				continue
			}
		}
		if attempt == submitRetries {
			if err != nil {
				return nil, fmt.Errorf("sending the batch to %s: %w (tried %d times)", shown(target), err, attempt)
			}
			return nil, fmt.Errorf("batch not accepted (%s, tried %d times): %s", resp.Status, attempt, errorText(body))
		}
		why := ""
		if err != nil {
			why = err.Error()
		} else {
			why = resp.Status + ": " + errorText(body)
		}
		if wait {
			s.last = fmt.Sprintf("attempt %d failed: %s", attempt, why)
		}
		pause := backoff(attempt)
		if err == nil {
			// No sooner than the engine asks (a tenant at its bound: 5 s),
			// which each upload of the batch before then only burdens.
			pause = max(pause, host.RetryAfter(resp.Header.Get("Retry-After"), time.Now()))
		}
		fmt.Fprintf(s.progress, "sending the batch failed (%s): again in %s\n", why, pause)
		if err := sleepCtx(ctx, pause); err != nil {
			return nil, err
		}
	}
	if err := s.refused(resp.StatusCode, body); err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusAccepted {
		return nil, fmt.Errorf("batch rejected (%s): %s", resp.Status, errorText(body))
	}
	var rc api.Receipt
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, fmt.Errorf("%s answered %s with an empty body, not a receipt: a broker does that; --url must name the gateway (pricefn dev), the API or ingress", shown(target), resp.Status)
	}
	if err := json.Unmarshal(body, &rc); err != nil || rc.BatchID == "" {
		return nil, fmt.Errorf("unexpected answer from %s (%s): %.200s", shown(target), resp.Status, printable(string(body)))
	}
	if rc.StatusURL == "" {
		rc.StatusURL = resp.Header.Get("Location")
	}
	return &rc, nil
}

// payload is the batch submit sends: its bytes, or a regular file sent
// as it is on disk (file, of size bytes), so that the upload need not
// wait for the file to be read.
type payload struct {
	data []byte
	file string
	size int64
}

// filePayload is the batch in file name: sent from disk when it is a
// regular file, not empty, and the event is sent in binary mode (its data
// is the body), else read. A path under /dev is read: some systems share
// the file's position between the opens of /dev/stdin.
func filePayload(name string, structured bool) (payload, error) {
	if fi, err := os.Stat(name); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 && !structured && !strings.HasPrefix(filepath.Clean(name), "/dev/") {
		p := payload{file: name, size: fi.Size()}
		f, err := p.open() // can it be read
		if err != nil {
			return payload{}, err
		}
		return p, f.Close()
	}
	data, err := os.ReadFile(name)
	return payload{data: data, size: int64(len(data))}, err
}

// open opens a file payload for one attempt at sending it. It must still
// be the size it was.
func (p payload) open() (*os.File, error) {
	f, err := os.Open(p.file)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != p.size {
		f.Close()
		if err == nil {
			err = fmt.Errorf("%s %w (%d bytes, then %d)", p.file, errChanged, p.size, fi.Size())
		}
		return nil, err
	}
	return f, nil
}

// errChanged is a batch file that changed while it was sent.
var errChanged = errors.New("changed while it was sent")

// waitResults long-polls the results until the batch is finished, showing
// its progress, and returns the results document. The engine answers 202
// a moment before the aggregator hears of the batch, so a 404 is asked
// again; a batch still unknown after lostAfter is lost (the aggregator
// restarted, or forgot it). A 404 for want of a route (ingress alone does
// not serve results) ends the wait at once.
//
// With s.stream set, the results are asked for as a stream (?stream=true:
// the document arrives while the batch is priced, chunk by chunk; an
// engine that does not stream takes it as the long poll it also is). A
// stream cut short is asked again as a long poll.
func (s *submitter) waitResults(ctx context.Context, statusURL string) ([]byte, error) {
	p := progressLine{w: s.progress, start: s.start, heartbeat: s.heartbeat}
	var unknownSince time.Time
	failures := 0
	wait := min(2*time.Second, s.heartbeat)
	streaming := s.stream != nil
	if streaming && s.progress != io.Discard {
		// The results arrive in input order: the chunks done, from the
		// status (asked every wait at most), say more while an early chunk
		// holds them back.
		var st *api.Status
		var asked time.Time
		s.stream.tick = min(time.Second, s.heartbeat)
		s.stream.progress = func(n int) {
			if time.Since(asked) >= wait {
				asked = time.Now()
				sctx, cancel := context.WithTimeout(ctx, wait)
				if got, err := s.getStatus(sctx, statusURL); err == nil {
					st = got
				}
				cancel()
			}
			line := fmt.Sprintf("results arriving: %d of %s", n, plural(s.stream.want.Len(), "trade"))
			if st != nil {
				line = fmt.Sprintf("%s: %d of %s done, %s", st.State, st.ChunksDone, plural(st.Chunks, "chunk"), line)
			}
			s.last = line
			p.show(line)
		}
	}
	for {
		url := statusURL + "/results?wait=" + wait.String()
		if streaming {
			url += "&stream=true"
		}
		code, body, err := s.getResults(ctx, url)
		if errors.As(err, new(localError)) {
			return nil, err // not the engine's: not asked again
		}
		if err != nil {
			streaming = false
		}
		if err != nil || code >= 500 || code == http.StatusTooManyRequests {
			// The engine may be restarting: ask again, with backoff.
			if err == nil {
				err = fmt.Errorf("%d %s: %s", code, http.StatusText(code), errorText(body))
			}
			if ctx.Err() != nil {
				return nil, err // stopped: not the engine's failure
			}
			s.last = fmt.Sprintf("results: %v", err)
			if failures++; failures == submitRetries {
				return nil, fmt.Errorf("results: %w (tried %d times)", err, failures)
			}
			if err := sleepCtx(ctx, backoff(failures)); err != nil {
				return nil, err
			}
			continue
		}
		failures = 0
		if err := s.refused(code, body); err != nil {
			return nil, err
		}
		switch code {
		case http.StatusOK:
			return body, nil
		case http.StatusAccepted:
			unknownSince = time.Time{}
			var st api.Status
			if json.Unmarshal(body, &st) == nil {
				line := fmt.Sprintf("%s: %d of %s done, %d of %s",
					st.State, st.ChunksDone, plural(st.Chunks, "chunk"), st.Trades-st.Pending, plural(st.Trades, "trade"))
				if st.ScenarioChunks > 0 {
					line += fmt.Sprintf(", %d of %d scenario chunks", st.ScenarioChunksDone, st.ScenarioChunks)
				}
				s.last = line
				p.show(line)
			}
		case http.StatusNotFound:
			if msg := errorText(body); strings.Contains(msg, "no such route") {
				return nil, fmt.Errorf("%s/results: %d %s (%s): that server does not serve results; when ingress runs as its own process, start it with --public-url set to the aggregator's URL", statusURL, code, http.StatusText(code), msg)
			}
			if unknownSince.IsZero() {
				unknownSince = time.Now()
			} else if time.Since(unknownSince) > s.lostAfter {
				return nil, fmt.Errorf("the engine does not know the batch any more (for %s now: it restarted without a shared store, forgot the batch after its retention, or its memory store was full and dropped it); submit it again: %s", s.lostAfter, errorText(body))
			}
			s.last = "waiting for the engine to list the batch"
			p.show(s.last)
			// Pause: a server that answers 404 at once must not be
			// polled in a tight loop.
			if err := sleepCtx(ctx, min(500*time.Millisecond, wait)); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("results: %d %s: %s", code, http.StatusText(code), errorText(body))
		}
	}
}

// nudge submits the batch again (post) while the engine shows it
// unfinished with no chunk done for after (at least nudgeSent once
// ingress has sent all its chunks), then twice as long each time
// (at most maxNudge): the engine sends again what it lost, when its rules
// say it did (an ingress stopped between the claim and the sends, within
// 15 s; pricefn dev's broker restarted with the chunks queued in memory,
// after 2 minutes), and nothing otherwise. A new sign of life of the
// ingress sending the chunks (the status's sendingAt) counts as a chunk
// done: that ingress would take the batch sent again for nothing. It
// returns when ctx ends or the batch is finished.
func (s *submitter) nudge(ctx context.Context, statusURL string, after time.Duration, post func(context.Context) (*api.Receipt, error)) {
	every := min(after/4, 5*time.Second)
	t := time.NewTicker(max(every, time.Millisecond))
	defer t.Stop()
	last, since := -1, time.Now()
	var sending time.Time // the last sign of life of the sending ingress
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st, err := s.getStatus(ctx, statusURL)
		if err != nil {
			continue // the wait for the results says what is wrong
		}
		if api.Finished(st.State) {
			return
		}
		if done := st.ChunksDone + st.ScenarioChunksDone; done != last || !st.Timings.SendingAt.Equal(sending) {
			last, sending, since = done, st.Timings.SendingAt, time.Now()
			continue
		}
		wait := after
		if !st.Timings.SentAt.IsZero() {
			wait = max(after, nudgeSent)
		}
		if time.Since(since) < wait {
			continue
		}
		fmt.Fprintf(s.progress, "[%s] no chunk done for %s: sending the batch again, for the engine to send what it may have lost\n", seconds(time.Since(s.start)), seconds(time.Since(since)))
		if _, err := post(ctx); errors.Is(err, errAnnounced) {
			return // it has just ended: its results are on their way
		} else if err != nil && ctx.Err() == nil {
			fmt.Fprintf(s.progress, "sending the batch again failed: %v\n", err)
		}
		since, after = time.Now(), min(2*after, maxNudge)
	}
}

// maxNudge bounds the wait between two of nudge's submissions;
// nudgeSent is the least for a batch whose chunks were all sent (the
// status's sentAt), past the 2 minutes after which pricefn dev sends them
// again (config.DevResendStalled): an upload of the batch that changes
// nothing before. A batch the aggregator has heard of may have none sent:
// ingress tells it first, then sends the chunks, and an ingress killed
// meanwhile has its chunks sent by the next submission.
const (
	maxNudge  = 8 * time.Minute
	nudgeSent = 150 * time.Second
)

// getStatus fetches the status document.
func (s *submitter) getStatus(ctx context.Context, statusURL string) (*api.Status, error) {
	code, body, err := s.get(ctx, statusURL, 0)
	if err != nil {
		return nil, err
	}
	if err := s.refused(code, body); err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("status: %d %s: %s", code, http.StatusText(code), errorText(body))
	}
	var st api.Status
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	return &st, nil
}

// get fetches url and returns the status code and body, read into room
// bytes at first (do).
func (s *submitter) get(ctx context.Context, url string, room int) (int, []byte, error) {
	resp, body, err := s.getResponse(ctx, url, room)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, body, nil
}

// getResponse is get with the response (its body read, closed).
func (s *submitter) getResponse(ctx context.Context, url string, room int) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	s.authorize(req)
	return do(s.client, req, room)
}

// getResults is get on a results URL: a 200's body, the results
// document, read into resultsRoom bytes at first and through s.stream when
// set; the attempt the engine says it holds goes to s.resultsAttempt.
func (s *submitter) getResults(ctx context.Context, url string) (int, []byte, error) {
	if s.stream == nil {
		resp, body, err := s.getResponse(ctx, url, s.resultsRoom)
		if err != nil {
			return 0, nil, err
		}
		if resp.StatusCode == http.StatusOK {
			s.resultsAttempt = resp.Header.Get(api.HeaderAttempt)
		}
		return resp.StatusCode, body, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	s.authorize(req)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, err := events.ReadData(resp.Body)
		if err != nil {
			return 0, nil, fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
		}
		return resp.StatusCode, body, nil
	}
	body, err := s.stream.read(resp.Body, s.resultsRoom)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	s.resultsAttempt = resp.Header.Get(api.HeaderAttempt)
	return resp.StatusCode, body, nil
}

// do sends req and reads the whole response: a 200's into room bytes at
// first when room is above 0 (a status or an error reply is small), else
// by events.ReadData.
func do(client *http.Client, req *http.Request, room int) (*http.Response, []byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	var body []byte
	if room > 0 && resp.StatusCode == http.StatusOK {
		buf := bytes.NewBuffer(make([]byte, 0, room))
		_, err = buf.ReadFrom(resp.Body)
		body = buf.Bytes()
	} else {
		body, err = events.ReadData(resp.Body)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	return resp, body, nil
}

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

// errorText returns the message of an {"error": "..."} body, or the body,
// printable.
func errorText(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return printable(e.Error)
	}
	return printable(string(body))
}
