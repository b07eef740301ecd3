package plan

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestReadTrace(t *testing.T) {
	in := "arrival_s,cpu_s\n# a comment\n2.5, 0.25\n0,0.5\n1e-3,1.5\n"
	w, err := ReadTrace(strings.NewReader(in), "t.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := Workload{
		{0, 500 * time.Millisecond},
		{time.Millisecond, 1500 * time.Millisecond},
		{2500 * time.Millisecond, 250 * time.Millisecond},
	}
	if len(w) != len(want) {
		t.Fatalf("got %v, want %v", w, want)
	}
	for i := range w {
		if w[i] != want[i] {
			t.Errorf("request %d: %v, want %v", i, w[i], want[i])
		}
	}
	if w.CPU() != 2250*time.Millisecond || w.Span() != 2500*time.Millisecond {
		t.Errorf("CPU %v span %v", w.CPU(), w.Span())
	}
}

// TestReadTraceErrors: every fault names the line and, for a value, the field.
func TestReadTraceErrors(t *testing.T) {
	tests := []struct {
		in, want string
		line     int
		field    string
	}{
		{"0,0.5\nx,1\n", `line 2: arrival_s: "x" is not a number`, 2, "arrival_s"},
		{"arrival_s,cpu_s\n0,0.5\n1,-2\n", "line 3: cpu_s: -2 must be > 0", 3, "cpu_s"},
		{"0,0\n", "line 1: cpu_s: 0 must be > 0", 1, "cpu_s"},
		{"-1,1\n", "line 1: arrival_s: -1 must be >= 0", 1, "arrival_s"},
		{"1,NaN\n", `line 1: cpu_s: "NaN" is not a number`, 1, "cpu_s"},
		{"0,1\n1,2,3\n", "line 2: 3 fields, want 2", 2, ""},
		{"0,1\n5\n", "line 2: 1 fields, want 2", 2, ""},
		{"1e9,1\n", "line 1: arrival_s: 1e9 is more than a week", 1, "arrival_s"},
		{"0,\"1\n", "line 1:", 1, ""},
	}
	for _, tt := range tests {
		_, err := ReadTrace(strings.NewReader(tt.in), "t.csv")
		var te *TraceError
		if !errors.As(err, &te) {
			t.Errorf("%q: error %v, want a *TraceError", tt.in, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "plan: t.csv ") || te.Line != tt.line || te.Field != tt.field {
			t.Errorf("%q: %v (line %d field %q), want %q", tt.in, err, te.Line, te.Field, tt.want)
		}
	}
	if _, err := ReadTrace(strings.NewReader("arrival_s,cpu_s\n"), "e.csv"); err == nil || !strings.Contains(err.Error(), "no requests") {
		t.Errorf("empty trace: %v", err)
	}
}

func TestSyntheticWorkloads(t *testing.T) {
	b := Burst(3, time.Second, 500*time.Millisecond)
	if len(b) != 3 || b[2].Arrival != time.Second || b.CPU() != 1500*time.Millisecond {
		t.Errorf("burst %v", b)
	}
	s := Steady(10, 2*time.Second, 60*time.Second, time.Second/2, nil)
	if len(s) != 600 || s[0].Arrival != 2*time.Second || s[1].Arrival-s[0].Arrival != 100*time.Millisecond {
		t.Errorf("steady: %d requests, first %v", len(s), s[:2])
	}
	p := Steady(10, 0, 1000*time.Second, time.Second, rand.New(rand.NewPCG(1, 2)))
	if n := float64(len(p)); math.Abs(n-10000) > 4*100 { // Poisson: sd = sqrt(10000)
		t.Errorf("poisson: %v requests in 1000 s at 10/s", n)
	}
	m := Merge(Burst(2, 5*time.Second, time.Second), s[:3], Burst(1, 0, time.Second))
	for i := 1; i < len(m); i++ {
		if m[i].Arrival < m[i-1].Arrival {
			t.Fatalf("merge out of order at %d: %v", i, m)
		}
	}
	if len(m) != 6 || m[0].Arrival != 0 || m[5].Arrival != 5*time.Second {
		t.Errorf("merge %v", m)
	}
}

// TestWorkloadBounds: a workload beyond MaxRequests or MaxSpan is refused
// before it is replayed (a replay holds every request and runs an event per
// simulated second: beyond them it ran the machine out of memory, or for
// hours), and so is a trace with too many lines.
func TestWorkloadBounds(t *testing.T) {
	tests := []struct {
		w    Workload
		want string
	}{
		{nil, "the workload has no requests"},
		{Burst(MaxRequests+1, 0, time.Millisecond), "the workload has 1000001 requests, more than 1000000"},
		{Burst(1, MaxSpan+time.Second, time.Millisecond), "the workload's last request arrives at 168h0m1s, later than 168h0m0s"},
	}
	for _, tt := range tests {
		_, err := Replay(context.Background(), tt.w, Settings{}, Options{Runs: 1})
		if err == nil || err.Error() != "plan: "+tt.want {
			t.Errorf("Replay of %d requests: %v, want %q", len(tt.w), err, tt.want)
		}
		_, err = Search(context.Background(), tt.w, Settings{}, []Axis{{"target", []string{"1"}}}, Goal{"p99", 10}, Options{Runs: 1}, 1)
		if err == nil || err.Error() != "plan: "+tt.want {
			t.Errorf("Search of %d requests: %v, want %q", len(tt.w), err, tt.want)
		}
	}
	trace := strings.Repeat("0,0.001\n", MaxRequests+1)
	_, err := ReadTrace(strings.NewReader(trace), "big.csv")
	var te *TraceError
	if !errors.As(err, &te) || te.Line != MaxRequests+1 || !strings.Contains(err.Error(), "more than 1000000 requests") {
		t.Errorf("trace of %d lines: %v", MaxRequests+1, err)
	}
	if _, err := ReadTrace(strings.NewReader(strings.Repeat("0,0.001\n", MaxRequests)), "full.csv"); err != nil {
		t.Errorf("trace of %d lines: %v", MaxRequests, err)
	}
}
