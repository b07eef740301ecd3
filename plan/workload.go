package plan

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Request is one call to the function: when it reaches the revision and how
// much CPU it needs.
type Request struct {
	// Arrival is when the request reaches Knative (the activator or a pod),
	// from the start of the replay.
	Arrival time.Duration
	// CPU is the request's work in CPU time on one core. A pod shares its
	// cores equally among the requests it is running.
	CPU time.Duration
}

// Workload is a set of requests in order of arrival.
type Workload []Request

// check refuses a workload that is empty, or beyond MaxRequests or MaxSpan.
func (w Workload) check() error {
	switch {
	case len(w) == 0:
		return fmt.Errorf("plan: the workload has no requests")
	case len(w) > MaxRequests:
		return fmt.Errorf("plan: the workload has %d requests, more than %d", len(w), MaxRequests)
	case w.Span() > MaxSpan:
		return fmt.Errorf("plan: the workload's last request arrives at %v, later than %v", w.Span(), MaxSpan)
	}
	return nil
}

// CPU returns the total CPU time of w.
func (w Workload) CPU() time.Duration {
	var sum time.Duration
	for _, r := range w {
		sum += r.CPU
	}
	return sum
}

// Span returns the arrival time of the last request (0 for no request).
func (w Workload) Span() time.Duration {
	if len(w) == 0 {
		return 0
	}
	return w[len(w)-1].Arrival
}

// Burst returns n requests of cpu each, all arriving at at.
func Burst(n int, at, cpu time.Duration) Workload {
	w := make(Workload, n)
	for i := range w {
		w[i] = Request{Arrival: at, CPU: cpu}
	}
	return w
}

// Steady returns requests of cpu each at rate per second from from for dur.
// With rng nil they are evenly spaced (the first at from); otherwise their
// gaps are exponential (a Poisson process) drawn from rng.
func Steady(rate float64, from, dur, cpu time.Duration, rng *rand.Rand) Workload {
	if rate <= 0 || dur <= 0 {
		return nil
	}
	var w Workload
	if rng == nil {
		n := int(math.Floor(rate*dur.Seconds() + 1e-9))
		for i := range n {
			w = append(w, Request{Arrival: from + time.Duration(float64(i)/rate*1e9), CPU: cpu})
		}
		return w
	}
	for t := rng.ExpFloat64() / rate; t < dur.Seconds(); t += rng.ExpFloat64() / rate {
		w = append(w, Request{Arrival: from + time.Duration(t*1e9), CPU: cpu})
	}
	return w
}

// Merge returns the requests of every workload in order of arrival (stable:
// simultaneous requests keep the order of the arguments).
func Merge(ws ...Workload) Workload {
	var out Workload
	for _, w := range ws {
		out = append(out, w...)
	}
	slices.SortStableFunc(out, func(a, b Request) int { return cmp.Compare(a.Arrival, b.Arrival) })
	return out
}

// TraceError is a fault in a trace file: the line and the field.
type TraceError struct {
	Name  string // the trace's name (file)
	Line  int    // 1-based line number
	Field string // "arrival_s", "cpu_s" or "" for the line as a whole
	Err   error
}

// Error says where the trace is wrong: "plan: NAME line N: FIELD: ...".
func (e *TraceError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("plan: %s line %d: %v", e.Name, e.Line, e.Err)
	}
	return fmt.Sprintf("plan: %s line %d: %s: %v", e.Name, e.Line, e.Field, e.Err)
}

// Unwrap returns the fault itself.
func (e *TraceError) Unwrap() error { return e.Err }

// ReadTrace reads a trace: CSV lines "arrival_s,cpu_s", the arrival in
// seconds from the start of the replay (>= 0) and the CPU time in seconds on
// one core (> 0). A first line "arrival_s,cpu_s" is a header; lines starting
// with "#" are comments. Lines need not be in order of arrival. name names
// the trace in errors, which are *TraceError naming the line and field.
func ReadTrace(r io.Reader, name string) (Workload, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	var w Workload
	for first := true; ; first = false {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, &TraceError{Name: name, Line: pe.Line, Err: pe.Err}
			}
			return nil, fmt.Errorf("plan: %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if first && len(rec) == 2 && strings.TrimSpace(rec[0]) == "arrival_s" && strings.TrimSpace(rec[1]) == "cpu_s" {
			continue
		}
		if len(rec) != 2 {
			return nil, &TraceError{Name: name, Line: line, Err: fmt.Errorf("%d fields, want 2 (arrival_s,cpu_s)", len(rec))}
		}
		at, err := traceSeconds(rec[0], true)
		if err != nil {
			return nil, &TraceError{Name: name, Line: line, Field: "arrival_s", Err: err}
		}
		cpu, err := traceSeconds(rec[1], false)
		if err != nil {
			return nil, &TraceError{Name: name, Line: line, Field: "cpu_s", Err: err}
		}
		if len(w) == MaxRequests {
			return nil, &TraceError{Name: name, Line: line, Err: fmt.Errorf("more than %d requests", MaxRequests)}
		}
		w = append(w, Request{Arrival: at, CPU: cpu})
	}
	if len(w) == 0 {
		return nil, fmt.Errorf("plan: %s: no requests", name)
	}
	return Merge(w), nil
}

// Bounds of a workload: a replay holds every request in memory and runs an
// event per request and per second of simulated time, so beyond these it
// would exhaust the memory or never end.
const (
	// MaxRequests is the most requests a workload may hold.
	MaxRequests = 1_000_000
	// MaxSpan is the latest arrival a workload may have (a week), far below
	// Duration's range.
	MaxSpan = 7 * 24 * time.Hour
)

// traceSeconds parses a number of seconds: >= 0 if zeroOK, else > 0.
func traceSeconds(s string, zeroOK bool) (time.Duration, error) {
	s = strings.TrimSpace(s)
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
		return 0, fmt.Errorf("%q is not a number of seconds", s)
	case v < 0 || (v == 0 && !zeroOK):
		if zeroOK {
			return 0, fmt.Errorf("%s must be >= 0", s)
		}
		return 0, fmt.Errorf("%s must be > 0", s)
	case v > MaxSpan.Seconds():
		return 0, fmt.Errorf("%s is more than a week", s)
	}
	d := time.Duration(math.Round(v * 1e9))
	if d == 0 && !zeroOK {
		return 0, fmt.Errorf("%s is below a nanosecond", s)
	}
	return d, nil
}
