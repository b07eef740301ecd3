package batch

import (
	"context"
	"sync/atomic"
	"testing"

	"golang.org/x/sync/semaphore"

	"github.com/pricefn/pricefn/pricing"
)

// unitChecked is a priceable that counts the valuations made while a
// unit of cores was free: made by a worker that held none.
type unitChecked struct {
	cores  *semaphore.Weighted
	unheld *atomic.Int32
}

func (u unitChecked) priceUnit(r *pricing.Result, _ *pricing.Market, _ pricing.Measures) error {
	if u.cores.TryAcquire(1) {
		u.unheld.Add(1)
		u.cores.Release(1)
	}
	r.NPV, r.Set = 1, pricing.Of(pricing.NPV)
	return nil
}

func (unitChecked) costNS() float64 { return 1000 }

// TestScenariosShareTheCores: PriceScenarios' workers hold a unit of
// Options.Cores while they value, as Price's and PriceBlocks' do: a
// pricer's scenario chunk ran on every core beside its other chunk's
// workers, which the units bound (twice as many workers as cores).
func TestScenariosShareTheCores(t *testing.T) {
	doc, err := Sample(SampleSpec{Type: "european", N: 200, Seed: 3, Scenarios: 20})
	if err != nil {
		t.Fatal(err)
	}
	b, err := DecodeBytes(doc)
	if err != nil {
		t.Fatal(err)
	}
	j, err := Compile(b)
	if err != nil {
		t.Fatal(err)
	}
	cores := semaphore.NewWeighted(1) // each valuation's worker holds it
	var unheld atomic.Int32
	for i := range j.trades {
		j.trades[i].p = unitChecked{cores, &unheld}
	}
	p, err := j.PriceScenarios(context.Background(), Options{Workers: 2, Cores: cores}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Scenarios) != 20 || p.Scenarios[0].Failed != 0 {
		t.Fatalf("scenarios %+v, want 20 of every trade valued", p.Scenarios)
	}
	if n := unheld.Load(); n != 0 {
		t.Errorf("%d valuations made with a unit of the cores free, want none", n)
	}
	if !cores.TryAcquire(1) {
		t.Error("the cores' unit not given back")
	}
}
