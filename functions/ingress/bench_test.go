package ingress_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/protocol"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/ingress"
	"github.com/pricefn/pricefn/store"
)

// discardSender takes every event and keeps none, noting when the first
// and the last chunk came, in nanoseconds since start.
type discardSender struct {
	start       time.Time
	mu          sync.Mutex
	first, last time.Duration
}

func (s *discardSender) Send(ctx context.Context, e event.Event) protocol.Result {
	if e.Type() != events.TypeChunkRequested {
		return nil
	}
	t := time.Since(s.start)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first == 0 || t < s.first {
		s.first = t
	}
	s.last = max(s.last, t)
	return nil
}

// BenchmarkSubmit is ingress's handling of one batch of 100,000 Europeans
// with every greek, as pricefn submit posts it (a plain body, read and
// digested as it arrives), to its chunk events handed to a sender that
// discards them, with an in-memory store: the part of the pipeline's
// critical path that is ingress's (bench/README.md).
func BenchmarkSubmit(b *testing.B) {
	const trades = 100_000
	doc, err := batch.Sample(batch.SampleSpec{Type: "european", N: trades, Seed: 1,
		Measures: []string{"npv", "delta", "gamma", "vega", "theta", "rho"}})
	if err != nil {
		b.Fatal(err)
	}
	s := &discardSender{}
	st := store.NewMem(store.MemOptions{})
	h := ingress.New(ingress.Options{Sender: s, Store: st}).Routes(nil)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	var first, last []float64
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/batches", bytes.NewReader(doc))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		s.start, s.first, s.last = time.Now(), 0, 0
		h.ServeHTTP(w, req)
		if w.Code != http.StatusAccepted {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if s.first == 0 {
			b.Fatal("no chunk sent")
		}
		first, last = append(first, s.first.Seconds()*1e3), append(last, s.last.Seconds()*1e3)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*trades), "ns/trade")
	// The median times from the request to its first and its last chunk
	// sent: the pipeline's pricing starts at the first.
	slices.Sort(first)
	slices.Sort(last)
	b.ReportMetric(first[len(first)/2], "ms-first-chunk")
	b.ReportMetric(last[len(last)/2], "ms-last-chunk")
}
