package ingress_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/protocol"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/functions/ingress"
	"github.com/pricefn/pricefn/internal/logtest"
	"github.com/pricefn/pricefn/store"
)

// fakeSender records events; failType makes sends of that type fail, and
// failID the send of the event whose id ends with it. A send on a context
// ended fails, as a real one does.
type fakeSender struct {
	mu       sync.Mutex
	sent     []event.Event
	failType string
	failID   string
	// holdType: events of this type are held until the send's context
	// ends, as a broker that answers 429 until then.
	holdType string
}

func (s *fakeSender) Send(ctx context.Context, e event.Event) protocol.Result {
	if s.holdType != "" && e.Type() == s.holdType {
		<-ctx.Done()
		return fmt.Errorf("host: send %s: %w (last attempt: status 429: queue full)", e.ID(), ctx.Err())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.Type() == s.failType || s.failID != "" && strings.HasSuffix(e.ID(), s.failID) {
		return host.Errorf(http.StatusServiceUnavailable, "broker down")
	}
	s.sent = append(s.sent, e)
	return nil
}

func (s *fakeSender) events() []event.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event.Event(nil), s.sent...)
}

func newServer(t *testing.T, opt ingress.Options) (*httptest.Server, *fakeSender) {
	t.Helper()
	s := &fakeSender{}
	opt.Sender = s
	if opt.Store == nil {
		opt.Store = store.NewMem(store.MemOptions{})
	}
	fresh := 0
	opt.NewID = func() string {
		s.mu.Lock()
		defer s.mu.Unlock()
		if fresh++; fresh == 1 {
			return "b-fresh"
		}
		return fmt.Sprintf("b-fresh%d", fresh)
	}
	opt.Now = func() time.Time { return time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC) }
	srv := httptest.NewServer(ingress.New(opt).Routes(nil))
	t.Cleanup(srv.Close)
	return srv, s
}

func post(t *testing.T, req *http.Request) (int, http.Header, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

func plain(t *testing.T, url string, data []byte) *http.Request {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return req
}

func submitted(t *testing.T, data []byte, id string) event.Event {
	e := cloudevents.NewEvent()
	e.SetType(events.TypeBatchSubmitted)
	e.SetSource("/client")
	e.SetID(id)
	if err := e.SetData(cloudevents.ApplicationJSON, data); err != nil {
		t.Fatal(err)
	}
	return e
}

func ceRequest(t *testing.T, url string, e event.Event, structured bool) *http.Request {
	ctx := context.Background()
	if structured {
		ctx = binding.WithForceStructured(ctx)
	}
	req, err := cehttp.NewHTTPRequestFromEvent(ctx, url, e)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// mixed is a batch of Europeans and Monte Carlo Asians.
func mixed(t *testing.T, id string) []byte {
	t.Helper()
	eu, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 300, Seed: 1})
	as, _ := batch.Sample(batch.SampleSpec{Type: "asian-arithmetic", N: 20, Seed: 1})
	fra, _ := batch.Sample(batch.SampleSpec{Type: "fra", N: 5, Seed: 1})
	var a, b, c struct {
		Market json.RawMessage   `json:"market"`
		Trades []json.RawMessage `json:"trades"`
	}
	json.Unmarshal(eu, &a)
	json.Unmarshal(as, &b)
	json.Unmarshal(fra, &c)
	doc, _ := json.Marshal(map[string]any{"id": id, "valuationDate": "2026-11-25", "market": a.Market,
		"trades": append(append(a.Trades, b.Trades...), c.Trades...)})
	return doc
}

// TestLongestID: a batch id of 128 characters is taken (129 are refused:
// TestBadRequestsAnswered).
func TestLongestID(t *testing.T) {
	srv, _ := newServer(t, ingress.Options{})
	long := strings.Repeat("L", 128)
	if code, _, body := post(t, plain(t, srv.URL+"/batches", mixed(t, long))); code != http.StatusAccepted {
		t.Fatalf("submit with an id of 128 characters: %d %s", code, body)
	}
}

func TestSubmitSendsAcceptedThenChunks(t *testing.T) {
	// 10 ms of work per chunk: 20 Asians of 10,000 paths and 12 fixings
	// (about a millisecond each) need several chunks, the Europeans few.
	srv, s := newServer(t, ingress.Options{Chunk: batch.ChunkOptions{TargetCost: 10e6, MaxTrades: 100}})
	data := mixed(t, "mix")
	code, hdr, body := post(t, plain(t, srv.URL+"/batches", data))
	if code != http.StatusAccepted || hdr.Get("Location") != "/batches/mix" {
		t.Fatalf("submit: %d %v %s", code, hdr, body)
	}
	var rc ingress.Receipt
	if err := json.Unmarshal([]byte(body), &rc); err != nil {
		t.Fatal(err)
	}
	sent := s.events()
	if len(sent) != rc.Chunks+1 || sent[0].Type() != events.TypeBatchAccepted {
		t.Fatalf("sent %d events (first %s), want batch.accepted then %d chunks", len(sent), sent[0].Type(), rc.Chunks)
	}
	a, err := events.Decode[events.BatchAccepted](sent[0], events.TypeBatchAccepted)
	if err != nil {
		t.Fatal(err)
	}
	if a.BatchID != "mix" || a.Attempt != 1 || a.Trades != 325 || len(a.ChunkOffsets) != rc.Chunks || a.Digest != events.Digest(data) ||
		!a.Deadline.After(a.SubmittedAt) {
		t.Fatalf("batch.accepted %+v", a)
	}
	whole, _ := batch.DecodeBytes(data)
	seen := map[int]bool{}
	var asianChunkTrades, euChunkTrades int
	for _, e := range sent[1:] {
		c, err := events.Decode[events.ChunkRequested](e, events.TypeChunkRequested)
		if err != nil {
			t.Fatal(err)
		}
		if e.ID() != ingress.ChunkEventID("", "mix", 1, c.Index) || events.BatchID(e) != "mix" || c.Offset != a.ChunkOffsets[c.Index] {
			t.Errorf("chunk %d: id %q, batchid %q, offset %d", c.Index, e.ID(), events.BatchID(e), c.Offset)
		}
		if i, ok := events.ChunkIndex(e); !ok || i != c.Index { // what the broker logs as its chunk
			t.Errorf("chunk %d: ChunkIndex of its id %q = %d, %v", c.Index, e.ID(), i, ok)
		}
		if !c.Deadline.Equal(a.Deadline) { // the pricer skips a chunk long past it
			t.Errorf("chunk %d: deadline %v, want the batch's %v", c.Index, c.Deadline, a.Deadline)
		}
		seen[c.Index] = true
		// Exactly the market data the chunk's trades use.
		unds, curves := map[string]bool{}, map[string]bool{}
		for _, tr := range c.Batch.Trades {
			if tr.Underlying != "" {
				unds[tr.Underlying] = true
				curves[whole.Market.Underlyings[tr.Underlying].Curve] = true
			}
			for _, cv := range tr.Curves {
				curves[cv] = true
			}
		}
		if len(unds) != len(c.Batch.Market.Underlyings) || len(curves) != len(c.Batch.Market.Curves) {
			t.Errorf("chunk %d: market has underlyings %v and curves %v, trades use %v and %v", c.Index,
				c.Batch.Market.Underlyings, c.Batch.Market.Curves, unds, curves)
		}
		for k, tr := range c.Batch.Trades {
			if tr.ID != whole.Trades[c.Offset+k].ID {
				t.Fatalf("chunk %d trade %d is %s, want %s", c.Index, k, tr.ID, whole.Trades[c.Offset+k].ID)
			}
		}
		var asians, europeans int
		for _, tr := range c.Batch.Trades {
			switch tr.ID[0] {
			case 'A':
				asians++
			case 'E':
				europeans++
			}
		}
		asianChunkTrades = max(asianChunkTrades, asians)
		euChunkTrades = max(euChunkTrades, europeans)
	}
	if len(seen) != rc.Chunks {
		t.Errorf("chunks sent %v, want %d", seen, rc.Chunks)
	}
	job, err := batch.Compile(whole)
	if err != nil {
		t.Fatal(err)
	}
	if fit := int(10e6 / job.Cost(300)); asianChunkTrades > fit || asianChunkTrades == 0 || euChunkTrades != 100 {
		t.Errorf("most Asians in a chunk %d (want <= %d), most Europeans %d (want 100)", asianChunkTrades, fit, euChunkTrades)
	}
}

func TestBadBatchIs400AndSendsNothing(t *testing.T) {
	srv, s := newServer(t, ingress.Options{})
	cases := map[string]string{
		"malformed":     `{"valuationDate": "2026-11-25", "trades": [`,
		"no date":       `{"trades": []}`,
		"duplicate ids": `{"valuationDate":"2026-11-25","trades":[{"id":"A","type":"fra"},{"id":"A","type":"fra"}]}`,
		"unknown curve": `{"valuationDate":"2026-11-25","trades":[{"id":"A","type":"fra","curve":"USD"}]}`,
		"bad measure":   `{"valuationDate":"2026-11-25","measures":["npvv"],"trades":[]}`,
		"bad id":        `{"id":"a/b","valuationDate":"2026-11-25","trades":[]}`,
	}
	for name, doc := range cases {
		for _, req := range []*http.Request{
			plain(t, srv.URL+"/batches", []byte(doc)),
			ceRequest(t, srv.URL+"/", submitted(t, []byte(doc), "x"), false),
			ceRequest(t, srv.URL+"/", submitted(t, []byte(doc), "x"), true),
		} {
			code, _, body := post(t, req)
			var e host.ErrorBody
			if code != http.StatusBadRequest || json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
				t.Errorf("%s: %d %s, want 400 with an error", name, code, body)
			}
		}
	}
	wrong := submitted(t, []byte(`{}`), "y")
	wrong.SetType(events.TypeChunkRequested)
	if code, _, body := post(t, ceRequest(t, srv.URL+"/", wrong, false)); code != http.StatusBadRequest {
		t.Errorf("wrong event type: %d %s", code, body)
	}
	if n := len(s.events()); n != 0 {
		t.Errorf("%d events sent for bad batches", n)
	}
}

