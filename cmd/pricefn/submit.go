package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pricefn/pricefn/api"
	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/internal/hugeheap"
)

// runSubmit implements "pricefn submit [FILE] --url URL".
func runSubmit(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("submit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://localhost:8080", "the engine's gateway, or ingress when the functions run as their own processes; http:// is assumed without a scheme"+urlFlagHelp)
	token := fs.String("token", "", "bearer token sent on every request (default $PRICEFN_TOKEN)")
	structured := fs.Bool("structured", false, "send the CloudEvent in structured mode (default binary)")
	out := outputFlag(fs, "write results to this `file` instead of stdout")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after this long, the upload included, saying what it last saw; an interrupt (Ctrl-C) exits 130 and says whether the batch may still run")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	lostAfter := fs.Duration("lost-after", time.Minute, "give up when the engine has not known the accepted batch (404) for this long")
	heartbeat := fs.Duration("heartbeat", 10*time.Second, "while waiting, repeat the progress line after this long without change")
	resubmit := fs.Duration("resubmit-after", 30*time.Second, "while the batch shows no chunk done for this long and ingress has not sent all its chunks (it stopped before it had: no new sign of life, the status's sendingAt), send it again, as the same event (then after twice as long, and so on), for the engine to send what it lost; once all were sent (the status's sentAt), after 2m30s at least, for an engine whose broker lost its queue; 0: never")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pricefn submit [flags] [FILE]\n\nSends a batch (FILE, or stdin) to a running engine as an\nio.pricefn.batch.submitted CloudEvent on POST /batches, shows progress on\nstderr, waits for the results and prints them (as pricefn price does).\nExits non-zero when the batch is rejected or does not complete. It polls\nthe status URL of ingress's receipt, resolved against --url: when ingress\nruns as its own process, start it with --public-url set to the\naggregator's URL.\n\nflags:")
		fs.PrintDefaults()
	}
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(files) > 1 {
		fs.Usage()
		return errUsage
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"timeout", *timeout}, {"lost-after", *lostAfter}, {"heartbeat", *heartbeat}} {
		if d.v <= 0 {
			return usagef("--%s %s: want a duration above 0, such as 30s", d.name, d.v)
		}
	}
	if *resubmit < 0 {
		return usagef("--resubmit-after %s: want 0 (never) or a duration above 0", *resubmit)
	}
	gateway, err := gatewayURL(*base)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := checkOutput(*out); err != nil {
			return err
		}
	}
	if *token == "" {
		*token = os.Getenv("PRICEFN_TOKEN")
	}
	name := "stdin"
	var p payload
	if len(files) == 1 && files[0] != "-" {
		name = files[0]
		p, err = filePayload(name, *structured)
	} else {
		p.data, err = events.ReadData(stdin)
		p.size = int64(len(p.data))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	// The results, when they are held whole (about 1.7 times the batch's
	// bytes for Europeans with every greek), arrive in huge pages. A
	// regular file given by --out takes them a window at a time, and the
	// rest of the heap is small: the advice (its collection, and a huge
	// page zeroed whole for each 2 MB first touched) would cost more than
	// it saves.
	if resultsHeld(*out) {
		hugeheap.Advise(3 * int(p.size))
	}
	// The trade ids the results are checked against, read while the
	// batch travels (a document that is not a batch is refused by the
	// engine too, with its reason); a file sent from disk is read for
	// them meanwhile.
	var sentIDs batch.IDs
	idsRead := make(chan error, 1)
	go func() {
		data, release, err := p.data, func() {}, error(nil)
		if p.file != "" {
			data, release, err = readBatchFile(p.file)
		}
		if err == nil {
			defer release()
			sentIDs, err = batch.TradeIDs(data) // copies the ids
		}
		idsRead <- err
	}()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	s := &submitter{client: &http.Client{}, token: *token, progress: stderr, start: time.Now(), lostAfter: *lostAfter, heartbeat: *heartbeat,
		// A European's result with every greek is about 1.7 times its
		// trade's JSON; the room is taken for the results document only.
		resultsRoom: 2*int(p.size) + 4096}
	if *quiet {
		s.progress = io.Discard
	}

	mode := "binary"
	if *structured {
		mode = "structured"
	}
	target, err := resolve(gateway, "/batches")
	if err != nil {
		return err
	}
	// An end by --timeout or a signal is said as such, with what became
	// of the batch, rather than as the failure it cut short.
	var rc *api.Receipt
	var statusURL string
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = s.stopped(ctx, *timeout, target, gateway, rc, statusURL)
		}
	}()
	fmt.Fprintf(s.progress, "sending %s (%s) to %s as a %s CloudEvent\n", name, sizeText(int(p.size)), shown(target), mode)
	rc, err = s.postBatch(ctx, target, p, *structured, true)
	if err != nil {
		return err
	}
	sent := s.elapsed()
	// What --timeout reports when the wait ends before any status: the
	// receipt ("no answer from the engine yet" followed it).
	s.last = fmt.Sprintf("accepted, %s in %s, and no status yet", plural(rc.Trades, "trade"), plural(rc.Chunks, "chunk"))
	if rc.Existing {
		fmt.Fprintf(s.progress, "sent in %s: batch %s was submitted before with the same content (%s): not priced again\n", seconds(sent), printable(rc.BatchID), printable(rc.State))
	} else {
		fmt.Fprintf(s.progress, "sent in %s: batch %s accepted (attempt %d): %s in %s\n", seconds(sent), printable(rc.BatchID), rc.Attempt, plural(rc.Trades, "trade"), plural(rc.Chunks, "chunk"))
	}
	statusURL, err = resolve(gateway, rc.StatusURL)
	if err != nil {
		return err
	}
	// The results are checked as they arrive, against the batch's ids,
	// and shown only once they pass: written into --out beside it as they
	// arrive (a file renamed over it only when they pass), to stdout after.
	if err := <-idsRead; err != nil {
		return fmt.Errorf("%s: not a batch: %w", name, err)
	}
	s.stream = &resultsStream{want: sentIDs}
	if *resubmit > 0 {
		if s.progress != io.Discard {
			s.progress = &lockedWriter{w: s.progress} // nudge's lines too
		}
		nctx, stop := context.WithCancel(ctx)
		nudged := make(chan struct{})
		defer func() { stop(); <-nudged }()
		go func() {
			defer close(nudged)
			s.nudge(nctx, statusURL, *resubmit, func(ctx context.Context) (*api.Receipt, error) {
				return s.postBatch(ctx, target, p, *structured, false)
			})
		}()
	}
	failed := 0 // the results with an error
	receive := func() ([]byte, error) {
		results, err := s.waitResults(ctx, statusURL)
		if err != nil {
			return nil, fmt.Errorf("batch %s: %w", rc.BatchID, err)
		}
		if failed, err = s.stream.finish(results); err != nil {
			return nil, fmt.Errorf("batch %s: %w", rc.BatchID, err)
		}
		return results, nil
	}
	if *out != "" {
		err = writeOutput(*out, func(w io.Writer) error {
			if f, ok := w.(*os.File); ok && regular(f) {
				s.stream.file = f
				_, err := receive()
				return err
			}
			results, err := receive()
			if err == nil {
				_, err = w.Write(results)
			}
			return err
		})
	} else {
		var results []byte
		if results, err = receive(); err == nil {
			_, err = stdout.Write(results)
		}
	}
	if err != nil {
		return err
	}
	st, err := s.getStatus(ctx, statusURL)
	if err != nil {
		return fmt.Errorf("batch %s: %w", rc.BatchID, err)
	}
	if !api.Finished(st.State) || s.resultsAttempt != "" && s.resultsAttempt != strconv.Itoa(st.Attempt) {
		// The results are of an attempt that ended, failed or partial,
		// and that another client (or this one's nudge) submitted again
		// since: the status is the next attempt's, not theirs.
		return fmt.Errorf("batch %s: the results written are an attempt's that ended with %d of %s with errors; it was submitted again since (attempt %d, %s now): submit it again to follow that one",
			rc.BatchID, failed, plural(s.stream.want.Len(), "trade"), st.Attempt, st.State)
	}
	fmt.Fprintf(s.progress, "batch %s %s: %s, %d priced, %d with errors, %d not priced; results here %s after sending\n",
		printable(st.BatchID), printable(st.State), plural(st.Trades, "trade"), st.Priced, st.Failed, st.Missing, seconds(s.elapsed()))
	fmt.Fprintf(s.progress, "engine timings: %s from submission to completion (durationSeconds); %s of pricing summed over %s (pricingSeconds: the pricers' busy time, above the elapsed time when chunks are priced in parallel)\n",
		secondsOf(st.Timings.DurationSeconds), secondsOf(st.Timings.PricingSeconds), plural(st.Chunks, "chunk"))
	if st.State != api.StateCompleted {
		if st.Missing == 0 && st.ChunksFailed > 0 {
			// Only scenario chunks died (a dead chunk of trades leaves
			// them missing): every trade is priced, some scenarios are
			// not (the results' scenarios say which). The status names
			// the first 100 dead chunks only: they are counted.
			return fmt.Errorf("batch %s ended %s: %d of %d scenario chunks not priced (the results' scenarios count their trades as failed; the status's failedChunks say why)",
				st.BatchID, st.State, st.ChunksFailed, st.ScenarioChunks)
		}
		return fmt.Errorf("batch %s ended %s: %s not priced (their results say why)", st.BatchID, st.State, plural(st.Missing, "trade"))
	}
	return nil
}

