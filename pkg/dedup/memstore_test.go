package dedup_test

import (
	"context"
	"sync"
	"time"

	"github.com/aient/firehose-drain/pkg/dedup"
)

// memStore is a plain in-memory dedup.Store for the Claimer's unit tests. Its hooks let a
// test fail or observe individual calls.
type memStore struct {
	mu    sync.Mutex
	items map[string]memItem

	// claimErr, when set, is consulted before every Claim; a non-nil result is returned.
	claimErr func(key string) error
	// commitErr and releaseErr, when set, fail every Commit / Release.
	commitErr  error
	releaseErr error

	// calls observed
	claims, commits, releases int
	commitBatches             [][]string
	inflightNow, inflightMax  int
	claimDelay                time.Duration
}

type memItem struct {
	done       bool
	token      string
	leaseUntil time.Time
	expiresAt  time.Time
}

func newMemStore() *memStore { return &memStore{items: map[string]memItem{}} }

func (m *memStore) Claim(ctx context.Context, c dedup.Claim, now time.Time) (dedup.Outcome, error) {
	m.mu.Lock()
	m.claims++
	m.inflightNow++
	m.inflightMax = max(m.inflightMax, m.inflightNow)
	delay := m.claimDelay
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.inflightNow--
		m.mu.Unlock()
	}()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if m.claimErr != nil {
		if err := m.claimErr(c.Key); err != nil {
			return 0, err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[c.Key]
	switch {
	case !ok, !it.done && it.leaseUntil.Before(now):
		m.items[c.Key] = memItem{token: c.Token, leaseUntil: c.LeaseUntil, expiresAt: c.ExpiresAt}
		return dedup.Fresh, nil
	case it.done:
		return dedup.Duplicate, nil
	default:
		return dedup.Busy, nil
	}
}

func (m *memStore) Commit(_ context.Context, keys []string, token string, expiresAt time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commits++
	m.commitBatches = append(m.commitBatches, append([]string(nil), keys...))
	if m.commitErr != nil {
		return m.commitErr
	}
	for _, k := range keys {
		if it, ok := m.items[k]; ok && it.token == token {
			it.done = true
			it.expiresAt = expiresAt
			m.items[k] = it
		}
	}
	return nil
}

func (m *memStore) Release(_ context.Context, keys []string, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.releases++
	if m.releaseErr != nil {
		return m.releaseErr
	}
	for _, k := range keys {
		if it, ok := m.items[k]; ok && it.token == token && !it.done {
			delete(m.items, k)
		}
	}
	return nil
}

// state reports a key's state as the store holds it: "", "inflight" or "done".
func (m *memStore) state(key string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[key]
	switch {
	case !ok:
		return ""
	case it.done:
		return "done"
	}
	return "inflight"
}
