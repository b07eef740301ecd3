package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/protocol"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/api"
	"github.com/pricefn/pricefn/auth"
	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/events/broker"
	"github.com/pricefn/pricefn/functions/aggregator"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/functions/ingress"
	"github.com/pricefn/pricefn/functions/launch"
	"github.com/pricefn/pricefn/functions/pricer"
	"github.com/pricefn/pricefn/pricing/fsum"
	"github.com/pricefn/pricefn/store"
	"github.com/pricefn/pricefn/store/redisstore"
	"github.com/pricefn/pricefn/store/redisstore/redistest"
)

// pipeline is the engine as four HTTP servers on loopback.
type pipeline struct {
	broker, ingress, pricer, aggregator *httptest.Server
	// completed receives every batch.completed the aggregator sends.
	completed chan event.Event
}

// pipelineOptions adjusts a pipeline.
type pipelineOptions struct {
	// chunk tunes ingress's chunking.
	chunk batch.ChunkOptions
	// pricerMiddleware wraps the pricer's handler (fault injection).
	pricerMiddleware func(http.Handler) http.Handler
	// redisURL, when set, keeps batch state in that Redis, shared by
	// ingress and two aggregator replicas, each with a store of its own,
	// over which the aggregator's server spreads requests in turn.
	redisURL string
	// aggregatorMiddleware wraps each aggregator replica's handler, with
	// its index (fault injection).
	aggregatorMiddleware func(replica int, h http.Handler) http.Handler
	// guard checks every function's events and the public routes'
	// tokens; its keys sign what the functions send. Nil admits all.
	guard *auth.Guard
}

// recordingSender sends to the broker and copies batch.completed events.
type recordingSender struct {
	next      *host.Sender
	completed chan event.Event
}

func (s *recordingSender) Send(ctx context.Context, e event.Event) protocol.Result {
	err := s.next.Send(ctx, e)
	if err == nil && e.Type() == events.TypeBatchCompleted {
		s.completed <- e
	}
	return err
}

// startPipeline starts the broker and the three functions, each on its own
// server, the broker routing with the project's Triggers and retrying
// without waiting.
func startPipeline(t *testing.T, opt pipelineOptions) *pipeline {
	t.Helper()
	log := zerolog.Nop()
	p := &pipeline{
		broker:     httptest.NewUnstartedServer(nil),
		ingress:    httptest.NewUnstartedServer(nil),
		pricer:     httptest.NewUnstartedServer(nil),
		aggregator: httptest.NewUnstartedServer(nil),
		completed:  make(chan event.Event, 100),
	}
	url := func(s *httptest.Server) string { return "http://" + s.Listener.Addr().String() }
	b, err := broker.New(broker.Config{
		Subscribers: map[string]string{
			launch.ServiceIngress:    url(p.ingress),
			launch.ServicePricer:     url(p.pricer),
			launch.ServiceAggregator: url(p.aggregator),
		},
		Logger: log,
		Sleep:  func(ctx context.Context, d time.Duration) error { return ctx.Err() },
	})
	if err != nil {
		t.Fatal(err)
	}
	var sign func(*event.Event)
	if opt.guard != nil && opt.guard.Keys != nil {
		sign = opt.guard.Keys.Sign
	}
	sink := host.NewSender(url(p.broker), host.SenderOptions{Backoff: time.Millisecond, Sign: sign})

	newStore := func() store.Store { return store.NewMem(store.MemOptions{}) }
	if opt.redisURL != "" {
		newStore = func() store.Store {
			s, err := redisstore.Open(context.Background(), opt.redisURL, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	}
	st := newStore()
	in := ingress.New(ingress.Options{Sender: sink, Store: st, Chunk: opt.chunk, Log: log})
	pr := pricer.New(pricer.Options{Name: "pricer-test", Log: log})
	ag := aggregator.New(aggregator.Options{Store: st, Sender: &recordingSender{sink, p.completed}, Log: log})
	var agHandler http.Handler = ag.Routes(log, opt.guard)
	if opt.redisURL == "" && opt.aggregatorMiddleware != nil {
		agHandler = opt.aggregatorMiddleware(0, agHandler)
	}
	if opt.redisURL != "" {
		replicas := []http.Handler{agHandler, aggregator.New(aggregator.Options{Store: newStore(), Sender: &recordingSender{sink, p.completed}, Log: log}).Routes(log, opt.guard)}
		if opt.aggregatorMiddleware != nil {
			for i := range replicas {
				replicas[i] = opt.aggregatorMiddleware(i, replicas[i])
			}
		}
		var turn atomic.Int64
		agHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			replicas[turn.Add(1)%int64(len(replicas))].ServeHTTP(w, r)
		})
	}

	var pricerHandler http.Handler = launch.PricerRoutes(pr, log, opt.guard)
	if opt.pricerMiddleware != nil {
		pricerHandler = opt.pricerMiddleware(pricerHandler)
	}
	p.broker.Config.Handler = b
	p.ingress.Config.Handler = host.New(host.Options{Handler: in.ServiceRoutes(log, opt.guard)}).Handler()
	p.pricer.Config.Handler = host.New(host.Options{Handler: pricerHandler}).Handler()
	p.aggregator.Config.Handler = host.New(host.Options{Handler: agHandler}).Handler()
	for _, s := range []*httptest.Server{p.broker, p.ingress, p.pricer, p.aggregator} {
		s.Start()
	}
	t.Cleanup(func() {
		ag.Drain()
		b.Close()
		for _, s := range []*httptest.Server{p.ingress, p.pricer, p.aggregator, p.broker} {
			s.Close()
		}
	})
	return p
}

