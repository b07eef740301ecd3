package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/pricefn/pricefn/api"
	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
)

// The bounds of pricefn loadgen: it never sends more than this many
// batches, nor runs longer than the duration plus the drain time.
const (
	loadgenMaxRate     = 10_000
	loadgenMaxDuration = time.Hour
	loadgenMaxBatch    = 100_000
)

// loadgenConfig is a load to generate: batches of BatchSize trades mixed
// as Mix, sent at Rate a second for Duration to URL.
type loadgenConfig struct {
	URL       *url.URL
	Rate      float64
	Duration  time.Duration
	BatchSize int
	Mix       []loadgenShare
	Measures  []string
	// MaxInFlight bounds the batches sent and not yet answered: a send due
	// while that many are in flight is dropped (and counted), so that the
	// offered load stays what was asked of a slow engine.
	MaxInFlight int
	// Drain is how long to wait for the batches in flight after the last
	// send.
	Drain time.Duration
	// Token, when set, is sent as "Authorization: Bearer TOKEN".
	Token string
	// Progress receives a progress line a second; nil shows none.
	Progress io.Writer
}

// loadgenShare is one type of trade and its share of each batch.
type loadgenShare struct {
	Type  string
	Share float64
}

// runLoadgen implements "pricefn loadgen --url URL --rate R --duration D
// --batch-size N --mix european=0.7,american=0.3".
func runLoadgen(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "", "the engine's gateway (pricefn dev) or API; the only host loadgen talks to (required); http:// is assumed without a scheme"+urlFlagHelp)
	rate := fs.Float64("rate", 10, "batches sent a second (open loop, evenly spaced)")
	duration := fs.Duration("duration", 10*time.Second, "how long to send for")
	size := fs.Int("batch-size", 100, "trades in each batch")
	mix := fs.String("mix", "european=1", "the trade types of each batch and their shares, TYPE=SHARE,...; types as pricefn gen --type")
	measures := fs.String("measures", "npv", "comma-separated measures each batch asks for")
	inflight := fs.Int("max-inflight", 0, "most batches awaiting results at once; a send due beyond it is dropped and counted (default 2 x rate, at least 16)")
	drain := fs.Duration("drain", 30*time.Second, "how long to wait for the batches in flight after the last send")
	token := fs.String("token", "", "bearer token sent on every request (default $PRICEFN_TOKEN)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	quiet := fs.Bool("quiet", false, "no progress line on stderr")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pricefn loadgen --url URL [flags]\n\nSends batches of sample trades (as pricefn gen makes them) to a running\nengine at a steady rate, follows each to its results and reports the\nthroughput and the latency from submission to results fetched\n(percentiles). Bounded: at most rate x duration batches, and done\nduration + drain after it starts.\n\nflags:")
		fs.PrintDefaults()
	}
	operands, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(operands) > 0 {
		// A file named here would be ignored: loadgen sends batches it makes.
		return usagef("unexpected argument %q: loadgen sends sample batches it makes (--mix, --batch-size), not files", operands[0])
	}
	cfg, err := loadgenConfigOf(*base, *rate, *duration, *size, *mix, *measures, *inflight, *drain)
	if err != nil {
		return usagef("%v", err)
	}
	cfg.Token = *token
	if cfg.Token == "" {
		cfg.Token = os.Getenv("PRICEFN_TOKEN")
	}
	if !*quiet {
		cfg.Progress = stderr
	}
	rep, err := loadgen(ctx, cfg, &http.Client{})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		rep.write(stdout)
	}
	var sig signalled
	if errors.As(context.Cause(ctx), &sig) {
		return sig // the report is of the run so far
	}
	if err != nil {
		return err
	}
	// The report printed, as JSON too: a run of which no batch completed
	// failed, whichever form its report took.
	if rep.Completed == 0 {
		return errors.New("no batch completed")
	}
	return nil
}

