package host

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/protocol"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/pricefn/pricefn/events"
)

// Sender posts events to one URL, the sink (K_SINK: the broker), in binary
// mode. It retries what a Knative broker retries: network errors, 404, 408,
// 409, 429 and 5xx, with exponential backoff. It satisfies the sender
// interface of every function, as the CloudEvents client does.
type Sender struct {
	target    string
	client    *http.Client
	overrides map[string]any
	retries   int
	backoff   time.Duration
}

// SenderOptions tunes a Sender. The zero value is valid.
type SenderOptions struct {
	// Client sends the requests; nil means a client with a transport tuned
	// for many concurrent requests to one host.
	Client *http.Client
	// Overrides are extensions set on every event (K_CE_OVERRIDES).
	Overrides map[string]any
	// Retries is how many times a failed send is retried; 0 means 5, and a
	// negative value means none.
	Retries int
	// Backoff is the first retry's delay, doubled for each next one; 0
	// means 50ms.
	Backoff time.Duration
}

// NewSender returns a Sender to target.
func NewSender(target string, opt SenderOptions) *Sender {
	s := &Sender{target: target, client: opt.Client, overrides: opt.Overrides, retries: opt.Retries, backoff: opt.Backoff}
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

// Send posts e and returns nil once the sink accepted it (2xx), or an
// error carrying the last status (a *cehttp.Result) once retries are spent.
func (s *Sender) Send(ctx context.Context, e event.Event) protocol.Result {
	if len(s.overrides) > 0 {
		e = e.Clone()
		for k, v := range s.overrides {
			e.SetExtension(k, v)
		}
	}
	if err := e.Validate(); err != nil {
		return fmt.Errorf("host: send %s: invalid event: %w", e.Type(), err)
	}
	delay := s.backoff
	for attempt := 0; ; attempt++ {
		code, err := s.post(ctx, e)
		if err == nil {
			return nil
		}
		if !retryable(code) || attempt >= s.retries || ctx.Err() != nil {
			if code == 0 {
				return Errorf(http.StatusBadGateway, "host: send %s %s to %s: %w", e.Type(), e.ID(), s.target, err)
			}
			return Errorf(code, "host: send %s %s to %s: %w", e.Type(), e.ID(), s.target, err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return Errorf(http.StatusServiceUnavailable, "host: send %s %s to %s: %w", e.Type(), e.ID(), s.target, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// post makes one attempt; it returns the status (0 when none came back).
func (s *Sender) post(ctx context.Context, e event.Event) (int, error) {
	req, err := cehttp.NewHTTPRequestFromEvent(ctx, s.target, e)
	if err != nil {
		return 0, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 == 2 {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, fmt.Errorf("status %d: %s", resp.StatusCode, body)
}

// retryable reports whether a broker retries a delivery that got code (0:
// no response at all).
func retryable(code int) bool { return code == 0 || events.Retryable(code) }
