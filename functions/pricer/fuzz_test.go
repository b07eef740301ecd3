package pricer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/functions/pricer"
)

// FuzzHandle: any chunk.requested data is priced or refused with a 4xx,
// never a panic or a 5xx, and a reply is valid JSON.
func FuzzHandle(f *testing.F) {
	f.Add([]byte(`{"batchId":"b1","index":0,"chunks":1,"offset":0,"batch":` + chunkBatch + `}`))
	f.Add([]byte(`{"batchId":"b1","index":0,"chunks":1,"offset":0,"batch":{"valuationDate":"2026-11-25","trades":[]}}`))
	fn := pricer.New(pricer.Options{Workers: 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		// An input that takes seconds is a fault: crash the worker with
		// it rather than stall the fuzzer.
		watchdog := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("pricer: input took over 5s: %q", data)) })
		defer watchdog.Stop()
		// Valid trades of great cost (a Monte Carlo of millions of paths)
		// are input too, but pricing them would stall the fuzzer.
		var c events.ChunkRequested
		if json.Unmarshal(data, &c) == nil {
			if job, err := batch.Compile(&c.Batch); err == nil {
				var cost float64
				for i := range job.Len() {
					cost += job.Cost(i)
				}
				if cost > 5e7 {
					return
				}
			}
		}
		e := cloudevents.NewEvent()
		e.SetType(events.TypeChunkRequested)
		e.SetSource("/fuzz")
		e.SetID("b1/chunk/0")
		e.SetExtension(events.ExtBatchID, "b1")
		e.SetData(cloudevents.ApplicationJSON, data)
		reply, err := fn.Handle(context.Background(), e)
		if err != nil {
			if code := host.Status(err); code < 400 || code >= 500 {
				t.Fatalf("status %d for %q: %v", code, data, err)
			}
			return
		}
		if !json.Valid(reply.Data()) {
			t.Fatalf("reply is not JSON: %s", reply.Data())
		}
	})
}
