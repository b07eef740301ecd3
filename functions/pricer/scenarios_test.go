package pricer_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/functions/pricer"
	"github.com/pricefn/pricefn/metricstest"
)

// scenarioChunkEvent is a scenario chunk: chunkBatch's trades in two
// scenarios placed by block (the chunk.requested "scenarios" member).
func scenarioChunkEvent(t *testing.T, block string) event.Event {
	t.Helper()
	b := strings.TrimSuffix(strings.TrimSpace(chunkBatch), "}") +
		`,"scenarios":[{"id":"up","underlyings":{"ACME":{"spotRel":0.1}}},{"id":"zero"}]}`
	data := `{"batchId":"b1","index":0,"chunks":5,"offset":0,"batch":` + b + `,"requestedAt":"2026-11-25T09:00:00Z","scenarios":` + block + `}`
	e := cloudevents.NewEvent()
	e.SetType(events.TypeChunkRequested)
	e.SetSource("/test")
	e.SetID("b1/chunk/0")
	e.SetExtension(events.ExtBatchID, "b1")
	if err := e.SetData(cloudevents.ApplicationJSON, []byte(data)); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestHandleScenarioChunk: a scenario chunk's reply carries no trade
// results but the chunk's exact sums per scenario, placed in the batch,
// with its risk request; a block that does not fit is a 400.
func TestHandleScenarioChunk(t *testing.T) {
	f := pricer.New(pricer.Options{Name: "p1"})
	reply, err := f.Handle(context.Background(), scenarioChunkEvent(t, `{"offset":3,"of":10,"risk":{"var":[0.9]}}`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := events.Decode[events.ChunkPriced](*reply, events.TypeChunkPriced)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Scenarios
	if rs, err := c.DecodeResults(); err != nil || len(rs) != 0 || p == nil || p.Offset != 3 || p.Of != 10 || len(p.Scenarios) != 2 || p.Risk == nil || p.Risk.VaR[0].Text != "0.9" {
		t.Fatalf("reply %+v, sums %+v", c, p)
	}
	up, zero := p.Scenarios[0], p.Scenarios[1]
	// T1 prices; T2 (bad strike) and T3 (unknown type) fail everywhere.
	if up.ID != "up" || up.Failed != 2 || up.PnL.Value() <= 0 || up.ByUnderlying["ACME"].Value() != up.PnL.Value() {
		t.Errorf("up: %+v", up)
	}
	if zero.ID != "zero" || zero.Failed != 2 || zero.PnL.Value() != 0 || zero.NPV.Value() <= 0 {
		t.Errorf("zero: %+v", zero)
	}
	for name, block := range map[string]string{
		"past the end":    `{"offset":9,"of":10}`,
		"negative offset": `{"offset":-1,"of":10}`,
		"too many":        `{"offset":0,"of":10001}`,
	} {
		_, err := f.Handle(context.Background(), scenarioChunkEvent(t, block))
		if host.Status(err) != http.StatusBadRequest {
			t.Errorf("%s: %v, want a 400", name, err)
		}
	}
}

// TestScenarioWorkCounted: a risk run's valuations (a trade in a
// scenario) are counted by trade type, and their time: the pricing-cost
// dashboard read a pricer busy with a risk run as idle, its only per-type
// counts the base market's.
func TestScenarioWorkCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := pricer.New(pricer.Options{Name: "p1", Registerer: reg})
	if _, err := f.Handle(context.Background(), scenarioChunkEvent(t, `{"offset":0,"of":2}`)); err != nil {
		t.Fatal(err)
	}
	value := func(name string, labels map[string]string) float64 {
		t.Helper()
		v, ok, err := metricstest.Value(reg, name, labels)
		if err != nil || !ok {
			t.Fatalf("%s%v: %v (present %v)", name, labels, err, ok)
		}
		return v
	}
	// T1 and T2 are Europeans, T3 of a type this build does not know:
	// each valued (or failed) in 2 scenarios.
	if v := value("pricefn_pricer_scenario_valuations_total", map[string]string{"type": "european"}); v != 4 {
		t.Errorf("european valuations %v, want 4", v)
	}
	if v := value("pricefn_pricer_scenario_valuations_total", map[string]string{"type": "other"}); v != 2 {
		t.Errorf("other valuations %v, want 2", v)
	}
	if v := value("pricefn_pricer_scenario_seconds_total", nil); v <= 0 {
		t.Errorf("scenario seconds %v, want some", v)
	}
	if v := value("pricefn_pricer_trades_total", map[string]string{"type": "european", "outcome": "priced"}); v != 0 {
		t.Errorf("a scenario chunk counted %v trades priced in the base market", v)
	}
}
