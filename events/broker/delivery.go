package broker

import (
	"cmp"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Backoff policies of a Delivery.
const (
	// BackoffExponential waits backoffDelay * 2^(n-1) before retry n.
	BackoffExponential = "exponential"
	// BackoffLinear waits backoffDelay * n before retry n.
	BackoffLinear = "linear"
)

// maxRetry bounds a Delivery's retry: more is a typo, not a policy.
const maxRetry = 1000

// policy is a Delivery ready for use.
type policy struct {
	// attempts is retry + 1.
	attempts int
	linear   bool
	// delay is the backoffDelay; 0 retries at once.
	delay time.Duration
	// timeout bounds each attempt; 0 means the broker's default.
	timeout time.Duration
}

// defaultPolicy is the delivery of a Trigger when neither it nor its Broker
// sets one: that of Knative's default MT broker (10 retries, exponential,
// 0.2 s).
func defaultPolicy() policy {
	return policy{attempts: 11, delay: 200 * time.Millisecond}
}

// check reports an invalid field of d; a nil d is valid.
func (d *Delivery) check() error {
	_, err := d.policy()
	return err
}

// policy compiles d. As in Knative, a delay without a policy is
// exponential; a policy without a delay retries at once.
func (d *Delivery) policy() (policy, error) {
	if d == nil {
		return defaultPolicy(), nil
	}
	p := policy{attempts: 1}
	if d.Retry != nil {
		if *d.Retry < 0 {
			return policy{}, fmt.Errorf("retry %d is negative", *d.Retry)
		}
		if *d.Retry > maxRetry {
			return policy{}, fmt.Errorf("retry %d is over %d", *d.Retry, maxRetry)
		}
		p.attempts = int(*d.Retry) + 1
	}
	switch d.BackoffPolicy {
	case "", BackoffExponential:
	case BackoffLinear:
		p.linear = true
	default:
		return policy{}, fmt.Errorf("backoffPolicy %q: want %q or %q", d.BackoffPolicy, BackoffLinear, BackoffExponential)
	}
	var err error
	if d.BackoffDelay != "" {
		if p.delay, err = parseISODuration(d.BackoffDelay); err != nil {
			return policy{}, fmt.Errorf("backoffDelay: %w", err)
		}
	}
	if d.Timeout != "" {
		if p.timeout, err = parseISODuration(d.Timeout); err != nil {
			return policy{}, fmt.Errorf("timeout: %w", err)
		}
		if p.timeout == 0 {
			return policy{}, fmt.Errorf("timeout %q is zero", d.Timeout)
		}
	}
	if d.DeadLetterSink != nil && d.DeadLetterSink.Ref == nil && d.DeadLetterSink.URI == "" {
		return policy{}, fmt.Errorf("deadLetterSink: no ref and no uri")
	}
	return p, nil
}

// Schedule is a Delivery's retry schedule, as the broker applies it and as
// Knative's dispatcher does (neither caps an exponential backoff): the
// attempts, the wait before each retry and the bound on each attempt.
type Schedule struct {
	// Attempts is retry + 1.
	Attempts int
	// Backoffs holds the wait before each retry, in order (Attempts-1 of
	// them).
	Backoffs []time.Duration
	// Timeout bounds each attempt; 0 when the Delivery sets none (the
	// broker's Config.Timeout applies, on Knative the platform's).
	Timeout time.Duration
}

// Outage returns the sum of the backoffs: the time from the first attempt
// to the last when every attempt fails at once (connection refused, 503).
// It is the longest absence of the subscriber that a delivery survives
// without being dead-lettered.
func (s Schedule) Outage() time.Duration {
	var sum time.Duration
	for _, d := range s.Backoffs {
		sum = satAdd(sum, d)
	}
	return sum
}

// Longest returns the longest time a delivery can spend before it is given
// up: Outage plus every attempt running to its timeout (def when the
// Schedule sets none).
func (s Schedule) Longest(def time.Duration) time.Duration {
	t := cmp.Or(s.Timeout, def)
	sum := s.Outage()
	for range s.Attempts {
		sum = satAdd(sum, t)
	}
	return sum
}

// Schedule returns d's retry schedule. A nil d is Knative's default
// delivery (10 retries, exponential, 0.2 s).
func (d *Delivery) Schedule() (Schedule, error) {
	p, err := d.policy()
	if err != nil {
		return Schedule{}, fmt.Errorf("broker: delivery: %w", err)
	}
	s := Schedule{Attempts: p.attempts, Timeout: p.timeout, Backoffs: make([]time.Duration, 0, p.attempts-1)}
	for n := 1; n < p.attempts; n++ {
		s.Backoffs = append(s.Backoffs, p.backoff(n))
	}
	return s, nil
}

// satAdd returns a+b, or the largest Duration when that overflows.
func satAdd(a, b time.Duration) time.Duration {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// backoff returns the wait before retry n (n >= 1): delay * 2^(n-1) when
// exponential (Knative's delay * 2^attempt with attempt counted from 0),
// delay * n when linear.
func (p policy) backoff(n int) time.Duration {
	if n < 1 || p.delay <= 0 {
		return 0
	}
	if p.linear {
		if p.delay > math.MaxInt64/time.Duration(n) {
			return math.MaxInt64
		}
		return p.delay * time.Duration(n)
	}
	d := p.delay
	for i := 1; i < n; i++ {
		if d > math.MaxInt64/2 {
			return math.MaxInt64
		}
		d *= 2
	}
	return d
}

// parseISODuration parses an ISO-8601 duration of weeks, days, hours,
// minutes and seconds, e.g. PT0.2S, PT1M30S, P1DT2H; any component may have
// a decimal fraction. Years and months have no fixed length and are
// refused.
func parseISODuration(s string) (time.Duration, error) {
	bad := func(why string) (time.Duration, error) {
		return 0, fmt.Errorf("duration %q: %s (want ISO-8601 such as PT0.2S)", s, why)
	}
	rest, ok := strings.CutPrefix(strings.ToUpper(s), "P")
	if !ok {
		return bad("no leading P")
	}
	if rest == "" || rest == "T" {
		return bad("no components")
	}
	var total float64
	inTime := false
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return bad("second T")
			}
			inTime = true
			rest = rest[1:]
			if rest == "" {
				return bad("nothing after T")
			}
			continue
		}
		i := strings.IndexAny(rest, "WDHMSY")
		if i <= 0 {
			return bad("malformed component")
		}
		v, err := strconv.ParseFloat(strings.Replace(rest[:i], ",", ".", 1), 64)
		if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			return bad("bad number " + strconv.Quote(rest[:i]))
		}
		var unit time.Duration
		switch u := rest[i]; {
		case u == 'W' && !inTime:
			unit = 7 * 24 * time.Hour
		case u == 'D' && !inTime:
			unit = 24 * time.Hour
		case u == 'H' && inTime:
			unit = time.Hour
		case u == 'M' && inTime:
			unit = time.Minute
		case u == 'S' && inTime:
			unit = time.Second
		case u == 'Y' || u == 'M':
			return bad("years and months are not supported")
		default:
			return bad("unit " + string(u) + " out of place")
		}
		total += v * float64(unit)
		rest = rest[i+1:]
	}
	if total > math.MaxInt64 {
		return bad("too long")
	}
	return time.Duration(math.Round(total)), nil
}