// testBatch is a batch of every trade type, with an id.
func testBatch(t *testing.T, id string) []byte {
	t.Helper()
	var trades []json.RawMessage
	var market json.RawMessage
	for _, typ := range []string{"european", "barrier", "asian", "asian-arithmetic", "american", "fra", "swap", "bond"} {
		n := 40
		switch typ {
		case "asian-arithmetic":
			n = 3
		case "american":
			n = 4
		}
		data, err := batch.Sample(batch.SampleSpec{Type: typ, N: n, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		var b struct {
			Market json.RawMessage   `json:"market"`
			Trades []json.RawMessage `json:"trades"`
		}
		if err := json.Unmarshal(data, &b); err != nil {
			t.Fatal(err)
		}
		market = b.Market
		for _, tr := range b.Trades {
			// Sample ids repeat across types: make them unique.
			trades = append(trades, bytes.Replace(tr, []byte(`{"id":"`), []byte(`{"id":"`+typ+"-"), 1))
		}
	}
	// A trade that fails on its own terms is a result, not a batch fault.
	trades = append(trades, json.RawMessage(`{"id":"bad-strike","type":"european","underlying":"ACME","right":"call","strike":-5,"expiry":"2027-11-25"}`))
	doc, err := json.Marshal(map[string]any{
		"id": id, "valuationDate": "2026-11-25",
		"measures": []string{"npv", "delta", "gamma", "vega", "theta", "rho", "fairRate", "pv01", "cleanPrice", "yield"},
		"market":   market, "trades": trades,
	})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// want prices data in process, as pricefn price does, under batch id.
func want(t *testing.T, data []byte, id string) []byte {
	t.Helper()
	_, rs := priceInProcess(t, data, id)
	out, err := rs.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// submitEvent posts data to ingress as a batch.submitted CloudEvent.
func submitEvent(t *testing.T, url string, data []byte, structured bool) (int, []byte) {
	t.Helper()
	e := cloudevents.NewEvent()
	e.SetType(events.TypeBatchSubmitted)
	e.SetSource("/e2e")
	e.SetID(fmt.Sprintf("e2e-%d", time.Now().UnixNano()))
	if err := e.SetData(cloudevents.ApplicationJSON, data); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if structured {
		ctx = binding.WithForceStructured(ctx)
	}
	req, err := cehttp.NewHTTPRequestFromEvent(ctx, url+"/batches", e)
	if err != nil {
		t.Fatal(err)
	}
	if structured != strings.HasPrefix(req.Header.Get("Content-Type"), "application/cloudevents+json") {
		t.Fatalf("structured=%v but Content-Type %q", structured, req.Header.Get("Content-Type"))
	}
	return do(t, req)
}

// submitPlain posts data to ingress as plain JSON.
func submitPlain(t *testing.T, url string, data []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/batches", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

// receipt decodes a 202 answer.
func receipt(t *testing.T, code int, body []byte) api.Receipt {
	t.Helper()
	if code != http.StatusAccepted {
		t.Fatalf("submit: %d %s", code, body)
	}
	var rc api.Receipt
	if err := json.Unmarshal(body, &rc); err != nil {
		t.Fatal(err)
	}
	return rc
}

// results long-polls the batch's results until it is finished.
func results(t *testing.T, p *pipeline, id string) []byte {
	t.Helper()
	code, body := get(t, p.aggregator.URL+"/batches/"+id+"/results?wait=60s")
	if code != http.StatusOK {
		t.Fatalf("results of %s: %d %s", id, code, body)
	}
	return body
}

func status(t *testing.T, p *pipeline, id string) api.Status {
	t.Helper()
	code, body := get(t, p.aggregator.URL+"/batches/"+id)
	if code != http.StatusOK {
		t.Fatalf("status of %s: %d %s", id, code, body)
	}
	var st api.Status
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// completedOnce returns the batch.completed of batch id, failing if there
// are others for it among those sent so far.
func completedOnce(t *testing.T, p *pipeline, id string) events.BatchCompleted {
	t.Helper()
	e := <-p.completed
	c, err := events.Decode[events.BatchCompleted](e, events.TypeBatchCompleted)
	if err != nil {
		t.Fatal(err)
	}
	if c.BatchID != id {
		t.Fatalf("batch.completed for %s, want %s", c.BatchID, id)
	}
	select {
	case e := <-p.completed:
		t.Fatalf("second batch.completed: %s", e.Data())
	default:
	}
	return c
}

// TestPipelineMatchesPrice submits one batch in each way a client can and
// checks that every result equals pricefn price's, to the last bit.
func TestPipelineMatchesPrice(t *testing.T) {
	p := startPipeline(t, pipelineOptions{chunk: batch.ChunkOptions{TargetCost: 2e6, MaxTrades: 17}})
	for _, mode := range []string{"binary", "structured", "plain"} {
		t.Run(mode, func(t *testing.T) {
			id := "e2e-" + mode
			data := testBatch(t, id)
			var code int
			var body []byte
			switch mode {
			case "plain":
				code, body = submitPlain(t, p.ingress.URL, data)
			default:
				code, body = submitEvent(t, p.ingress.URL, data, mode == "structured")
			}
			rc := receipt(t, code, body)
			if rc.BatchID != id || rc.Chunks < 10 || rc.StatusURL != "/batches/"+id {
				t.Fatalf("receipt %+v: want batch %s in many chunks", rc, id)
			}
			got := results(t, p, id)
			if w := want(t, data, id); !bytes.Equal(got, w) {
				t.Fatalf("results differ from pricefn price:\n got %.600s\nwant %.600s", got, w)
			}
			st := status(t, p, id)
			if st.State != api.StateCompleted || st.ChunksDone != rc.Chunks || st.Trades != rc.Trades || st.Priced+st.Failed != st.Trades {
				t.Fatalf("status %+v", st)
			}
			if st.Totals.All["npv"] == 0 || st.Totals.ByUnderlying["ACME"]["delta"] == 0 {
				t.Errorf("totals %+v: want npv and delta sums", st.Totals)
			}
			c := completedOnce(t, p, id)
			if c.State != api.StateCompleted || c.Trades != rc.Trades || c.Chunks != rc.Chunks {
				t.Errorf("batch.completed %+v", c)
			}
		})
	}
}

// TestPipelineTotalsExact: a batch's totals in its status are its trades'
// exact sums rounded once, overall and by underlying, the same to the last
// bit however the batch is cut into chunks, on the memory store and on
// Redis.
func TestPipelineTotalsExact(t *testing.T) {
	const id = "e2e-totals"
	data := testBatch(t, id)
	wantTotals := exactTotals(t, data)
	for _, tc := range []struct {
		name  string
		opt   pipelineOptions
		redis bool
	}{
		{"chunks of 17", pipelineOptions{chunk: batch.ChunkOptions{TargetCost: 2e6, MaxTrades: 17}}, false},
		{"chunks of 5", pipelineOptions{chunk: batch.ChunkOptions{TargetCost: 2e6, MaxTrades: 5}}, false},
		{"chunks of 11 on redis", pipelineOptions{chunk: batch.ChunkOptions{TargetCost: 2e6, MaxTrades: 11}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.redis {
				tc.opt.redisURL = redistest.Start(t).URL
			}
			p := startPipeline(t, tc.opt)
			code, body := submitPlain(t, p.ingress.URL, data)
			rc := receipt(t, code, body)
			results(t, p, id)
			st := status(t, p, id)
			if st.State != api.StateCompleted || st.Chunks != rc.Chunks {
				t.Fatalf("status %+v", st)
			}
			if !reflect.DeepEqual(st.Totals, wantTotals) {
				t.Errorf("%d chunks: totals\n%v\nwant\n%v", rc.Chunks, st.Totals, wantTotals)
			}
		})
	}
}

// priceInProcess decodes data and prices it in process, as pricefn price
// does, under batch id (the document's own when empty).
func priceInProcess(t *testing.T, data []byte, id string) (*batch.Batch, *batch.Results) {
	t.Helper()
	b, err := batch.DecodeBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	if id != "" {
		b.ID = id
	}
	rs, err := batch.Price(context.Background(), b, batch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return b, rs
}

// exactTotals returns the totals of batch data, priced in process: each
// measure's exact sum over its priced trades (fsum), overall and by
// underlying.
func exactTotals(t *testing.T, data []byte) api.Totals {
	t.Helper()
	b, rs := priceInProcess(t, data, "")
	unds := b.Underlyings()
	sums := map[string]map[string]*fsum.Sum{}
	add := func(u, m string, v float64) {
		if sums[u] == nil {
			sums[u] = map[string]*fsum.Sum{}
		}
		if sums[u][m] == nil {
			sums[u][m] = new(fsum.Sum)
		}
		sums[u][m].Add(v)
	}
	for i, r := range rs.Results {
		for _, m := range batch.TotalMeasures {
			if v, ok := r.Value(m); ok && r.Error == "" {
				add("", m.String(), v)
				if unds[i] != "" {
					add(unds[i], m.String(), v)
				}
			}
		}
	}
	out := api.Totals{All: api.Sums{}, ByUnderlying: map[string]api.Sums{}}
	for u, ms := range sums {
		s := out.All
		if u != "" {
			s = api.Sums{}
			out.ByUnderlying[u] = s
		}
		for m, v := range ms {
			s[m] = v.Value()
		}
	}
	return out
}

// TestPipelineRetriedPricer fails every chunk's first delivery to the
// pricer: the broker retries, and the batch completes once, correct.
func TestPipelineRetriedPricer(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	var failures atomic.Int64
	p := startPipeline(t, pipelineOptions{
		chunk: batch.ChunkOptions{MaxTrades: 50},
		pricerMiddleware: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				id := r.Header.Get("ce-id")
				mu.Lock()
				first := !seen[id]
				seen[id] = true
				mu.Unlock()
				if first {
					failures.Add(1)
					http.Error(w, "pricer: warming up", http.StatusServiceUnavailable)
					return
				}
				next.ServeHTTP(w, r)
			})
		},
	})
	data := testBatch(t, "e2e-retry")
	code, body := submitPlain(t, p.ingress.URL, data)
	rc := receipt(t, code, body)
	got := results(t, p, rc.BatchID)
	if w := want(t, data, rc.BatchID); !bytes.Equal(got, w) {
		t.Fatalf("results differ from pricefn price:\n got %.600s\nwant %.600s", got, w)
	}
	if failures.Load() != int64(rc.Chunks) {
		t.Errorf("%d failed first attempts, want one per chunk (%d)", failures.Load(), rc.Chunks)
	}
	st := status(t, p, rc.BatchID)
	if st.State != api.StateCompleted || st.Duplicates != 0 {
		t.Errorf("status %+v: want completed without duplicates", st)
	}
	completedOnce(t, p, rc.BatchID)
}

// TestPipelineDeadChunk makes the pricer fail one chunk on every attempt:
// the broker dead-letters it to the aggregator, and the batch ends partial,
// its results naming the trades that were not priced.
func TestPipelineDeadChunk(t *testing.T) {
	const dead = "e2e-dead/chunk/1"
	p := startPipeline(t, pipelineOptions{
		chunk: batch.ChunkOptions{MaxTrades: 50},
		pricerMiddleware: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("ce-id") == dead {
					http.Error(w, "pricer: out of memory", http.StatusInternalServerError)
					return
				}
				next.ServeHTTP(w, r)
			})
		},
	})
	data := testBatch(t, "e2e-dead")
	code, body := submitEvent(t, p.ingress.URL, data, false)
	rc := receipt(t, code, body)
	got := results(t, p, rc.BatchID)

	var doc batch.Results
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatal(err)
	}
	var full batch.Results
	if err := json.Unmarshal(want(t, data, rc.BatchID), &full); err != nil {
		t.Fatal(err)
	}
	if len(doc.Results) != len(full.Results) {
		t.Fatalf("%d results, want %d", len(doc.Results), len(full.Results))
	}
	var missing []string
	for i, r := range doc.Results {
		w := full.Results[i]
		if i >= 50 && i < 100 {
			wantErr := fmt.Sprintf("trade %s: not priced: chunk 1 failed: delivery failed with status ", w.ID)
			if r.ID != w.ID || !strings.HasPrefix(r.Error, wantErr) || !strings.Contains(r.Error, "out of memory") {
				t.Fatalf("result %d = %+v, want an error starting %q", i, r, wantErr)
			}
			missing = append(missing, r.ID)
			continue
		}
		a, _ := json.Marshal(r)
		b, _ := json.Marshal(w)
		if !bytes.Equal(a, b) {
			t.Fatalf("result %d = %s, want %s", i, a, b)
		}
	}
	st := status(t, p, rc.BatchID)
	if st.State != api.StatePartial || st.Missing != 50 || st.ChunksFailed != 1 || len(st.FailedChunks) != 1 {
		t.Errorf("status %+v: want partial with 50 trades missing", st)
	}
	c := completedOnce(t, p, rc.BatchID)
	if c.State != api.StatePartial || strings.Join(c.MissingTradeIDs, ",") != strings.Join(missing, ",") {
		t.Errorf("batch.completed %+v: want partial naming the missing trades", c)
	}
}

