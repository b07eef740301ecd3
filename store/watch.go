package store

import "sync"

// Watchers is the Watch side of a Store: waiters on a key share a channel
// that Notify closes. Implementations of Store embed one. The zero value
// is ready to use.
type Watchers struct {
	mu sync.Mutex
	m  map[string]*watchers
}

type watchers struct {
	ch      chan struct{}
	waiters int
}

// Watch returns a channel closed at the next Notify of key, and the stop
// function that gives it back.
func (ws *Watchers) Watch(key string) (<-chan struct{}, func()) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.m == nil {
		ws.m = map[string]*watchers{}
	}
	w := ws.m[key]
	if w == nil {
		w = &watchers{ch: make(chan struct{})}
		ws.m[key] = w
	}
	w.waiters++
	var once sync.Once
	return w.ch, func() {
		once.Do(func() {
			ws.mu.Lock()
			defer ws.mu.Unlock()
			if w.waiters--; w.waiters == 0 && ws.m[key] == w {
				delete(ws.m, key)
			}
		})
	}
}

// Notify wakes the waiters on key.
func (ws *Watchers) Notify(key string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if w := ws.m[key]; w != nil {
		close(w.ch)
		delete(ws.m, key)
	}
}

// NotifyAll wakes every waiter.
func (ws *Watchers) NotifyAll() {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for k, w := range ws.m {
		close(w.ch)
		delete(ws.m, k)
	}
}
