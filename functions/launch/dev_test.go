package launch_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/api"
	"github.com/pricefn/pricefn/config"
	"github.com/pricefn/pricefn/events/broker"
	"github.com/pricefn/pricefn/functions/aggregator"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/functions/ingress"
	"github.com/pricefn/pricefn/functions/launch"
)

// startEngine serves an Engine as pricefn dev does: the gateway and the
// internal server, the broker delivering over HTTP.
func startEngine(t *testing.T) *httptest.Server {
	t.Helper()
	internal := httptest.NewUnstartedServer(nil)
	reg := prometheus.NewRegistry()
	eng, err := launch.NewEngine(launch.EngineOptions{
		InternalURL: "http://" + internal.Listener.Addr().String(),
		Config:      config.Dev{Split: config.Split{ChunkTrades: 100}},
		Log:         zerolog.Nop(),
		Registerer:  reg,
		Broker: func(c *broker.Config) {
			c.Sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	internal.Config.Handler = eng.Internal
	internal.Start()
	gw := httptest.NewServer(host.New(host.Options{Handler: eng.Gateway, Gatherer: reg}).Handler())
	t.Cleanup(func() {
		eng.Aggregator.Drain()
		gw.Close()
		eng.Broker.Shutdown(context.Background())
		internal.Close()
	})
	return gw
}

func TestGatewayRoutes(t *testing.T) {
	gw := startEngine(t)
	resp, err := http.Get(gw.URL + "/valQuery?metric=OptionPV&numTrades=250")
	if err != nil {
		t.Fatal(err)
	}
	var rc ingress.Receipt
	json.NewDecoder(resp.Body).Decode(&rc)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || rc.Chunks != 3 || resp.Header.Get("Location") != rc.StatusURL {
		t.Fatalf("valQuery: %d %+v", resp.StatusCode, rc)
	}
	resp, err = http.Get(gw.URL + rc.ResultsURL + "?wait=1m")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Count(string(body), `"npv":`) != 250 {
		t.Fatalf("results: %d %.300s", resp.StatusCode, body)
	}
	resp, err = http.Get(gw.URL + rc.StatusURL)
	if err != nil {
		t.Fatal(err)
	}
	var st aggregator.Status
	json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if st.State != api.StateCompleted || st.Priced != 250 || st.Totals.All["npv"] <= 0 {
		t.Fatalf("status %+v", st)
	}
	// The aggregator records the batch latency just after it makes the
	// results visible, so the scrape may need a second look.
	want := []string{"pricefn_ingress_stage_seconds", "pricefn_pricer_chunk_seconds", "pricefn_aggregator_batch_seconds"}
	var missing []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err = http.Get(gw.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		missing = missing[:0]
		for _, m := range want {
			if !strings.Contains(string(body), m) {
				missing = append(missing, m)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(missing) > 0 {
		t.Errorf("/metrics lacks %v", missing)
	}
	// Internal routes are not public.
	resp, err = http.Post(gw.URL+"/dead-letter", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		t.Errorf("gateway serves /dead-letter: %d", resp.StatusCode)
	}
}

// TestGatewayWrongMethodOnBatches: another method than GET, HEAD or POST
// on /batches is a 405 naming them, not a redirect (307) to /batches/,
// where it was a 404 "no such route".
func TestGatewayWrongMethodOnBatches(t *testing.T) {
	gw := startEngine(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, method := range []string{http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(method, gw.URL+"/batches", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD, POST" || !strings.Contains(string(body), "method not allowed") {
			t.Errorf("%s /batches: %d, Allow %q, %s; want 405, Allow GET, HEAD, POST", method, resp.StatusCode, resp.Header.Get("Allow"), body)
		}
	}
}

// TestProfilesOnlyWhenAsked: the internal handler serves pprof when the
// engine is told its internal address is loopback, and not otherwise.
func TestProfilesOnlyWhenAsked(t *testing.T) {
	for _, profiles := range []bool{false, true} {
		eng, err := launch.NewEngine(launch.EngineOptions{InternalURL: "http://127.0.0.1:1", Log: zerolog.Nop(),
			Registerer: prometheus.NewRegistry(), Profiles: profiles})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		eng.Internal.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/pprof/", nil))
		if served := rec.Code == http.StatusOK && strings.Contains(rec.Body.String(), "goroutine"); served != profiles {
			t.Errorf("Profiles %v: GET /debug/pprof/ %d", profiles, rec.Code)
		}
		eng.Broker.Shutdown(context.Background())
	}
}
