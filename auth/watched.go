package auth

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"time"
)

// watched is a file read again at most every interval, and parsed again
// when its bytes changed: a mounted Kubernetes Secret, which the kubelet
// replaces in place. (Its modification time and size cannot tell: a key
// file rotated from "A B" to "B A" keeps its size, and two writes within
// the kernel's clock tick keep its time.) What it holds is parsed by its
// owner (the tokens, the event keys) under mu.
type watched struct {
	path, name string
	every      time.Duration
	onError    func(error)

	mu      sync.Mutex
	data    []byte // as last parsed
	checked time.Time
}

func newWatched(path, name string, every time.Duration, onError func(error)) *watched {
	if every <= 0 {
		every = time.Second
	}
	return &watched{path: path, name: name, every: every, onError: onError}
}

// load reads the file and, if force or its bytes changed, gives them to
// parse, whose error keeps what is in force. w.mu is held, or w is new.
func (w *watched) load(now time.Time, force bool, parse func([]byte) error) error {
	w.checked = now
	data, err := os.ReadFile(w.path)
	if err != nil {
		return fmt.Errorf("auth: %s: %w", w.name, err)
	}
	if !force && bytes.Equal(data, w.data) {
		return nil
	}
	if err := parse(data); err != nil {
		return err
	}
	w.data = data
	return nil
}

// lock locks w.mu, having read the file again first when due; a file that
// no longer reads goes to onError. The caller unlocks w.mu.
func (w *watched) lock(parse func([]byte) error) {
	w.mu.Lock()
	if now := time.Now(); now.Sub(w.checked) >= w.every {
		if err := w.load(now, false, parse); err != nil && w.onError != nil {
			w.onError(err)
		}
	}
}
