package aggregator

import (
	"math/rand/v2"
	"testing"

	"github.com/pricefn/pricefn/store"
)

// TestEventIDSet: chunks added in any order make the set a map would,
// printed as merged ranges that parseEventID reads back.
func TestEventIDSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		n := 1 + rng.IntN(60)
		var id eventID
		id.attempt = 1 + round%3
		if round%2 == 0 {
			id.claim = "mwvw7mo0"
		}
		in := map[int]bool{}
		for range rng.IntN(2 * n) {
			i := rng.IntN(n)
			id.add(i)
			in[i] = true
		}
		for i := range n {
			if id.has(i) != in[i] {
				t.Fatalf("round %d: has(%d) = %v, want %v (%s)", round, i, id.has(i), in[i], id)
			}
		}
		for k := 1; k < len(id.ranges); k++ {
			if id.ranges[k][0] <= id.ranges[k-1][1]+1 {
				t.Fatalf("round %d: ranges not merged: %s", round, id)
			}
		}
		back, err := parseEventID(id.String())
		if err != nil || back.String() != id.String() || back.attempt != id.attempt || back.claim != id.claim {
			t.Fatalf("round %d: %s read back as %s, %v", round, id, back, err)
		}
	}
	if s := (eventID{attempt: 2}).String(); s != "2/" {
		t.Errorf("empty set: %q", s)
	}
	for _, bad := range []string{"1./0", "1.MW/0", "1.a-b/0", "1.12345678901234/0", ".ab/0", "1.ab.cd/0"} {
		if _, err := parseEventID(bad); err == nil {
			t.Errorf("%q read as an id", bad)
		}
	}
}

// TestCompletedEventID: batch.completed's id is the same for every
// announcement of one attempt of one batch (a consumer deduplicates the
// repeats), and another for another attempt, or for other content under
// the id once the first batch was forgotten: it was "b/completed" for
// both, and a consumer that deduplicates dropped the second batch's end.
func TestCompletedEventID(t *testing.T) {
	d1 := "sha256:3f2a9c81d0e4aa55b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3"
	d2 := "sha256:0b1c2d3e4f50617283940a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5"
	for _, c := range []struct {
		ref     store.Ref
		attempt int
		digest  string
		want    string
	}{
		{store.RefOf("b"), 1, d1, "b/completed/3f2a9c81d0e4"},
		{store.RefOf("b"), 1, d2, "b/completed/0b1c2d3e4f50"},
		{store.RefOf("b"), 2, d1, "b/a2/completed/3f2a9c81d0e4"},
		{store.RefOf("b"), 1, "", "b/completed"}, // an event of an earlier release names no digest
		// Another tenant's batch of the same id and content: another event.
		{store.Ref{Tenant: "acme", ID: "b"}, 1, d1, "b@acme/completed/3f2a9c81d0e4"},
		{store.Ref{Tenant: "acme", ID: "b"}, 2, d1, "b@acme/a2/completed/3f2a9c81d0e4"},
		{store.Ref{Tenant: store.DefaultTenant, ID: "b"}, 1, d1, "b/completed/3f2a9c81d0e4"},
	} {
		if got := completedEventID(c.ref, c.attempt, c.digest); got != c.want {
			t.Errorf("completedEventID(%v, %d, %q) = %q, want %q", c.ref, c.attempt, c.digest, got, c.want)
		}
	}
}
