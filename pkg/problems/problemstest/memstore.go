package problemstest

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aient/firehose-drain/pkg/problems"
)

// MemStore is the smallest correct problems.Store, in memory: the plain fake for unit tests
// of code that records problems, and the proof that Run passes on a store that keeps the
// contract.
type MemStore struct {
	// Now is the store's clock (default time.Now); set it before use.
	Now     func() time.Time
	mu      sync.Mutex
	seen    map[string]bool
	m       map[string]problems.Problem
	notices []problems.Notice
}

var _ problems.Store = (*MemStore)(nil)

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{Now: time.Now, seen: map[string]bool{}, m: map[string]problems.Problem{}}
}

func clone(p problems.Problem) problems.Problem {
	p.LogGroups = slices.Clone(p.LogGroups)
	p.Sample.Frames = slices.Clone(p.Sample.Frames)
	p.Hourly = slices.Clone(p.Hourly)
	p.AlertedAt = maps.Clone(p.AlertedAt)
	return p
}

// RecordBatch records the batch under one lock, problem by problem (problems.Merge).
func (s *MemStore) RecordBatch(ctx context.Context, occs []problems.Occurrence) []problems.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return problems.PlanBatch(occs).Run(ctx, 1, func(_ context.Context, g problems.Group) []problems.Result {
		out := make([]problems.Result, len(g.Occurrences))
		var fresh []problems.Occurrence
		for i, o := range g.Occurrences {
			if !s.seen[o.Identity] {
				s.seen[o.Identity] = true
				out[i].Recorded = true
				fresh = append(fresh, o)
			}
		}
		if len(fresh) > 0 {
			p, ok := s.m[g.ID]
			times := make([]time.Time, len(fresh))
			for i, o := range fresh {
				times[i] = o.At
			}
			merged, notice := problems.Decide(problems.Merge(p, ok, problems.AggregateOf(fresh)), ok, times, s.Now())
			s.m[g.ID] = clone(merged)
			if notice != nil {
				s.notices = append(s.notices, *notice)
			}
		}
		return out
	})
}

// Record is RecordBatch of one occurrence.
func (s *MemStore) Record(ctx context.Context, o problems.Occurrence) (bool, error) {
	return problems.RecordOne(ctx, s, o)
}

// List returns the problems of one org and env, most recently seen first.
func (s *MemStore) List(_ context.Context, org, env string) ([]problems.Problem, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []problems.Problem
	for _, p := range s.m {
		if (org == "" && env == "") || (p.Org == org && p.Env == env) {
			p = clone(p)
			p.Hourly = nil
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b problems.Problem) int { return b.LastSeen.Compare(a.LastSeen) })
	return out, nil
}

// Get returns the problem with id, or ErrNotFound.
func (s *MemStore) Get(_ context.Context, id string) (problems.Problem, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.m[id]
	if !ok {
		return problems.Problem{}, problems.ErrNotFound
	}
	return clone(p), nil
}

// Act applies an operator's action under the lock.
func (s *MemStore) Act(_ context.Context, id string, a problems.Action) (problems.Problem, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.m[id]
	if !ok {
		return problems.Problem{}, problems.ErrNotFound
	}
	p, err := problems.Act(p, a, s.Now())
	if err != nil {
		return problems.Problem{}, err
	}
	s.m[id] = clone(p)
	return clone(p), nil
}

// Notices are the notices the store wrote, in order (its outbox).
func (s *MemStore) Notices() []problems.Notice {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.notices)
}
