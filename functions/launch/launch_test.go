package launch_test

import (
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/config"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/functions/ingress"
	"github.com/pricefn/pricefn/functions/launch"
	"github.com/pricefn/pricefn/store"
)

// TestMemStoreBytes: an in-memory store keeps a third of the heap's soft
// limit (dev's default 768 MiB: 256 MiB, a 1M-trade batch's results), so
// that a full store does not hold the heap at its limit.
func TestMemStoreBytes(t *testing.T) {
	for _, c := range []struct{ limit, want int64 }{
		{768 << 20, 256 << 20},
		{math.MaxInt64, store.DefaultMaxBytes},
		{0, store.DefaultMaxBytes},
		{30 << 20, 16 << 20},
	} {
		if got := launch.MemStoreBytes(c.limit); got != c.want {
			t.Errorf("MemStoreBytes(%d) = %d, want %d", c.limit, got, c.want)
		}
	}
}

// TestIngressOptionsBoundBootstrap: --max-bootstrap-instruments reaches
// ingress, 0 (no bound) included.
func TestIngressOptionsBoundBootstrap(t *testing.T) {
	for _, n := range []int{500, 0} {
		opt := launch.IngressOptions(config.Ingress{Split: config.Split{MaxBootstrapInstruments: n}}, zerolog.Nop(), nil, nil, nil)
		if opt.MaxBootstrapInstruments != n {
			t.Errorf("--max-bootstrap-instruments %d: ingress bounds %d", n, opt.MaxBootstrapInstruments)
		}
	}
}

// TestIngressKeepsItsCurves: the ingress of "pricefn ingress" (Knative)
// keeps the bootstrapped curves it builds to check and plan a batch: the
// same batch sent again (its answer lost), over HTTP, finds its curve
// built, and so does another batch on the same curve. It had no cache:
// each submission built its curves again before its duplicate was
// noticed.
func TestIngressKeepsItsCurves(t *testing.T) {
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	t.Cleanup(sink.Close)
	opt := launch.IngressOptions(config.Ingress{}, zerolog.Nop(), nil, host.NewSender(sink.URL, host.SenderOptions{}), store.NewMem(store.MemOptions{}))
	if opt.Curves == nil {
		t.Fatal("pricefn ingress keeps no curves")
	}
	srv := httptest.NewServer(ingress.New(opt).Routes(nil))
	t.Cleanup(srv.Close)
	doc := func(id string) string {
		return `{"id": "` + id + `", "valuationDate": "2026-11-25", "market": {"curves": {"U": {"bootstrap": [
			{"type": "deposit", "tenor": "3M", "rate": 0.02}, {"type": "deposit", "tenor": "1Y", "rate": 0.021}]}}},
			"trades": [{"id": "F", "type": "fra", "curve": "U", "notional": 1, "rate": 0.02, "start": "2027-05-25", "end": "2027-11-25", "position": "long"}]}`
	}
	for _, id := range []string{"b1", "b1", "b2"} {
		resp, err := http.Post(srv.URL+"/batches", "application/json", strings.NewReader(doc(id)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
			t.Fatalf("batch %s: %s", id, resp.Status)
		}
	}
	if b, r := opt.Curves.Builds(), opt.Curves.Reuses(); b != 1 || r != 2 {
		t.Errorf("three submissions on one curve: %d builds and %d reuses, want 1 and 2", b, r)
	}
}
