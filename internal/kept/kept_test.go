package kept

import (
	"testing"
	"time"
)

// TestList: a Take gets the smallest thing kept with room enough (or the
// largest, when asked), Put keeps within Max, and what stays unused for
// Keep is dropped.
func TestList(t *testing.T) {
	l := List[[]byte]{Max: 100, Keep: 50 * time.Millisecond, Size: func(b []byte) int { return cap(b) }}
	small, mid, big := make([]byte, 0, 10), make([]byte, 0, 40), make([]byte, 0, 50)
	l.Put(small)
	l.Put(mid)
	l.Put(big)
	l.Put(make([]byte, 0, 20)) // 120 bytes: over Max, not kept
	if n, bytes := l.Kept(); n != 3 || bytes != 100 {
		t.Fatalf("kept %d things, %d bytes; want 3, 100", n, bytes)
	}
	if got, ok := l.Take(20, false); !ok || cap(got) != 40 {
		t.Errorf("Take(20): %d bytes, %v; want the 40 kept", cap(got), ok)
	}
	if _, ok := l.Take(60, false); ok {
		t.Error("Take(60) took a thing too small")
	}
	if got, ok := l.Take(60, true); !ok || cap(got) != 50 {
		t.Errorf("Take(60, or the largest): %d bytes, %v; want the 50 kept", cap(got), ok)
	}
	deadline := time.Now().Add(2 * time.Second)
	for n, _ := l.Kept(); n != 0; n, _ = l.Kept() {
		if time.Now().After(deadline) {
			t.Fatalf("%d things kept past Keep", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
