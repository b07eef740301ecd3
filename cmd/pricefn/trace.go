package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pricefn/pricefn/api"
)

// runTrace implements "pricefn trace BATCH --url URL": one batch's
// timeline per chunk, from the status document (?timeline=true).
func runTrace(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://localhost:8080", "the engine's gateway (or the aggregator); http:// is assumed without a scheme"+urlFlagHelp)
	token := fs.String("token", "", "bearer token with the read scope (default $PRICEFN_TOKEN)")
	asJSON := fs.Bool("json", false, "print the status document with its timeline as JSON")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pricefn trace [flags] BATCH\n\nShows where batch BATCH's time went, chunk by chunk: when a pricer got each\nchunk (after ingress queued it, the broker delivered it and retried it),\nwhen it was priced and when the aggregator recorded it, by whom, how many\ntimes its outcome arrived (more than once: it was delivered again), and why\na dead chunk failed. Times are seconds since the batch's submission; the\npricer's clock and the aggregator's may differ a little. Every log line\nabout the batch carries its batchid and traceparent.\n\nflags:")
		fs.PrintDefaults()
	}
	ids, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(ids) != 1 {
		fs.Usage()
		return errUsage
	}
	if *timeout <= 0 {
		return usagef("--timeout %s: want a duration above 0, such as 30s", *timeout)
	}
	gateway, err := gatewayURL(*base)
	if err != nil {
		return err
	}
	if *token == "" {
		*token = os.Getenv("PRICEFN_TOKEN")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	statusURL, err := resolve(gateway, "/batches/"+url.PathEscape(ids[0])+"?timeline=true")
	if err != nil {
		return err
	}
	s := &submitter{client: &http.Client{}, token: *token}
	st, err := s.getTimeline(ctx, statusURL)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("batch %s: gave up after --timeout %s: %s did not answer", ids[0], *timeout, statusURL)
	}
	if err != nil {
		return fmt.Errorf("batch %s: %w", ids[0], err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	return writeTimeline(stdout, st)
}

// timelinePage is the most chunks asked for in one page of a timeline
// (the aggregator's MaxTimelineLimit).
const timelinePage = 10_000

// getTimeline reads the status at statusURL (which asks for the
// timeline) with its whole timeline, page after page (the status's
// timelineNext): the status of the last page read, and the pages' chunks.
// A batch priced again while its pages are read is read again from its
// first chunk, its new attempt's.
func (s *submitter) getTimeline(ctx context.Context, statusURL string) (*api.Status, error) {
	var timeline []api.ChunkTiming
	attempt, from := 0, 0
	for {
		st, err := s.getStatus(ctx, statusURL+"&from="+strconv.Itoa(from)+"&limit="+strconv.Itoa(timelinePage))
		if err != nil {
			return nil, err
		}
		if st.Attempt != attempt && from > 0 {
			timeline, attempt, from = nil, st.Attempt, 0
			continue
		}
		attempt = st.Attempt
		timeline = append(timeline, st.Timeline...)
		if st.TimelineNext == nil {
			st.Timeline = timeline
			return st, nil
		}
		if *st.TimelineNext <= from {
			return nil, fmt.Errorf("status: the timeline's next page starts at chunk %d, not after %d", *st.TimelineNext, from)
		}
		from = *st.TimelineNext
	}
}

// writeTimeline prints st's summary and its chunks' timeline as a table.
func writeTimeline(w io.Writer, st *api.Status) error {
	t0 := st.Timings.SubmittedAt
	since := func(at *time.Time) string {
		if at == nil || t0.IsZero() {
			return "-"
		}
		return "+" + strconv.FormatFloat(at.Sub(t0).Seconds(), 'f', 3, 64) + "s"
	}
	fmt.Fprintf(w, "batch %s %s (attempt %d): %s in %s: %d priced, %d with errors, %d not priced, %d pending\n",
		printable(st.BatchID), printable(st.State), st.Attempt, plural(st.Trades, "trade"), plural(st.Chunks, "chunk"), st.Priced, st.Failed, st.Missing, st.Pending)
	end := "not finished"
	if st.Timings.CompletedAt != nil {
		end = "finished " + since(st.Timings.CompletedAt)
	}
	accepted := "-"
	if !st.Timings.AcceptedAt.IsZero() {
		a := st.Timings.AcceptedAt
		accepted = since(&a)
	}
	// Outcomes that came after the deadline ended the batch are counted
	// and ignored: say how many, when any did.
	late := ""
	if st.Late > 0 {
		late = "; " + plural(st.Late, "late chunk outcome") + " ignored (after the deadline)"
	}
	fmt.Fprintf(w, "submitted %s, accepted by the aggregator %s, %s; %s absorbed%s\n",
		t0.UTC().Format(time.RFC3339Nano), accepted, end, plural(st.Duplicates, "duplicate"), late)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHUNK\tTRADES\tSTATE\tSENT\tDELIVERED\tPRICED\tRECORDED\tDELIVERIES\tPRICED BY\tNOTE")
	for _, c := range st.Timeline {
		var note []string
		if c.Failed > 0 {
			note = append(note, plural(c.Failed, "trade")+" with errors")
		}
		if c.Deliveries > 1 {
			note = append(note, fmt.Sprintf("delivered again: %s absorbed", plural(c.Deliveries-1, "duplicate")))
		}
		if c.Reason != "" {
			note = append(note, printable(oneLine(c.Reason)))
		}
		deliveries := "-"
		if c.Deliveries > 0 {
			deliveries = strconv.Itoa(c.Deliveries)
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Index, c.Trades, printable(c.State),
			since(c.RequestedAt), since(c.DeliveredAt), since(c.PricedAt), since(c.RecordedAt), deliveries, dash(printable(c.PricedBy)), dash(strings.Join(note, "; ")))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(st.Timeline) == 0 && st.Chunks > 0 {
		fmt.Fprintln(w, "(the engine sent no timeline: it predates pricefn trace)")
	}
	_, err := fmt.Fprintln(w, "SENT is when ingress sent the chunk (the time before it, its split); DELIVERED when a pricer started on it: the time between is the broker's queue and its retries (logged by the broker with the batchid), and a cold start.")
	return err
}

// dash returns s, or "-" when it is empty.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine cuts s to one line of at most 160 characters.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}
