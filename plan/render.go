package plan

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// plural returns "1 request", "4 requests", "0 requests".
func plural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + one + "s"
}

// WriteText writes the report as text: the settings Knative resolved, the
// figures (mean, min, max over the runs) and, with timeline, the mean
// timeline at about rows rows (every row when rows <= 0).
func (r *Report) WriteText(w io.Writer, timeline bool, rows int) error {
	ew := &errWriter{w: w}
	sum := &r.Summary
	ew.printf("workload: %s, %.4g CPU-seconds\n", plural(sum.Requests, "request"), sum.CPUSeconds)
	ew.printf("revision: %s\n", describe(&r.Settings))
	ew.printf("%s over the clocks' phases (seed %d)", plural(r.Runs, "run"), r.Seed)
	if sum.Unsettled > 0 {
		ew.printf("; %d did not settle within the horizon (%.0f requests unserved on average)", sum.Unsettled, sum.Unserved.Mean)
	}
	ew.printf("\n\n")
	ew.printf("%-30s %9s %9s %9s\n", "", "mean", "min", "max")
	for _, row := range summaryRows(sum) {
		ew.printf("%-30s %9s %9s %9s\n", row.name, num(row.f.Mean, row.digits), num(row.f.Min, row.digits), num(row.f.Max, row.digits))
	}
	if n := r.Settings.idlePods(); n > 0 {
		ew.printf("\nnote: the revision keeps %s when idle: %d pod-seconds an hour outside this replay\n", plural(n, "pod"), n*3600)
	}
	if timeline && len(r.Timeline) > 0 {
		step := 1
		if rows > 0 {
			step = max(1, int(math.Ceil(float64(len(r.Timeline))/float64(rows))))
		}
		ew.printf("\ntimeline (mean over the runs):\n")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "t (s)\tdesired\tready\tpods\tqueued\trunning\tpanic\tstable c\tpanic c\t")
		for i := 0; i < len(r.Timeline); i += step {
			x := r.Timeline[i]
			fmt.Fprintf(tw, "%.0f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f\t%s\t%s\t\n",
				x.T, x.Desired, x.Ready, x.Pods, x.Queued, x.Running, x.Panic, num(x.Stable, 2), num(x.PanicConcurrency, 2))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return ew.err
}

// summaryRow is one line of the figures.
type summaryRow struct {
	name   string
	f      Figure
	digits int
}

func summaryRows(s *Summary) []summaryRow {
	return []summaryRow{
		{"pods created", s.PodsCreated, 1},
		{"peak ready pods", s.PeakReady, 1},
		{"panic mode (s)", s.PanicSeconds, 1},
		{"scale-ups from zero", s.Activations, 1},
		{"requests meeting a cold start", s.ColdStartRequests, 1},
		{"queueing p50 (s)", s.QueueP50, 2},
		{"queueing p99 (s)", s.QueueP99, 2},
		{"latency p50 (s)", s.LatencyP50, 2},
		{"latency p99 (s)", s.LatencyP99, 2},
		{"makespan (s)", s.Makespan, 2},
		{"pod-seconds", s.PodSeconds, 0},
		{"utilisation (%)", Figure{s.Utilisation.Mean * 100, s.Utilisation.Min * 100, s.Utilisation.Max * 100}, 2},
		{"replay length (s)", s.Length, 1},
	}
}

// num formats x with digits decimals, dropping "-0".
func num(x float64, digits int) string {
	s := strconv.FormatFloat(x, 'f', digits, 64)
	if strings.Trim(s, "-0.") == "" {
		return strconv.FormatFloat(0, 'f', digits, 64)
	}
	return s
}

// idlePods returns how many pods the idle revision keeps.
func (r *Resolved) idlePods() int {
	n := int(r.MinScale)
	if !r.EnableScaleToZero {
		n = max(n, 1)
	}
	return n
}

// describe summarises resolved settings on one line.
func describe(r *Resolved) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s target %s/pod (soft), containerConcurrency %d", r.Metric, num(r.Target, 2), r.ContainerConcurrency)
	fmt.Fprintf(&b, ", scale %d..", r.MinScale)
	if r.MaxScale == 0 {
		b.WriteString("unbounded")
	} else {
		fmt.Fprintf(&b, "%d", r.MaxScale)
	}
	fmt.Fprintf(&b, ", stable window %gs, panic window %gs at %g%%", r.StableWindow, r.PanicWindow, r.PanicThreshold*100)
	if r.ScaleDownDelay > 0 {
		fmt.Fprintf(&b, ", scale-down delay %gs", r.ScaleDownDelay)
	}
	fmt.Fprintf(&b, ", target-burst-capacity %g; pods: start %gs", r.TargetBurstCapacity, r.PodStart)
	if r.PodStartJitter > 0 {
		fmt.Fprintf(&b, " ±%gs", r.PodStartJitter)
	}
	cores := "cores"
	if r.Cores == 1 {
		cores = "core"
	}
	fmt.Fprintf(&b, ", %g %s, drain %gs", r.Cores, cores, r.Drain)
	return b.String()
}

// WriteText writes the search's result as text: the baseline, the best
// candidates, and the annotations of the best to paste into a Service.
func (r *SearchResult) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	meet := "meet"
	if r.Meeting == 1 {
		meet = "meets"
	}
	ew.printf("goal: %s (every run); %s tried, %d refused by Knative, %d %s the goal\n\n", r.Goal, plural(r.Tried, "setting"), r.Invalid, r.Meeting, meet)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\tpod-s\tx fewer\t%s worst\tpanic s\tpeak pods\tchanges\n", r.Goal.Metric)
	row := func(name string, c Candidate) {
		s := &c.Summary
		fmt.Fprintf(tw, "%s\t%.0f\t%.1f\t%.2f\t%.1f\t%.1f\t%s\n", name, s.PodSeconds.Mean, r.Ratio(c),
			r.Goal.worst(s), s.PanicSeconds.Mean, s.PeakReady.Mean, strings.Join(c.Changes, " "))
	}
	row("baseline", r.Baseline)
	for i, c := range r.Best {
		row(fmt.Sprintf("#%d", i+1), c)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Best) == 0 && r.Tried == 0 && r.Invalid > 0 {
		ew.printf("\nKnative refused every setting of the grid (e.g. min-scale above max-scale): change the grid (--grid)\n")
		return ew.err
	}
	if len(r.Best) == 0 {
		ew.printf("\nno setting meets the goal: loosen it or widen the grid (--grid)\n")
		return ew.err
	}
	ew.printf("\nthe best, for the Service's revision template:\n\n")
	ew.printf("%s", ServiceSnippet(r.Best[0].Annotations, r.Best[0].ContainerConcurrency))
	if slices.ContainsFunc(r.Best[0].Changes, func(c string) bool { return strings.HasPrefix(c, "min-scale=") }) {
		ew.printf("\nnote: min-scale pods also cost when idle, outside the replay's pod-seconds\n")
	}
	return ew.err
}

// ServiceSnippet returns the revision template's annotations and
// containerConcurrency as a Knative Service's YAML (spec.template), the
// autoscaling annotations only.
func ServiceSnippet(anns map[string]string, cc int64) string {
	var b strings.Builder
	b.WriteString("spec:\n  template:\n    metadata:\n      annotations:\n")
	for _, k := range slices.Sorted(maps.Keys(anns)) {
		if strings.HasPrefix(k, "autoscaling.knative.dev/") {
			fmt.Fprintf(&b, "        %s: %s\n", k, strconv.Quote(anns[k]))
		}
	}
	fmt.Fprintf(&b, "    spec:\n      containerConcurrency: %d\n", cc)
	return b.String()
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
