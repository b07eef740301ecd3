package pricer

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
)

// processCPU returns the CPU time the process has used.
func processCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestTradeSecondsAreCPU prices a chunk on four workers a core, as two
// chunks at once each on every core do: pricefn_pricer_trade_seconds_total,
// seconds of one core, counts the CPU the pricing took, not each worker's
// wall time (four times as much, the time it waited for a core counted).
func TestTradeSecondsAreCPU(t *testing.T) {
	data, err := batch.Sample(batch.SampleSpec{Type: "asian-arithmetic", N: 240, ID: "b1"})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	f := New(Options{Workers: 4 * runtime.GOMAXPROCS(0), Registerer: reg})
	cpu0 := processCPU(t)
	if _, err := f.Handle(context.Background(), onlyChunk(t, string(data))); err != nil {
		t.Fatal(err)
	}
	cpu := (processCPU(t) - cpu0).Seconds()
	busy, _ := counter(t, reg, "pricefn_pricer_trade_seconds_total", map[string]string{"type": "asian"})
	// Pricing is most of the CPU; the process's CPU (the garbage
	// collector's, other threads') bounds it.
	if busy > cpu*1.05 || busy < cpu/4 {
		t.Errorf("trade seconds %.3f, process CPU %.3f s: want at most the CPU, and most of it", busy, cpu)
	}
}

// TestScenarioSecondsAreCPU is TestTradeSecondsAreCPU for a risk run's
// scenarios: pricefn_pricer_scenario_seconds_total counts their CPU.
func TestScenarioSecondsAreCPU(t *testing.T) {
	data, err := batch.Sample(batch.SampleSpec{Type: "american", N: 20, Scenarios: 200, ID: "b1"})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	f := New(Options{Workers: 4 * runtime.GOMAXPROCS(0), Registerer: reg})
	cpu0 := processCPU(t)
	e := cloudevents.NewEvent()
	e.SetType(events.TypeChunkRequested)
	e.SetSource("/test")
	e.SetID("b1/chunk/0")
	if err := e.SetData(cloudevents.ApplicationJSON, []byte(`{"batchId":"b1","index":0,"chunks":1,"offset":0,"batch":`+string(data)+
		`,"scenarios":{"offset":0,"of":200}}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Handle(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	cpu := (processCPU(t) - cpu0).Seconds()
	busy, _ := counter(t, reg, "pricefn_pricer_scenario_seconds_total", nil)
	if busy > cpu*1.05 || busy < cpu/4 {
		t.Errorf("scenario seconds %.3f, process CPU %.3f s: want at most the CPU, and most of it", busy, cpu)
	}
}
