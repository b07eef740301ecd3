package broker

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/events"
)

// The extensions Knative adds to an event it sends to a dead-letter sink.
const (
	// ExtErrorDest is the URL of the destination that failed.
	ExtErrorDest = "knativeerrordest"
	// ExtErrorCode is the last HTTP status code (500 when there was no
	// response).
	ExtErrorCode = "knativeerrorcode"
	// ExtErrorData is the last response body, base64-encoded, cut to 1024
	// characters.
	ExtErrorData = "knativeerrordata"

	errorDataMax = 1024
	// errorBodyMax is how much of a failure's response body is kept: what
	// fills errorDataMax once base64-encoded.
	errorBodyMax = errorDataMax / 4 * 3
)

// job is one event's delivery to one Trigger: its subscriber attempts, then
// its dead-letter attempts. A job holds one queue slot from enqueue to
// finish or drop.
type job struct {
	route *route
	event *event.Event // shared by the jobs of one event: read only
	batch string       // the event's batchid, "" when none
	ttl   int
	log   zerolog.Logger

	addr       int      // index of the address last tried in this phase; -1 before the first
	attempt    int      // attempts made in the current phase
	deadLetter bool     // phase: sending to the dead-letter sink
	cause      *failure // why the subscriber phase failed

	accepted time.Time // when the event was accepted
	queued   time.Time // when the job was last put in the queue
	// hasTurn says j holds one of its subscriber's turns (turns).
	hasTurn bool
}

// failure is a failed attempt.
type failure struct {
	dest  string
	code  int    // HTTP status; 500 when there was no response, as Knative
	body  []byte // response body or error text, for ExtErrorData
	retry bool
	err   error
}

// work runs jobs until the broker stops.
func (b *Broker) work() {
	defer b.wg.Done()
	for {
		select {
		case <-b.ctx.Done():
			return
		case j := <-b.queue:
			b.handle(j)
		}
	}
}

// handle makes one attempt of j and decides what comes next.
func (b *Broker) handle(j *job) {
	var bound *turns
	if !j.deadLetter {
		bound = j.route.subscriber.turns
	}
	if bound != nil && !bound.take(j) {
		return // parked: queued again when a delivery to the Service ends
	}
	b.met.queueWait.WithLabelValues(j.route.trigger.Name).Observe(time.Since(j.queued).Seconds())
	dest, reply, f := b.attempt(j)
	if bound != nil {
		if next := bound.give(j); next != nil {
			b.queue <- next // never blocks: next holds a slot
		}
	}
	j.attempt++
	if f == nil && reply != nil {
		reply.SetExtension(TTLExtension, nil)
		// On success the reply's deliveries take over j's queue slot.
		if err := b.enqueue(*reply, j.ttl-1, originReply, j); err != nil {
			// As in Knative: a reply that cannot be stored fails the delivery.
			code := http.StatusTooManyRequests
			if errors.Is(err, ErrClosed) {
				code = http.StatusServiceUnavailable
			}
			f = &failure{dest: dest, code: code, body: []byte(err.Error()), retry: true,
				err: fmt.Errorf("broker: store reply %s: %w", reply.Type(), err)}
		} else {
			b.done(j)
			return
		}
	}
	if f == nil {
		b.done(j)
		b.release(j)
		return
	}
	if b.ctx.Err() != nil {
		b.drop(j, "broker shut down")
		return
	}
	target := "subscriber"
	if j.deadLetter {
		target = "dead_letter"
	}
	if f.retry && j.attempt < j.route.policy.attempts {
		d := j.route.policy.backoff(j.attempt)
		b.met.retries.WithLabelValues(j.route.trigger.Name, target).Inc()
		j.log.Warn().Err(f.err).Str("target", target).Int("code", f.code).Int("attempt", j.attempt).
			Float64("backoffSeconds", d.Seconds()).Msg("delivery failed: will retry")
		b.retryAfter(j, d)
		return
	}
	if !j.deadLetter && j.route.deadLetter != nil {
		j.log.Error().Err(f.err).Int("code", f.code).Int("attempts", j.attempt).
			Strs("deadLetterSink", j.route.deadLetter.urls).Msg("delivery failed for good: sending to the dead-letter sink")
		j.deadLetter, j.attempt, j.addr, j.cause = true, 0, -1, f
		j.queued = time.Now()
		b.queue <- j // never blocks: j holds a slot
		return
	}
	j.log.Error().Err(f.err).Str("target", target).Int("code", f.code).Int("attempts", j.attempt).
		Msg("delivery failed for good")
	b.drop(j, "delivery failed")
}

// retryAfter queues j again after d, without holding a worker.
func (b *Broker) retryAfter(j *job, d time.Duration) {
	b.wg.Add(1) // the calling worker holds the count above zero
	go func() {
		defer b.wg.Done()
		if err := b.sleep(b.ctx, d); err != nil {
			b.drop(j, "broker shut down")
			return
		}
		j.queued = time.Now()
		b.queue <- j // never blocks: j holds a slot
	}()
}

// done records j's success.
func (b *Broker) done(j *job) {
	outcome := deliveryDelivered
	if j.deadLetter {
		outcome = deliveryDeadLettered
	}
	b.met.deliveries.WithLabelValues(j.route.trigger.Name, outcome).Inc()
	b.met.eventLatency.WithLabelValues(j.route.trigger.Name, outcome).Observe(time.Since(j.accepted).Seconds())
	j.log.Debug().Str("outcome", outcome).Int("attempts", j.attempt).Msg("delivery done")
}

