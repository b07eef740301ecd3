package aggregator

import (
	"math/rand/v2"
	"testing"
)

// TestEventIDSet: chunks added in any order make the set a map would,
// printed as merged ranges that parseEventID reads back.
func TestEventIDSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		n := 1 + rng.IntN(60)
		var id eventID
		id.attempt = 1 + round%3
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
		if err != nil || back.String() != id.String() || back.attempt != id.attempt {
			t.Fatalf("round %d: %s read back as %s, %v", round, id, back, err)
		}
	}
	if s := (eventID{attempt: 2}).String(); s != "2/" {
		t.Errorf("empty set: %q", s)
	}
}
