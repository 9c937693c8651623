package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/event"
)

// fakeAuth knows drains by id with one key each.
type fakeAuth struct {
	drains map[string]drains.Drain
	keys   map[string]string
	err    error // when set, every call fails with it (store down)
}

func (a *fakeAuth) Authenticate(_ context.Context, id, key string) (drains.Drain, error) {
	if a.err != nil {
		return drains.Drain{}, a.err
	}
	d, ok := a.drains[id]
	if !ok {
		// As drains.Service says it: unauthorized, and the drain is unknown.
		return drains.Drain{}, fmt.Errorf("%w (%w)", drains.ErrUnauthorized, drains.ErrUnknownDrain)
	}
	if key == "" || a.keys[id] != key {
		return drains.Drain{}, drains.ErrUnauthorized
	}
	if d.State == drains.StateRevoked {
		return d, drains.ErrRevoked
	}
	return d, nil
}

// fakeBooks records the bookkeeping calls.
type fakeBooks struct {
	mu           sync.Mutex
	deliveries   []drains.Delivery
	authFailures []drains.Note
}

func (b *fakeBooks) RecordDelivery(_ context.Context, _ string, d drains.Delivery) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.deliveries = append(b.deliveries, d)
	return nil
}

func (b *fakeBooks) RecordAuthFailure(_ context.Context, _ string, n drains.Note, _ time.Duration) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.authFailures = append(b.authFailures, n)
	return true, nil
}

func (b *fakeBooks) last() drains.Delivery {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.deliveries) == 0 {
		return drains.Delivery{}
	}
	return b.deliveries[len(b.deliveries)-1]
}

// fakeClaims is the dedup state machine at the Claimer level: done, inflight (busy) or absent.
type fakeClaims struct {
	mu       sync.Mutex
	state    map[string]string // key -> "inflight" | "done"
	claimErr error
	released int
}

func newFakeClaims() *fakeClaims { return &fakeClaims{state: map[string]string{}} }

func (c *fakeClaims) Claim(_ context.Context, keys []string) (*dedup.Batch, error) {
	if c.claimErr != nil {
		return nil, c.claimErr
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	b := &dedup.Batch{Token: "t", Keys: keys, Outcomes: make([]dedup.Outcome, len(keys))}
	for i, k := range keys {
		switch c.state[k] {
		case "done":
			b.Outcomes[i] = dedup.Duplicate
		case "inflight":
			b.Outcomes[i] = dedup.Busy
		default:
			c.state[k] = "inflight" // until Commit or Release, as the real claims (their lease aside)
			b.Outcomes[i] = dedup.Fresh
		}
	}
	return b, nil
}

func (c *fakeClaims) Commit(_ context.Context, b *dedup.Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, k := range b.Keys {
		if b.Outcomes[i] == dedup.Fresh {
			c.state[k] = "done"
		}
	}
	return nil
}

func (c *fakeClaims) Release(_ context.Context, b *dedup.Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, k := range b.Keys {
		if b.Outcomes[i] == dedup.Fresh {
			delete(c.state, k)
			c.released++
		}
	}
	return nil
}

// fakeSender keeps what it was sent; fail makes the next sends fail.
type fakeSender struct {
	mu   sync.Mutex
	sent []event.Event
	fail bool
}

func (s *fakeSender) Send(_ context.Context, evs []event.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("queue down")
	}
	s.sent = append(s.sent, evs...)
	return nil
}

func (s *fakeSender) events() []event.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event.Event(nil), s.sent...)
}
