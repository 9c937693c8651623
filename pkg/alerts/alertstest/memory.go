package alertstest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aient/firehose-drain/pkg/alerts"
	"github.com/aient/firehose-drain/pkg/problems"
)

// MemDestinations is alerts.Destinations in memory.
type MemDestinations struct {
	mu sync.Mutex
	m  map[string]alerts.Destination
}

var _ alerts.Destinations = (*MemDestinations)(nil)

// NewMemDestinations returns an empty MemDestinations.
func NewMemDestinations() *MemDestinations {
	return &MemDestinations{m: map[string]alerts.Destination{}}
}

// Add implements alerts.Destinations.
func (s *MemDestinations) Add(_ context.Context, d alerts.Destination) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[d.ID]; ok {
		return fmt.Errorf("%w: id %s is taken", alerts.ErrInvalid, d.ID)
	}
	s.m[d.ID] = d
	return nil
}

// List implements alerts.Destinations.
func (s *MemDestinations) List(context.Context) ([]alerts.Destination, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Collect(maps.Values(s.m))
	slices.SortFunc(out, func(a, b alerts.Destination) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	return out, nil
}

// Get implements alerts.Destinations.
func (s *MemDestinations) Get(_ context.Context, id string) (alerts.Destination, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.m[id]
	if !ok {
		return d, fmt.Errorf("destination %q: %w", id, alerts.ErrNotFound)
	}
	return d, nil
}

// Remove implements alerts.Destinations.
func (s *MemDestinations) Remove(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[id]; !ok {
		return fmt.Errorf("destination %q: %w", id, alerts.ErrNotFound)
	}
	delete(s.m, id)
	return nil
}

// Report implements alerts.Destinations.
func (s *MemDestinations) Report(_ context.Context, id string, r alerts.Report) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.m[id]; ok {
		d.Status = d.Apply(r)
		s.m[id] = d
	}
	return nil
}

// MemSecrets is alerts.SecretStore in memory.
type MemSecrets struct {
	mu sync.Mutex
	m  map[string]alerts.Secret
	n  int
}

var _ alerts.SecretStore = (*MemSecrets)(nil)

// NewMemSecrets returns an empty MemSecrets.
func NewMemSecrets() *MemSecrets { return &MemSecrets{m: map[string]alerts.Secret{}} }

// PutSecret implements alerts.SecretStore.
func (s *MemSecrets) PutSecret(_ context.Context, id string, v alerts.Secret) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	ref := id + "-" + strconv.Itoa(s.n)
	s.m[ref] = v
	return ref, nil
}

// GetSecret implements alerts.SecretStore.
func (s *MemSecrets) GetSecret(_ context.Context, ref string) (alerts.Secret, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[ref]
	if !ok {
		return v, errors.New("no such secret")
	}
	return v, nil
}

// DeleteSecret implements alerts.SecretStore.
func (s *MemSecrets) DeleteSecret(_ context.Context, ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, ref)
	return nil
}

// MemOutbox is alerts.Outbox in memory; Put is the problem store's write.
type MemOutbox struct {
	mu    sync.Mutex
	items map[string]*memNotice
	// FailMarks makes MarkSent fail this many more times (a crash between send and mark).
	FailMarks int
}

type memNotice struct {
	d    alerts.Delivery
	due  time.Time
	done bool
}

var _ alerts.Outbox = (*MemOutbox)(nil)

// NewMemOutbox returns an empty MemOutbox.
func NewMemOutbox() *MemOutbox { return &MemOutbox{items: map[string]*memNotice{}} }

// Put adds a notice (the same id again changes nothing).
func (o *MemOutbox) Put(n problems.Notice) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.items[n.ID]; !ok {
		o.items[n.ID] = &memNotice{d: alerts.Delivery{Notice: n, Sent: map[string]time.Time{}, Dead: map[string]bool{}, Attempts: map[string]int{}}, due: n.At}
	}
}

func (o *MemOutbox) copyOf(m *memNotice) alerts.Delivery {
	d := m.d
	d.Sent, d.Dead, d.Attempts = maps.Clone(d.Sent), maps.Clone(d.Dead), maps.Clone(d.Attempts)
	return d
}

// Pending implements alerts.Outbox.
func (o *MemOutbox) Pending(_ context.Context, now time.Time, limit int) ([]alerts.Delivery, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var ms []*memNotice
	for _, m := range o.items {
		if !m.done && !m.due.After(now) {
			ms = append(ms, m)
		}
	}
	slices.SortFunc(ms, func(a, b *memNotice) int {
		if c := a.d.Notice.At.Compare(b.d.Notice.At); c != 0 {
			return c
		}
		if a.d.Notice.ID < b.d.Notice.ID {
			return -1
		}
		return 1
	})
	var out []alerts.Delivery
	for _, m := range ms[:min(len(ms), limit)] {
		out = append(out, o.copyOf(m))
	}
	return out, nil
}

// Load implements alerts.Outbox.
func (o *MemOutbox) Load(_ context.Context, ids []string) ([]alerts.Delivery, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []alerts.Delivery
	for _, id := range ids {
		if m, ok := o.items[id]; ok {
			out = append(out, o.copyOf(m))
		}
	}
	return out, nil
}

// MarkSent implements alerts.Outbox.
func (o *MemOutbox) MarkSent(_ context.Context, id, dest string, at time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.FailMarks > 0 {
		o.FailMarks--
		return errors.New("crashed before marking")
	}
	if m, ok := o.items[id]; ok {
		m.d.Sent[dest] = at
	}
	return nil
}

// MarkFailed implements alerts.Outbox.
func (o *MemOutbox) MarkFailed(_ context.Context, id, dest string, attempts int, dead bool, retryAt time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if m, ok := o.items[id]; ok {
		m.d.Attempts[dest] = attempts
		if dead {
			m.d.Dead[dest] = true
		}
		m.due = retryAt
	}
	return nil
}

// Done implements alerts.Outbox.
func (o *MemOutbox) Done(_ context.Context, id string, _ time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if m, ok := o.items[id]; ok {
		m.done = true
	}
	return nil
}
