package broker

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/pricefn/pricefn/events"
)

// parkable is a job of typ, id, batch and tenant, for turns alone.
func parkable(typ, id, batch, tenant string) *job {
	e := event.New()
	e.SetType(typ)
	e.SetID(id)
	if tenant != "" {
		e.SetExtension(events.ExtTenant, tenant)
	}
	key := ""
	if batch != "" {
		key = events.Tenant(e) + "\x00" + batch
	}
	return &job{event: &e, batch: key}
}

// TestTurnsParkInReverse: a batch's chunks met in reverse (the worst
// order for a queue kept sorted by walking back from its end) park in
// little time, and are taken in chunk order.
func TestTurnsParkInReverse(t *testing.T) {
	const n = 20_000 // walked back, some 17 s of the lock
	jobs := make([]*job, n)
	for i := range jobs {
		jobs[i] = parkable(events.TypeChunkRequested, fmt.Sprintf("b/chunk/%d", n-1-i), "b", "")
	}
	tu := &turns{max: 1, n: 1}
	budget := 2 * time.Second // some 10 ms needed
	t0 := time.Now()
	for i, j := range jobs {
		if tu.take(j) {
			t.Fatal("a job took a turn beyond the bound")
		}
		if d := time.Since(t0); d > budget {
			t.Fatalf("%d of %d chunks parked in %v", i+1, n, d)
		}
	}
	if got := tu.parkedJobs(); got != n {
		t.Fatalf("%d parked, want %d", got, n)
	}
	for i := range n {
		next := tu.give(&job{})
		if want := fmt.Sprintf("b/chunk/%d", i); next == nil || next.event.ID() != want {
			t.Fatalf("turn %d: %v, want %s", i, next, want)
		}
	}
	if next := tu.give(&job{}); next != nil || tu.parkedJobs() != 0 {
		t.Fatalf("after the last: %v, %d parked", next, tu.parkedJobs())
	}
}

// TestTurnsOrderAsAQueue: parked jobs of several tenants, batches,
// attempts and types, chunks met twice and jobs of no chunk, parked and
// taken in random interleavings, have their turns in the order of a
// tenant's queue kept by inserting each chunk before the chunks of its
// batch and type parked just before it with a later index, never past
// another job (the rule turns keeps with its runs).
func TestTurnsOrderAsAQueue(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for round := range 200 {
		tu := &turns{max: 1, n: 1}
		model := map[string][]*job{} // by tenant, sorted by insertion
		var order []string
		take := func(j *job) {
			if tu.take(j) {
				t.Fatalf("round %d: %s took a turn beyond the bound", round, j.event.ID())
			}
			tenant := events.Tenant(*j.event)
			q := model[tenant]
			if len(q) == 0 {
				order = append(order, tenant)
			}
			q = append(q, j)
			if i, ok := events.ChunkIndex(*j.event); ok && j.batch != "" {
				k := len(q) - 1
				for ; k > 0 && q[k-1].batch == j.batch; k-- {
					if p, ok := events.ChunkIndex(*q[k-1].event); !ok || p <= i || q[k-1].event.Type() != j.event.Type() {
						break
					}
				}
				copy(q[k+1:], q[k:len(q)-1])
				q[k] = j
			}
			model[tenant] = q
		}
		give := func() {
			got := tu.give(&job{})
			var want *job
			if len(order) > 0 {
				tenant := order[0]
				order = order[1:]
				want = model[tenant][0]
				if model[tenant] = model[tenant][1:]; len(model[tenant]) > 0 {
					order = append(order, tenant)
				}
			}
			if got != want {
				t.Fatalf("round %d: turn to %v, want %v", round, got, want)
			}
			tu.n = tu.max // the turn held again: the next take parks
		}
		for range 60 {
			if rng.IntN(3) == 0 {
				give()
				continue
			}
			tenant := []string{"", "t1", "t2"}[rng.IntN(3)]
			batch := []string{"b1", "b2", ""}[rng.IntN(3)]
			base := batch
			if rng.IntN(4) == 0 {
				base += "/a2"
			}
			typ, id := events.TypeChunkRequested, fmt.Sprintf("%s/chunk/%d", base, rng.IntN(8))
			switch rng.IntN(6) {
			case 0:
				typ, id = events.TypeChunkPriced, id+"/priced"
			case 1:
				typ, id = events.TypeBatchAccepted, base+"/accepted"
			}
			take(parkable(typ, id, batch, tenant))
			if got, want := tu.parkedJobs(), func() (n int) {
				for _, q := range model {
					n += len(q)
				}
				return n
			}(); got != want {
				t.Fatalf("round %d: %d parked, want %d", round, got, want)
			}
		}
		var want []*job
		for _, tenant := range order {
			want = append(want, model[tenant]...)
		}
		got := tu.drain()
		if len(got) != len(want) {
			t.Fatalf("round %d: drained %d, want %d", round, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("round %d: drained %d: %s, want %s", round, i, got[i].event.ID(), want[i].event.ID())
			}
		}
		if tu.parkedJobs() != 0 {
			t.Fatalf("round %d: %d parked after the drain", round, tu.parkedJobs())
		}
	}
}