func TestBatchIDs(t *testing.T) {
	srv, _ := newServer(t, ingress.Options{PublicURL: "https://pricefn.example.com"})
	doc := []byte(`{"valuationDate":"2026-11-25","trades":[]}`)
	id := func(req *http.Request) ingress.Receipt {
		code, _, body := post(t, req)
		var rc ingress.Receipt
		if code != http.StatusAccepted || json.Unmarshal([]byte(body), &rc) != nil {
			t.Fatalf("%d %s", code, body)
		}
		return rc
	}
	// The same event twice (a client's retry) is the same batch.
	a := id(ceRequest(t, srv.URL+"/", submitted(t, doc, "evt-1"), false))
	b := id(ceRequest(t, srv.URL+"/", submitted(t, doc, "evt-1"), true))
	c := id(ceRequest(t, srv.URL+"/", submitted(t, doc, "evt-2"), false))
	if a.BatchID != b.BatchID || a.BatchID == c.BatchID || !strings.HasPrefix(a.BatchID, "b-") {
		t.Errorf("ids %s %s %s: want the first two equal", a.BatchID, b.BatchID, c.BatchID)
	}
	if a.StatusURL != "https://pricefn.example.com/batches/"+a.BatchID || a.ResultsURL != a.StatusURL+"/results" {
		t.Errorf("urls %+v", a)
	}
	// The batchid extension names it, or the batch's own id, the same.
	e := submitted(t, doc, "evt-3")
	e.SetExtension(events.ExtBatchID, "from-ext")
	if got := id(ceRequest(t, srv.URL+"/", e, false)).BatchID; got != "from-ext" {
		t.Errorf("with batchid extension: %s", got)
	}
	own := []byte(`{"id":"own","valuationDate":"2026-11-25","trades":[]}`)
	e = submitted(t, own, "evt-4")
	e.SetExtension(events.ExtBatchID, "own")
	if got := id(ceRequest(t, srv.URL+"/", e, false)).BatchID; got != "own" {
		t.Errorf("with its own id: %s", got)
	}
	// Two ids: the batch's own won, silently, and the batchid its sender
	// put on the event named nothing.
	e = submitted(t, own, "evt-5")
	e.SetExtension(events.ExtBatchID, "from-ext")
	if code, _, body := post(t, ceRequest(t, srv.URL+"/", e, true)); code != http.StatusBadRequest || !strings.Contains(body, `the batch's id \"own\" and its event's batchid \"from-ext\" differ`) {
		t.Errorf("two ids: %d %s, want 400 naming both", code, body)
	}
	// A bad batchid is the event's, named so: "batch: id:" named an id the
	// document does not have.
	e = submitted(t, doc, "evt-6")
	e.SetExtension(events.ExtBatchID, "a/b")
	if code, _, body := post(t, ceRequest(t, srv.URL+"/", e, false)); code != http.StatusBadRequest || !strings.Contains(body, `ingress: the event's batchid extension: batch id \"a/b\": want 1 to 128 letters`) {
		t.Errorf("bad batchid: %d %s", code, body)
	}
	// Plain JSON without an id gets a fresh one; POST / takes plain JSON too.
	if got := id(plain(t, srv.URL+"/", doc)).BatchID; got != "b-fresh" {
		t.Errorf("plain: %s", got)
	}
}

// TestStructuredEventAsPlainJSON: a structured CloudEvent posted as plain
// JSON is refused saying which Content-Type it wants; its attributes read
// as the batch's unknown fields, and nothing said why. A batch with an
// unknown field of another name is refused as before.
func TestStructuredEventAsPlainJSON(t *testing.T) {
	srv, s := newServer(t, ingress.Options{})
	for _, env := range []string{
		`{"specversion": "1.0", "id": "1", "source": "/c", "type": "io.pricefn.batch.submitted", "data": {"valuationDate": "2026-11-25", "trades": []}}`,
		`{"id": "e1", "source": "/c", "specversion": "1.0", "type": "io.pricefn.batch.submitted", "data": {}}`,
	} {
		for _, url := range []string{srv.URL + "/batches", srv.URL + "/"} {
			code, _, body := post(t, plain(t, url, []byte(env)))
			if code != http.StatusBadRequest || !strings.Contains(body, `a structured CloudEvent wants Content-Type application/cloudevents+json`) {
				t.Errorf("%s %s: %d %s", url, env, code, body)
			}
		}
	}
	code, _, body := post(t, plain(t, srv.URL+"/batches", []byte(`{"valuationDate": "2026-11-25", "trades": [], "tardes": []}`)))
	if code != http.StatusBadRequest || !strings.Contains(body, `unknown field \"tardes\"`) || strings.Contains(body, "CloudEvent") {
		t.Errorf("unknown field: %d %s", code, body)
	}
	if n := len(s.events()); n != 0 {
		t.Errorf("%d events sent", n)
	}
}

func TestSendFailureIs503(t *testing.T) {
	srv, s := newServer(t, ingress.Options{})
	s.failType = events.TypeChunkRequested
	data, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 10, ID: "b"})
	code, hdr, body := post(t, plain(t, srv.URL+"/batches", data))
	if code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" || !strings.Contains(body, "broker down") {
		t.Fatalf("%d %v %s, want 503 with Retry-After", code, hdr, body)
	}
}

// TestEmptyBatchAcceptedAgainWhenItsFirstSendFailed: a batch of no trades
// ends at its claim, and the aggregator announces that end when its
// batch.accepted comes. Submitted while the broker was down (a 503), it
// was completed in the store with no batch.accepted sent; its resubmission
// was "existing, completed" and sent nothing, so that batch.completed was
// never sent. The resubmission sends batch.accepted, once.
func TestEmptyBatchAcceptedAgainWhenItsFirstSendFailed(t *testing.T) {
	mem := store.NewMem(store.MemOptions{})
	srv, s := newServer(t, ingress.Options{Store: mem})
	data := []byte(`{"id":"empty","valuationDate":"2026-11-25","trades":[]}`)
	s.mu.Lock()
	s.failType = events.TypeBatchAccepted
	s.mu.Unlock()
	if code, _, body := post(t, plain(t, srv.URL+"/batches", data)); code != http.StatusServiceUnavailable {
		t.Fatalf("with the broker down: %d %s, want 503", code, body)
	}
	s.mu.Lock()
	s.failType = ""
	s.mu.Unlock()
	accepted := func() int {
		n := 0
		for _, e := range s.events() {
			if e.Type() == events.TypeBatchAccepted {
				n++
			}
		}
		return n
	}
	code, _, body := post(t, plain(t, srv.URL+"/batches", data))
	if code != http.StatusAccepted || accepted() != 1 {
		t.Fatalf("resubmitted with the broker back: %d %s, %d batch.accepted sent, want 202 and 1", code, body, accepted())
	}
	// The aggregator has it now: a third submission sends nothing.
	sum, err := mem.Summary(context.Background(), store.RefOf("empty"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Accept(context.Background(), store.RefOf("empty"), sum.Digest, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	if code, _, body := post(t, plain(t, srv.URL+"/batches", data)); code != http.StatusAccepted || accepted() != 1 {
		t.Errorf("submitted once accepted: %d %s, %d batch.accepted sent, want 202 and still 1", code, body, accepted())
	}
}

// TestEmptyBatchNotAcceptedAgainPastItsDeadline: a batch of no trades
// whose batch.accepted was never sent is announced by the aggregator's
// sweep once its deadline has passed; a resubmission then sends nothing
// (a send past the deadline has no time left: a 503 on every try) and
// answers the batch as it is.
func TestEmptyBatchNotAcceptedAgainPastItsDeadline(t *testing.T) {
	mem := store.NewMem(store.MemOptions{})
	s := &fakeSender{failType: events.TypeBatchAccepted}
	var mu sync.Mutex
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(ingress.New(ingress.Options{Store: mem, Sender: s, Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}}).Routes(nil))
	t.Cleanup(srv.Close)
	data := []byte(`{"id":"empty","valuationDate":"2026-11-25","deadline":"1m","trades":[]}`)
	if code, _, body := post(t, plain(t, srv.URL+"/batches", data)); code != http.StatusServiceUnavailable {
		t.Fatalf("with the broker down: %d %s, want 503", code, body)
	}
	s.mu.Lock()
	s.failType = ""
	s.mu.Unlock()
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	code, _, body := post(t, plain(t, srv.URL+"/batches", data))
	if code != http.StatusAccepted || !strings.Contains(body, `"existing":true`) || len(s.events()) != 0 {
		t.Errorf("resubmitted past its deadline: %d %s, %d events sent, want 202, existing and none", code, body, len(s.events()))
	}
}

func TestBrokerDeliveryGetsEmptyAnswer(t *testing.T) {
	srv, s := newServer(t, ingress.Options{})
	req := ceRequest(t, srv.URL+"/", submitted(t, []byte(`{"valuationDate":"2026-11-25","trades":[]}`), "z"), false)
	req.Header.Set("Prefer", "reply")
	code, _, body := post(t, req)
	if code != http.StatusAccepted || body != "" {
		t.Fatalf("%d %q, want 202 with no body (a body would be taken for a reply)", code, body)
	}
	if len(s.events()) != 1 {
		t.Fatalf("sent %d events, want batch.accepted", len(s.events()))
	}
}

func TestValQuery(t *testing.T) {
	srv, s := newServer(t, ingress.Options{})
	for metric, typ := range map[string]string{"FwdRate": "fra", "NPV": "swap", "OptionPV": "european"} {
		resp, err := http.Get(srv.URL + "/valQuery?metric=" + metric + "&numTrades=25")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("%s: %d", metric, resp.StatusCode)
		}
		sent := s.events()
		c, err := events.Decode[events.ChunkRequested](sent[len(sent)-1], events.TypeChunkRequested)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Batch.Trades) != 25 || c.Batch.Trades[0].Type != typ {
			t.Errorf("%s: %d trades of type %s", metric, len(c.Batch.Trades), c.Batch.Trades[0].Type)
		}
		if metric == "OptionPV" && !bytes.Contains(c.Batch.Trades[0].Raw, []byte(`"right":"put"`)) {
			t.Errorf("OptionPV trades are European puts: %s", c.Batch.Trades[0].Raw)
		}
	}
	// numTrades= was taken for one trade.
	for _, q := range []string{"metric=Nope", "metric=NPV&numTrades=0", "metric=NPV&numTrades=x", "metric=NPV&numTrades=", "metric=NPV&numTrades"} {
		resp, err := http.Get(srv.URL + "/valQuery?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", q, resp.StatusCode)
		}
	}
}

