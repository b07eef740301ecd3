package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/auth"
	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/pricing"
)

const (
	alphaToken  = "alpha-token-0123456789"
	alphaReader = "alpha-reader-0123456789"
	betaToken   = "beta-token-0123456789"
	eventKey    = "event-key-0123456789-0123456789-0123456789"
)

// capture records the chunk.priced events delivered to the aggregator.
type capture struct {
	mu     sync.Mutex
	priced []event.Event
}

func (c *capture) middleware(_ int, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.Header.Get("ce-type") == events.TypeChunkPriced {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			msg := cehttp.NewMessage(r.Header.Clone(), io.NopCloser(bytes.NewReader(body)))
			if e, err := binding.ToEvent(context.Background(), msg); err == nil {
				c.mu.Lock()
				c.priced = append(c.priced, *e)
				c.mu.Unlock()
			}
		}
		h.ServeHTTP(w, r)
	})
}

func (c *capture) first(t *testing.T, batchID string) event.Event {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.priced {
		if events.BatchID(e) == batchID {
			return e.Clone()
		}
	}
	t.Fatalf("no chunk.priced of %s captured", batchID)
	return event.Event{}
}

func securePipeline(t *testing.T) (*pipeline, *capture) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "tokens")
	os.WriteFile(file, []byte("# tenants\n"+alphaToken+" alpha\n"+alphaReader+" alpha read\n"+betaToken+" beta submit,read\n"), 0o600)
	tokens, err := auth.LoadTokens(file, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &capture{}
	p := startPipeline(t, pipelineOptions{
		chunk:                batch.ChunkOptions{TargetCost: 2e6, MaxTrades: 17},
		guard:                auth.NewGuard(auth.NewKeys(eventKey), tokens, zerolog.Nop(), nil),
		aggregatorMiddleware: c.middleware,
	})
	return p, c
}

// request sends method url with token ("" for none) and body.
func request(t *testing.T, method, url, token string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, data
}

// postEvent posts e in binary mode to url.
func postEvent(t *testing.T, url string, e event.Event) int {
	t.Helper()
	req, err := cehttp.NewHTTPRequestFromEvent(context.Background(), url, e)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := do(t, req)
	return code
}