// TestPipelineRejectsBadBatch checks that a batch that cannot be priced
// is a 400 with the reason, and that nothing reaches the aggregator.
func TestPipelineRejectsBadBatch(t *testing.T) {
	p := startPipeline(t, pipelineOptions{})
	bad := []byte(`{"id":"e2e-bad","valuationDate":"2026-11-25","market":{},"trades":[{"id":"T1","type":"european","underlying":"NOPE","right":"call","strike":1,"expiry":"2027-01-01"}]}`)
	for _, submit := range []func() (int, []byte){
		func() (int, []byte) { return submitEvent(t, p.ingress.URL, bad, false) },
		func() (int, []byte) { return submitPlain(t, p.ingress.URL, bad) },
	} {
		code, body := submit()
		if code != http.StatusBadRequest || !strings.Contains(string(body), `unknown underlying \"NOPE\"`) {
			t.Errorf("bad batch: %d %s, want 400 naming the unknown underlying", code, body)
		}
	}
	if code, body := get(t, p.aggregator.URL+"/batches/e2e-bad"); code != http.StatusNotFound {
		t.Errorf("status of a rejected batch: %d %s, want 404", code, body)
	}
}

// TestPipelineTwoAggregatorsOnRedis: ingress and two aggregator replicas
// share one real redis-server; the broker's deliveries to the aggregator
// alternate between them, and replica 0 dies half-way (its answers are
// 503 from then on, as from a pod being killed). The results equal pricefn
// price's, the batch completes once, and a resubmission is the same batch
// or, with other content, a 409.
func TestPipelineTwoAggregatorsOnRedis(t *testing.T) {
	srv := redistest.Start(t)
	var served atomic.Int64
	p := startPipeline(t, pipelineOptions{
		chunk:    batch.ChunkOptions{TargetCost: 2e6, MaxTrades: 17},
		redisURL: srv.URL,
		aggregatorMiddleware: func(replica int, h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if replica == 0 && r.Method == http.MethodPost && served.Add(1) > 4 {
					http.Error(w, "replica gone", http.StatusServiceUnavailable)
					return
				}
				h.ServeHTTP(w, r)
			})
		},
	})
	id := "e2e-redis"
	data := testBatch(t, id)
	code, body := submitPlain(t, p.ingress.URL, data)
	rc := receipt(t, code, body)
	if rc.Chunks < 10 {
		t.Fatalf("receipt %+v: want many chunks", rc)
	}
	got := results(t, p, id)
	if w := want(t, data, id); !bytes.Equal(got, w) {
		t.Fatalf("results differ from pricefn price:\n got %.600s\nwant %.600s", got, w)
	}
	if c := completedOnce(t, p, id); c.State != api.StateCompleted || c.Trades != rc.Trades {
		t.Errorf("batch.completed %+v", c)
	}
	if served.Load() <= 4 {
		t.Errorf("replica 0 served %d deliveries: it never died", served.Load())
	}
	// The same content again: the same batch, not priced again.
	code, body = submitPlain(t, p.ingress.URL, data)
	var again api.Receipt
	if code != http.StatusAccepted || json.Unmarshal(body, &again) != nil || !again.Existing || again.Attempt != 1 {
		t.Errorf("resubmitted: %d %s, want the same batch", code, body)
	}
	// Other content under the id: 409.
	if code, body := submitPlain(t, p.ingress.URL, append(bytes.Clone(data), '\n')); code != http.StatusConflict {
		t.Errorf("other content under the id: %d %s, want 409", code, body)
	}
}