// TestValQueryRefusesUnknownParameter: a query parameter /valQuery does not
// take is a 400 naming it and the ones it takes, and submits nothing;
// mistyped (?numtrades=100), it was ignored and one trade submitted.
func TestValQueryRefusesUnknownParameter(t *testing.T) {
	srv, s := newServer(t, ingress.Options{})
	resp, err := http.Get(srv.URL + "/valQuery?metric=NPV&numtrades=100")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	const want = `ingress: GET /valQuery: unknown query parameter \"numtrades\" (known: metric, numTrades)`
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), want) {
		t.Errorf("%d %s, want a 400 with %s", resp.StatusCode, body, want)
	}
	if n := len(s.events()); n != 0 {
		t.Errorf("sent %d events, want none", n)
	}
}

// TestSubmissionRefusesQueryParameters: the POSTs take no query parameter,
// and one is a 400 naming it that submits nothing: ?id=mine was ignored,
// the batch priced under a new id, ?wait=30s answered at once.
func TestSubmissionRefusesQueryParameters(t *testing.T) {
	srv, s := newServer(t, ingress.Options{})
	doc := []byte(`{"valuationDate":"2026-11-25","trades":[]}`)
	for _, c := range []struct{ path, want string }{
		{"/batches?id=mine", `ingress: POST /batches: unknown query parameter \"id\": it takes none`},
		{"/?wait=30s", `ingress: POST /: unknown query parameter \"wait\": it takes none`},
		// A pair that does not parse was dropped, the batch submitted.
		{"/batches?id=x;y", `ingress: POST /batches: query \"id=x;y\": invalid semicolon separator in query`},
		{"/?id=%zz", `ingress: POST /: query \"id=%zz\": invalid URL escape`},
	} {
		code, _, body := post(t, plain(t, srv.URL+c.path, doc))
		if code != http.StatusBadRequest || !strings.Contains(body, c.want) {
			t.Errorf("POST %s: %d %s, want a 400 with %s", c.path, code, body, c.want)
		}
		code, _, body = post(t, ceRequest(t, srv.URL+c.path, submitted(t, doc, "e1"), false))
		if code != http.StatusBadRequest || !strings.Contains(body, c.want) {
			t.Errorf("POST %s, an event: %d %s, want a 400 with %s", c.path, code, body, c.want)
		}
	}
	if n := len(s.events()); n != 0 {
		t.Errorf("sent %d events, want none", n)
	}
	if code, _, body := post(t, plain(t, srv.URL+"/batches", doc)); code != http.StatusAccepted {
		t.Errorf("POST /batches: %d %s, want 202", code, body)
	}
}

func TestSamplesPrice(t *testing.T) {
	for _, typ := range batch.SampleTypes {
		data, err := batch.Sample(batch.SampleSpec{Type: typ, N: 5, Seed: 3, Measures: []string{"npv"}})
		if err != nil {
			t.Fatal(err)
		}
		b, err := batch.DecodeBytes(data)
		if err != nil {
			t.Fatalf("%s: %v\n%s", typ, err, data)
		}
		if _, err := batch.Compile(b); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		again, _ := batch.Sample(batch.SampleSpec{Type: typ, N: 5, Seed: 3, Measures: []string{"npv"}})
		if !bytes.Equal(data, again) {
			t.Errorf("%s: samples differ for the same spec", typ)
		}
	}
}

// TestEventsCarryDigest: every event of a batch carries the digest of the
// document as submitted, which tells a redelivery from a reused id,
// whether taken as the body arrived (plain JSON, a binary-mode CloudEvent)
// or from the data (a structured one).
func TestEventsCarryDigest(t *testing.T) {
	data, _ := batch.Sample(batch.SampleSpec{Type: "fra", N: 10, ID: "d"})
	want := events.Digest(data)
	for _, mode := range []string{"plain", "binary", "structured"} {
		srv, s := newServer(t, ingress.Options{Chunk: batch.ChunkOptions{MaxTrades: 4}})
		req := plain(t, srv.URL+"/batches", data)
		if mode != "plain" {
			req = ceRequest(t, srv.URL+"/batches", submitted(t, data, "e1"), mode == "structured")
		}
		if code, _, body := post(t, req); code != http.StatusAccepted {
			t.Fatalf("%s: %d %s", mode, code, body)
		}
		if len(s.events()) != 4 {
			t.Fatalf("%s: %d events, want 4", mode, len(s.events()))
		}
		for _, e := range s.events() {
			var d struct{ Digest string }
			if err := e.DataAs(&d); err != nil || d.Digest != want {
				t.Errorf("%s: %s %s: digest %q, want %q", mode, e.Type(), e.ID(), d.Digest, want)
			}
		}
	}
}

// A batch id is an idempotency key: the same content is the same batch,
// other content a 409, and a batch that ended failed is priced again as
// the next attempt, with events of their own.
func TestResubmission(t *testing.T) {
	st := store.NewMem(store.MemOptions{})
	srv, s := newServer(t, ingress.Options{Store: st, Chunk: batch.ChunkOptions{MaxTrades: 4}})
	data, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 10, ID: "re"})
	submit := func(data []byte) (int, ingress.Receipt, string) {
		code, _, body := post(t, plain(t, srv.URL+"/batches", data))
		var rc ingress.Receipt
		json.Unmarshal([]byte(body), &rc)
		return code, rc, body
	}
	code, rc, body := submit(data)
	if code != http.StatusAccepted || rc.Attempt != 1 || rc.Existing || len(s.events()) != 4 {
		t.Fatalf("first submission: %d %s, %d events", code, body, len(s.events()))
	}
	// The same content again: the same batch, nothing sent.
	code, rc, body = submit(data)
	if code != http.StatusAccepted || rc.Attempt != 1 || !rc.Existing || rc.State != store.StatePending || len(s.events()) != 4 {
		t.Fatalf("same content: %d %s, %d events; want the same batch, nothing sent", code, body, len(s.events()))
	}
	// Other content under the id: 409 naming it, nothing sent.
	other, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 11, ID: "re"})
	code, _, body = submit(other)
	var e host.ErrorBody
	if code != http.StatusConflict || json.Unmarshal([]byte(body), &e) != nil || !strings.Contains(e.Error, `"re"`) || len(s.events()) != 4 {
		t.Fatalf("other content: %d %s, want a 409 naming the id", code, body)
	}
	// Every chunk dead: the batch failed, and may be priced again.
	ref := store.RefOf("re")
	for i := range 3 {
		if _, err := st.Put(context.Background(), ref, events.Digest(data), 1, store.Chunk{Index: i, State: store.ChunkDead, Reason: "pricer down"}); err != nil {
			t.Fatal(err)
		}
	}
	// Before the aggregator has announced its end: a moment later (the
	// new attempt would replace what the announcement is made from).
	if code, _, body := submit(data); code != http.StatusServiceUnavailable || !strings.Contains(body, "is being announced") || len(s.events()) != 4 {
		t.Fatalf("failed batch resubmitted before its end was announced: %d %s, want a 503", code, body)
	}
	if err := st.Announced(context.Background(), ref, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	code, rc, body = submit(data)
	if code != http.StatusAccepted || rc.Attempt != 2 || rc.Existing {
		t.Fatalf("failed batch resubmitted: %d %s, want attempt 2", code, body)
	}
	sent := s.events()[4:]
	if len(sent) != 4 || sent[0].ID() != "re/a2/accepted" || sent[1].Type() != events.TypeChunkRequested {
		t.Fatalf("attempt 2 sent %d events, first %q", len(sent), sent[0].ID())
	}
	for _, ev := range sent[1:] {
		c, _ := events.Decode[events.ChunkRequested](ev, events.TypeChunkRequested)
		if c.Attempt != 2 || ev.ID() != ingress.ChunkEventID("", "re", 2, c.Index) || ev.ID() == ingress.ChunkEventID("", "re", 1, c.Index) {
			t.Errorf("attempt 2 chunk %d: attempt %d, id %q", c.Index, c.Attempt, ev.ID())
		}
		if i, ok := events.ChunkIndex(ev); !ok || i != c.Index {
			t.Errorf("attempt 2 chunk %d: ChunkIndex of its id %q = %d, %v", c.Index, ev.ID(), i, ok)
		}
	}
}

