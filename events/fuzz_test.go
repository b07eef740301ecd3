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
			e1, err := events.New(typ, "/fuzz", "2", "b", v)
			if err != nil {
				t.Fatalf("%s decoded from %q does not encode: %v", typ, data, err)
			}
			// What it writes reads back to what it writes again.
			v2, err := decode(e1)
			if err != nil {
				t.Fatalf("%s: %s, encoded from %q, does not decode: %v", typ, e1.Data(), data, err)
			}
			e2, err := events.New(typ, "/fuzz", "2", "b", v2)
			if err != nil || string(e2.Data()) != string(e1.Data()) {
				t.Fatalf("%s: %s decodes and encodes to %s (%v)", typ, e1.Data(), e2.Data(), err)
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
