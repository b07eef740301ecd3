package events_test

import (
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/pricefn/pricefn/events"
)

// FuzzDecode: the decoder of every event type takes any data without a
// panic, and what it accepts encodes again.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"batchId":"b","attempt":1,"trades":2,"chunkOffsets":[0,1],"submittedAt":"2026-11-25T09:00:00Z"}`))
	f.Add([]byte(`{"batchId":"b","index":0,"chunks":1,"offset":0,"results":[{"id":"T1","npv":1.5},{"id":"T2","error":"x"}]}`))
	f.Add([]byte(`{"batchId":"b","index":0,"chunks":1,"offset":0,"batch":{"valuationDate":"2026-11-25","trades":[]}}`))
	f.Add([]byte(`{"batchId":"b","state":"partial","missingTradeIds":["T1"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(typ string, decode func(event.Event) (any, error)) {
			e := cloudevents.NewEvent()
			e.SetType(typ)
			e.SetSource("/fuzz")
			e.SetID("1")
			e.SetData(cloudevents.ApplicationJSON, data)
			v, err := decode(e)
			if err != nil {
				return
			}
			if _, err := events.New(typ, "/fuzz", "2", "b", v); err != nil {
				t.Fatalf("%s decoded from %q does not encode: %v", typ, data, err)
			}
		}
		check(events.TypeBatchAccepted, func(e event.Event) (any, error) {
			return events.Decode[events.BatchAccepted](e, events.TypeBatchAccepted)
		})
		check(events.TypeChunkRequested, func(e event.Event) (any, error) {
			return events.Decode[events.ChunkRequested](e, events.TypeChunkRequested)
		})
		check(events.TypeChunkPriced, func(e event.Event) (any, error) {
			return events.Decode[events.ChunkPriced](e, events.TypeChunkPriced)
		})
		check(events.TypeBatchCompleted, func(e event.Event) (any, error) {
			return events.Decode[events.BatchCompleted](e, events.TypeBatchCompleted)
		})
	})
}
