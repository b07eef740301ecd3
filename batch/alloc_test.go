package batch

import (
	"bytes"
	"strconv"
	"testing"
)

func TestSlabs(t *testing.T) {
	var s slabs
	seen := map[*[3]int]bool{}
	var strs []*string
	for i := range 3 * slabMax {
		p := newIn[[3]int](&s)
		if *p != ([3]int{}) {
			t.Fatalf("value %d is not zero: %v", i, *p)
		}
		if seen[p] {
			t.Fatalf("value %d handed out twice", i)
		}
		seen[p] = true
		p[0] = i
		if i%3 == 0 { // another type between: each keeps its own slab
			q := newIn[string](&s)
			*q = "x"
			strs = append(strs, q)
		}
	}
	if len(s.list) != 2 {
		t.Fatalf("%d slabs for two types", len(s.list))
	}
	sl := s.list[0].(*slab[[3]int]) // the last used first
	if last := len(sl.arrays[len(sl.arrays)-1]); last != slabMax {
		t.Errorf("the arrays grew to %d values, want %d", last, slabMax)
	}
	for p := range seen {
		if p[1] != 0 || p[2] != 0 {
			t.Fatalf("a value was written by another's use: %v", *p)
		}
	}
	for _, q := range strs {
		if *q != "x" {
			t.Fatalf("a string changed: %q", *q)
		}
	}
	if p := newIn[int](nil); p == nil || *p != 0 {
		t.Fatal("no slabs: want a new zero value")
	}

	// Rewound, the slabs hand out the same memory again, zeroed, and make
	// no more arrays for as many values.
	arrays := len(sl.arrays)
	first := map[*[3]int]bool{}
	s.rewind()
	for range 3 * slabMax {
		p := newIn[[3]int](&s)
		if *p != ([3]int{}) {
			t.Fatalf("a rewound value is not zero: %v", *p)
		}
		if !seen[p] || first[p] {
			t.Fatal("a rewound slab handed out new memory, or a value twice")
		}
		first[p] = true
		p[2] = 1
	}
	if len(sl.arrays) != arrays {
		t.Errorf("%d arrays after the rewind, %d before", len(sl.arrays), arrays)
	}
	if q := newIn[[3]int](&s); seen[q] || *q != ([3]int{}) {
		t.Error("past the rewound values, want new zero memory")
	}
}

// TestDecodeAllocations: wire forms and compiled trades come from slabs,
// ids and new strings from the interner's blocks of bytes, so Decode and
// Compile allocate a few times a block, not once or more a trade. For
// 2,000 Europeans they made 7,369 and 2,042 allocations.
func TestDecodeAllocations(t *testing.T) {
	doc, err := Sample(SampleSpec{Type: "european", N: 2000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var b *Batch
	dec := testing.AllocsPerRun(5, func() {
		if b, err = DecodeBytes(doc); err != nil {
			t.Fatal(err)
		}
	})
	comp := testing.AllocsPerRun(5, func() {
		if _, err := Compile(b); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("Decode %.0f, Compile %.0f allocations for 2,000 trades", dec, comp)
	if dec > 0.1*2000 || comp > 0.1*2000 {
		t.Errorf("Decode made %.0f and Compile %.0f allocations for 2,000 trades, want a few a block of trades", dec, comp)
	}
	// Planned (ingress's compile), the trades share their compiled form:
	// each made its own cost, 2,000 allocations.
	if b, err = DecodePlan(doc); err != nil {
		t.Fatal(err)
	}
	plan := testing.AllocsPerRun(5, func() {
		if _, err := Compile(b); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("Compile of the planned batch: %.0f allocations", plan)
	if plan > 0.1*2000 {
		t.Errorf("Compile of the planned batch made %.0f allocations for 2,000 trades, want a few", plan)
	}
}

// TestTexts: strings made in blocks keep their bytes while later ones
// fill the block and the next, and the source's bytes change.
func TestTexts(t *testing.T) {
	var tx texts
	src := make([]byte, 0, 64)
	var got []string
	for i := range 5000 { // some 30 KB: several blocks
		src = strconv.AppendInt(src[:0], int64(i)*7919, 10)
		got = append(got, tx.text(src))
		clear(src)
	}
	for i, s := range got {
		if want := strconv.Itoa(i * 7919); s != want {
			t.Fatalf("string %d is %q, want %q", i, s, want)
		}
	}
	var small texts // a batch of a few trades holds a small block
	if s := small.text([]byte("T1")); s != "T1" || cap(small.block) != textFirst {
		t.Fatalf("first string %q in a block of %d bytes, want %d", s, cap(small.block), textFirst)
	}
	mid := bytes.Repeat([]byte("y"), 300) // more than the next block's room
	if s := small.text(mid); s != string(mid) || cap(small.block) < len(mid) {
		t.Fatalf("a %d-byte string in a block of %d", len(mid), cap(small.block))
	}
	long := bytes.Repeat([]byte("x"), textBlock)
	if s := tx.text(long); s != string(long) {
		t.Fatal("a long string changed")
	}
	if s := (*interner)(nil).text([]byte("id")); s != "id" {
		t.Fatalf("nil interner: %q", s)
	}
}

// TestTradeIDsAllocations: TradeIDs, which a client runs on the batch it
// sends, holds its ids' bytes in one list and their ends in another (IDs);
// it agrees with Decode.
// It allocated once a trade and grew its list by doubling.
func TestTradeIDsAllocations(t *testing.T) {
	doc, err := Sample(SampleSpec{Type: "european", N: 5000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var l IDs
	allocs := testing.AllocsPerRun(5, func() {
		if l, err = TradeIDs(doc); err != nil {
			t.Fatal(err)
		}
	})
	ids := l.Strings()
	b, err := DecodeBytes(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(b.Trades) {
		t.Fatalf("%d ids, %d trades", len(ids), len(b.Trades))
	}
	for i := range ids {
		if ids[i] != b.Trades[i].ID {
			t.Fatalf("id %d: %q, Decode %q", i, ids[i], b.Trades[i].ID)
		}
	}
	if allocs > 50 {
		t.Errorf("TradeIDs made %.0f allocations for 5,000 trades, want a few a block", allocs)
	}
}
