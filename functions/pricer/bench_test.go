package pricer_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/pricer"
)

// benchChunkTrades is a chunk's trades at batch.DefaultChunkTrades, the
// chunks of a 100k batch of Europeans.
const benchChunkTrades = batch.DefaultChunkTrades

// benchChunkEvent is a chunk.requested event of benchChunkTrades Europeans
// with all greeks, made as ingress makes it.
func benchChunkEvent(b *testing.B) event.Event {
	b.Helper()
	doc, err := batch.Sample(batch.SampleSpec{Type: "european", N: benchChunkTrades, Seed: 1,
		Measures: []string{"npv", "delta", "gamma", "vega", "theta", "rho"}})
	if err != nil {
		b.Fatal(err)
	}
	bt, err := batch.DecodePlan(doc)
	if err != nil {
		b.Fatal(err)
	}
	c := events.ChunkRequested{BatchID: "b1", Index: 0, Chunks: 1, Batch: *bt,
		RequestedAt: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC), Digest: "sha256:abc"}
	e, err := events.New(events.TypeChunkRequested, "/test", "b1/chunk/0", "b1", c)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkHandleChunk is the pricer's handling of one chunk event, its
// bytes in and its reply's bytes out, per trade: in a process of its own
// ("alone"), whose small heap the collector runs through at every few
// chunks, and beside 256 MB of results held ("store"), as pricefn dev's
// memory store holds them once full (a third of its 768 MiB heap limit),
// the collector's goal twice that.
func BenchmarkHandleChunk(b *testing.B) {
	e := benchChunkEvent(b)
	for _, held := range []struct {
		name  string
		bytes int
	}{{"alone", 0}, {"store", 256 << 20}} {
		b.Run(held.name, func(b *testing.B) {
			store := make([][]byte, 0, held.bytes>>21)
			for range cap(store) {
				chunk := make([]byte, 2<<20)
				for i := 0; i < len(chunk); i += 4096 {
					chunk[i] = 1 // resident, as results are
				}
				store = append(store, chunk)
			}
			f := pricer.New(pricer.Options{Name: "p1"})
			b.SetBytes(int64(len(e.Data())))
			b.ReportAllocs()
			for b.Loop() {
				reply, err := f.Handle(context.Background(), e)
				if err != nil {
					b.Fatal(err)
				}
				if len(reply.Data()) == 0 {
					b.Fatal("no reply data")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchChunkTrades), "ns/trade")
			runtime.KeepAlive(store)
		})
	}
}