// TestPipelineRetryAfterOutage: a pricer that is down for good makes the
// batch fail (every chunk dead-lettered); once it is back, the same batch
// resubmitted under its id is priced again, as attempt 2, and completes
// with the right results.
func TestPipelineRetryAfterOutage(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	p := startPipeline(t, pipelineOptions{
		chunk: batch.ChunkOptions{MaxTrades: 50},
		pricerMiddleware: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if down.Load() {
					http.Error(w, "pricer: not there", http.StatusServiceUnavailable)
					return
				}
				next.ServeHTTP(w, r)
			})
		},
	})
	data := testBatch(t, "e2e-outage")
	code, body := submitPlain(t, p.ingress.URL, data)
	rc := receipt(t, code, body)
	results(t, p, rc.BatchID)
	if st := status(t, p, rc.BatchID); st.State != api.StateFailed || st.Attempt != 1 {
		t.Fatalf("with the pricer down: %s attempt %d, want failed attempt 1", st.State, st.Attempt)
	}
	if c := completedOnce(t, p, rc.BatchID); c.State != api.StateFailed {
		t.Fatalf("batch.completed %+v", c)
	}
	down.Store(false)
	code, body = submitPlain(t, p.ingress.URL, data)
	again := receipt(t, code, body)
	if again.Attempt != 2 || again.Existing {
		t.Fatalf("resubmitted: %+v, want attempt 2", again)
	}
	if got := results(t, p, rc.BatchID); !bytes.Equal(got, want(t, data, rc.BatchID)) {
		t.Fatalf("attempt 2's results differ from pricefn price:\n%.400s", got)
	}
	if st := status(t, p, rc.BatchID); st.State != api.StateCompleted || st.Attempt != 2 {
		t.Errorf("after attempt 2: %s attempt %d", st.State, st.Attempt)
	}
	if c := completedOnce(t, p, rc.BatchID); c.State != api.StateCompleted || c.Attempt != 2 {
		t.Errorf("attempt 2's batch.completed %+v", c)
	}
}

