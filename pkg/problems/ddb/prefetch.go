package ddb

import (
	"context"
	"sync"
	"time"
)

// prefetchKeep is how long a read that Prefetch started is kept for a RecordBatch after it
// is answered: past it, the answer is dropped (a batch reads the problem itself).
const prefetchKeep = 10 * time.Second

// Prefetch starts reading problems ids in the background and returns at once: for a
// caller that learns a batch's problems before it has the whole batch (the grouper names
// them while it fingerprints the batch's messages). The problems the seen cache knows, and
// those being read already, are not read. A RecordBatch that meets a problem being read
// this way waits for that read instead of reading it again; each read is used by one
// RecordBatch. A read is only a guess (the writes' conditions never trust it), so which
// batch uses it changes no count; a read nobody used within prefetchKeep of its answer is
// dropped. The read works under ctx.
func (s *Store) Prefetch(ctx context.Context, ids []string) {
	var want []string
	r := &prefetchRead{done: make(chan struct{})}
	s.prefetched.mu.Lock()
	s.prefetched.sweepLocked(s.now())
	if s.prefetched.m == nil {
		s.prefetched.m = map[string]*prefetchRead{}
	}
	for _, id := range ids {
		if _, ok := s.cache.get(id); ok {
			continue
		}
		if _, ok := s.prefetched.m[id]; ok {
			continue
		}
		s.prefetched.m[id] = r
		want = append(want, id)
	}
	s.prefetched.mu.Unlock()
	if len(want) == 0 {
		return
	}
	go func() {
		r.got = s.readItems(ctx, want)
		r.at = s.now()
		close(r.done)
	}()
}

// prefetches are the reads Prefetch started, by problem id, until a RecordBatch takes them.
type prefetches struct {
	mu sync.Mutex
	m  map[string]*prefetchRead
}

// prefetchRead is one read Prefetch started: got and at are set before done is closed.
type prefetchRead struct {
	done chan struct{}
	got  map[string]readItem
	at   time.Time
}

// sweepLocked drops the reads answered more than prefetchKeep before now (p.mu held).
func (p *prefetches) sweepLocked(now time.Time) {
	for id, r := range p.m {
		select {
		case <-r.done:
			if now.Sub(r.at) > prefetchKeep {
				delete(p.m, id)
			}
		default:
		}
	}
}

// started is the reads a batch takes from Prefetch, by problem id.
type started map[string]*prefetchRead

// take splits ids into those no Prefetch is reading (own) and the reads started for the
// others, which it takes: no other batch will use them.
func (p *prefetches) take(ids []string) (own []string, st started) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		r, ok := p.m[id]
		if !ok {
			own = append(own, id)
			continue
		}
		delete(p.m, id)
		if st == nil {
			st = started{}
		}
		st[id] = r
	}
	return own, st
}

// await waits for the reads of st (until ctx ends) and adds what they found to into: a
// problem whose read did not answer in time is left out, which the write takes as unknown.
func (st started) await(ctx context.Context, into map[string]readItem) {
	for id, r := range st {
		select {
		case <-r.done:
		case <-ctx.Done():
			return
		}
		if v, ok := r.got[id]; ok {
			into[id] = v
		}
	}
}
