package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/protocol"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/pricefn/pricefn/events"
)

// Sender posts events to one URL, the sink (K_SINK: the broker), in binary
// mode. It retries what a Knative broker retries: network errors, 404, 408,
// 409, 429 and 5xx, with exponential backoff. A 429 is backpressure, not a
// fault: it is retried for as long as the caller's context allows, after
// the Retry-After the sink asks for, so that a batch larger than the
// broker's queue flows in as the queue drains; other failures are retried
// SenderOptions.Retries times. It satisfies the sender interface of every
// function, as the CloudEvents client does.
//
// Why not the CloudEvents SDK's client with WithIsRetriableFunc and its
// retry options: the SDK's retry loop (protocol/http/protocol_retry.go in
// sdk-go v2.16) retries a fixed number of times and ignores Retry-After,
// so a big batch against a full broker queue would either give up (and
// its chunks die) or hammer the broker; and its event defaulters run
// before the transport, where the signature (SenderOptions.Sign) must be
// made last, over the overrides. The request itself is the SDK's
// (cehttp.NewHTTPRequestFromEvent), so the wire form is the SDK's.
type Sender struct {
	target    string
	client    *http.Client
	overrides map[string]any
	sign      func(e *event.Event)
	retries   int
	backoff   time.Duration
	sleep     func(context.Context, time.Duration) error
}

// SenderOptions tunes a Sender. The zero value is valid.
type SenderOptions struct {
	// Client sends the requests; nil means a client with a transport tuned
	// for many concurrent requests to one host.
	Client *http.Client
	// Overrides are extensions set on every event (K_CE_OVERRIDES).
	Overrides map[string]any
	// Retries is how many times a send failing other than with 429 is
	// retried; 0 means 5, and a negative value means none. A 429 is
	// retried until the context passed to Send ends, so give Send a
	// context with a deadline.
	Retries int
	// Backoff is the first retry's delay, doubled for each next one up to
	// MaxBackoff; 0 means 50ms. A 429 with a Retry-After header waits
	// what the header says instead (at most MaxRetryAfter), plus up to a
	// quarter more at random, so that senders refused together do not all
	// come back at once.
	Backoff time.Duration
	// Sleep waits d, or returns ctx's error when ctx ends first; nil means
	// a timer. Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Sign, when set, signs every event after the overrides are set
	// (auth.Keys.Sign), so that its receivers can tell it authentic.
	Sign func(e *event.Event)
}

// Bounds of a Sender's waits between attempts.
const (
	// MaxBackoff bounds the exponential backoff.
	MaxBackoff = 5 * time.Second
	// MaxRetryAfter bounds the wait a Retry-After header asks for.
	MaxRetryAfter = time.Minute
)

// NewSender returns a Sender to target.
func NewSender(target string, opt SenderOptions) *Sender {
	s := &Sender{target: target, client: opt.Client, overrides: opt.Overrides, retries: opt.Retries, backoff: opt.Backoff, sleep: opt.Sleep, sign: opt.Sign}
	if s.client == nil {
		s.client = NewClient()
	}
	switch {
	case s.retries == 0:
		s.retries = 5
	case s.retries < 0:
		s.retries = 0
	}
	if s.backoff <= 0 {
		s.backoff = 50 * time.Millisecond
	}
	if s.sleep == nil {
		s.sleep = sleep
	}
	return s
}

// NewClient returns an HTTP client that keeps enough idle connections per
// host for a function sending many events at once (the CloudEvents SDK's
// default keeps two, which piles up TIME_WAIT sockets under load).
func NewClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 128
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return &http.Client{Transport: t}
}

// Target returns the URL events are sent to.
func (s *Sender) Target() string { return s.target }

