package monitoring_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/pricefn/pricefn/api"
	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/launch"
)

// token is the test tenant's bearer token (tokens file: "token tenant").
const (
	token  = "obs-token-0123456789abcdef"
	tenant = "acme"
)

// TestDashboardsShowData runs pricefn dev and a real Prometheus scraping
// its internal /metrics every second (with prometheus.yml), makes every
// path of the pipeline happen (a failing trade, a retried delivery, a
// duplicate, a dead letter, rejected events and requests), then evaluates
// every query of every dashboard panel through Prometheus's HTTP API: each
// must parse and return data, Knative's own series excepted. It also
// follows the batches: every log line about a batch carries its
// traceparent, and the status document's timeline shows each chunk.
func TestDashboardsShowData(t *testing.T) {
	started := time.Now()
	prom, promtool := prometheusBinaries(t)
	dev := startDev(t)
	api := startPrometheus(t, prom, promtool, dev.internalAddr)
	api.waitFor(t, `up{job="pricefn-dev"} == 1`, 15*time.Second)

	// A batch of several trade types, one trade failing on its own terms.
	tpA := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	docA := mixedBatch(t, "obs-a")
	rc := dev.submit(t, docA, tpA)
	if rc.TraceParent != tpA || rc.Chunks < 2 {
		t.Fatalf("receipt %+v: want the client's traceparent and several chunks", rc)
	}
	res := dev.results(t, "obs-a")
	if n := strings.Count(string(res), `"error":`); n != 1 || !strings.Contains(string(res), `"id":"bad-strike","error":`) {
		t.Errorf("results of obs-a hold %d errors, want the bad-strike trade's only", n)
	}

	// A retried delivery and a duplicate: a chunk.priced of batch obs-b
	// reaches the aggregator before obs-b exists (404, which the broker
	// retries); once obs-b is submitted and priced, the retry is absorbed
	// as a duplicate (or, had it won, the pricer's own would be).
	docB := sample(t, batch.SampleSpec{Type: "european", N: 12, Seed: 2, ID: "obs-b"})
	tpB := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	if code := dev.postEvent(t, "/broker/", pricedEvent(t, docB, tpB)); code != http.StatusAccepted {
		t.Fatalf("broker took the chunk.priced with %d", code)
	}
	dev.waitMetric(t, "pricefn_aggregator_chunks_total", `outcome="early"`, 1)
	dev.submit(t, docB, tpB)
	dev.results(t, "obs-b")
	dev.waitMetric(t, "pricefn_aggregator_duplicates_total", `kind="chunk_priced"`, 1)

	// A dead letter: an upstream system's batch.submitted that ingress
	// refuses (400, not retried) goes to the aggregator's /dead-letter.
	bad := []byte(`{"id":"obs-d","valuationDate":"2026-11-25","measures":["npvv"],"trades":[]}`)
	sub, err := events.New(events.TypeBatchSubmitted, "/test/upstream", "obs-d-1", "obs-d", json.RawMessage(bad))
	if err != nil {
		t.Fatal(err)
	}
	sub.SetExtension(events.ExtTenant, tenant)
	if code := dev.postEvent(t, "/broker/", sub); code != http.StatusAccepted {
		t.Fatalf("broker took the batch.submitted with %d", code)
	}
	dev.waitMetric(t, "pricefn_broker_deliveries_total", `outcome="dead_lettered"`, 1)

	// Rejected events and requests: a chunk.requested the pricer cannot
	// read, an event the broker cannot read, a request without a token, a
	// batch that cannot be priced.
	junk, err := events.New(events.TypeChunkRequested, "/test", "junk-1", "obs-x", map[string]any{"batchId": "obs-x", "index": 0, "chunks": 1, "offset": 0})
	if err != nil {
		t.Fatal(err)
	}
	if code := dev.postEvent(t, "/pricer/", junk); code != http.StatusBadRequest {
		t.Errorf("pricer answered an unreadable chunk with %d, want 400", code)
	}
	if code, _ := dev.do(t, http.MethodPost, dev.internal+"/broker/", "", map[string]string{"ce-specversion": "1.0", "ce-type": "x"}, []byte("{}")); code != http.StatusBadRequest {
		t.Errorf("broker answered an event without id and source with %d, want 400", code)
	}
	if code, _ := dev.do(t, http.MethodGet, dev.gateway+"/batches/obs-a", "", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("a request without a token: %d, want 401", code)
	}
	if code, _ := dev.do(t, http.MethodPost, dev.gateway+"/batches", token, nil, bad); code != http.StatusBadRequest {
		t.Errorf("a batch with an unknown measure: %d, want 400", code)
	}

	checkTimeline(t, dev, "obs-a", rc.Chunks, 1)
	checkTimeline(t, dev, "obs-b", 1, 2)
	checkTraced(t, dev.logs, "obs-a", tpA)
	checkTraced(t, dev.logs, "obs-b", tpB)

	// Prometheus has scraped the last of it when it sees every path.
	paths := []string{
		`sum(pricefn_pricer_trade_failures_total{reason="terms"}) > 0`,           // a failing trade
		`sum(pricefn_broker_retries_total{target="subscriber"}) > 0`,             // a retried delivery
		`sum(pricefn_aggregator_duplicates_total{kind="chunk_priced"}) > 0`,      // a duplicate absorbed
		`sum(pricefn_broker_deliveries_total{outcome="dead_lettered"}) > 0`,      // a dead letter
		`sum(pricefn_aggregator_dead_letters_total{type="batch_submitted"}) > 0`, // ... received
		`sum(pricefn_events_rejected_total{function="pricer"}) > 0`,              // a rejected event
		`sum(pricefn_events_rejected_total{function="aggregator", reason="unknown_batch"}) > 0`,
		`sum(pricefn_broker_events_received_total{outcome="malformed"}) > 0`,
		`sum(pricefn_auth_rejected_total) > 0`,
		`sum(pricefn_ingress_batches_total{outcome="invalid"}) > 0`,
		`sum(pricefn_aggregator_batches_total{state="completed"}) >= 2`,
		`sum(pricefn_cold_start_seconds_count) >= 1`,
		`sum(pricefn_aggregator_chunk_transit_seconds_count{leg="to_pricer"}) > 0`,
		`count(pricefn_pricer_trade_seconds_total > 0) >= 4`, // trade types priced
		`sum(pricefn_pricer_curve_builds_total) > 0`,         // a bootstrapped curve built (by ingress)
		`sum(pricefn_pricer_curve_reuses_total) > 0`,         // ... and served to the chunks
	}
	for _, q := range paths {
		api.waitFor(t, q, 15*time.Second)
	}
	time.Sleep(2 * time.Second) // two more scrapes: rates over the traffic's end

	qs := queries(readDashboards(t))
	empty := 0
	for _, q := range qs {
		expr := variables.Replace(q.expr)
		n, err := api.query(expr)
		switch {
		case err != nil:
			t.Errorf("%s: %s: %v", q.where, expr, err)
		case n == 0 && isKnative(q.expr):
			empty++
		case n == 0:
			t.Errorf("%s: %s: no data", q.where, expr)
		}
	}
	t.Logf("%d queries evaluated, %d of them on Knative's series only (empty here)", len(qs), empty)

	// Every pricefn metric is on a dashboard.
	body := dev.scrape(t)
	var shown []string
	for _, q := range qs {
		shown = append(shown, metricNames(q.expr)...)
	}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (pricefn_\S+) `).FindAllStringSubmatch(body, -1) {
		if !slices.ContainsFunc(shown, func(s string) bool {
			return s == m[1] || s == m[1]+"_bucket" || s == m[1]+"_count" || s == m[1]+"_sum"
		}) {
			t.Errorf("metric %s is on no dashboard", m[1])
		}
	}
	t.Logf("took %s", time.Since(started).Round(100*time.Millisecond))
}

// prometheusBinaries returns the paths of prometheus and promtool,
// installing Debian's package when they are missing.
func prometheusBinaries(t *testing.T) (prom, promtool string) {
	t.Helper()
	find := func() bool {
		var err1, err2 error
		prom, err1 = exec.LookPath("prometheus")
		promtool, err2 = exec.LookPath("promtool")
		return err1 == nil && err2 == nil
	}
	if find() {
		return prom, promtool
	}
	t.Log("prometheus not found: installing Debian's package (apt-get install prometheus)")
	apt := func(args ...string) string {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Sprintf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return ""
	}
	msg := apt("install", "-y", "-q", "--no-install-recommends", "prometheus")
	if msg != "" { // the package lists may be missing or stale
		msg = apt("update", "-q") + apt("install", "-y", "-q", "--no-install-recommends", "prometheus")
	}
	if !find() {
		t.Fatalf("this test needs Prometheus (prometheus and promtool on $PATH): install it with apt-get install prometheus (as root).\n%s", msg)
	}
	return prom, promtool
}

// devEngine is pricefn dev, running in this process.
type devEngine struct {
	gateway, internal string // base URLs
	internalAddr      string // HOST:PORT
	logs              *logLines
	client            *http.Client
}

// logLines keeps the JSON log lines written to it.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// all returns every line written so far, decoded.
func (l *logLines) all() []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(l.buf.String()) {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// startDev runs "pricefn dev" on loopback ports with a tokens file, JSON
// logs at debug level and chunks of at most 40 trades, until the test
// ends.
func startDev(t *testing.T) *devEngine {
	t.Helper()
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte(token+" "+tenant+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &devEngine{logs: &logLines{}, client: &http.Client{Timeout: time.Minute}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- launch.Dev(ctx, []string{"--addr", "127.0.0.1:0", "--internal-addr", "127.0.0.1:0", "--tokens-file", tokens,
			"--log-format", "json", "--log-level", "debug", "--chunk-trades", "40", "--shutdown-timeout", "5s"}, func(string) string { return "" }, d.logs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("pricefn dev: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("pricefn dev did not stop within 20 s")
		}
	})
	// 30 s: under the race detector on a loaded machine the start is slow.
	for deadline := time.Now().Add(30 * time.Second); d.gateway == ""; time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("pricefn dev stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("pricefn dev did not log its addresses within 30 s")
		}
		for _, m := range d.logs.all() {
			gw, _ := m["gateway"].(string)
			in, _ := m["internal"].(string)
			if gw != "" && in != "" {
				d.gateway, d.internal = gw, in
				d.internalAddr = strings.TrimPrefix(in, "http://")
			}
		}
	}
	return d
}

// do sends a request, with the bearer token when not empty.
func (d *devEngine) do(t *testing.T, method, url, bearer string, headers map[string]string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// submit posts a plain batch to the gateway with a traceparent header.
func (d *devEngine) submit(t *testing.T, doc []byte, traceparent string) api.Receipt {
	t.Helper()
	code, body := d.do(t, http.MethodPost, d.gateway+"/batches", token, map[string]string{"Content-Type": "application/json", "traceparent": traceparent}, doc)
	var rc api.Receipt
	if code != http.StatusAccepted || json.Unmarshal(body, &rc) != nil {
		t.Fatalf("submit: %d %s", code, body)
	}
	return rc
}

// results waits for a batch's results.
func (d *devEngine) results(t *testing.T, id string) []byte {
	t.Helper()
	code, body := d.do(t, http.MethodGet, d.gateway+"/batches/"+id+"/results?wait=30s", token, nil, nil)
	if code != http.StatusOK {
		t.Fatalf("results of %s: %d %.300s", id, code, body)
	}
	return body
}

// postEvent posts e in binary mode to a path of the internal address.
func (d *devEngine) postEvent(t *testing.T, path string, e event.Event) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, d.internal+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cehttp.WriteRequest(context.Background(), binding.ToMessage(&e), req); err != nil {
		t.Fatal(err)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// scrape returns the internal /metrics.
func (d *devEngine) scrape(t *testing.T) string {
	t.Helper()
	code, body := d.do(t, http.MethodGet, d.internal+"/metrics", "", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	return string(body)
}

// sampleLine is one series of the text exposition format.
var sampleLine = regexp.MustCompile(`(?m)^([a-z_:][a-z0-9_:]*)(\{[^}]*\})? (\S+)$`)

// waitMetric waits until the series of name whose labels hold label sum
// to at least want on /metrics (10 s at most).
func (d *devEngine) waitMetric(t *testing.T, name, label string, want float64) {
	t.Helper()
	var sum float64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		sum = 0
		for _, m := range sampleLine.FindAllStringSubmatch(d.scrape(t), -1) {
			if m[1] == name && strings.Contains(m[2], label) {
				v, _ := strconv.ParseFloat(m[3], 64)
				sum += v
			}
		}
		if sum >= want {
			return
		}
	}
	t.Fatalf("%s{%s} is %v after 10 s, want %v", name, label, sum, want)
}

// promAPI is a running Prometheus's HTTP API.
type promAPI struct{ base string }

// startPrometheus runs prometheus with this directory's prometheus.yml,
// scraping target every second, until the test ends.
func startPrometheus(t *testing.T, prom, promtool, target string) *promAPI {
	t.Helper()
	cfg, err := os.ReadFile("prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	local := string(cfg)
	for from, to := range map[string]string{`"127.0.0.1:9464"`: `"` + target + `"`, "scrape_interval: 5s": "scrape_interval: 1s"} {
		if !strings.Contains(local, from) {
			t.Fatalf("prometheus.yml has no %s", from)
		}
		local = strings.ReplaceAll(local, from, to)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(file, []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "config", file).CombinedOutput(); err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var out bytes.Buffer
	cmd := exec.Command(prom, "--config.file="+file, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	api := &promAPI{base: "http://" + addr}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case <-exited:
			t.Fatalf("prometheus exited:\n%s", out.String())
		default:
		}
		if resp, err := http.Get(api.base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return api
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready within 30 s:\n%s", out.String())
		}
	}
}

// query evaluates expr now and returns how many series or samples it
// gave; an error is Prometheus's (a parse error is "bad_data").
func (p *promAPI) query(expr string) (int, error) {
	resp, err := http.Get(p.base + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var r struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, fmt.Errorf("%d: %w", resp.StatusCode, err)
	}
	if r.Status != "success" {
		return 0, fmt.Errorf("%s: %s", r.ErrorType, r.Error)
	}
	switch r.Data.ResultType {
	case "scalar", "string":
		return 1, nil
	}
	var series []json.RawMessage
	if err := json.Unmarshal(r.Data.Result, &series); err != nil {
		return 0, err
	}
	return len(series), nil
}

// waitFor waits until expr returns data.
func (p *promAPI) waitFor(t *testing.T, expr string, limit time.Duration) {
	t.Helper()
	var n int
	var err error
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if n, err = p.query(expr); err == nil && n > 0 {
			return
		}
	}
	t.Fatalf("Prometheus: %s gave no data within %s (%v)", expr, limit, err)
}

// sample returns a sample batch.
func sample(t *testing.T, spec batch.SampleSpec) []byte {
	t.Helper()
	doc, err := batch.Sample(spec)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// mixedBatch is a batch of Europeans, Americans, FRAs and swaps on the
// sample market, and one European with a negative strike, which prices
// to an error.
func mixedBatch(t *testing.T, id string) []byte {
	t.Helper()
	var market json.RawMessage
	var trades []json.RawMessage
	for _, s := range []batch.SampleSpec{{Type: "european", N: 50}, {Type: "american", N: 6}, {Type: "fra", N: 20}, {Type: "swap", N: 8}} {
		var b struct {
			Market json.RawMessage   `json:"market"`
			Trades []json.RawMessage `json:"trades"`
		}
		if err := json.Unmarshal(sample(t, s), &b); err != nil {
			t.Fatal(err)
		}
		market = b.Market
		for _, tr := range b.Trades { // sample ids repeat across types
			tr = bytes.Replace(tr, []byte(`{"id":"`), []byte(`{"id":"`+s.Type+"-"), 1)
			if s.Type == "fra" { // on a bootstrapped curve, which chunks share
				tr = regexp.MustCompile(`"curve":"[A-Z]+"`).ReplaceAll(tr, []byte(`"curve":"BOOT"`))
			}
			trades = append(trades, tr)
		}
	}
	boot := `{"bootstrap": [{"type": "deposit", "tenor": "6M", "rate": 0.03}, {"type": "swap", "tenor": "2Y", "rate": 0.032}, {"type": "swap", "tenor": "5Y", "rate": 0.034}, {"type": "swap", "tenor": "10Y", "rate": 0.035}]}`
	market = bytes.Replace(market, []byte(`"curves":{`), []byte(`"curves":{"BOOT":`+boot+`,`), 1)
	trades = append(trades, json.RawMessage(`{"id":"bad-strike","type":"european","underlying":"ACME","right":"call","strike":-5,"expiry":"2027-11-25"}`))
	doc, err := json.Marshal(map[string]any{"id": id, "valuationDate": "2026-11-25", "market": market, "trades": trades})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// pricedEvent is the chunk.priced the pricer would reply for the one
// chunk of the batch doc, priced here, for the test's tenant.
func pricedEvent(t *testing.T, doc []byte, traceparent string) event.Event {
	t.Helper()
	b, err := batch.DecodeBytes(doc)
	if err != nil {
		t.Fatal(err)
	}
	res, err := batch.Price(context.Background(), b, batch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	c := events.ChunkPriced{
		BatchID: b.ID, Attempt: 1, Index: 0, Chunks: 1, Offset: 0,
		RequestedAt: now, StartedAt: now, FinishedAt: now, PricedBy: "test-replay", Digest: events.Digest(doc),
	}
	if err := c.SetResults(res.Results, b.Underlyings()); err != nil {
		t.Fatal(err)
	}
	e, err := events.New(events.TypeChunkPriced, "/test/replay", b.ID+"/chunk/0/priced", b.ID, c)
	if err != nil {
		t.Fatal(err)
	}
	e.SetExtension(events.ExtTenant, tenant)
	e.SetExtension(events.ExtTraceParent, traceparent)
	return e
}

// checkTimeline reads a batch's status with its timeline: every chunk
// priced, delivered, priced and recorded in order, each outcome arrived
// deliveries times.
func checkTimeline(t *testing.T, d *devEngine, id string, chunks, deliveries int) {
	t.Helper()
	code, body := d.do(t, http.MethodGet, d.gateway+"/batches/"+id+"?timeline=true", token, nil, nil)
	var st api.Status
	if code != http.StatusOK || json.Unmarshal(body, &st) != nil {
		t.Fatalf("status of %s: %d %.300s", id, code, body)
	}
	if len(st.Timeline) != chunks {
		t.Fatalf("%s: timeline of %d chunks, want %d", id, len(st.Timeline), chunks)
	}
	for _, c := range st.Timeline {
		if c.State != "priced" || c.DeliveredAt == nil || c.PricedAt == nil || c.RecordedAt == nil || c.Deliveries != deliveries ||
			c.PricedAt.Before(*c.DeliveredAt) || c.RecordedAt.Before(st.Timings.SubmittedAt) {
			t.Errorf("%s chunk %d: %+v: want priced with its times in order, %d deliveries", id, c.Index, c, deliveries)
		}
	}
}

// checkTraced checks that every log line about batch id carries its
// traceparent, and that the lines come from ingress, the broker, the
// pricer (with the chunk index) and the aggregator, batch.completed
// included.
func checkTraced(t *testing.T, logs *logLines, id, traceparent string) {
	t.Helper()
	from := map[string]int{}
	completed := false
	for _, m := range logs.all() {
		if m["batchid"] != id {
			continue
		}
		fn, _ := m["fn"].(string)
		if m["traceparent"] != traceparent {
			t.Errorf("log line of batch %s without its traceparent: %v", id, m)
			continue
		}
		from[fn]++
		if _, ok := m["chunk"]; fn == "pricer" && !ok {
			t.Errorf("pricer's log line without the chunk index: %v", m)
		}
		completed = completed || m["type"] == events.TypeBatchCompleted
	}
	for _, fn := range []string{"ingress", "broker", "pricer", "aggregator"} {
		if from[fn] == 0 {
			t.Errorf("batch %s: no log line from %s (lines by function: %v)", id, fn, from)
		}
	}
	if !completed {
		t.Errorf("batch %s: batch.completed went through the broker without its traceparent", id)
	}
}
