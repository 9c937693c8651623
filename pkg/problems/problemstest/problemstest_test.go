package problemstest_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/aient/firehose-drain/pkg/problems"
	"github.com/aient/firehose-drain/pkg/problems/problemstest"
)

// memStore is the smallest correct problems.Store: it shows that the suite passes on a
// store that keeps the contract, so a failure elsewhere is the store's, not the suite's.
type memStore struct {
	mu   sync.Mutex
	seen map[string]bool
	m    map[string]problems.Problem
}

var _ problems.Store = (*memStore)(nil)

func newMem(*testing.T) problems.Store {
	return &memStore{seen: map[string]bool{}, m: map[string]problems.Problem{}}
}

func clone(p problems.Problem) problems.Problem {
	p.LogGroups = slices.Clone(p.LogGroups)
	p.Sample.Frames = slices.Clone(p.Sample.Frames)
	return p
}

func (s *memStore) Record(_ context.Context, o problems.Occurrence) (bool, error) {
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
		p.LastSeen, p.Level, p.Sample = o.At, o.Level, o.Sample
	}
	if !slices.Contains(p.LogGroups, o.Sample.LogGroup) {
		p.LogGroups = append(p.LogGroups, o.Sample.LogGroup)
	}
	s.m[id] = clone(p)
	return true, nil
}

func (s *memStore) List(_ context.Context, org, env string) ([]problems.Problem, error) {
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

func (s *memStore) Get(_ context.Context, id string) (problems.Problem, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.m[id]
	if !ok {
		return problems.Problem{}, problems.ErrNotFound
	}
	return clone(p), nil
}

func TestSuitePassesOnACorrectStore(t *testing.T) {
	problemstest.Run(t, newMem)
}