// loadgenConfigOf checks the flags and returns the load they describe.
func loadgenConfigOf(base string, rate float64, duration time.Duration, size int, mix, measures string, inflight int, drain time.Duration) (loadgenConfig, error) {
	var cfg loadgenConfig
	if base == "" {
		return cfg, errors.New("--url is required")
	}
	gateway, err := gatewayURL(base)
	if err != nil {
		return cfg, err
	}
	u, err := url.Parse(gateway)
	if err != nil {
		return cfg, err
	}
	switch {
	case !(rate > 0 && rate <= loadgenMaxRate):
		return cfg, fmt.Errorf("--rate %v: want a rate above 0 and at most %d a second", rate, loadgenMaxRate)
	case duration <= 0 || duration > loadgenMaxDuration:
		return cfg, fmt.Errorf("--duration %v: want a duration above 0 and at most %v", duration, loadgenMaxDuration)
	case size < 1 || size > loadgenMaxBatch:
		return cfg, fmt.Errorf("--batch-size %d: want 1 to %d trades", size, loadgenMaxBatch)
	case drain < 0:
		return cfg, fmt.Errorf("--drain %v: want a duration of 0 or more", drain)
	case inflight < 0:
		return cfg, fmt.Errorf("--max-inflight %d: want 0 (the default) or more", inflight)
	}
	shares, err := parseMix(mix)
	if err != nil {
		return cfg, err
	}
	if inflight == 0 {
		inflight = max(16, int(2*rate))
	}
	var ms []string
	if strings.TrimSpace(measures) != "" {
		if ms, err = parseMeasures(measures); err != nil {
			return cfg, fmt.Errorf("--measures %q: %v", measures, err)
		}
	}
	return loadgenConfig{URL: u, Rate: rate, Duration: duration, BatchSize: size, Mix: shares, Measures: ms, MaxInFlight: inflight, Drain: drain}, nil
}

// parseMix reads TYPE=SHARE,... (a lone TYPE is a share of 1): the types
// as batch.Sample makes them, the shares positive; they are normalised
// to sum to 1.
func parseMix(s string) ([]loadgenShare, error) {
	var out []loadgenShare
	var sum float64
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		typ, share, found := strings.Cut(part, "=")
		w := 1.0
		if found {
			var err error
			if w, err = strconv.ParseFloat(strings.TrimSpace(share), 64); err != nil || !(w > 0) || math.IsInf(w, 0) {
				return nil, fmt.Errorf("--mix %q: share %q of %s: want a number above 0", s, share, typ)
			}
		}
		typ = strings.TrimSpace(typ)
		if !slices.Contains(batch.SampleTypes, typ) {
			return nil, fmt.Errorf("--mix %q: unknown type %q (valid: %s)", s, typ, strings.Join(batch.SampleTypes, ", "))
		}
		if slices.ContainsFunc(out, func(x loadgenShare) bool { return x.Type == typ }) {
			return nil, fmt.Errorf("--mix %q: %s given twice", s, typ)
		}
		out = append(out, loadgenShare{typ, w})
		sum += w
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--mix %q: name at least one type", s)
	}
	for i := range out {
		out[i].Share /= sum
	}
	return out, nil
}

// loadgenTemplates is how many distinct batches loadgen makes, in turn.
const loadgenTemplates = 8

// loadgenDocs makes the batch documents loadgen sends, without an id:
// each has the mix's share of trades of each type (rounded, the last type
// taking what is left), from batch.Sample, merged on its common market.
func loadgenDocs(cfg loadgenConfig) ([][]byte, error) {
	counts := make([]int, len(cfg.Mix))
	left := cfg.BatchSize
	for i, s := range cfg.Mix {
		if i == len(cfg.Mix)-1 {
			counts[i] = left
			break
		}
		counts[i] = min(left, int(math.Round(s.Share*float64(cfg.BatchSize))))
		left -= counts[i]
	}
	var docs [][]byte
	for seed := range uint64(loadgenTemplates) {
		var merged *batch.Batch
		var ids map[string]bool // merged's trade ids
		for i, s := range cfg.Mix {
			if counts[i] == 0 {
				continue
			}
			data, err := batch.Sample(batch.SampleSpec{Type: s.Type, N: counts[i], Seed: seed, Measures: cfg.Measures})
			if err != nil {
				return nil, err
			}
			b, err := batch.DecodeBytes(data)
			if err != nil {
				return nil, fmt.Errorf("sample %s: %w", s.Type, err)
			}
			// The sample types' id prefixes differ (E, A, B, ...), but a
			// european-put and a european share one: such a mix is
			// refused. The ids are checked in a set: each type's against
			// every id before it was 10^10 comparisons for a batch of
			// 100,000 (minutes before the first batch went).
			if merged == nil {
				merged, ids = b, make(map[string]bool, cfg.BatchSize)
			} else {
				merged.Trades = append(merged.Trades, b.Trades...)
			}
			for _, t := range b.Trades {
				if ids[t.ID] {
					return nil, fmt.Errorf("--mix types %s and another make the same trade ids: mix one of them", s.Type)
				}
				ids[t.ID] = true
			}
		}
		doc, err := json.Marshal(merged)
		if err != nil {
			return nil, err
		}
		docs = append(docs, doc)
	}
	return docs, nil
}