// TestForgedEventsChangeNothing: as an attacker would, post forged
// chunk.priced, batch.accepted, batch.completed and dead letters to every
// process, unsigned, signed with a wrong key, and replayed from another
// batch: none is taken, and the victim's results equal pricefn price's.
func TestForgedEventsChangeNothing(t *testing.T) {
	p, c := securePipeline(t)
	victim, other := testBatch(t, "victim"), testBatch(t, "other")
	for _, data := range [][]byte{other, victim} {
		code, _, body := request(t, http.MethodPost, p.ingress.URL+"/batches", alphaToken, data)
		if code != http.StatusAccepted {
			t.Fatalf("submit: %d %s", code, body)
		}
	}
	resultsOf := func(id string) []byte {
		code, _, body := request(t, http.MethodGet, p.aggregator.URL+"/batches/"+id+"/results?wait=60s", alphaToken, nil)
		if code != http.StatusOK {
			t.Fatalf("results of %s: %d %s", id, code, body)
		}
		return body
	}
	resultsOf("other")
	before := resultsOf("victim")
	if !bytes.Equal(before, want(t, victim, "victim")) {
		t.Fatal("victim's results differ from pricefn price before the attack")
	}

	// A forged chunk.priced for the victim's chunk 0: npv 999999.
	genuine := c.first(t, "victim")
	var cp events.ChunkPriced
	if err := json.Unmarshal(genuine.Data(), &cp); err != nil {
		t.Fatal(err)
	}
	rs, err := cp.DecodeResults()
	if err != nil {
		t.Fatal(err)
	}
	for i := range rs {
		rs[i] = batch.TradeResult{ID: rs[i].ID}
		rs[i].SetValue(pricing.NPV, 999999)
	}
	if err := cp.SetResults(rs, nil); err != nil {
		t.Fatal(err)
	}
	forged := genuine.Clone()
	forged.SetID("forged-1")
	forged.SetData("application/json", cp)
	unsigned := forged.Clone()
	unsigned.SetExtension(auth.ExtSignature, nil)
	wrongKey := forged.Clone()
	auth.NewKeys("not-the-key-0123456789-0123456789-01").Sign(&wrongKey)
	// A genuine event of another batch, relabelled as the victim's.
	replayed := c.first(t, "other")
	replayed.SetExtension(events.ExtBatchID, "victim")
	// A forged dead letter and batch.accepted and batch.completed.
	dead := genuine.Clone()
	dead.SetType(events.TypeChunkRequested)
	dead.SetID("forged-dead")
	dead.SetExtension("knativeerrorcode", "500")
	dead.SetExtension("knativeerrordata", "attacker text")
	auth.NewKeys("not-the-key-0123456789-0123456789-01").Sign(&dead)
	accepted, _ := events.New(events.TypeBatchAccepted, "/evil", "victim/accepted", "victim", events.BatchAccepted{BatchID: "victim", Attempt: 1, Trades: 1, ChunkOffsets: []int{0}})
	completed, _ := events.New(events.TypeBatchCompleted, "/evil", "victim/completed", "victim", events.BatchCompleted{BatchID: "victim", State: "completed"})

	targets := map[string]string{
		"aggregator":  p.aggregator.URL + "/",
		"dead-letter": p.aggregator.URL + "/dead-letter",
		"pricer":      p.pricer.URL + "/",
		"ingress":     p.ingress.URL + "/",
	}
	for name, e := range map[string]event.Event{"unsigned": unsigned, "wrong key": wrongKey, "replayed": replayed,
		"dead letter": dead, "accepted": accepted, "completed": completed} {
		for where, url := range targets {
			if code := postEvent(t, url, e); code != http.StatusForbidden && code != http.StatusBadRequest {
				t.Errorf("%s event to %s: %d, want 403", name, where, code)
			}
		}
		// Through the broker: delivered, refused (not retried), dead-lettered, refused again.
		postEvent(t, p.broker.URL+"/", e)
	}
	// A genuine event replayed as it is: a duplicate, ignored.
	if code := postEvent(t, p.aggregator.URL+"/", genuine); code != http.StatusAccepted {
		t.Errorf("genuine event replayed: %d, want 202 (a duplicate)", code)
	}
	time.Sleep(100 * time.Millisecond) // the broker's deliveries of the forgeries
	if after := resultsOf("victim"); !bytes.Equal(after, before) {
		t.Fatalf("the victim's results changed:\n%.400s", after)
	}
	code, _, body := request(t, http.MethodGet, p.aggregator.URL+"/batches/victim", alphaToken, nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"state":"completed"`) || strings.Contains(string(body), "attacker") {
		t.Errorf("victim's status: %d %s", code, body)
	}
}

// TestTenantsAndTokens: no token is a 401 with WWW-Authenticate, a token
// without the scope a 403, another tenant's batch a 404 that leaks
// nothing; two tenants use the same id without meeting.
func TestTenantsAndTokens(t *testing.T) {
	p, _ := securePipeline(t)
	data := testBatch(t, "shared-id")
	if code, _, body := request(t, http.MethodPost, p.ingress.URL+"/batches", alphaToken, data); code != http.StatusAccepted {
		t.Fatalf("alpha submits: %d %s", code, body)
	}
	results := p.aggregator.URL + "/batches/shared-id/results?wait=60s"
	if code, _, body := request(t, http.MethodGet, results, alphaReader, nil); code != http.StatusOK || !bytes.Equal(body, want(t, data, "shared-id")) {
		t.Fatalf("alpha's reader: %d %.200s", code, body)
	}
	for _, c := range []struct {
		name, method, url, token string
		body                     []byte
		code                     int
	}{
		{"no token", http.MethodGet, results, "", nil, http.StatusUnauthorized},
		{"unknown token", http.MethodGet, results, "nope-0123456789abcdef", nil, http.StatusUnauthorized},
		{"submit without token", http.MethodPost, p.ingress.URL + "/batches", "", data, http.StatusUnauthorized},
		{"reader submits", http.MethodPost, p.ingress.URL + "/batches", alphaReader, data, http.StatusForbidden},
		{"valQuery without token", http.MethodGet, p.ingress.URL + "/valQuery?metric=NPV", "", nil, http.StatusUnauthorized},
		{"another tenant's batch", http.MethodGet, results, betaToken, nil, http.StatusNotFound},
		{"another tenant's status", http.MethodGet, p.aggregator.URL + "/batches/shared-id", betaToken, nil, http.StatusNotFound},
	} {
		code, hdr, body := request(t, c.method, c.url, c.token, c.body)
		if code != c.code {
			t.Errorf("%s: %d %s, want %d", c.name, code, body, c.code)
		}
		if code == http.StatusUnauthorized && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: WWW-Authenticate %q", c.name, hdr.Get("WWW-Authenticate"))
		}
		if bytes.Contains(body, []byte(`"npv"`)) || bytes.Contains(body, []byte("E0")) {
			t.Errorf("%s: the answer leaks the batch: %s", c.name, body)
		}
	}
	// Beta's batch under the same id, other content: its own batch.
	other := testBatch(t, "shared-id")
	other = append(other, '\n') // other bytes: another digest
	if code, _, body := request(t, http.MethodPost, p.ingress.URL+"/batches", betaToken, other); code != http.StatusAccepted {
		t.Fatalf("beta submits the same id: %d %s", code, body)
	}
	code, _, body := request(t, http.MethodGet, results, betaToken, nil)
	if code != http.StatusOK || !bytes.Equal(body, want(t, other, "shared-id")) {
		t.Errorf("beta's results: %d %.200s", code, body)
	}
}

// TestTenantsOfOneBatchIDSendDistinctEvents: batch ids are scoped by
// tenant, so two tenants may submit one id, even the same bytes (a shared
// file). Their events must differ in source and id, as CloudEvents wants
// of distinct events: they were "twin/chunk/0" and
// "twin/completed/DIGEST" for both, and a consumer that deduplicates by
// source and id (as batch.completed invites) dropped the second tenant's
// end as a repeat of the first's.
func TestTenantsOfOneBatchIDSendDistinctEvents(t *testing.T) {
	p, c := securePipeline(t)
	data := testBatch(t, "twin")
	for _, token := range []string{alphaToken, betaToken} {
		if code, _, body := request(t, http.MethodPost, p.ingress.URL+"/batches", token, data); code != http.StatusAccepted {
			t.Fatalf("submit: %d %s", code, body)
		}
		if code, _, body := request(t, http.MethodGet, p.aggregator.URL+"/batches/twin/results?wait=60s", token, nil); code != http.StatusOK || !bytes.Equal(body, want(t, data, "twin")) {
			t.Fatalf("results: %d %.200s", code, body)
		}
	}
	type key struct{ source, id string }
	owner := map[key]string{}
	claim := func(e event.Event) {
		t.Helper()
		k, tenant := key{e.Source(), e.ID()}, events.Tenant(e)
		if prev, ok := owner[k]; ok && prev != tenant {
			t.Errorf("%s of tenants %s and %s: one source and id, %s %s", e.Type(), prev, tenant, k.source, k.id)
		}
		owner[k] = tenant
	}
	for range 2 {
		select {
		case e := <-p.completed:
			claim(e)
		case <-time.After(30 * time.Second):
			t.Fatal("two batch.completed not sent within 30 s")
		}
	}
	c.mu.Lock()
	priced := slices.Clone(c.priced)
	c.mu.Unlock()
	for _, e := range priced {
		claim(e)
	}
	tenants := map[string]bool{}
	for _, tenant := range owner {
		tenants[tenant] = true
	}
	if !tenants["alpha"] || !tenants["beta"] {
		t.Errorf("events seen of tenants %v, want alpha's and beta's", tenants)
	}
}