// TestUnsentChunksSayWhy: the chunk whose send failed is recorded dead
// with its own failure, and the chunks not sent after it with the failure
// that stopped the batch's sends, said to be that: each was recorded with
// the batch's first failure, so that chunk 4's reason read "chunk 3:
// 503: broker down", as if it were chunk 3.
func TestUnsentChunksSayWhy(t *testing.T) {
	st := store.NewMem(store.MemOptions{})
	srv, s := newServer(t, ingress.Options{Store: st, SendLimit: 1, Chunk: batch.ChunkOptions{MaxTrades: 2}})
	s.failID = "/chunk/3"
	data, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 10, ID: "lost3"})
	if code, _, body := post(t, plain(t, srv.URL+"/batches", data)); code != http.StatusServiceUnavailable || !strings.Contains(body, "chunk 3: 503: broker down") {
		t.Fatalf("%d %s, want a 503 naming chunk 3", code, body)
	}
	sum, err := st.Summary(context.Background(), store.RefOf("lost3"))
	if err != nil || len(sum.Chunks) != 5 {
		t.Fatalf("%+v %v, want 5 chunks", sum, err)
	}
	for i, want := range map[int]string{
		3: "not sent to the broker: 503: broker down",
		4: "not sent to the broker: the batch's sends stopped: chunk 3: 503: broker down",
	} {
		if c := sum.Chunks[i]; c.State != store.ChunkDead || c.Reason != want {
			t.Errorf("chunk %d: %v %q, want dead with %q", i, c.State, c.Reason, want)
		}
	}
	for i := range 3 {
		if c := sum.Chunks[i]; c.State != store.ChunkWaiting {
			t.Errorf("chunk %d, sent: %v %q, want waiting for its outcome", i, c.State, c.Reason)
		}
	}
}

// TestUnsentChunksSayWhichTimeRanOut: chunks held by the broker until the
// time to send them ran out are a 503 that says which time (the batch's
// deadline, or ingress's bound on sending) and how many chunks were not
// sent, and so are their reasons. Both said "context deadline exceeded",
// and a client could not tell its own short deadline from a slow broker.
func TestUnsentChunksSayWhichTimeRanOut(t *testing.T) {
	heldUntilTimeRanOut(t, events.TypeChunkRequested, 10, func(bound string) (body, reason string) {
		return "batch held: sending chunks: 5 of 5 not sent, recorded dead (the batch ends without them; submit it again to price them): " + bound + ": chunk ",
			"not sent to the broker: "
	})
}

// TestUnacceptedBatchSaysWhichTimeRanOut: a batch whose batch.accepted the
// broker held until the time to send it ran out was a 503 saying only
// "context deadline exceeded", as its chunks' once were
// (TestUnsentChunksSayWhichTimeRanOut): pricefn submit, which takes a
// batch's own deadline passed as final, posted it again six times, each
// an attempt that ended the same way. The 503 and the chunks' reasons
// now name the bound that passed.
func TestUnacceptedBatchSaysWhichTimeRanOut(t *testing.T) {
	heldUntilTimeRanOut(t, events.TypeBatchAccepted, 4, func(bound string) (body, reason string) {
		return "batch held: telling the aggregator: " + bound + ": host: send ", "not sent to the broker: " + bound + ": "
	})
}

// heldUntilTimeRanOut submits a batch of n Europeans in chunks of two to
// an ingress whose broker holds its events of type hold until the time to
// send them runs out: the batch's own deadline, then ingress's bound on
// sending. want gives, for the words naming that bound, what the 503's
// body must hold and how each chunk's reason must start; each reason
// must name the bound too.
func heldUntilTimeRanOut(t *testing.T, hold string, n int, want func(bound string) (body, reason string)) {
	t.Helper()
	for _, c := range []struct {
		name, deadline, bound string
		sendTimeout           time.Duration
	}{
		{"deadline", `"1s"`, "the batch's deadline passed", time.Minute},
		{"send bound", `"1h"`, "ingress's bound on sending a batch (50ms) passed", 50 * time.Millisecond},
	} {
		st := store.NewMem(store.MemOptions{})
		srv, s := newServer(t, ingress.Options{Store: st, SendTimeout: c.sendTimeout, Chunk: batch.ChunkOptions{MaxTrades: 2}})
		s.holdType = hold
		data, _ := batch.Sample(batch.SampleSpec{Type: "european", N: n, ID: "held"})
		data = bytes.Replace(data, []byte(`"valuationDate"`), []byte(`"deadline": `+c.deadline+`, "valuationDate"`), 1)
		body, reason := want(c.bound)
		if code, _, got := post(t, plain(t, srv.URL+"/batches", data)); code != http.StatusServiceUnavailable || !strings.Contains(got, body) {
			t.Errorf("%s: %d %s, want a 503 with %q", c.name, code, got, body)
			continue
		}
		sum, err := st.Summary(context.Background(), store.RefOf("held"))
		if err != nil {
			t.Fatal(err)
		}
		for i, ch := range sum.Chunks {
			if ch.State != store.ChunkDead || !strings.HasPrefix(ch.Reason, reason) || !strings.Contains(ch.Reason, c.bound+": ") {
				t.Errorf("%s: chunk %d: %v %q", c.name, i, ch.State, ch.Reason)
			}
		}
	}
}

// A broker that does not take the chunks: 503, and the chunks not sent
// are recorded dead, so the batch ends at once and a resubmission prices
// it again rather than waiting for the deadline.
func TestUnsentChunksAreDead(t *testing.T) {
	st := store.NewMem(store.MemOptions{})
	srv, s := newServer(t, ingress.Options{Store: st})
	s.failType = events.TypeChunkRequested
	data, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 10, ID: "lost"})
	if code, _, body := post(t, plain(t, srv.URL+"/batches", data)); code != http.StatusServiceUnavailable {
		t.Fatalf("%d %s, want 503", code, body)
	}
	sum, err := st.Summary(context.Background(), store.RefOf("lost"))
	if err != nil || sum.State() != store.StateFailed || !strings.Contains(sum.Chunks[0].Reason, "not sent to the broker") {
		t.Fatalf("after a failed send: %+v %v", sum, err)
	}
	s.failType = ""
	if err := st.Announced(context.Background(), store.RefOf("lost"), 1, time.Now()); err != nil { // the sweep's
		t.Fatal(err)
	}
	code, _, body := post(t, plain(t, srv.URL+"/batches", data))
	if code != http.StatusAccepted || !strings.Contains(body, `"attempt":2`) {
		t.Fatalf("resubmitted: %d %s, want attempt 2", code, body)
	}
}

func TestBatchDeadline(t *testing.T) {
	st := store.NewMem(store.MemOptions{})
	srv, _ := newServer(t, ingress.Options{Store: st, BatchTimeout: 42 * time.Second})
	doc := func(id, deadline string) []byte {
		return []byte(`{"id":"` + id + `","valuationDate":"2026-11-25"` + deadline + `,"trades":[]}`)
	}
	for id, c := range map[string]struct {
		field string
		want  time.Duration
	}{"own": {`,"deadline":"90s"`, 90 * time.Second}, "default": {"", 42 * time.Second}} {
		if code, _, body := post(t, plain(t, srv.URL+"/batches", doc(id, c.field))); code != http.StatusAccepted {
			t.Fatalf("%s: %d %s", id, code, body)
		}
		sum, err := st.Summary(context.Background(), store.RefOf(id))
		if err != nil || sum.Deadline.Sub(sum.SubmittedAt) != c.want {
			t.Errorf("%s: deadline %v after submission, want %v (%v)", id, sum.Deadline.Sub(sum.SubmittedAt), c.want, err)
		}
	}
	for _, bad := range []string{`"soon"`, `"-5s"`, `"0s"`, `"1ns"`, `"500ms"`, `"48h"`, `5`} {
		code, _, body := post(t, plain(t, srv.URL+"/batches", doc("bad", `,"deadline":`+bad)))
		if code != http.StatusBadRequest || !strings.Contains(body, "deadline") {
			t.Errorf("deadline %s: %d %s, want a 400 naming the field", bad, code, body)
		}
	}
}