// loadgenReport is the outcome of a load. Its JSON (--json) names its
// members in camelCase with their units, as the API's documents do
// (durationSeconds): it printed Go's field names, "P50" in milliseconds.
type loadgenReport struct {
	// Sent counts the batches sent; Dropped those due while MaxInFlight
	// were in flight, not sent.
	Sent    int `json:"sent"`
	Dropped int `json:"dropped"`
	// Completed counts the batches whose results came back complete;
	// Rejected those the engine refused; Failed those that ended failed
	// or partial or whose results were short; TimedOut those still
	// unanswered at the end (duration + drain); CutShort those still in
	// flight when the run was interrupted (Ctrl-C), which did not time
	// out.
	Completed int `json:"completed"`
	Rejected  int `json:"rejected"`
	Failed    int `json:"failed"`
	TimedOut  int `json:"timedOut"`
	CutShort  int `json:"cutShort"`
	// Trades counts the trades of the completed batches.
	Trades int `json:"trades"`
	// Seconds is the time from the first send to the last result.
	Seconds float64 `json:"durationSeconds"`
	// BatchesPerSecond and TradesPerSecond are the completed throughput
	// over Seconds.
	BatchesPerSecond float64 `json:"batchesPerSecond"`
	TradesPerSecond  float64 `json:"tradesPerSecond"`
	// Latency percentiles from submission to results fetched, of the
	// completed batches, in seconds.
	P50 float64 `json:"p50Seconds"`
	P90 float64 `json:"p90Seconds"`
	P99 float64 `json:"p99Seconds"`
	Max float64 `json:"maxSeconds"`
	// Errors holds the first few errors seen.
	Errors []string `json:"errors,omitempty"`
}

func (r *loadgenReport) write(w io.Writer) {
	cut := ""
	if r.CutShort > 0 {
		cut = fmt.Sprintf(", %d cut short by the interrupt", r.CutShort)
	}
	fmt.Fprintf(w, "batches: %d sent, %d completed, %d rejected, %d failed, %d timed out, %d dropped at the in-flight cap%s\n",
		r.Sent, r.Completed, r.Rejected, r.Failed, r.TimedOut, r.Dropped, cut)
	fmt.Fprintf(w, "throughput: %.1f batches/s, %.0f trades/s over %.2f s\n", r.BatchesPerSecond, r.TradesPerSecond, r.Seconds)
	fmt.Fprintf(w, "latency (submit to results fetched): p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n", r.P50*1e3, r.P90*1e3, r.P99*1e3, r.Max*1e3)
	for _, e := range r.Errors {
		fmt.Fprintf(w, "error: %s\n", printable(e))
	}
}

// loadgenOutcome is how one batch ended.
type loadgenOutcome int

const (
	loadgenCompleted loadgenOutcome = iota
	loadgenRejected
	loadgenFailed
	loadgenTimedOut
	loadgenCutShort
)

// errLoadgenOver is the cause of the end of a run at duration + drain,
// which tells a batch timed out from one cut short by an interrupt.
var errLoadgenOver = errors.New("loadgen: the run's duration and drain are over")

// loadgenStats gathers the outcomes of the batches as they end.
type loadgenStats struct {
	mu        sync.Mutex
	latencies []time.Duration
	counts    [loadgenCutShort + 1]int
	trades    int
	errs      []string
	last      time.Time
}

func (s *loadgenStats) add(o loadgenOutcome, d time.Duration, trades int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[o]++
	if o == loadgenCompleted {
		s.latencies = append(s.latencies, d)
		s.trades += trades
		s.last = time.Now()
	}
	if err != nil && len(s.errs) < 5 {
		s.errs = append(s.errs, err.Error())
	}
}

// percentile returns the q-quantile of sorted durations, in ms.
func percentile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(len(sorted)-1, int(math.Ceil(q*float64(len(sorted))))-1)
	return float64(sorted[max(i, 0)]) / 1e6
}

