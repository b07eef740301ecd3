package broker

import (
	"errors"
	"strings"
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
	subs := map[string]string{"agg": "http://127.0.0.1:9002", "pfx": "http://127.0.0.1:9000/aggregator/"}
	svc := func(name string) *Ref { return &Ref{APIVersion: "serving.knative.dev/v1", Kind: "Service", Name: name} }
	tests := []struct {
		d       Destination
		want    string
		wantErr bool
	}{
		{d: Destination{Ref: svc("agg")}, want: "http://127.0.0.1:9002"},
		{d: Destination{Ref: svc("agg"), URI: "/dead-letter"}, want: "http://127.0.0.1:9002/dead-letter"},
		{d: Destination{Ref: svc("agg"), URI: "dead-letter?x=1"}, want: "http://127.0.0.1:9002/dead-letter?x=1"},
		{d: Destination{Ref: svc("pfx"), URI: "/dead-letter"}, want: "http://127.0.0.1:9000/aggregator/dead-letter"},
		{d: Destination{URI: "http://example.test/sink"}, want: "http://example.test/sink"},
		{d: Destination{Ref: svc("missing")}, wantErr: true},
		{d: Destination{Ref: &Ref{Kind: "Broker", Name: "agg"}}, wantErr: true},
		{d: Destination{Ref: svc("agg"), URI: "http://other.test/x"}, wantErr: true},
		{d: Destination{URI: "/relative"}, wantErr: true},
	}
	for _, tt := range tests {
		got, err := resolve(tt.d, subs)
		if tt.wantErr {
			if !errors.Is(err, ErrUnresolved) {
				t.Errorf("resolve(%+v) error = %v, want ErrUnresolved", tt.d, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("resolve(%+v) = %q, %v; want %q", tt.d, got, err, tt.want)
		}
	}
	if _, err := resolve(Destination{Ref: svc("bad")}, map[string]string{"bad": "127.0.0.1:80"}); !errors.Is(err, ErrUnresolved) {
		t.Errorf("resolve with a URL without scheme: error = %v, want ErrUnresolved", err)
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