// drop ends j without delivery.
func (b *Broker) drop(j *job, why string) {
	b.met.deliveries.WithLabelValues(j.route.trigger.Name, deliveryDropped).Inc()
	b.met.eventLatency.WithLabelValues(j.route.trigger.Name, deliveryDropped).Observe(time.Since(j.accepted).Seconds())
	j.log.Error().Str("reason", why).Bool("deadLetter", j.deadLetter).Msg("event dropped")
	b.release(j)
}

// attempt sends j's event once, in binary mode, to one address of its
// subscriber (with "Prefer: reply") or, in the dead-letter phase, of the
// dead-letter sink, with the error extensions. It returns the address and
// the subscriber's reply, if any.
func (b *Broker) attempt(j *job) (string, *event.Event, *failure) {
	to, ev, target := j.route.subscriber, j.event, "subscriber"
	if j.deadLetter {
		to, ev, target = j.route.deadLetter, withErrorExtensions(*j.event, j.cause), "dead_letter"
	}
	j.addr = to.pick(j.addr)
	dest := to.urls[j.addr]
	timeout := j.route.policy.timeout
	if timeout <= 0 {
		timeout = b.timeout
	}
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()

	b.met.inFlight.Inc()
	start := time.Now()
	reply, f := b.post(ctx, dest, ev, !j.deadLetter)
	b.met.inFlight.Dec()
	result := "success"
	if f != nil {
		result = "failure"
	}
	b.met.latency.WithLabelValues(j.route.trigger.Name, target, result).Observe(time.Since(start).Seconds())
	return dest, reply, f
}

// post makes one HTTP request.
func (b *Broker) post(ctx context.Context, dest string, ev *event.Event, wantReply bool) (*event.Event, *failure) {
	fail := func(code int, retry bool, err error) (*event.Event, *failure) {
		// The report is the error's first line: a handler served in
		// process that panicked adds its stack (host.InProcess), for the
		// log, which err goes to; the dead letter's report is shown to
		// the batch's tenant.
		line, _, _ := strings.Cut(err.Error(), "\n")
		return nil, &failure{dest: dest, code: code, body: []byte(line), retry: retry, err: err}
	}
	// The queued event's bytes, which nothing changes: a receiver in this
	// process keeps them rather than copy them (events.WithOwnedData).
	req, err := http.NewRequestWithContext(events.WithOwnedData(ctx, ev.Data()), http.MethodPost, dest, nil)
	if err != nil {
		return fail(http.StatusInternalServerError, false, fmt.Errorf("broker: request: %w", err))
	}
	if err := cehttp.WriteRequest(binding.WithForceBinary(ctx), binding.ToMessage(ev), req); err != nil {
		return fail(http.StatusInternalServerError, false, fmt.Errorf("broker: encode event: %w", err))
	}
	if wantReply {
		req.Header.Set("Prefer", "reply")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return fail(http.StatusInternalServerError, true, fmt.Errorf("broker: dispatch error: %w", err))
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyMax))
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // keep the connection
		return nil, &failure{dest: dest, code: resp.StatusCode, body: body, retry: events.Retryable(resp.StatusCode),
			err: fmt.Errorf("broker: %s answered %d", dest, resp.StatusCode)}
	}
	if !wantReply {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, nil
	}
	body := &countingReader{r: io.LimitReader(resp.Body, b.maxBytes+1)}
	var data io.ReadCloser = io.NopCloser(body)
	if o, ok := resp.Body.(events.OwnedData); ok && int64(o.Len()) <= b.maxBytes {
		// A reply made in this process, of a size within bounds: its
		// bytes become the event's data, not copied (events.ReadData).
		data = resp.Body
	}
	msg := cehttp.NewMessage(resp.Header, data)
	switch msg.ReadEncoding() {
	case binding.EncodingUnknown: // no event: an acknowledgement
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, nil
	case binding.EncodingBatch:
		return fail(http.StatusBadGateway, true, fmt.Errorf("broker: reply is a batch of events"))
	}
	reply, err := events.ToEvent(ctx, msg)
	// Knative's broker answers 502 (retried) for a reply it cannot read.
	if body.n > b.maxBytes {
		return fail(http.StatusBadGateway, true, fmt.Errorf("broker: reply larger than %d bytes", b.maxBytes))
	}
	if err == nil {
		err = reply.Validate()
	}
	if err != nil {
		return fail(http.StatusBadGateway, true, fmt.Errorf("broker: invalid reply: %w", err))
	}
	return reply, nil
}

// withErrorExtensions returns a copy of e carrying Knative's dead-letter
// extensions for f.
func withErrorExtensions(e event.Event, f *failure) *event.Event {
	c := e.Clone()
	c.SetExtension(ExtErrorDest, f.dest)
	c.SetExtension(ExtErrorCode, f.code)
	data := base64.StdEncoding.EncodeToString(f.body)
	if len(data) > errorDataMax {
		data = data[:errorDataMax]
	}
	if data != "" {
		c.SetExtension(ExtErrorData, data)
	}
	return &c
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