// stopped is submit's error once ctx ended, by --timeout (of timeout) or
// by a signal: what stopped it, what it last saw, and, once the engine
// has accepted the batch (rc), that the batch may still run there and
// how to follow it. A signal before then says that no receipt came: the
// engine may have the batch still, when it came between its acceptance
// and its receipt.
func (s *submitter) stopped(ctx context.Context, timeout time.Duration, target, gateway string, rc *api.Receipt, statusURL string) error {
	follow := ""
	if rc != nil {
		// trace asks the server of the status URL: the aggregator, when
		// ingress runs as its own process.
		at := gateway
		if base, ok := strings.CutSuffix(statusURL, "/batches/"+rc.BatchID); ok && base != "" {
			at = base
		}
		follow = fmt.Sprintf("batch %s was accepted and may still run on the engine: follow it with pricefn trace %s --url %s", printable(rc.BatchID), printable(rc.BatchID), shown(at))
		if statusURL != "" {
			follow += " (its status: " + shown(statusURL) + ")"
		}
	}
	var sig signalled
	if errors.As(context.Cause(ctx), &sig) {
		if rc == nil {
			return &interrupted{sig, "while sending the batch to " + shown(target) + ", before the engine's receipt"}
		}
		return &interrupted{sig, "waiting for the results: " + follow}
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ctx.Err()
	}
	last := cmp.Or(s.last, "no answer from the engine yet")
	if rc == nil {
		return fmt.Errorf("gave up after --timeout %s sending the batch to %s: %s", timeout, shown(target), last)
	}
	return fmt.Errorf("gave up after --timeout %s waiting for the results (last seen: %s); %s", timeout, last, follow)
}
