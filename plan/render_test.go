package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

func TestReportOutputs(t *testing.T) {
	r := replay(t, burst60, pricer(), 4)

	var text bytes.Buffer
	if err := r.WriteText(&text, true, 20); err != nil {
		t.Fatal(err)
	}
	out := text.String()
	for _, want := range []string{
		"workload: 60 requests, 30 CPU-seconds",
		"concurrency target 1.40/pod (soft), containerConcurrency 4",
		fmt.Sprintf("pod-seconds %s", strings.Repeat(" ", 30-len("pod-seconds")-1)),
		fmt.Sprintf("%9s", num(r.Summary.PodSeconds.Mean, 0)),
		"panic mode (s)",
		"timeline (mean over the runs):",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if rows := strings.Count(out[strings.Index(out, "timeline"):], "\n") - 2; rows < 15 || rows > 21 {
		t.Errorf("%d timeline rows, want about 20", rows)
	}

	var js bytes.Buffer
	if err := json.NewEncoder(&js).Encode(r); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Summary.PodSeconds != r.Summary.PodSeconds || len(back.Timeline) != len(r.Timeline) || back.Settings.Target != r.Settings.Target {
		t.Error("JSON does not round-trip")
	}

	var svg bytes.Buffer
	if err := r.WriteSVG(&svg); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(&svg)
	lines := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "polyline" {
			lines++
		}
	}
	if lines != 5 {
		t.Errorf("%d polylines, want 5 series", lines)
	}
}

func TestServiceSnippet(t *testing.T) {
	got := ServiceSnippet(map[string]string{Annotation("target"): "4", "other/x": "y", Annotation("max-scale"): "10"}, 4)
	want := "spec:\n  template:\n    metadata:\n      annotations:\n" +
		"        autoscaling.knative.dev/max-scale: \"10\"\n        autoscaling.knative.dev/target: \"4\"\n" +
		"    spec:\n      containerConcurrency: 4\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestSearchTextAllRefused: a search whose every setting Knative refused
// says so (it said to loosen the goal, which no setting was tried against).
func TestSearchTextAllRefused(t *testing.T) {
	res, err := Search(context.Background(), Burst(4, 0, time.Second), Settings{},
		[]Axis{{"min-scale", []string{"5"}}, {"max-scale", []string{"2", "3"}}}, Goal{"p99", 10}, Options{Runs: 1}, 5)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := res.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := "0 settings tried, 2 refused by Knative, 0 meet the goal"
	refused := "Knative refused every setting of the grid (e.g. min-scale above max-scale): change the grid (--grid)"
	if !strings.Contains(b.String(), want) || !strings.Contains(b.String(), refused) || strings.Contains(b.String(), "loosen") {
		t.Errorf("text:\n%s\nwant %q and %q", b.String(), want, refused)
	}
}

// TestReportTextCountsInWords: a workload of one request replayed once
// reads "1 request" and "1 run", not "1 requests" and "1 runs".
func TestReportTextCountsInWords(t *testing.T) {
	r := replay(t, Burst(1, 0, 500*time.Millisecond), pricer(), 1)
	var text bytes.Buffer
	if err := r.WriteText(&text, false, 0); err != nil {
		t.Fatal(err)
	}
	out := text.String()
	for _, want := range []string{"workload: 1 request, ", "\n1 run over the clocks' phases"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}

// TestReportTextIdlePodInWords: a revision that keeps one pod when idle
// reads "keeps 1 pod", not "keeps 1 pods".
func TestReportTextIdlePodInWords(t *testing.T) {
	for scale, want := range map[string]string{"1": "note: the revision keeps 1 pod when idle: 3600 pod-seconds", "2": "note: the revision keeps 2 pods when idle: 7200 pod-seconds"} {
		r := replay(t, Burst(1, 0, 500*time.Millisecond), pricer("min-scale", scale), 1)
		var text bytes.Buffer
		if err := r.WriteText(&text, false, 0); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text.String(), want) {
			t.Errorf("min-scale %s: text lacks %q:\n%s", scale, want, text.String())
		}
	}
}

// TestSearchTextOneSettingInWords: a grid of one setting that meets the
// goal reads "1 setting tried, ..., 1 meets the goal", not "1 settings
// tried, ..., 1 meet the goal".
func TestSearchTextOneSettingInWords(t *testing.T) {
	res, err := Search(context.Background(), Burst(1, 0, 500*time.Millisecond), Settings{},
		[]Axis{{"max-scale", []string{"2"}}}, Goal{"p99", 10}, Options{Runs: 1}, 5)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := res.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if want := "1 setting tried, 0 refused by Knative, 1 meets the goal"; !strings.Contains(b.String(), want) {
		t.Errorf("text:\n%s\nwant %q", b.String(), want)
	}
}
