package ingress_test

import (
	"context"
	"testing"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/functions/ingress"
	"github.com/pricefn/pricefn/store"
)

// FuzzSubmit: any body is accepted or refused with a 4xx, never a panic
// or a 5xx; an accepted batch's events are all sent and decode.
func FuzzSubmit(f *testing.F) {
	for _, typ := range batch.SampleTypes {
		data, _ := batch.Sample(batch.SampleSpec{Type: typ, N: 3, Seed: 2})
		f.Add(data)
	}
	f.Add([]byte(`{"id":"x","valuationDate":"2026-11-25","deadline":"1h","trades":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &fakeSender{}
		fn := ingress.New(ingress.Options{Sender: s, Store: store.NewMem(store.MemOptions{})})
		rc, err := fn.Submit(context.Background(), ingress.Submission{Data: data})
		if err != nil {
			if code := host.Status(err); code < 400 || code >= 500 {
				t.Fatalf("status %d for %q: %v", code, data, err)
			}
			return
		}
		sent := s.events()
		if len(sent) != rc.Chunks+1 {
			t.Fatalf("%d events for %d chunks", len(sent), rc.Chunks)
		}
		for _, e := range sent[1:] {
			if _, err := events.Decode[events.ChunkRequested](e, events.TypeChunkRequested); err != nil {
				t.Fatalf("a chunk does not decode: %v", err)
			}
		}
	})
}
