package batch_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/pricefn/pricefn/batch"
)

// TestPriceConcurrent prices one cheap batch of every sample kind but the
// Monte Carlo one with one worker and with many: the same bytes. It is
// the batch test that make test runs under the race detector (the
// reference sweeps, single-goroutine numerics, run without it).
func TestPriceConcurrent(t *testing.T) {
	for _, typ := range batch.SampleTypes {
		if typ == "asian-arithmetic" {
			continue
		}
		data, err := batch.Sample(batch.SampleSpec{Type: typ, N: 200, Seed: 5, Measures: []string{"npv"}})
		if err != nil {
			t.Fatal(err)
		}
		var outs [][]byte
		for _, workers := range []int{1, 8} {
			b, err := batch.DecodeBytes(data)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := batch.Price(context.Background(), b, batch.Options{Workers: workers})
			if err != nil {
				t.Fatal(err)
			}
			out, err := rs.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			outs = append(outs, out)
		}
		if !bytes.Equal(outs[0], outs[1]) {
			t.Errorf("%s: results differ between 1 and 8 workers", typ)
		}
	}
}
