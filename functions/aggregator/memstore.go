package aggregator

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/pricefn/pricefn/events"
)

// MemStore is a Store in memory, for one aggregator process. Its zero
// value is not usable; call NewMemStore.
type MemStore struct {
	opt     MemStoreOptions
	mu      sync.Mutex
	batches map[string]*Record
	watches map[string]*watch
	// finished lists the finished batches in the order they finished.
	finished []finishedBatch
}

// MemStoreOptions tunes a MemStore. The zero value keeps every batch for
// ever.
type MemStoreOptions struct {
	// Retain is how long a finished batch is kept; 0 means for ever. A
	// batch asked for after that is unknown (404).
	Retain time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

type finishedBatch struct {
	id string
	at time.Time
}

// watch is the channel the waiters on one batch share.
type watch struct {
	ch      chan struct{}
	waiters int
}

var _ Store = (*MemStore)(nil)

// NewMemStore returns an empty MemStore.
func NewMemStore(opt MemStoreOptions) *MemStore {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &MemStore{opt: opt, batches: map[string]*Record{}, watches: map[string]*watch{}}
}

// changed wakes the waiters on batch id and, when r has just finished,
// records when; then it forgets the batches finished longer ago than
// Retain. s.mu is held.
func (s *MemStore) changed(id string, r *Record, wasDone bool) {
	s.notify(id)
	if s.opt.Retain <= 0 {
		return
	}
	now := s.opt.Now()
	if !wasDone && r.Done() {
		s.finished = append(s.finished, finishedBatch{id, now})
	}
	n := 0
	for n < len(s.finished) && now.Sub(s.finished[n].at) > s.opt.Retain {
		delete(s.batches, s.finished[n].id)
		n++
	}
	s.finished = s.finished[n:]
}

// Create implements Store.
func (s *MemStore) Create(ctx context.Context, a events.BatchAccepted, at time.Time) (Update, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.batches[a.BatchID]; ok {
		return claim(r, Update{Duplicate: true}), nil
	}
	r := &Record{Accepted: a, AcceptedAt: at, Chunks: make([]Chunk, len(a.ChunkOffsets))}
	for i := range r.Chunks {
		r.Chunks[i].Index = i
	}
	s.batches[a.BatchID] = r
	s.changed(a.BatchID, r, false)
	return claim(r, Update{}), nil
}

// Put implements Store.
func (s *MemStore) Put(ctx context.Context, id string, c Chunk) (Update, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.batches[id]
	if !ok {
		return Update{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if c.Index < 0 || c.Index >= len(r.Chunks) {
		return Update{}, fmt.Errorf("%w: batch %s has no chunk %d", ErrBadChunk, id, c.Index)
	}
	cur := &r.Chunks[c.Index]
	if cur.State != ChunkWaiting {
		cur.Deliveries++
		r.Duplicates++
		s.notify(id)
		return claim(r, Update{Duplicate: true}), nil
	}
	wasDone := r.Done()
	*cur = c
	cur.Deliveries = 1
	s.changed(id, r, wasDone)
	return claim(r, Update{}), nil
}

// claim grants the announcement claim when r is done and unclaimed.
func claim(r *Record, u Update) Update {
	if !r.Announced && r.Done() {
		r.Announced = true
		u.Announce = true
	}
	return u
}

// Get implements Store.
func (s *MemStore) Get(ctx context.Context, id string) (*Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.batches[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	cp := *r
	cp.Chunks = slices.Clone(r.Chunks)
	return &cp, nil
}

// Watch implements Store.
func (s *MemStore) Watch(ctx context.Context, id string) (<-chan struct{}, func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.watches[id]
	if w == nil {
		w = &watch{ch: make(chan struct{})}
		s.watches[id] = w
	}
	w.waiters++
	var once sync.Once
	stop := func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if w.waiters--; w.waiters == 0 && s.watches[id] == w {
				delete(s.watches, id)
			}
		})
	}
	return w.ch, stop, nil
}

// notify wakes the waiters on batch id. s.mu is held.
func (s *MemStore) notify(id string) {
	if w := s.watches[id]; w != nil {
		close(w.ch)
		delete(s.watches, id)
	}
}

// Release implements Store.
func (s *MemStore) Release(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.batches[id]
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	r.Announced = false
	return nil
}
