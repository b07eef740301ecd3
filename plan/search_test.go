package plan

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSearchCutsBurstCost: on the burst, a small grid finds settings
// that meet p99 <= 10 s at several times fewer pod-seconds, and pastes only
// the annotations that change something.
func TestSearchCutsBurstCost(t *testing.T) {
	grid := []Axis{
		{"window", []string{"6s", "60s"}},
		{"panic-threshold-percentage", []string{"200", "1000"}},
		{"max-scale", []string{"0", "8", "16"}},
		{KeyContainerConcurrency, []string{"4"}},
	}
	goal, err := ParseGoal("p99=10s")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Search(context.Background(), burst60, pricer(), grid, goal, Options{Seed: 1, Runs: 4}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if res.Tried != 12 || res.Invalid != 0 || len(res.Best) != 3 || res.Meeting < 3 {
		t.Fatalf("tried %d invalid %d meeting %d best %d", res.Tried, res.Invalid, res.Meeting, len(res.Best))
	}
	best := res.Best[0]
	if r := res.Ratio(best); r < 3 {
		t.Errorf("best cuts pod-seconds %.1fx (%.0f -> %.0f), want several-fold", r, res.Baseline.Summary.PodSeconds.Mean, best.Summary.PodSeconds.Mean)
	}
	if w := goal.worst(&best.Summary); w > 10 {
		t.Errorf("best's worst p99 %.2f s > 10 s", w)
	}
	for i := 1; i < len(res.Best); i++ {
		if res.Best[i].Summary.PodSeconds.Mean < res.Best[i-1].Summary.PodSeconds.Mean {
			t.Errorf("best not in order of pod-seconds")
		}
	}
	// Unchanged settings (the default panic threshold, the base's
	// containerConcurrency) are not pasted as changes.
	for _, c := range best.Changes {
		if c == "panic-threshold-percentage=200" || c == "container-concurrency=4" {
			t.Errorf("change %s restates the base", c)
		}
	}
	if _, ok := best.Annotations[Annotation("panic-threshold-percentage")]; ok && !strings.Contains(strings.Join(best.Changes, " "), "panic-threshold") {
		t.Errorf("annotations %v carry an unchanged setting", best.Annotations)
	}
	if best.Annotations[Annotation("target")] != "2" {
		t.Errorf("annotations %v lost the base's target", best.Annotations)
	}
	var b strings.Builder
	if err := res.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"goal: p99=10s", "baseline", "#1", "autoscaling.knative.dev/max-scale:", "containerConcurrency: 4"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
}

// TestSearchRefusesBadGrids: unknown keys, values Knative refuses and bad
// goals are errors naming them.
func TestSearchRefusesBadGrids(t *testing.T) {
	goal := Goal{Metric: "p99", Max: 10}
	tests := []struct {
		grid []Axis
		want string
	}{
		{[]Axis{{"targt", []string{"1"}}}, `grid "targt": not container-concurrency or an autoscaling annotation`},
		{[]Axis{{"window", []string{"1s"}}}, "grid window=1s: plan: invalid settings: expected 6s <= 1s <= 1h0m0s"},
		{[]Axis{{KeyContainerConcurrency, []string{"x"}}}, `grid container-concurrency: "x" is not an integer`},
		{[]Axis{{"target", nil}}, `grid "target": no values`},
		{[]Axis{{"target", []string{"1"}}, {"autoscaling.knative.dev/target", []string{"2"}}}, "given twice"},
	}
	for _, tt := range tests {
		_, err := Search(context.Background(), burst60, pricer(), tt.grid, goal, Options{Runs: 1}, 1)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want %q", tt.grid, err, tt.want)
		}
	}
	for _, g := range []string{"p98=1s", "p99", "p99=-1s", "p99=x"} {
		if _, err := ParseGoal(g); err == nil {
			t.Errorf("goal %q accepted", g)
		}
	}
	if a, err := ParseAxis("max-scale=0, 8,16"); err != nil || a.Key != "max-scale" || strings.Join(a.Values, "|") != "0|8|16" {
		t.Errorf("axis %+v %v", a, err)
	}
	for _, s := range []string{"max-scale", "=1", "max-scale=1,,2"} {
		if _, err := ParseAxis(s); err == nil {
			t.Errorf("axis %q accepted", s)
		}
	}
	// A grid of more than MaxSettings settings is refused before anything
	// is replayed: 10 values on each of 7 axes made 10,000,000 settings
	// (gigabytes of combinations, then days of replays).
	ten := func(f func(i int) string) []string {
		var vs []string
		for i := range 10 {
			vs = append(vs, f(i))
		}
		return vs
	}
	huge := []Axis{
		{"target", ten(func(i int) string { return strconv.Itoa(i + 1) })},
		{"target-utilization-percentage", ten(func(i int) string { return strconv.Itoa(10 * (i + 1)) })},
		{KeyContainerConcurrency, ten(func(i int) string { return strconv.Itoa(i + 1) })},
		{"window", ten(func(i int) string { return strconv.Itoa(6+i) + "s" })},
		{"panic-threshold-percentage", ten(func(i int) string { return strconv.Itoa(150 + 50*i) })},
		{"scale-down-delay", ten(func(i int) string { return strconv.Itoa(i) + "s" })},
		{"max-scale", ten(func(i int) string { return strconv.Itoa(i + 1) })},
	}
	want := "plan: grid: more than 100000 settings (the product of its axes' values): fewer values"
	if _, err := Search(context.Background(), burst60, pricer(), huge, goal, Options{Runs: 1}, 1); err == nil || err.Error() != want {
		t.Errorf("grid of 10^7 settings: %v, want %q", err, want)
	}
	// Combinations Knative refuses (min-scale above max-scale) are counted, not fatal.
	res, err := Search(context.Background(), Burst(4, 0, time.Second), Settings{},
		[]Axis{{"min-scale", []string{"0", "3"}}, {"max-scale", []string{"2", "5"}}}, goal, Options{Runs: 1}, 5)
	if err != nil || res.Invalid != 1 || res.Tried != 3 {
		t.Errorf("tried %d invalid %d: %v", res.Tried, res.Invalid, err)
	}
}
