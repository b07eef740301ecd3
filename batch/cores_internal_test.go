package batch

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

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
	j := sampleJob(t, SampleSpec{Type: "european", N: 200, Seed: 3, Scenarios: 20})
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

// queued is a priceable that, valuing the last of a job's trades, has
// another holder queue for the unit its worker holds (cores of 1), and
// holds it until release is closed, or 5 seconds have passed (held tells
// which came first).
type queued struct {
	last    bool
	cores   *semaphore.Weighted
	release chan struct{}
	held    chan bool // true: the other holder gave the unit back first
}

func (q queued) priceUnit(r *pricing.Result, _ *pricing.Market, _ pricing.Measures) error {
	if q.last {
		go func() {
			_ = q.cores.Acquire(context.Background(), 1)
			timer := time.NewTimer(5 * time.Second) // fires only when Price waits for the unit
			defer timer.Stop()
			select {
			case <-q.release:
				q.cores.Release(1)
				q.held <- false
			case <-timer.C:
				q.held <- true
				q.cores.Release(1)
			}
		}()
		for q.cores.TryAcquire(0) { // true until a waiter is queued
			runtime.Gosched()
		}
	}
	r.NPV, r.Set = 1, pricing.Of(pricing.NPV)
	return nil
}

func (queued) costNS() float64 { return 1000 }

// TestPriceTakesNoUnitPastTheEnd: a worker of Price takes a unit of
// Options.Cores only for a block it has claimed: one with no trade left
// took a unit first, and waited its turn behind the other calls' workers
// (here one that holds it), Price's end held up by as much.
func TestPriceTakesNoUnitPastTheEnd(t *testing.T) {
	j := sampleJob(t, SampleSpec{Type: "european", N: block, Seed: 3})
	cores := semaphore.NewWeighted(1)
	release, held := make(chan struct{}), make(chan bool, 1)
	for i := range j.trades {
		j.trades[i].p = queued{last: i == len(j.trades)-1, cores: cores, release: release, held: held}
	}
	rs, err := j.Price(context.Background(), Options{Workers: 1, Cores: cores})
	close(release)
	if err != nil || len(rs) != block {
		t.Fatalf("Price: %d results, %v", len(rs), err)
	}
	if <-held {
		t.Error("Price ended only once the other holder gave its unit back: a worker took one with no trade left")
	}
	if !cores.TryAcquire(1) {
		t.Error("the cores' unit not given back")
	}
}

// sampleJob compiles the sample batch spec describes.
func sampleJob(t *testing.T, spec SampleSpec) *Job {
	t.Helper()
	j, err := Compile(sampleBatch(t, spec))
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// sampleBatch decodes the sample batch spec describes.
func sampleBatch(t *testing.T, spec SampleSpec) *Batch {
	t.Helper()
	doc, err := Sample(spec)
	if err != nil {
		t.Fatal(err)
	}
	b, err := DecodeBytes(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
