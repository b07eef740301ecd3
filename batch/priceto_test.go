package batch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/pricefn/pricefn/batch"
)

// TestPriceToMatchesPrice: the streamed document is byte for byte Price's
// results document and a newline, however many workers and blocks, with
// scenarios too; a writer's error and a cancelled context end it.
func TestPriceToMatchesPrice(t *testing.T) {
	big, err := batch.Sample(batch.SampleSpec{Type: "european", N: 5000, Seed: 3, Measures: []string{"npv", "delta", "vega"}})
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string][]byte{"5000 europeans": big, "scenarios": []byte(scenDoc([]string{
		`{"id": "up", "underlyings": {"*": {"spotRel": 0.01}}}`,
		`{"id": "down", "curves": {"*": {"parallel": -0.0001}}}`}, `, "risk": {"var": [0.5]}`))}
	mixed, err := mixedBatch(t).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	docs["mixed"] = mixed
	for name, doc := range docs {
		b, err := batch.DecodeBytes(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		res, err := batch.Price(context.Background(), b, batch.Options{})
		if err != nil {
			t.Fatal(err)
		}
		want, err := res.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		for _, workers := range []int{1, 2, 7} {
			var got bytes.Buffer
			if err := batch.PriceTo(context.Background(), b, batch.Options{Workers: workers}, &got); err != nil {
				t.Fatalf("%s, %d workers: %v", name, workers, err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s, %d workers: %d bytes differ from Price's %d", name, workers, got.Len(), len(want))
			}
		}
	}
	b, err := batch.DecodeBytes(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := batch.PriceTo(context.Background(), b, batch.Options{}, failingWriter{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("failing writer: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var none bytes.Buffer
	if err := batch.PriceTo(ctx, b, batch.Options{}, &none); !errors.Is(err, context.Canceled) || none.Len() != 0 {
		t.Errorf("cancelled: %v, %d bytes written", err, none.Len())
	}
	// Cancelled once the first results are out: what was written is not
	// a document a reader could take for all the results.
	ctx, cancel = context.WithCancel(context.Background())
	part := &cancellingWriter{cancel: cancel}
	if err := batch.PriceTo(ctx, b, batch.Options{Workers: 1}, part); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled midway: %v", err)
	}
	if part.Len() == 0 || json.Valid(part.Bytes()) {
		t.Errorf("cancelled midway: %d bytes written, valid JSON %v", part.Len(), json.Valid(part.Bytes()))
	}
}

// cancellingWriter cancels its context at its first write.
type cancellingWriter struct {
	bytes.Buffer
	cancel func()
}

func (w *cancellingWriter) Write(p []byte) (int, error) {
	w.cancel()
	return w.Buffer.Write(p)
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestPricingSharesItsCores: the calls of PriceBlocks and Price that
// share Options.Cores never price on more workers at once between them
// than it has units (a pricer's chunks priced at once, each on every
// core, ran twice as many workers as cores), and each still prices every
// trade as alone.
func TestPricingSharesItsCores(t *testing.T) {
	doc, err := batch.Sample(batch.SampleSpec{Type: "european", N: 3000, Seed: 5, Measures: []string{"npv", "delta"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := batch.DecodeBytes(doc)
	if err != nil {
		t.Fatal(err)
	}
	job, err := batch.Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	want, err := job.Price(context.Background(), batch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cores := semaphore.NewWeighted(2)
	var active, most atomic.Int32
	// Timed is called by a worker as it ends a block, its unit held: it
	// stays there a while, so that workers that overlap are seen to.
	timing := &batch.BlockTiming{Types: make([]string, job.Len()), Timed: func(lo, hi int, _, _ time.Duration) {
		n := active.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(50 * time.Microsecond)
		active.Add(-1)
	}}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			var got []batch.TradeResult
			err := job.PriceBlocks(context.Background(), batch.Options{Workers: 4, Cores: cores}, timing, func(pb *batch.PricedBlock) error {
				got = append(got, pb.Results...)
				return nil
			})
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("PriceBlocks: %v, %d results, equal to Price's: %v", err, len(got), reflect.DeepEqual(got, want))
			}
		})
	}
	wg.Go(func() {
		// Price's workers hold a unit each too: 3 of them here, never
		// pricing beside the others' while the 2 units are taken.
		got, err := job.Price(context.Background(), batch.Options{Workers: 3, Cores: cores})
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Price: %v, equal to alone's: %v", err, reflect.DeepEqual(got, want))
		}
	})
	wg.Wait()
	if m := most.Load(); m > 2 || m < 1 {
		t.Errorf("%d workers priced at once, want 2 at most (and some)", m)
	}
	if !cores.TryAcquire(2) {
		t.Error("the cores' units not all given back")
	}
}