// A tenant over its limits gets a 429 with Retry-After, and nothing is
// sent; /valQuery counts as a submission.
func TestTenantLimits(t *testing.T) {
	srv, s := newServer(t, ingress.Options{Limits: store.Limits{MaxOpen: 1}})
	data, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 3})
	if code, _, body := post(t, plain(t, srv.URL+"/batches", data)); code != http.StatusAccepted {
		t.Fatalf("first: %d %s", code, body)
	}
	sent := len(s.events())
	other, _ := batch.Sample(batch.SampleSpec{Type: "fra", N: 3})
	code, hdr, body := post(t, plain(t, srv.URL+"/batches", other))
	if code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" || !strings.Contains(body, "the engine has 1 unfinished batch, and its limit of unfinished batches is 1") {
		t.Errorf("second: %d %v %s, want a 429 with Retry-After", code, hdr, body)
	}
	resp, err := http.Get(srv.URL + "/valQuery?metric=NPV")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || len(s.events()) != sent {
		t.Errorf("valQuery over the limit: %d, %d events sent", resp.StatusCode, len(s.events())-sent)
	}
}

// TestTenantLimitMessages: a 429 of a tenant at its limit says which
// limit, its value and what to do, in the client's words: it read
// "ingress: the batch: store: tenant limit reached: ...", the store's
// insides.
func TestTenantLimitMessages(t *testing.T) {
	srv, _ := newServer(t, ingress.Options{Limits: store.Limits{MaxOpen: 1}})
	data, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 3})
	if code, _, body := post(t, plain(t, srv.URL+"/batches", data)); code != http.StatusAccepted {
		t.Fatalf("first: %d %s", code, body)
	}
	noID, _ := batch.Sample(batch.SampleSpec{Type: "fra", N: 3})
	withID, _ := batch.Sample(batch.SampleSpec{Type: "fra", N: 3, ID: "mine"})
	for doc, want := range map[string]string{
		string(noID):   "ingress: the batch not taken for now: the engine has 1 unfinished batch, and its limit of unfinished batches is 1: try again once one of them has finished",
		string(withID): "ingress: batch mine not taken for now: the engine has 1 unfinished batch, and its limit of unfinished batches is 1: try again once one of them has finished",
	} {
		code, _, body := post(t, plain(t, srv.URL+"/batches", []byte(doc)))
		var e struct{ Error string }
		if err := json.Unmarshal([]byte(body), &e); err != nil || code != http.StatusTooManyRequests || e.Error != want {
			t.Errorf("%d %s, want a 429 %q", code, body, want)
		}
	}

	srv, _ = newServer(t, ingress.Options{Limits: store.Limits{MaxTrades: 5}})
	data, _ = batch.Sample(batch.SampleSpec{Type: "european", N: 3})
	if code, _, body := post(t, plain(t, srv.URL+"/batches", data)); code != http.StatusAccepted {
		t.Fatalf("first: %d %s", code, body)
	}
	code, _, body := post(t, plain(t, srv.URL+"/batches", noID))
	want := "ingress: the batch not taken for now: the engine has 3 trades in flight; 3 more would pass its limit of 5: try again once some of them are priced, or split the batch into smaller ones"
	if !strings.Contains(body, want) || code != http.StatusTooManyRequests {
		t.Errorf("%d %s, want a 429 %q", code, body, want)
	}
}

// TestBatchOverTradeLimitAlone: a batch with more trades than its tenant
// may have in flight can never be claimed: a 413 saying so, where it was a
// 429 that a client retries (pricefn submit six times over 15 s).
func TestBatchOverTradeLimitAlone(t *testing.T) {
	srv, s := newServer(t, ingress.Options{Limits: store.Limits{MaxTrades: 100}})
	data, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 101})
	code, hdr, body := post(t, plain(t, srv.URL+"/batches", data))
	if code != http.StatusRequestEntityTooLarge || hdr.Get("Retry-After") != "" || !strings.Contains(body, "has 101 trades, more than its tenant may have in flight (100)") {
		t.Errorf("101 trades against a limit of 100: %d %v %s, want a 413 naming both", code, hdr, body)
	}
	if n := len(s.events()); n != 0 {
		t.Errorf("%d events sent for a refused batch", n)
	}
	data, _ = batch.Sample(batch.SampleSpec{Type: "european", N: 100})
	if code, _, body := post(t, plain(t, srv.URL+"/batches", data)); code != http.StatusAccepted {
		t.Errorf("100 trades against a limit of 100: %d %s", code, body)
	}
}

// TestValQueryHeadSubmitsNothing: a GET route takes HEAD, and a HEAD of
// /valQuery submitted a batch (202 and a Location); it is a 405.
func TestValQueryHeadSubmitsNothing(t *testing.T) {
	srv, s := newServer(t, ingress.Options{})
	req, _ := http.NewRequest(http.MethodHead, srv.URL+"/valQuery?metric=NPV&numTrades=3", nil)
	code, hdr, _ := post(t, req)
	if code != http.StatusMethodNotAllowed || hdr.Get("Allow") != http.MethodGet || hdr.Get("Location") != "" || len(s.events()) != 0 {
		t.Errorf("HEAD /valQuery: %d, Allow %q, Location %q, %d events sent; want a 405 and nothing sent", code, hdr.Get("Allow"), hdr.Get("Location"), len(s.events()))
	}
}

