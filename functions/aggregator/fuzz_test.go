package aggregator_test

import (
	"context"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/aggregator"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/store"
)

// FuzzHandle: any chunk.priced data for a known batch is recorded or
// refused with a 4xx, never a panic or a 5xx, and the batch's status stays
// consistent (no more chunks done than it has).
func FuzzHandle(f *testing.F) {
	f.Add([]byte(`{"batchId":"b1","index":0,"chunks":3,"offset":0,"results":[{"id":"T0","npv":1},{"id":"T1","npv":1},{"id":"T2","error":"x"}]}`))
	f.Add([]byte(`{"batchId":"b1","index":2,"chunks":3,"offset":5,"results":[{"id":"T5"},{"id":"T6","delta":-0}]}`))
	f.Add([]byte(`{"batchId":"b1","index":1,"chunks":3,"offset":3,"totals":{"":{"npv":2},"ACME":{"npv":1}},"results":[
{"id":"T3","npv":1},
{"id":"T4","npv":1}
]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st := store.NewMem(store.MemOptions{})
		ref := store.RefOf("b1")
		if _, err := st.Claim(context.Background(), store.Batch{Ref: ref, TradeIDs: tradeIDs, ChunkOffsets: offsets}); err != nil {
			t.Fatal(err)
		}
		fn := aggregator.New(aggregator.Options{Store: st, Log: zerolog.Nop()})
		for _, typ := range []string{events.TypeChunkPriced, events.TypeBatchAccepted} {
			e := cloudevents.NewEvent()
			e.SetType(typ)
			e.SetSource("/fuzz")
			e.SetID("1")
			e.SetExtension(events.ExtBatchID, "b1")
			e.SetData(cloudevents.ApplicationJSON, data)
			_, err := fn.Handle(context.Background(), e)
			if code := host.Status(err); err != nil && (code < 400 || code >= 500) {
				t.Fatalf("%s: status %d for %q: %v", typ, code, data, err)
			}
			if _, err := fn.HandleDeadLetter(context.Background(), e); err != nil && host.Status(err) >= 500 {
				t.Fatalf("dead letter %s: %v", typ, err)
			}
		}
		sum, err := st.Summary(context.Background(), ref)
		if err != nil {
			t.Fatal(err)
		}
		if st := aggregator.StatusOf(sum, submitAt); st.ChunksDone > st.Chunks || st.Priced+st.Failed+st.Missing+st.Pending != st.Trades {
			t.Fatalf("status %+v after %q", st, data)
		}
	})
}
