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
	// created lists the batches in the order they were created, finished
	// the finished ones in the order they finished: each list's times
	// increase, so the batches to forget are at its front.
	created, finished []agedBatch
}

// MemStoreOptions tunes a MemStore. The zero value keeps every batch for
// ever.
type MemStoreOptions struct {
	// Retain is how long a finished batch is kept; 0 means for ever. A
	// batch asked for after that is unknown (404).
	Retain time.Duration
	// MaxAge is how long a batch that has not finished is kept after its
	// batch.accepted; 0 means for ever. A batch whose chunks were lost (a
	// client gave up on a half-sent batch, a broker dropped its events on
	// shutdown) never finishes, and would otherwise hold its memory for
	// ever. It should be far longer than any batch takes.
	MaxAge time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// agedBatch is a batch and a time in its life. The record tells it from a
// later batch of the same id.
type agedBatch struct {
	id  string
	rec *Record
	at  time.Time
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
// records when. s.mu is held.
func (s *MemStore) changed(id string, r *Record, wasDone bool) {
	s.notify(id)
	if s.opt.Retain > 0 && !wasDone && r.Done() {
		s.finished = append(s.finished, agedBatch{id, r, s.opt.Now()})
	}
}

// forget drops the batches finished longer ago than Retain and those
// created longer ago than MaxAge that have not finished. s.mu is held.
func (s *MemStore) forget() {
	if s.opt.Retain <= 0 && s.opt.MaxAge <= 0 {
		return
	}
	now := s.opt.Now()
	s.finished = s.dropOlder(s.finished, now, s.opt.Retain, func(*Record) bool { return true })
	s.created = s.dropOlder(s.created, now, s.opt.MaxAge, func(r *Record) bool { return !r.Done() })
}

// dropOlder deletes the batches of list older than age (none when age is
// 0) for which drop is true, and returns the rest of list.
func (s *MemStore) dropOlder(list []agedBatch, now time.Time, age time.Duration, drop func(*Record) bool) []agedBatch {
	if age <= 0 {
		return list
	}
	n := 0
	for ; n < len(list) && now.Sub(list[n].at) > age; n++ {
		b := list[n]
		if s.batches[b.id] == b.rec && drop(b.rec) {
			delete(s.batches, b.id)
			s.notify(b.id)
		}
	}
	return list[n:]
}

// Create implements Store.
func (s *MemStore) Create(ctx context.Context, a events.BatchAccepted, at time.Time) (Update, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forget()
	if r, ok := s.batches[a.BatchID]; ok {
		return claim(r, Update{Duplicate: true}), nil
	}
	r := &Record{Accepted: a, AcceptedAt: at, Chunks: make([]Chunk, len(a.ChunkOffsets))}
	for i := range r.Chunks {
		r.Chunks[i].Index = i
	}
	s.batches[a.BatchID] = r
	if s.opt.MaxAge > 0 {
		s.created = append(s.created, agedBatch{a.BatchID, r, s.opt.Now()})
	}
	s.changed(a.BatchID, r, false)
	return claim(r, Update{}), nil
}

// Put implements Store.
func (s *MemStore) Put(ctx context.Context, id string, c Chunk) (Update, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forget()
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
	s.forget()
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