// /valQuery?metric=OptionPV prices the seed's own put, the numbers its
// users know (npv 3.844308), and says so in the answer.
func TestValQuerySeedPut(t *testing.T) {
	srv, s := newServer(t, ingress.Options{})
	resp, err := http.Get(srv.URL + "/valQuery?metric=OptionPV&numTrades=2")
	if err != nil {
		t.Fatal(err)
	}
	var rc ingress.Receipt
	json.NewDecoder(resp.Body).Decode(&rc)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(rc.Sample, "strike 40, spot 36") {
		t.Fatalf("%d, receipt %+v: want the seed put's terms", resp.StatusCode, rc)
	}
	c, err := events.Decode[events.ChunkRequested](s.events()[1], events.TypeChunkRequested)
	if err != nil {
		t.Fatal(err)
	}
	res, err := batch.Price(context.Background(), &c.Batch, batch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Results {
		if math.Abs(r.NPV-3.844308) > 5e-7 {
			t.Errorf("trade %s: npv %v, want 3.844308", r.ID, r.NPV)
		}
	}
}

// gatedClaimStore holds each claim until the test lets it go: a batch
// being decoded and claimed for as long as the test needs.
type gatedClaimStore struct {
	*store.Mem
	entered chan string
	gates   map[string]chan struct{} // by batch id, made before its claim
	opened  map[string]bool          // the test's goroutine's alone
}

// newGatedClaimStore returns a gatedClaimStore that holds the claims of
// ids. The test defers openAll before it starts a server on it, so that
// a failure does not leave the server's Close waiting on a claim.
func newGatedClaimStore(ids ...string) *gatedClaimStore {
	st := &gatedClaimStore{Mem: store.NewMem(store.MemOptions{}), entered: make(chan string, len(ids)),
		gates: map[string]chan struct{}{}, opened: map[string]bool{}}
	for _, id := range ids {
		st.gates[id] = make(chan struct{})
	}
	return st
}

func (s *gatedClaimStore) Claim(ctx context.Context, b store.Batch) (store.Claim, error) {
	s.entered <- b.Ref.ID
	<-s.gates[b.Ref.ID]
	return s.Mem.Claim(ctx, b)
}

// open lets id's claim go, once.
func (s *gatedClaimStore) open(id string) {
	if !s.opened[id] {
		s.opened[id] = true
		close(s.gates[id])
	}
}

// openAll lets every claim go.
func (s *gatedClaimStore) openAll() {
	for id := range s.gates {
		s.open(id)
	}
}

// next is the batch claimed next (a hang, not a timing assumption).
func (s *gatedClaimStore) next(t *testing.T) string {
	t.Helper()
	select {
	case id := <-s.entered:
		return id
	case <-time.After(10 * time.Second):
		t.Fatal("no batch claimed: the room is held")
		return ""
	}
}

// noClaim fails the test if a batch is claimed within a moment: one that
// waits for the room, which holders, described by held, hold.
func (s *gatedClaimStore) noClaim(t *testing.T, held string) {
	t.Helper()
	select {
	case id := <-s.entered:
		t.Fatalf("%s claimed while %s", id, held)
	case <-time.After(50 * time.Millisecond):
	}
}

// paddedBatch is a batch of no trades with id, padded to size bytes.
func paddedBatch(id string, size int) []byte {
	d := []byte(`{"id":"` + id + `","valuationDate":"2026-11-25","trades":[]}`)
	return append(d, bytes.Repeat([]byte(" "), size-len(d))...)
}

// sendAsync sends req and delivers its answer's status, 0 when it fails.
func sendAsync(t *testing.T, req *http.Request) chan int {
	got := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			got <- 0
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	return got
}

// TestReadingBound: the batches decoded at once hold at most
// MaxBytesReading of room (six 113 MB uploads decoded at once took 2.7
// GB): a batch read waits its turn, and one larger than the bound is
// decoded alone. A client sending a few bytes and waiting holds no room:
// it held the whole bound until the read timeout, and every other
// submission was refused.
func TestReadingBound(t *testing.T) {
	st := newGatedClaimStore("a", "b", "c", "d")
	defer st.openAll() // a failure must not leave the server waiting
	srv, _ := newServer(t, ingress.Options{MaxBytesReading: 500, Store: st})
	// A client that sends a few bytes of its batch, then waits.
	pr, pw := io.Pipe()
	defer pw.Close()
	slow, err := http.NewRequest(http.MethodPost, srv.URL+"/batches", pr)
	if err != nil {
		t.Fatal(err)
	}
	slow.ContentLength = 400
	go func() {
		if resp, err := http.DefaultClient.Do(slow); err == nil {
			resp.Body.Close()
		}
	}()
	if _, err := pw.Write([]byte(`{"id":`)); err != nil {
		t.Fatal(err)
	}
	post := func(id string, size int) chan int {
		return sendAsync(t, plain(t, srv.URL+"/batches", paddedBatch(id, size)))
	}
	// a (300 bytes) is decoded and held at its claim; c (100) fits
	// beside it; b (300) waits for room.
	a := post("a", 300)
	if id := st.next(t); id != "a" {
		t.Fatalf("claimed %s first, want a", id)
	}
	c := post("c", 100)
	if id := st.next(t); id != "c" {
		t.Fatalf("claimed %s beside a, want c", id)
	}
	b := post("b", 300)
	st.noClaim(t, "a and c hold the room")
	st.open("a") // a's claim done
	if code := <-a; code != http.StatusAccepted {
		t.Errorf("a: %d", code)
	}
	if id := st.next(t); id != "b" {
		t.Fatalf("claimed %s, want b once a gave back its room", id)
	}
	st.open("b")
	st.open("c")
	for name, got := range map[string]chan int{"b": b, "c": c} {
		if code := <-got; code != http.StatusAccepted {
			t.Errorf("%s: %d", name, code)
		}
	}
	// Larger than the bound: decoded alone.
	d := post("d", 800)
	if id := st.next(t); id != "d" {
		t.Fatalf("claimed %s, want d", id)
	}
	st.open("d")
	if code := <-d; code != http.StatusAccepted {
		t.Errorf("d, larger than the bound: %d", code)
	}
}

// TestValQueryTakesReadingRoom: a /valQuery sample is built and decoded
// as a submitted batch is, and waits its turn for the room
// (MaxBytesReading) as one does: it took none, and thirty samples of
// 100,000 trades at once took 1.4 GB under pricefn dev's soft limit of
// 768 MiB.
func TestValQueryTakesReadingRoom(t *testing.T) {
	st := newGatedClaimStore("a", "b-fresh")
	defer st.openAll()
	srv, _ := newServer(t, ingress.Options{MaxBytesReading: 500, Store: st})
	a := sendAsync(t, plain(t, srv.URL+"/batches", paddedBatch("a", 450)))
	if id := st.next(t); id != "a" {
		t.Fatalf("claimed %s, want a", id)
	}
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/valQuery?metric=OptionPV&numTrades=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	v := sendAsync(t, req)
	st.noClaim(t, "a holds the room")
	st.open("a")
	if code := <-a; code != http.StatusAccepted {
		t.Errorf("a: %d", code)
	}
	if id := st.next(t); id != "b-fresh" {
		t.Fatalf("claimed %s, want the sample once a gave back its room", id)
	}
	st.open("b-fresh")
	if code := <-v; code != http.StatusAccepted {
		t.Errorf("valQuery: %d", code)
	}
}

// TestDeliveredBatchTakesReadingRoom: a batch.submitted that a broker
// delivers (an upstream system's) is decoded in its turn, as one posted to
// the public routes is: it took no room.
func TestDeliveredBatchTakesReadingRoom(t *testing.T) {
	st := newGatedClaimStore("a", "ev")
	defer st.openAll()
	srv := httptest.NewServer(ingress.New(ingress.Options{MaxBytesReading: 500, Store: st, Sender: &fakeSender{}}).ServiceRoutes(zerolog.Nop(), nil))
	t.Cleanup(srv.Close) // after the gates open
	a := sendAsync(t, plain(t, srv.URL+"/batches", paddedBatch("a", 450)))
	if id := st.next(t); id != "a" {
		t.Fatalf("claimed %s, want a", id)
	}
	e := cloudevents.NewEvent()
	e.SetType(events.TypeBatchSubmitted)
	e.SetSource("/upstream")
	e.SetID("e1")
	if err := e.SetData(cloudevents.ApplicationJSON, paddedBatch("ev", 450)); err != nil {
		t.Fatal(err)
	}
	req, err := cehttp.NewHTTPRequestFromEvent(context.Background(), srv.URL+"/", e)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Prefer", "reply")
	delivered := sendAsync(t, req)
	st.noClaim(t, "a holds the room")
	st.open("a")
	if code := <-a; code != http.StatusAccepted {
		t.Errorf("a: %d", code)
	}
	if id := st.next(t); id != "ev" {
		t.Fatalf("claimed %s, want the delivered batch once a gave back its room", id)
	}
	st.open("ev")
	if code := <-delivered; code != http.StatusAccepted {
		t.Errorf("delivered batch.submitted: %d", code)
	}
}

// A batch refused on POST /batches is logged with its id and the trace
// the client sent, as every log line about a batch is: a 409 for other
// content under an id in use, a 400 for a batch that cannot be priced.
func TestRefusalLogCarriesBatchAndTrace(t *testing.T) {
	var logs logtest.Buffer
	srv, _ := newServer(t, ingress.Options{Log: zerolog.New(&logs)})
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	data, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 3, ID: "re"})
	other, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 4, ID: "re"})
	bad := []byte(`{"id":"bad","valuationDate":"2026-11-25","measures":["npvv"],"trades":[]}`)
	for _, c := range []struct {
		data []byte
		code int
	}{{data, http.StatusAccepted}, {other, http.StatusConflict}, {bad, http.StatusBadRequest}} {
		req := plain(t, srv.URL+"/batches", c.data)
		req.Header.Set("traceparent", tp)
		if code, _, body := post(t, req); code != c.code {
			t.Fatalf("%d %s, want %d", code, body, c.code)
		}
	}
	refused := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if entry["message"] != "batch not accepted" {
			continue
		}
		id, _ := entry["batchid"].(string)
		refused[id] = true
		if entry[events.ExtTraceParent] != tp {
			t.Errorf("refusal logged without the client's traceparent: %s", line)
		}
	}
	if !refused["re"] || !refused["bad"] || len(refused) != 2 {
		t.Errorf("refusals logged for %v, want re and bad:\n%s", refused, logs.String())
	}
}

// TestRefusalLogIsBounded: a refusal's log line quotes the event's batchid
// cut as an error quotes a value: a 100,000-byte batchid (an invalid one,
// refused) was logged whole, and an unknown 100,000-byte field name
// twice in the error.
func TestRefusalLogIsBounded(t *testing.T) {
	var logs logtest.Buffer
	srv, _ := newServer(t, ingress.Options{Log: zerolog.New(&logs)})
	long := strings.Repeat("x", 100_000)
	data, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 2})
	e := submitted(t, data, "e1")
	e.SetExtension(events.ExtBatchID, long)
	unknown := bytes.Replace(data, []byte(`{`), []byte(`{"`+long+`": 1, `), 1)
	for _, req := range []*http.Request{ceRequest(t, srv.URL+"/", e, false), plain(t, srv.URL+"/batches", unknown)} {
		if code, _, body := post(t, req); code != http.StatusBadRequest {
			t.Fatalf("%d %.200s, want 400", code, body)
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2 refusals", len(lines))
	}
	for _, line := range lines {
		if len(line) > 2000 || !strings.Contains(line, "batch not accepted") {
			t.Errorf("refusal logged in %d bytes, want under 2,000: %.300s", len(line), line)
		}
	}
}

// TestAcceptedLogGivesSeconds: "batch accepted" gives the time ingress
// took in seconds, under a name that says so, as the aggregator's "batch
// finished" does: it gave zerolog's Dur, milliseconds, as "took", so a
// batch accepted in 2.6 ms read as 2.6 (seconds?) beside "seconds":0.08.
func TestAcceptedLogGivesSeconds(t *testing.T) {
	var logs logtest.Buffer
	var mu sync.Mutex
	clock := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	opt := ingress.Options{
		Log:    zerolog.New(&logs),
		Sender: &fakeSender{},
		Store:  store.NewMem(store.MemOptions{}),
		Now: func() time.Time { // each read 250 ms after the last
			mu.Lock()
			defer mu.Unlock()
			clock = clock.Add(250 * time.Millisecond)
			return clock
		},
	}
	srv := httptest.NewServer(ingress.New(opt).Routes(nil))
	defer srv.Close()
	data, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 3, ID: "timed"})
	if code, _, body := post(t, plain(t, srv.URL+"/batches", data)); code != http.StatusAccepted {
		t.Fatalf("%d %s, want 202", code, body)
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if entry["message"] != "batch accepted" {
			continue
		}
		secs, ok := entry["seconds"].(float64)
		if _, took := entry["took"]; took || !ok || secs < 0.5 || secs > 30 || secs != math.Trunc(secs*4)/4 {
			t.Errorf("batch accepted logged %s, want its time in seconds (a multiple of the clock's 0.25 s steps) as \"seconds\"", line)
		}
		return
	}
	t.Fatalf("no \"batch accepted\" line:\n%s", logs.String())
}

// faultyStore is a Store whose Claim, or Put, fails as a Redis that went
// away does.
type faultyStore struct {
	store.Store
	claim, put bool
}

var errStoreDown = errors.New("redisstore: dial tcp 10.0.0.7:6379: connect: connection refused")

func (s faultyStore) Claim(ctx context.Context, b store.Batch) (store.Claim, error) {
	if s.claim {
		return store.Claim{}, errStoreDown
	}
	return s.Store.Claim(ctx, b)
}

