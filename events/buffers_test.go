package events

import (
	"bytes"
	"testing"
	"time"

	"github.com/pricefn/pricefn/internal/kept"
)

// TestBufferListKeepsAndTrims: buffers come back for the next reads, up to
// the list's bound, and are dropped once unused for its keep time.
func TestBufferListKeepsAndTrims(t *testing.T) {
	l := bufferList{kept.List[*bytes.Buffer]{Max: 3 << 20, Keep: 50 * time.Millisecond, Size: (*bytes.Buffer).Cap}}
	a, b := bytes.NewBuffer(make([]byte, 0, 2<<20)), bytes.NewBuffer(make([]byte, 0, 2<<20))
	a.WriteString("left over")
	l.put(a)
	l.put(b) // over the bound: not kept
	if got := l.get(0, false); got != a || got.Len() != 0 {
		t.Fatalf("get: %p (%d bytes), want the kept buffer, emptied", got, got.Len())
	}
	if got := l.get(0, false); got == a || got == b || got.Cap() != 0 {
		t.Fatal("an empty list gave a kept buffer")
	}
	l.put(bytes.NewBuffer(make([]byte, 0, maxPooledBuffer+1))) // too large to keep
	if n, kept := l.list.Kept(); kept != 0 || n != 0 {
		t.Fatalf("kept %d bytes in %d buffers, want none", kept, n)
	}
	// A size is served by the smallest kept buffer with room for it,
	// else by a new one of a power of two (alloc), or the largest kept
	// (a size declared, not trusted: nothing allocated for it).
	small, mid := bytes.NewBuffer(make([]byte, 0, 1<<10)), bytes.NewBuffer(make([]byte, 0, 64<<10))
	l.put(a)
	l.put(small)
	l.put(mid)
	if got := l.get(1000, true); got != small {
		t.Errorf("get(1000) gave a buffer of %d bytes, want the 1 KiB one kept", got.Cap())
	}
	l.put(small)
	if got := l.get(1<<20, true); got != a {
		t.Errorf("get(1 MiB) gave a buffer of %d bytes, want the 2 MiB one kept", got.Cap())
	}
	if got := l.get(3<<20, true); got == small || got == mid || got.Cap() != 4<<20 {
		t.Errorf("get(3 MiB) gave %d bytes, want a new buffer of 4 MiB", got.Cap())
	}
	if got := l.get(3<<20, false); got != mid {
		t.Errorf("get(3 MiB declared) gave %d bytes, want the largest kept, 64 KiB", got.Cap())
	}
	if got := l.get(0, false); got != small {
		t.Error("get(0) did not give the buffer kept")
	}
	l.put(a)
	deadline := time.Now().Add(2 * time.Second)
	for {
		n, kept := l.list.Kept()
		if n == 0 && kept == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d buffers (%d bytes) kept past their keep time", n, kept)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