// Send posts e and returns nil once the sink accepted it (2xx), or a
// *SendError carrying the last status once retries are spent or ctx ends.
func (s *Sender) Send(ctx context.Context, e event.Event) protocol.Result {
	if len(s.overrides) > 0 || s.sign != nil {
		e = e.Clone()
		for k, v := range s.overrides {
			e.SetExtension(k, v)
		}
		if s.sign != nil {
			s.sign(&e)
		}
	}
	if err := e.Validate(); err != nil {
		return fmt.Errorf("host: send %s: invalid event: %w", e.Type(), err)
	}
	delay := s.backoff
	failures := 0 // failures other than 429
	for {
		code, retryAfter, err := s.post(ctx, e)
		if err == nil {
			return nil
		}
		if code != http.StatusTooManyRequests {
			failures++
		}
		if !retryable(code) || failures > s.retries || ctx.Err() != nil {
			if code == 0 {
				return &SendError{Code: http.StatusBadGateway, Type: e.Type(), ID: e.ID(), Target: s.target, Err: err, reason: unaddressed(code, err)}
			}
			return &SendError{Code: code, Type: e.Type(), ID: e.ID(), Target: s.target, Err: err, reason: unaddressed(code, err)}
		}
		wait := delay
		if code == http.StatusTooManyRequests {
			if retryAfter > 0 {
				wait = retryAfter
			}
			wait += rand.N(wait/4 + 1)
		}
		if ctxErr := s.sleep(ctx, wait); ctxErr != nil {
			return &SendError{Code: http.StatusServiceUnavailable, Type: e.Type(), ID: e.ID(), Target: s.target,
				Err:    fmt.Errorf("%w (last attempt: %v)", ctxErr, err),
				reason: fmt.Sprintf("%v (last attempt: %s)", ctxErr, unaddressed(code, err))}
		}
		delay = min(2*delay, MaxBackoff)
	}
}

// post makes one attempt; it returns the status (0 when none came back)
// and the wait the answer asks for in Retry-After (0 when none).
func (s *Sender) post(ctx context.Context, e event.Event) (int, time.Duration, error) {
	// The event's bytes, which nothing changes: a receiver in this
	// process keeps them rather than copy them (events.WithOwnedData).
	req, err := cehttp.NewHTTPRequestFromEvent(events.WithOwnedData(ctx, e.Data()), s.target, e)
	if err != nil {
		return 0, 0, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 == 2 {
		return resp.StatusCode, 0, nil
	}
	return resp.StatusCode, RetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(body))
}

// SendError is why a Sender gave up on an event. Its Error names the sink's
// address, and so may the transport's error it wraps: that is for the log.
// What a client reads (an answer, a chunk's reason repeated in its trades'
// errors) is Unaddressed's, which names neither: the broker is internal,
// as the store is, and its address is no tenant's business.
type SendError struct {
	// Code is the status that reports the failure (Status): the sink's
	// last answer, 502 when none came, 503 when the context ended.
	Code     int
	Type, ID string
	// Target is the sink's URL; "the broker" in Unaddressed's.
	Target string
	Err    error
	reason string // Err in words naming no address
}

func (e *SendError) Error() string {
	return fmt.Sprintf("host: send %s %s to %s: %v", e.Type, e.ID, e.Target, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// Unaddressed returns err, a sender's error, for a client: a *SendError
// (wrapped or not) as the same status and the same failure without the
// sink's address; any other error as it is.
func Unaddressed(err error) error {
	var se *SendError
	if !errors.As(err, &se) {
		return err
	}
	return &SendError{Code: se.Code, Type: se.Type, ID: se.ID, Target: "the broker", Err: errors.New(se.reason), reason: se.reason}
}

// unaddressed tells err, an attempt's failure with status code (0: no
// answer), in words that name no address: a status and the sink's answer,
// or the kind of network failure, where net's and net/http's errors quote
// the URL and the address dialled.
func unaddressed(code int, err error) string {
	if code != 0 {
		return err.Error() // "status 429: ...", the sink's own words
	}
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer: " + context.DeadlineExceeded.Error()
	case errors.Is(err, context.Canceled):
		return "no answer: " + context.Canceled.Error()
	case errors.As(err, &dns):
		return "no answer: its name did not resolve"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "no answer: connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "no answer: connection closed"
	case errors.As(err, &ne) && ne.Timeout():
		return "no answer: timed out"
	}
	return "no answer"
}

// RetryAfter reads a Retry-After header, delay-seconds or an HTTP date,
// as a wait from now, at most MaxRetryAfter; 0 when absent or invalid.
func RetryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(h); err == nil {
		if n <= 0 {
			return 0
		}
		d = time.Duration(min(n, int(MaxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, MaxRetryAfter))
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryable reports whether a broker retries a delivery that got code (0:
// no response at all).
func retryable(code int) bool { return code == 0 || events.Retryable(code) }
