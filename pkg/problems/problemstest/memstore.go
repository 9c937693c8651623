package problemstest

import (
	"context"
	"slices"
	"sync"

	"github.com/aient/firehose-drain/pkg/problems"
)

// MemStore is the smallest correct problems.Store, in memory: the plain fake for unit tests
// of code that records problems, and the proof that Run passes on a store that keeps the
// contract.
type MemStore struct {
	mu   sync.Mutex
	seen map[string]bool
	m    map[string]problems.Problem
}

var _ problems.Store = (*MemStore)(nil)

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{seen: map[string]bool{}, m: map[string]problems.Problem{}}
}

func clone(p problems.Problem) problems.Problem {
	p.LogGroups = slices.Clone(p.LogGroups)
	p.Sample.Frames = slices.Clone(p.Sample.Frames)
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
			s.m[g.ID] = clone(problems.Merge(p, ok, problems.AggregateOf(fresh)))
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
			out = append(out, clone(p))
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