func (s faultyStore) Put(ctx context.Context, ref store.Ref, digest string, attempt int, c store.Chunk) (store.Update, error) {
	if s.put {
		return store.Update{}, errStoreDown
	}
	return s.Store.Put(ctx, ref, digest, attempt, c)
}

// TestStoreFaultLogCarriesTrace: the store failing a batch's claim, or
// the record of a chunk the broker did not take, is logged with the
// batch's id and the trace the client sent, as every log line about a
// batch is.
func TestStoreFaultLogCarriesTrace(t *testing.T) {
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for name, st := range map[string]faultyStore{
		"claim": {Store: store.NewMem(store.MemOptions{}), claim: true},
		"put":   {Store: store.NewMem(store.MemOptions{}), put: true},
	} {
		var logs logtest.Buffer
		srv, s := newServer(t, ingress.Options{Store: st, Log: zerolog.New(&logs)})
		s.failType = events.TypeChunkRequested // the broker takes no chunk
		data, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 3, ID: "b1"})
		req := plain(t, srv.URL+"/batches", data)
		req.Header.Set("traceparent", tp)
		if code, _, body := post(t, req); code != http.StatusServiceUnavailable {
			t.Fatalf("%s: %d %s, want a 503", name, code, body)
		}
		faults := 0
		for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var entry map[string]any
			if json.Unmarshal([]byte(line), &entry) != nil || entry["level"] != "error" {
				continue
			}
			faults++
			if entry["batchid"] != "b1" || entry[events.ExtTraceParent] != tp {
				t.Errorf("%s: logged %s, want with batchid b1 and traceparent %s", name, line, tp)
			}
		}
		if faults == 0 {
			t.Errorf("%s: the store's fault not logged:\n%s", name, logs.String())
		}
	}
}

// TestValQueryRefusalQuotesCut: a metric or numTrades /valQuery cannot
// read is quoted cut to 200 bytes (host.Short) in the 400, as an error
// quotes a value: a 100,000-byte one came back whole.
func TestValQueryRefusalQuotesCut(t *testing.T) {
	srv, _ := newServer(t, ingress.Options{})
	long := strings.Repeat("z", 100_000)
	for _, query := range []string{"metric=" + long, "metric=NPV&numTrades=" + long} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/valQuery?"+query, nil)
		if code, _, body := post(t, req); code != http.StatusBadRequest || len(body) > 1000 || !strings.Contains(body, "zzz") {
			t.Errorf("%.30s...: %d, %d bytes: %.200s; want a 400 under 1,000 bytes quoting the start", query, code, len(body), body)
		}
	}
}

// TestDefaultDeadlineAtMostADay: the deadline a batch gets from its
// estimated cost is at most MaxDeadline, the longest it may ask for
// itself. Two Asians of 2.5e9 path steps (24 s each) under 1,000
// scenarios are estimated at 13 hours, and got 26.5.
func TestDefaultDeadlineAtMostADay(t *testing.T) {
	st := store.NewMem(store.MemOptions{})
	srv, _ := newServer(t, ingress.Options{Store: st})
	data, err := batch.Sample(batch.SampleSpec{Type: "asian-arithmetic", N: 2, Scenarios: 1000, ID: "costly"})
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	fixings := make([]string, 250)
	for i := range fixings {
		fixings[i] = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format(time.DateOnly)
	}
	for _, tr := range doc["trades"].([]any) {
		tr.(map[string]any)["paths"] = 10_000_000
		tr.(map[string]any)["fixings"] = fixings
		tr.(map[string]any)["expiry"] = fixings[len(fixings)-1]
	}
	data, _ = json.Marshal(doc)
	if code, _, body := post(t, plain(t, srv.URL+"/batches", data)); code != http.StatusAccepted {
		t.Fatalf("%d %s", code, body)
	}
	sum, err := st.Summary(context.Background(), store.RefOf("costly"))
	if err != nil || sum.Deadline.Sub(sum.SubmittedAt) != ingress.MaxDeadline {
		t.Errorf("deadline %v after submission, want %v (%v)", sum.Deadline.Sub(sum.SubmittedAt), ingress.MaxDeadline, err)
	}
	for _, c := range []struct {
		costNS float64
		want   time.Duration
	}{
		{0, ingress.DeadlineBase},
		{float64(time.Minute), ingress.DeadlineBase + 2*time.Minute},
		{float64(13 * time.Hour), ingress.MaxDeadline},
		{1e20, ingress.MaxDeadline}, // past a time.Duration
		{math.Inf(1), ingress.MaxDeadline},
		{math.NaN(), ingress.MaxDeadline},
	} {
		if got := ingress.DefaultDeadline(c.costNS); got != c.want {
			t.Errorf("DefaultDeadline(%g) = %v, want %v", c.costNS, got, c.want)
		}
	}
}

// TestBatchOverChunkLimit: a batch whose plan needs more chunks than
// batch.ChunkOptions.MaxChunks is a 413 saying so, nothing claimed or
// sent: 10 million chunks of a 1.6 MB risk run (1,000 costly Asians under
// 10,000 scenarios) would take some 12 GB of ingress's memory.
func TestBatchOverChunkLimit(t *testing.T) {
	st := store.NewMem(store.MemOptions{})
	srv, s := newServer(t, ingress.Options{Store: st, Chunk: batch.ChunkOptions{TargetCost: 1e6, MaxChunks: 100}})
	// 20 Asians of over 1 ms each under 10 scenarios: 220 chunks.
	data, _ := batch.Sample(batch.SampleSpec{Type: "asian-arithmetic", N: 20, Scenarios: 10, ID: "many"})
	code, hdr, body := post(t, plain(t, srv.URL+"/batches", data))
	if code != http.StatusRequestEntityTooLarge || hdr.Get("Retry-After") != "" || !strings.Contains(body, "batch many needs more than 100 chunks of pricing (its trades' cost under its scenarios): split it into smaller batches (fewer trades or scenarios)") {
		t.Errorf("220 chunks against a bound of 100: %d %v %s, want a 413 saying so", code, hdr, body)
	}
	// 120 Asians and no scenarios: 120 chunks, and a message of trades alone.
	data, _ = batch.Sample(batch.SampleSpec{Type: "asian-arithmetic", N: 120, ID: "plain"})
	code, _, body = post(t, plain(t, srv.URL+"/batches", data))
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "batch plain needs more than 100 chunks of pricing (its trades' cost): split it into smaller batches (fewer trades)") {
		t.Errorf("120 chunks of a batch without scenarios against a bound of 100: %d %s, want a 413 naming its trades alone", code, body)
	}
	if n := len(s.events()); n != 0 {
		t.Errorf("%d events sent for a refused batch", n)
	}
	if _, err := st.Summary(context.Background(), store.RefOf("many")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused batch claimed: %v", err)
	}
	// 8 of them under 10 scenarios: 88 chunks.
	data, _ = batch.Sample(batch.SampleSpec{Type: "asian-arithmetic", N: 8, Scenarios: 10})
	if code, _, body := post(t, plain(t, srv.URL+"/batches", data)); code != http.StatusAccepted || !strings.Contains(body, `"chunks":88`) {
		t.Errorf("88 chunks against a bound of 100: %d %s", code, body)
	}
}

// TestDefaultDeadlineCountsCurveBuild: a batch's default deadline counts
// the build of its bootstrapped curves, once: a FRA on a curve of 60
// deposits gets twice their estimate (60 x (2 discount factors at 300 ns
// and 3 µs)) more than the same FRA on a flat curve. It got the same, as
// if the build were free: a few trades on a 1,000-instrument curve were
// given the deadline of a few trades.
func TestDefaultDeadlineCountsCurveBuild(t *testing.T) {
	srv, s := newServer(t, ingress.Options{})
	deposits := make([]string, 60)
	for i := range deposits {
		deposits[i] = fmt.Sprintf(`{"type": "deposit", "tenor": "%dD", "rate": 0.02}`, i+1)
	}
	deadline := func(id, curve string) time.Duration {
		t.Helper()
		doc := `{"id": "` + id + `", "valuationDate": "2026-11-25", "market": {"curves": {"B": ` + curve + `}}, "trades": [
		{"id": "F", "type": "fra", "curve": "B", "notional": 1, "rate": 0.02, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}]}`
		if code, _, body := post(t, plain(t, srv.URL+"/batches", []byte(doc))); code != http.StatusAccepted {
			t.Fatalf("%s: %d %s", id, code, body)
		}
		// The batch.accepted event's times, to the nanosecond (a store
		// keeps the deadline to the millisecond).
		for _, e := range s.events() {
			if e.Type() == events.TypeBatchAccepted && events.BatchID(e) == id {
				a, err := events.Decode[events.BatchAccepted](e, events.TypeBatchAccepted)
				if err != nil {
					t.Fatal(err)
				}
				return a.Deadline.Sub(a.SubmittedAt)
			}
		}
		t.Fatalf("%s: no batch.accepted sent", id)
		return 0
	}
	flat := deadline("flat", `{"rate": 0.02}`)
	boot := deadline("boot", `{"bootstrap": [`+strings.Join(deposits, ", ")+`]}`)
	if want := 2 * 60 * (2*300 + 3000) * time.Nanosecond; boot-flat != want {
		t.Errorf("deadline on the bootstrapped curve %v, on the flat one %v: %v more, want %v", boot, flat, boot-flat, want)
	}
}