// TestPipelineUnsendableTraceParentRestarts: a structured event's
// traceparent is a JSON string, which may hold what no HTTP header can (an
// escape character) or be longer than a server reads (200 KB). A later
// version's traceparent of that kind was kept as valid, and every event of
// the batch failed to send over HTTP: a 503 for the client, which retrying
// could not cure, and the batch recorded failed. It is invalid instead,
// and the trace restarts, as for any other invalid traceparent.
func TestPipelineUnsendableTraceParentRestarts(t *testing.T) {
	p := startPipeline(t, pipelineOptions{chunk: batch.ChunkOptions{TargetCost: 2e6, MaxTrades: 17}})
	const head = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-"
	for i, tp := range []string{head + "\x1b[31mred", head + strings.Repeat("x", 200_000)} {
		id := fmt.Sprintf("e2e-tp-%d", i)
		data := testBatch(t, id)
		e := cloudevents.NewEvent()
		e.SetType(events.TypeBatchSubmitted)
		e.SetSource("/e2e")
		e.SetID(id)
		e.SetExtension(events.ExtTraceParent, tp)
		if err := e.SetData(cloudevents.ApplicationJSON, data); err != nil {
			t.Fatal(err)
		}
		req, err := cehttp.NewHTTPRequestFromEvent(binding.WithForceStructured(context.Background()), p.ingress.URL+"/batches", e)
		if err != nil {
			t.Fatal(err)
		}
		code, body := do(t, req)
		rc := receipt(t, code, body)
		if !host.ValidTraceParent(rc.TraceParent) || !strings.HasPrefix(rc.TraceParent, "00-") || len(rc.TraceParent) != 55 {
			t.Errorf("traceparent %.80q: receipt's %.80q, want a new version-00 one", tp, rc.TraceParent)
		}
		if got, w := results(t, p, id), want(t, data, id); !bytes.Equal(got, w) {
			t.Fatalf("traceparent %.80q: results differ from pricefn price:\n got %.600s\nwant %.600s", tp, got, w)
		}
		completedOnce(t, p, id)
	}
}