// loadgen sends the load of cfg with client and reports on it.
func loadgen(ctx context.Context, cfg loadgenConfig, client *http.Client) (*loadgenReport, error) {
	docs, err := loadgenDocs(cfg)
	if err != nil {
		return nil, err
	}
	run := strings.ToLower(rand.Text()[:8])
	total := int(math.Ceil(cfg.Rate * cfg.Duration.Seconds()))
	// A rate below one batch in the duration sends one, at the start: the
	// interval is never waited then, and held to the duration it stays a
	// time.Duration (below about 1e-10 a second it overflowed, and
	// NewTicker panicked on the negative interval).
	interval := time.Duration(min(float64(time.Second)/cfg.Rate, float64(cfg.Duration)))
	hardStop, cancel := context.WithTimeoutCause(ctx, cfg.Duration+cfg.Drain, errLoadgenOver)
	defer cancel()

	var stats loadgenStats
	var wg sync.WaitGroup
	slots := make(chan struct{}, cfg.MaxInFlight)
	rep := &loadgenReport{}
	start := time.Now()
	progressDone := make(chan struct{})
	defer close(progressDone)
	if cfg.Progress != nil {
		go loadgenProgress(cfg.Progress, &stats, rep, start, progressDone)
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
sending:
	for i := range total {
		if i > 0 {
			select {
			case <-tick.C:
			case <-hardStop.Done():
				break sending
			}
		}
		select {
		case slots <- struct{}{}:
		default:
			stats.mu.Lock()
			rep.Dropped++
			stats.mu.Unlock()
			continue
		}
		id := fmt.Sprintf("lg-%s-%d", run, i)
		doc := append([]byte(`{"id":"`+id+`",`), docs[i%len(docs)][1:]...)
		stats.mu.Lock()
		rep.Sent++
		stats.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			t0 := time.Now()
			trades, o, err := loadgenOne(hardStop, client, cfg, doc, id)
			stats.add(o, time.Since(t0), trades, err)
		}()
	}
	wg.Wait()
	cancel()

	stats.mu.Lock()
	defer stats.mu.Unlock()
	rep.Completed, rep.Rejected, rep.Failed, rep.TimedOut = stats.counts[loadgenCompleted], stats.counts[loadgenRejected], stats.counts[loadgenFailed], stats.counts[loadgenTimedOut]
	rep.CutShort = stats.counts[loadgenCutShort]
	rep.Trades = stats.trades
	end := stats.last
	if end.IsZero() {
		end = time.Now()
	}
	rep.Seconds = end.Sub(start).Seconds()
	if rep.Seconds > 0 {
		rep.BatchesPerSecond = float64(rep.Completed) / rep.Seconds
		rep.TradesPerSecond = float64(rep.Trades) / rep.Seconds
	}
	sort.Slice(stats.latencies, func(i, j int) bool { return stats.latencies[i] < stats.latencies[j] })
	rep.P50, rep.P90, rep.P99 = percentile(stats.latencies, 0.5)/1e3, percentile(stats.latencies, 0.9)/1e3, percentile(stats.latencies, 0.99)/1e3
	rep.Max = percentile(stats.latencies, 1) / 1e3
	rep.Errors = stats.errs
	return rep, nil
}

// loadgenProgress writes a progress line a second until done.
func loadgenProgress(w io.Writer, s *loadgenStats, rep *loadgenReport, start time.Time, done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		s.mu.Lock()
		lat := slices.Clone(s.latencies)
		sent, dropped, completed := rep.Sent, rep.Dropped, s.counts[loadgenCompleted]
		bad := s.counts[loadgenRejected] + s.counts[loadgenFailed] + s.counts[loadgenTimedOut] + s.counts[loadgenCutShort]
		s.mu.Unlock()
		slices.Sort(lat)
		fmt.Fprintf(w, "%5.1fs: %d sent, %d completed, %d in flight, %d not completed, %d dropped; p50 %.1f ms, p99 %.1f ms\n",
			time.Since(start).Seconds(), sent, completed, sent-completed-bad, bad, dropped, percentile(lat, 0.5), percentile(lat, 0.99))
	}
}

