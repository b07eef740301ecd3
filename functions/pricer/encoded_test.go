package pricer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/pricer"
)

// mixedBatch is a batch of Europeans, barriers and FRAs interleaved, on
// three underlyings and none, with some trades that fail: the pricer's
// blocks cross types, underlyings and failures.
func mixedBatch(t *testing.T) string {
	t.Helper()
	var doc map[string]any
	var trades []any
	for _, spec := range []batch.SampleSpec{{Type: "european", N: 2500}, {Type: "barrier", N: 400}, {Type: "fra", N: 300}} {
		data, err := batch.Sample(spec)
		if err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatal(err)
		}
		doc = d
		trades = append(trades, d["trades"].([]any)...)
	}
	mixed := make([]any, 0, len(trades))
	for i := range 2500 { // E0, B0, F0, E1, ... then the Europeans left
		mixed = append(mixed, trades[i])
		if i < 400 {
			mixed = append(mixed, trades[2500+i])
		}
		if i < 300 {
			mixed = append(mixed, trades[2900+i])
		}
	}
	for i := 7; i < len(mixed); i += 97 {
		tr := mixed[i].(map[string]any)
		tr["strike"], tr["notional"] = -5, -1 // the trade fails alone
	}
	for i, tr := range mixed {
		tr.(map[string]any)["id"] = fmt.Sprintf("X%d", i)
	}
	doc["trades"], doc["id"] = mixed, "b1"
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestHandleEncodesAsPrice: the pricer prices and encodes a chunk in blocks
// on its workers; its results are byte for byte the encoding of
// Job.Price's, and its totals ChunkTotals' to the last bit, with any
// number of workers.
func TestHandleEncodesAsPrice(t *testing.T) {
	doc := mixedBatch(t)
	b, err := batch.DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	job, err := batch.Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := job.Price(context.Background(), batch.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, r := range rs {
		if r.Error != "" {
			failed++
		}
	}
	if failed < 20 || failed == len(rs) {
		t.Fatalf("%d of %d trades failed: the batch does not test what it should", failed, len(rs))
	}
	want, err := batch.AppendResultsArray(nil, rs)
	if err != nil {
		t.Fatal(err)
	}
	var totals batch.ChunkTotaler
	totals.Add(rs, b.Underlyings())
	wantTotals := totals.Partials()
	for _, workers := range []int{1, 2, 7} {
		f := pricer.New(pricer.Options{Name: "p1", Workers: workers})
		reply, err := f.Handle(context.Background(), chunkEvent(t, doc))
		if err != nil {
			t.Fatal(err)
		}
		c, err := events.Decode[events.ChunkPriced](*reply, events.TypeChunkPriced)
		if err != nil {
			t.Fatal(err)
		}
		if string(c.Results) != string(want) {
			t.Errorf("workers %d: results differ from Job.Price's encoded (%d bytes, want %d)", workers, len(c.Results), len(want))
		}
		if !reflect.DeepEqual(c.TotalPartials, wantTotals) {
			t.Errorf("workers %d: totals\n%v\nwant\n%v", workers, c.TotalPartials, wantTotals)
		}
	}
}

// TestHandleReplySnug: the reply's data is made in a buffer sized from the
// first block's results, snug enough (events.Snug) that a receiver in this
// process keeps it rather than copy it: 10,000 Europeans with every greek
// (the first block sized the buffer 12-13% too large, and most chunks were
// copied), 10,000 barriers, and the mixed batch.
func TestHandleReplySnug(t *testing.T) {
	docs := map[string]string{"mixed": mixedBatch(t)}
	for _, typ := range []string{"european", "barrier"} {
		for seed := range uint64(4) {
			data, err := batch.Sample(batch.SampleSpec{Type: typ, N: 10000, Seed: seed, Measures: []string{"npv", "delta", "gamma", "vega", "theta", "rho"}})
			if err != nil {
				t.Fatal(err)
			}
			docs[fmt.Sprintf("%s seed %d", typ, seed)] = string(data)
		}
	}
	for name, doc := range docs {
		f := pricer.New(pricer.Options{Name: "p1", Workers: 2})
		reply, err := f.Handle(context.Background(), chunkEvent(t, doc))
		if err != nil {
			t.Fatal(err)
		}
		if data := reply.Data(); !events.Snug(data) {
			t.Errorf("%s: reply of %d bytes in an array of %d (%.1f%% to spare), want an eighth at most", name, len(data), cap(data), 100*float64(cap(data)-len(data))/float64(len(data)))
		}
	}
}

// TestHandleChunksAtOnce: a pricer that handles chunks of other types and
// sizes at once, over and over (its compile workers' memory serving one
// chunk after another), replies to each with the bytes a fresh pricer
// replies alone. Run under -race, it checks that no memory is shared
// while in use.
func TestHandleChunksAtOnce(t *testing.T) {
	docs := []string{mixedBatch(t)}
	for _, spec := range []batch.SampleSpec{{Type: "european", N: 3000, Seed: 2}, {Type: "barrier", N: 900, Seed: 3},
		{Type: "american", N: 20, Seed: 4}, {Type: "european", N: 7, Seed: 5}} {
		data, err := batch.Sample(spec)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(data))
	}
	now := func() time.Time { return time.Date(2026, 11, 25, 9, 0, 1, 0, time.UTC) }
	want := make([]string, len(docs))
	for i, doc := range docs {
		reply, err := pricer.New(pricer.Options{Name: "p1", Now: now}).Handle(context.Background(), chunkEvent(t, doc))
		if err != nil {
			t.Fatal(err)
		}
		want[i] = string(reply.Data())
	}
	f := pricer.New(pricer.Options{Name: "p1", Now: now})
	var wg sync.WaitGroup
	errs := make(chan error, 3*len(docs))
	for range 3 {
		for i, doc := range docs {
			e := chunkEvent(t, doc)
			wg.Go(func() {
				for range 3 {
					reply, err := f.Handle(context.Background(), e)
					if err != nil {
						errs <- err
						return
					}
					if string(reply.Data()) != want[i] {
						errs <- fmt.Errorf("chunk %d: reply differs from a fresh pricer's", i)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
