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

// Record counts o once per identity; it reports whether o was new.
func (s *MemStore) Record(_ context.Context, o problems.Occurrence) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[o.Identity] {
		return false, nil
	}
	s.seen[o.Identity] = true
	id := problems.ID(o.Org, o.Env, o.Fingerprint)
	p, ok := s.m[id]
	if !ok {
		p = problems.Problem{
			ID: id, Org: o.Org, Env: o.Env, Fingerprint: o.Fingerprint, Title: o.Title, Culprit: o.Culprit,
			FirstSeen: o.At, LastSeen: o.At, Level: o.Level, Sample: o.Sample,
		}
	}
	p.Count++
	if o.At.Before(p.FirstSeen) {
		p.FirstSeen = o.At
	}
	if o.At.After(p.LastSeen) {
		p.LastSeen, p.Level, p.Sample, p.Title, p.Culprit = o.At, o.Level, o.Sample, o.Title, o.Culprit
	}
	if !slices.Contains(p.LogGroups, o.Sample.LogGroup) {
		p.LogGroups = append(p.LogGroups, o.Sample.LogGroup)
	}
	s.m[id] = clone(p)
	return true, nil
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