// loadgenOne sends one batch and fetches its results: it returns the
// number of results and how the batch ended.
func loadgenOne(ctx context.Context, client *http.Client, cfg loadgenConfig, doc []byte, id string) (int, loadgenOutcome, error) {
	timedOut := func(err error) (int, loadgenOutcome, error) {
		switch {
		case ctx.Err() == nil:
		case errors.Is(context.Cause(ctx), errLoadgenOver):
			return 0, loadgenTimedOut, fmt.Errorf("batch %s: no results before the end of the run", id)
		default:
			// Interrupted: counted apart, neither an error nor a latency.
			return 0, loadgenCutShort, nil
		}
		return 0, loadgenFailed, fmt.Errorf("batch %s: %w", id, err)
	}
	e := cloudevents.NewEvent()
	e.SetType(events.TypeBatchSubmitted)
	e.SetSource("/pricefn/loadgen")
	e.SetID(id)
	if err := e.SetData(cloudevents.ApplicationJSON, doc); err != nil {
		return 0, loadgenFailed, err
	}
	target, err := resolve(cfg.URL.String(), "/batches")
	if err != nil {
		return 0, loadgenFailed, err
	}
	req, err := cehttp.NewHTTPRequestFromEvent(ctx, target, e)
	if err != nil {
		return 0, loadgenFailed, err
	}
	code, body, err := loadgenDo(client, req, cfg.Token)
	if err != nil {
		return timedOut(err)
	}
	if code != http.StatusAccepted {
		return 0, loadgenRejected, fmt.Errorf("batch %s: %d %s: %.200s", id, code, http.StatusText(code), errorText(bytes.TrimSpace(body)))
	}
	var rc api.Receipt
	if err := json.Unmarshal(body, &rc); err != nil || rc.StatusURL == "" {
		return 0, loadgenFailed, fmt.Errorf("batch %s: not a receipt: %.200s", id, body)
	}
	statusURL, err := resolve(cfg.URL.String(), rc.StatusURL)
	if err != nil {
		return 0, loadgenFailed, fmt.Errorf("batch %s: %w", id, err)
	}
	status, err := url.Parse(statusURL)
	if err != nil {
		return 0, loadgenFailed, fmt.Errorf("batch %s: status URL %q: %w", id, rc.StatusURL, err)
	}
	if status.Scheme != cfg.URL.Scheme || status.Host != cfg.URL.Host {
		return 0, loadgenFailed, fmt.Errorf("batch %s: the receipt points at %s, not at --url: loadgen talks to %s only", id, status.Redacted(), cfg.URL.Host)
	}
	results := status.JoinPath("results")
	results.RawQuery = "wait=2s"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, results.String(), nil)
		if err != nil {
			return 0, loadgenFailed, err
		}
		code, body, err := loadgenDo(client, req, cfg.Token)
		if err != nil {
			return timedOut(err)
		}
		switch code {
		case http.StatusOK:
			return loadgenCheck(body, id, cfg.BatchSize)
		case http.StatusAccepted, http.StatusNotFound:
			// Not done, or not yet known to the aggregator: ask again
			// (the engine long-polls a 202; pause after a 404).
			if code == http.StatusNotFound {
				select {
				case <-ctx.Done():
				case <-time.After(5 * time.Millisecond):
				}
			}
			if ctx.Err() != nil {
				return timedOut(ctx.Err())
			}
		default:
			return 0, loadgenFailed, fmt.Errorf("batch %s: results: %d %s: %.200s", id, code, http.StatusText(code), errorText(bytes.TrimSpace(body)))
		}
	}
}

// loadgenCheck checks a results document: one result per trade sent, none
// failed.
func loadgenCheck(body []byte, id string, want int) (int, loadgenOutcome, error) {
	sc, err := batch.ScanResultsDocument(body)
	switch {
	case err != nil:
		return 0, loadgenFailed, fmt.Errorf("batch %s: %w", id, err)
	case sc.IDs.Len() != want:
		return sc.IDs.Len(), loadgenFailed, fmt.Errorf("batch %s: %d results for %d trades", id, sc.IDs.Len(), want)
	case sc.Failed > 0:
		return sc.IDs.Len(), loadgenFailed, fmt.Errorf("batch %s: %d of %d trades with an error", id, sc.Failed, want)
	}
	return sc.IDs.Len(), loadgenCompleted, nil
}

// loadgenDo sends req (with the bearer token) and reads the answer.
func loadgenDo(client *http.Client, req *http.Request, token string) (int, []byte, error) {
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := events.ReadData(resp.Body)
	return resp.StatusCode, body, err
}
