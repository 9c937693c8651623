package ddb

import "sync"

// DefaultSeenCache is how many problems a Store made WithSeenCache(0) remembers.
const DefaultSeenCache = 1024

// seenCache remembers, per problem, what the store last learnt of its item (the state a
// committed write left, or the item a cancellation returned), so that the next batch of
// a known problem writes at once instead of reading first: one round instead of two.
//
// What it remembers may be stale (another invocation wrote since, an operator acted):
// that is safe, because a problem write's conditions never trust what was read. Each
// condition says what its part of the update assumes of the item as it is when the
// transaction applies (absent; lastSeen at or below the batch's newest, or above it;
// firstSeen above or at-or-below its oldest; the guard still admitting the write, read
// from the item itself; the exact version the decision was made on), so a stale guess
// costs one cancelled transaction that returns the item as it now is (ALL_OLD), and the
// next attempt is built from that — exactly what a read followed by a concurrent writer
// costs.
type seenCache struct {
	mu  sync.Mutex
	max int
	m   map[string]seen
}

func newSeenCache(n int) *seenCache {
	if n <= 0 {
		n = DefaultSeenCache
	}
	return &seenCache{max: n, m: make(map[string]seen, min(n, 1024))}
}

// get returns what is known of problem id; false when nothing is (a nil cache knows
// nothing).
func (c *seenCache) get(id string) (seen, bool) {
	if c == nil {
		return seen{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[id]
	return st, ok
}

// put remembers st of problem id; only problems known to exist are remembered (a guess
// of "new" is what an unknown problem gets anyway, after a read).
func (c *seenCache) put(id string, st seen) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !st.exists {
		delete(c.m, id)
		return
	}
	if _, ok := c.m[id]; !ok && len(c.m) >= c.max {
		// Full: forget an arbitrary other problem (map order), a bounded memory in a
		// long-lived instance; a forgotten problem is read again when it next occurs.
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[id] = st
}

// forget drops what is known of problem id.
func (c *seenCache) forget(id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

// WithSeenCache makes s remember up to n problems' state between batches (n <= 0:
// DefaultSeenCache), so that a batch writes the problems it knows without reading them
// first (see seenCache), and returns s. For a long-lived writer such as the grouper
// Lambda; the write path's conditions keep every count exact whatever it remembers.
func (s *Store) WithSeenCache(n int) *Store {
	s.cache = newSeenCache(n)
	return s
}