// TestConflictOfEventIDSaysSendANewEvent: a batch without an id takes
// its id from its event's source and id, so other content sent again
// under the same event is a 409 that says to send a new event. It said
// "submit it under another id (or without one)", which the client had
// done.
func TestConflictOfEventIDSaysSendANewEvent(t *testing.T) {
	srv, _ := newServer(t, ingress.Options{})
	data, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 3})
	other, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 4})
	if code, _, body := post(t, ceRequest(t, srv.URL+"/batches", submitted(t, data, "e1"), false)); code != http.StatusAccepted {
		t.Fatalf("first event: %d %s", code, body)
	}
	code, _, body := post(t, ceRequest(t, srv.URL+"/batches", submitted(t, other, "e1"), false))
	var e struct{ Error string }
	if code != http.StatusConflict || json.Unmarshal([]byte(body), &e) != nil {
		t.Fatalf("other content under the same event: %d %s, want a 409", code, body)
	}
	if !strings.Contains(e.Error, `source "/client" and id "e1"`) || !strings.Contains(e.Error, "new event") || strings.Contains(e.Error, "without one") {
		t.Errorf("409 says %q, want it to name the event and ask for a new one", e.Error)
	}
}

// TestTradeMarketNameOfWrongTypeFailsTradeAlone: a trade whose underlying
// is not a string names no market data, so the batch is accepted and
// only that trade fails, as one of a wrong-typed strike does. It was a
// 400 for the whole batch.
func TestTradeMarketNameOfWrongTypeFailsTradeAlone(t *testing.T) {
	srv, s := newServer(t, ingress.Options{})
	doc := []byte(`{"valuationDate": "2026-11-25", "market": {"curves": {"USD": {"rate": 0.05}}, "underlyings": {"ACME": {"spot": 100, "vol": 0.25, "curve": "USD"}}}, "trades": [
	{"id": "T1", "type": "european", "underlying": 5, "right": "call", "strike": 100, "expiry": "2027-11-25"},
	{"id": "T2", "type": "european", "underlying": "ACME", "right": "call", "strike": 100, "expiry": "2027-11-25"}]}`)
	code, _, body := post(t, plain(t, srv.URL+"/batches", doc))
	var rc struct{ Trades int }
	if code != http.StatusAccepted || json.Unmarshal([]byte(body), &rc) != nil || rc.Trades != 2 {
		t.Fatalf("%d %s, want 202 for 2 trades", code, body)
	}
	if n := len(s.events()); n != 2 {
		t.Errorf("%d events sent, want batch.accepted and one chunk", n)
	}
}

// TestRefusalNamesNoMadeUpID: a batch refused before its id is claimed
// is named by an id the client knows (the document's), and not by one
// ingress made up for a batch that has none: "ingress: batch b-fresh:
// batch: measures[0]: ..." named a batch no one could look up.
func TestRefusalNamesNoMadeUpID(t *testing.T) {
	srv, _ := newServer(t, ingress.Options{Limits: store.Limits{MaxTrades: 2}})
	europeans, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 3})
	own, _ := batch.Sample(batch.SampleSpec{Type: "european", N: 3, ID: "mine"})
	for _, c := range []struct {
		name string
		doc  []byte
		code int
		want string
	}{
		{"unknown measure", []byte(`{"valuationDate":"2026-11-25","measures":["npvv"],"trades":[]}`), http.StatusBadRequest, `ingress: batch: measures[0]: unknown measure "npvv"`},
		{"measure twice", []byte(`{"valuationDate":"2026-11-25","measures":["delta","delta"],"trades":[]}`), http.StatusBadRequest, `ingress: batch: measures[1]: measure "delta" given twice (also measures[0])`},
		{"unknown underlying", []byte(`{"valuationDate":"2026-11-25","trades":[{"id":"T1","type":"european","underlying":"X"}]}`), http.StatusBadRequest, `ingress: batch: trades[0].underlying: trade "T1" names unknown underlying "X"`},
		{"over the tenant's trades", europeans, http.StatusRequestEntityTooLarge, "ingress: the batch has 3 trades, more than its tenant may have in flight (2)"},
		{"its own id", own, http.StatusRequestEntityTooLarge, "ingress: batch mine has 3 trades"},
	} {
		code, _, body := post(t, plain(t, srv.URL+"/batches", c.doc))
		var e struct{ Error string }
		if code != c.code || json.Unmarshal([]byte(body), &e) != nil || !strings.HasPrefix(e.Error, c.want) || strings.Contains(e.Error, "b-fresh") {
			t.Errorf("%s: %d %s, want %d starting %q", c.name, code, body, c.code, c.want)
		}
	}
}

// TestSubmitBuildsOnlyUsedCurves: ingress checks and plans a batch
// building only the bootstrapped curves some trade uses, directly or
// through its underlying: of U (a FRA's), E (an underlying's, of a
// European), and N and broken X (no trade's), it builds U and E, and the
// batch is accepted, X's fault failing nothing. It built all four: a few
// MB of curves no trade names held ingress's CPU for minutes.
func TestSubmitBuildsOnlyUsedCurves(t *testing.T) {
	curves := batch.NewCurveCache(0)
	srv, _ := newServer(t, ingress.Options{Curves: curves})
	deposits := func(rate string) string {
		return `{"bootstrap": [{"type": "deposit", "tenor": "3M", "rate": ` + rate + `}, {"type": "deposit", "tenor": "1Y", "rate": 0.021}]}`
	}
	broken := `{"bootstrap": [{"type": "deposit", "tenor": "3M", "rate": 0.02}, {"type": "deposit", "tenor": "3M", "rate": 0.021}]}`
	doc := `{"id": "used", "valuationDate": "2026-11-25", "market": {
		"curves": {"U": ` + deposits("0.02") + `, "E": ` + deposits("0.03") + `, "N": ` + deposits("0.04") + `, "X": ` + broken + `},
		"underlyings": {"S": {"spot": 100, "vol": 0.2, "curve": "E"}, "T": {"spot": 100, "vol": 0.2, "curve": "N"}}},
		"trades": [
		{"id": "F", "type": "fra", "curve": "U", "notional": 1, "rate": 0.02, "start": "2027-05-25", "end": "2027-11-25", "position": "long"},
		{"id": "O", "type": "european", "underlying": "S", "right": "call", "strike": 100, "expiry": "2027-11-25"}]}`
	if code, _, body := post(t, plain(t, srv.URL+"/batches", []byte(doc))); code != http.StatusAccepted {
		t.Fatalf("%d %s", code, body)
	}
	if n := curves.Builds(); n != 2 {
		t.Errorf("ingress built %d curves, want 2 (U and E)", n)
	}
}

// TestBatchOverBootstrapBound: a batch whose trades use bootstrapped
// curves of more instruments in all than Options.MaxBootstrapInstruments
// is a 413 naming the count, the limit and how to split, with no curve
// built and nothing sent; within it, accepted. It was accepted however
// many: ingress built them all in the request, minutes of CPU.
func TestBatchOverBootstrapBound(t *testing.T) {
	curves := batch.NewCurveCache(0)
	srv, s := newServer(t, ingress.Options{Curves: curves, MaxBootstrapInstruments: 100})
	deposits := make([]string, 60)
	for i := range deposits {
		deposits[i] = fmt.Sprintf(`{"type": "deposit", "tenor": "%dD", "rate": 0.02}`, i+1)
	}
	curve := `{"bootstrap": [` + strings.Join(deposits, ", ") + `]}`
	doc := func(id, second string) []byte {
		return []byte(`{"id": "` + id + `", "valuationDate": "2026-11-25", "market": {"curves": {"A": ` + curve + `, "B": ` + curve + `}}, "trades": [
		{"id": "F1", "type": "fra", "curve": "A", "notional": 1, "rate": 0.02, "start": "2027-05-25", "end": "2027-11-25", "position": "long"},
		{"id": "F2", "type": "fra", "curve": "` + second + `", "notional": 1, "rate": 0.02, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}]}`)
	}
	code, hdr, body := post(t, plain(t, srv.URL+"/batches", doc("big", "B")))
	if code != http.StatusRequestEntityTooLarge || hdr.Get("Retry-After") != "" || !strings.Contains(body,
		"batch big: batch: market.curves: the curves its trades use list 120 bootstrap instruments in all, more than the limit of 100 for one batch (each curve is built to check and plan it): split its trades into batches on fewer of the curves") {
		t.Errorf("120 instruments against a bound of 100: %d %v %s, want a 413 saying so", code, hdr, body)
	}
	if n, b := len(s.events()), curves.Builds(); n != 0 || b != 0 {
		t.Errorf("%d events sent and %d curves built for a refused batch", n, b)
	}
	// Without an id of its own, the refusal names no made-up one.
	noID := bytes.Replace(doc("x", "B"), []byte(`"id": "x", `), nil, 1)
	if code, _, body := post(t, plain(t, srv.URL+"/batches", noID)); code != http.StatusRequestEntityTooLarge || !strings.Contains(body, `"ingress: batch: market.curves: the curves its trades use list 120`) {
		t.Errorf("without an id: %d %s", code, body)
	}
	if code, _, body := post(t, plain(t, srv.URL+"/batches", doc("small", "A"))); code != http.StatusAccepted {
		t.Errorf("60 instruments (B unused) against a bound of 100: %d %s", code, body)
	}
}
