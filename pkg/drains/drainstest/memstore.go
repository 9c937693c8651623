package drainstest

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aient/firehose-drain/pkg/drains"
)

// MemStore is the smallest correct drains.Store, in memory: the plain fake for unit tests
// of code that uses drains, and the proof that Run passes on a store that keeps the contract.
type MemStore struct {
	mu sync.Mutex
	m  map[string]drains.Drain
	// rules per org and env (rules.go)
	rules    map[[2]string][]drains.Rule
	nextRule map[[2]string]int
	// ignored: the identities RecordIgnored marked
	ignored map[string]bool
}

var _ drains.Store = (*MemStore)(nil)

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{m: map[string]drains.Drain{}} }

func clone(d drains.Drain) drains.Drain {
	d.Keys = slices.Clone(d.Keys)
	if d.LastAuthError != nil {
		n := *d.LastAuthError
		d.LastAuthError = &n
	}
	if d.LastPayloadError != nil {
		n := *d.LastPayloadError
		d.LastPayloadError = &n
	}
	if d.LastLogsRejected != nil {
		n := *d.LastLogsRejected
		d.LastLogsRejected = &n
	}
	d.Sources = maps.Clone(d.Sources)
	return d
}

// Create stores d; ErrExists if its id is taken.
func (s *MemStore) Create(_ context.Context, d drains.Drain) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[d.ID]; ok {
		return drains.ErrExists
	}
	s.m[d.ID] = clone(d)
	return nil
}

// Get returns a copy of the drain with id, or ErrNotFound.
func (s *MemStore) Get(_ context.Context, id string) (drains.Drain, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.m[id]
	if !ok {
		return drains.Drain{}, drains.ErrNotFound
	}
	return clone(d), nil
}

// List returns copies of every drain.
func (s *MemStore) List(context.Context) ([]drains.Drain, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []drains.Drain
	for _, d := range s.m {
		out = append(out, clone(d))
	}
	return out, nil
}

// SetKeys replaces a drain's keys; ErrNotFound or ErrRevoked where it cannot.
func (s *MemStore) SetKeys(_ context.Context, id string, keys []drains.Key, rotatedAt time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.m[id]
	switch {
	case !ok:
		return drains.ErrNotFound
	case d.State != drains.StateActive:
		return drains.ErrRevoked
	}
	d.Keys, d.RotatedAt = slices.Clone(keys), rotatedAt
	s.m[id] = d
	return nil
}

// Revoke marks a drain revoked.
func (s *MemStore) Revoke(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.m[id]
	if !ok {
		return drains.ErrNotFound
	}
	if d.State != drains.StateRevoked {
		d.State, d.RevokedAt = drains.StateRevoked, at
		s.m[id] = d
	}
	return nil
}

// RecordDelivery adds a delivery's counters and times to a drain.
func (s *MemStore) RecordDelivery(_ context.Context, id string, del drains.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.m[id]
	if !ok {
		return nil
	}
	d.Counters.Add(del.Counters)
	src := maps.Clone(d.Sources)
	if src == nil {
		src = map[string]drains.SourceStats{}
	}
	st := src[drains.SourceOf(del)]
	st.Apply(del)
	src[drains.SourceOf(del)] = st
	d.Sources = src
	if del.Data {
		d.LastReceivedAt = del.At
	}
	if del.Control {
		d.LastControlAt = del.At
	}
	if del.PayloadError != nil {
		n := *del.PayloadError
		d.LastPayloadError = &n
	}
	if del.LogsRejected != nil {
		n := *del.LogsRejected
		d.LastLogsRejected = &n
	}
	s.m[id] = d
	return nil
}

// RecordAuthFailure notes an auth failure at most once per minInterval.
func (s *MemStore) RecordAuthFailure(_ context.Context, id string, n drains.Note, minInterval time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.m[id]
	if !ok {
		return false, nil
	}
	if d.LastAuthError != nil && d.LastAuthError.At.After(n.At.Add(-minInterval)) {
		return false, nil
	}
	d.LastAuthError = &n
	s.m[id] = d
	return true, nil
}

var _ drains.IgnoreRecorder = (*MemStore)(nil)

// RecordIgnored marks the identities dropped on drain and counts the new ones, at once.
func (s *MemStore) RecordIgnored(ctx context.Context, drain string, ids []string, _ time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.m[drain]
	if !ok {
		return 0, nil
	}
	if s.ignored == nil {
		s.ignored = map[string]bool{}
	}
	n := 0
	for _, id := range ids {
		if !s.ignored[id] {
			s.ignored[id] = true
			n++
		}
	}
	d.Counters.Ignored += int64(n)
	s.m[drain] = d
	return n, nil
}
