package batch

import (
	"hash/maphash"
	"strconv"
	"strings"
	"testing"
)

// TestUniqueIDsTagCollision checks the ids' set of 32-bit tags (uniqueIDs)
// where two different ids meet with equal tags: found by brute force
// under one seed, they are told apart by the exact check, not reported
// as a duplicate; and a real duplicate after them is reported as the map
// reports it, with both indexes.
func TestUniqueIDsTagCollision(t *testing.T) {
	seed := maphash.MakeSeed()
	// A batch of two trades sets them in 16 slots: two ids meet when
	// their hashes share the low 4 bits (the slot) and their tags.
	key := func(id string) uint64 {
		h := maphash.String(seed, id)
		return uint64(uint32(h>>32)|1)<<4 | h&15
	}
	seen := make(map[uint64]int32, 1<<21)
	a, b := "", ""
	for i := range int32(1 << 22) {
		id := "T" + strconv.Itoa(int(i))
		k := key(id)
		if j, ok := seen[k]; ok {
			a, b = "T"+strconv.Itoa(int(j)), id
			break
		}
		seen[k] = i
	}
	if a == "" {
		t.Fatal("no two ids of 4 million meet with equal tags")
	}
	if err := uniqueIDsSeeded([]Trade{{ID: a}, {ID: b}}, seed); err != nil {
		t.Fatalf("ids %q and %q, whose tags are equal: %v", a, b, err)
	}
	err := uniqueIDsSeeded([]Trade{{ID: a}, {ID: b}, {ID: "X"}, {ID: b}}, seed)
	if err == nil || !strings.Contains(err.Error(), `trades[3].id: duplicate trade id "`+b+`" (also trades[1])`) {
		t.Fatalf("ids %q, %q, X, %q: %v", a, b, b, err)
	}
}
