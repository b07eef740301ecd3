package broker

import (
	"errors"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseISODuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "PT0.2S", want: 200 * time.Millisecond},
		{in: "PT0,5S", want: 500 * time.Millisecond},
		{in: "PT1S", want: time.Second},
		{in: "PT1M30S", want: 90 * time.Second},
		{in: "PT2H", want: 2 * time.Hour},
		{in: "P1D", want: 24 * time.Hour},
		{in: "P1DT1H", want: 25 * time.Hour},
		{in: "P1W", want: 7 * 24 * time.Hour},
		{in: "pt0.001s", want: time.Millisecond},
		{in: "PT0S", want: 0},
		{in: "", wantErr: true},
		{in: "P", wantErr: true},
		{in: "PT", wantErr: true},
		{in: "0.2S", wantErr: true},
		{in: "PT-1S", wantErr: true},
		{in: "P1M", wantErr: true}, // months
		{in: "P1Y", wantErr: true},
		{in: "PT1D", wantErr: true},
		{in: "P1H", wantErr: true},
		{in: "PTS", wantErr: true},
		{in: "PT1X", wantErr: true},
		{in: "PT1ST", wantErr: true},
		{in: "200ms", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseISODuration(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseISODuration(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("parseISODuration(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		p    policy
		want []time.Duration // retries 1, 2, 3, 4
	}{
		{"exponential", policy{delay: 200 * ms}, []time.Duration{200 * ms, 400 * ms, 800 * ms, 1600 * ms}},
		{"linear", policy{delay: 200 * ms, linear: true}, []time.Duration{200 * ms, 400 * ms, 600 * ms, 800 * ms}},
		{"no delay", policy{}, []time.Duration{0, 0, 0, 0}},
	}
	for _, tt := range tests {
		for i, want := range tt.want {
			if got := tt.p.backoff(i + 1); got != want {
				t.Errorf("%s: backoff(%d) = %v, want %v", tt.name, i+1, got, want)
			}
		}
	}
	if got := (policy{delay: time.Hour}).backoff(200); got <= 0 {
		t.Errorf("backoff(200) overflowed: %v", got)
	}
}

func TestDeliveryPolicy(t *testing.T) {
	three := int32(3)
	minus := int32(-1)
	tests := []struct {
		name    string
		d       *Delivery
		want    policy
		wantErr string
	}{
		{"nil is Knative's default", nil, policy{attempts: 11, delay: 200 * time.Millisecond}, ""},
		{"empty: one attempt", &Delivery{}, policy{attempts: 1}, ""},
		{"full", &Delivery{Retry: &three, BackoffPolicy: "linear", BackoffDelay: "PT1S", Timeout: "PT5S"},
			policy{attempts: 4, linear: true, delay: time.Second, timeout: 5 * time.Second}, ""},
		{"bad policy", &Delivery{BackoffPolicy: "fibonacci"}, policy{}, "backoffPolicy"},
		{"bad delay", &Delivery{BackoffDelay: "1s"}, policy{}, "backoffDelay"},
		{"zero timeout", &Delivery{Timeout: "PT0S"}, policy{}, "timeout"},
		{"negative retry", &Delivery{Retry: &minus}, policy{}, "retry"},
		{"empty sink", &Delivery{DeadLetterSink: &Destination{}}, policy{}, "deadLetterSink"},
	}
	for _, tt := range tests {
		got, err := tt.d.policy()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want one about %s", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: policy() = %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
}

func TestResolve(t *testing.T) {
	subs := map[string]string{
		"agg":  "http://127.0.0.1:9002",
		"pfx":  "http://127.0.0.1:9000/aggregator/",
		"two":  "http://127.0.0.1:9002, http://127.0.0.1:9102/x",
		"hole": "http://127.0.0.1:9002,,http://127.0.0.1:9102",
		"bad":  "127.0.0.1:80",
	}
	svc := func(name string) *Ref { return &Ref{APIVersion: "serving.knative.dev/v1", Kind: "Service", Name: name} }
	tests := []struct {
		d       Destination
		want    []string
		wantErr bool
	}{
		{d: Destination{Ref: svc("agg")}, want: []string{"http://127.0.0.1:9002"}},
		{d: Destination{Ref: svc("agg"), URI: "/dead-letter"}, want: []string{"http://127.0.0.1:9002/dead-letter"}},
		{d: Destination{Ref: svc("agg"), URI: "dead-letter?x=1"}, want: []string{"http://127.0.0.1:9002/dead-letter?x=1"}},
		{d: Destination{Ref: svc("pfx"), URI: "/dead-letter"}, want: []string{"http://127.0.0.1:9000/aggregator/dead-letter"}},
		{d: Destination{Ref: svc("two")}, want: []string{"http://127.0.0.1:9002", "http://127.0.0.1:9102/x"}},
		{d: Destination{Ref: svc("two"), URI: "/dead-letter"}, want: []string{"http://127.0.0.1:9002/dead-letter", "http://127.0.0.1:9102/x/dead-letter"}},
		{d: Destination{URI: "http://example.test/sink"}, want: []string{"http://example.test/sink"}},
		{d: Destination{Ref: svc("missing")}, wantErr: true},
		{d: Destination{Ref: &Ref{Kind: "Broker", Name: "agg"}}, wantErr: true},
		{d: Destination{Ref: svc("agg"), URI: "http://other.test/x"}, wantErr: true},
		{d: Destination{URI: "/relative"}, wantErr: true},
		{d: Destination{Ref: svc("hole")}, wantErr: true}, // an empty address
		{d: Destination{Ref: svc("bad")}, wantErr: true},  // no scheme
	}
	for _, tt := range tests {
		got, err := resolve(tt.d, subs)
		if tt.wantErr {
			if !errors.Is(err, ErrUnresolved) {
				t.Errorf("resolve(%+v) error = %v, want ErrUnresolved", tt.d, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("resolve(%+v) = %q, %v; want %q", tt.d, got, err, tt.want)
		}
	}
}

// A first attempt takes the Service's next address in turn; a retry the
// address after the one that failed.
func TestTargetPick(t *testing.T) {
	three := &target{urls: []string{"a", "b", "c"}, next: new(atomic.Uint64)}
	var got []int
	for range 4 {
		got = append(got, three.pick(-1))
	}
	if !slices.Equal(got, []int{0, 1, 2, 0}) {
		t.Errorf("first attempts pick %v, want round robin 0 1 2 0", got)
	}
	for prev, want := range []int{1, 2, 0} {
		if i := three.pick(prev); i != want {
			t.Errorf("retry after address %d picks %d, want %d", prev, i, want)
		}
	}
	if i := three.pick(-1); i != 1 {
		t.Errorf("retries moved the round robin: next first attempt picks %d, want 1", i)
	}
	one := &target{urls: []string{"a"}, next: new(atomic.Uint64)}
	if one.pick(-1) != 0 || one.pick(0) != 0 {
		t.Error("a single address is always picked")
	}
}

func TestSchedule(t *testing.T) {
	seven, zero := int32(7), int32(0)
	s := time.Second
	tests := []struct {
		name    string
		d       *Delivery
		want    Schedule
		outage  time.Duration
		longest time.Duration // with a default timeout of 1 minute
	}{
		{"Knative's default", nil,
			Schedule{Attempts: 11, Backoffs: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond,
				1600 * time.Millisecond, 3200 * time.Millisecond, 6400 * time.Millisecond, 12800 * time.Millisecond,
				25600 * time.Millisecond, 51200 * time.Millisecond, 102400 * time.Millisecond}},
			204600 * time.Millisecond, 204600*time.Millisecond + 11*time.Minute},
		{"exponential 0.5 s, retry 7", &Delivery{Retry: &seven, BackoffPolicy: "exponential", BackoffDelay: "PT0.5S", Timeout: "PT40S"},
			Schedule{Attempts: 8, Timeout: 40 * s, Backoffs: []time.Duration{s / 2, s, 2 * s, 4 * s, 8 * s, 16 * s, 32 * s}},
			63500 * time.Millisecond, 63500*time.Millisecond + 8*40*s},
		{"linear 2 s, retry 7", &Delivery{Retry: &seven, BackoffPolicy: "linear", BackoffDelay: "PT2S"},
			Schedule{Attempts: 8, Backoffs: []time.Duration{2 * s, 4 * s, 6 * s, 8 * s, 10 * s, 12 * s, 14 * s}},
			56 * s, 56*s + 8*time.Minute},
		{"no retry", &Delivery{Retry: &zero, Timeout: "PT5S"}, Schedule{Attempts: 1, Timeout: 5 * s, Backoffs: []time.Duration{}}, 0, 5 * s},
	}
	for _, tt := range tests {
		got, err := tt.d.Schedule()
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got.Attempts != tt.want.Attempts || got.Timeout != tt.want.Timeout || !slices.Equal(got.Backoffs, tt.want.Backoffs) {
			t.Errorf("%s: Schedule() = %+v, want %+v", tt.name, got, tt.want)
		}
		if o := got.Outage(); o != tt.outage {
			t.Errorf("%s: Outage() = %v, want %v", tt.name, o, tt.outage)
		}
		if l := got.Longest(time.Minute); l != tt.longest {
			t.Errorf("%s: Longest(1m) = %v, want %v", tt.name, l, tt.longest)
		}
	}
	big := int32(maxRetry + 1)
	if _, err := (&Delivery{Retry: &big}).Schedule(); err == nil || !strings.Contains(err.Error(), "retry") {
		t.Errorf("retry %d: error %v, want one about retry", big, err)
	}
	huge := Schedule{Attempts: 3, Backoffs: []time.Duration{math.MaxInt64 / 2, math.MaxInt64 / 2, math.MaxInt64 / 2}}
	if huge.Outage() != math.MaxInt64 || huge.Longest(time.Hour) != math.MaxInt64 {
		t.Error("Outage and Longest overflow instead of saturating")
	}
}

func TestSplitDocuments(t *testing.T) {
	in := "a: 1\n---\nb: 2\n--- # comment\nc: 3\r\n---\r\n---\n"
	got := splitDocuments([]byte(in))
	want := []string{"a: 1\n", "b: 2\n", "c: 3\r\n", ""}
	if len(got) != len(want) {
		t.Fatalf("splitDocuments: %d documents %q, want %d", len(got), got, len(want))
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("document %d = %q, want %q", i, got[i], want[i])
		}
	}
	if got := splitDocuments([]byte("x: 1")); len(got) != 1 || string(got[0]) != "x: 1" {
		t.Errorf("single document: %q", got)
	}
}
