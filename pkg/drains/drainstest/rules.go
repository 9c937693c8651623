package drainstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/drains"
)

var _ drains.RuleStore = (*MemStore)(nil)

// Rules implements drains.RuleStore.
func (s *MemStore) Rules(_ context.Context, org, env string) ([]drains.Rule, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rules[[2]string{org, env}]), nil
}

// AddRule implements drains.RuleStore.
func (s *MemStore) AddRule(_ context.Context, org, env, text string, at time.Time) (drains.Rule, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rules == nil {
		s.rules, s.nextRule = map[[2]string][]drains.Rule{}, map[[2]string]int{}
	}
	k := [2]string{org, env}
	if len(s.rules[k]) >= drains.MaxRules {
		return drains.Rule{}, drains.ErrTooManyRules
	}
	s.nextRule[k]++
	r := drains.Rule{ID: fmt.Sprintf("r%d", s.nextRule[k]), Org: org, Env: env, Text: text, CreatedAt: at.UTC().Truncate(time.Millisecond)}
	s.rules[k] = append(s.rules[k], r)
	return r, nil
}

// RemoveRule implements drains.RuleStore.
func (s *MemStore) RemoveRule(_ context.Context, org, env, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{org, env}
	i := slices.IndexFunc(s.rules[k], func(r drains.Rule) bool { return r.ID == id })
	if i < 0 {
		return drains.ErrRuleNotFound
	}
	s.rules[k] = slices.Delete(slices.Clone(s.rules[k]), i, i+1)
	return nil
}

// RunRules runs the RuleStore contract (and the Ignored counter of the drains store) on
// fresh stores from newStore.
func RunRules(t *testing.T, newStore func(t *testing.T) interface {
	drains.Store
	drains.RuleStore
},
) {
	ctx := context.Background()
	at := time.Date(2026, 11, 21, 1, 2, 3, 456_000_000, time.UTC)
	t.Run("rules come back in order, per org and env", func(t *testing.T) {
		s := newStore(t)
		a, err := s.AddRule(ctx, "acme", "prod", "path:**/vendor/** -app", at)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := s.AddRule(ctx, "acme", "prod", "code:ForceRetryExecution ignore", at.Add(time.Second))
		other, _ := s.AddRule(ctx, "acme", "dev", "module:com.acme.** +app", at)
		evil, _ := s.AddRule(ctx, "evil", "prod", "message:* ignore", at)
		got, err := s.Rules(ctx, "acme", "prod")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0] != a || got[1] != b || a.ID == b.ID {
			t.Fatalf("acme/prod rules %+v, want %+v then %+v", got, a, b)
		}
		if a.Org != "acme" || a.Env != "prod" || a.Text != "path:**/vendor/** -app" || !a.CreatedAt.Equal(at) {
			t.Fatalf("rule %+v", a)
		}
		for _, c := range []struct {
			org, env string
			want     drains.Rule
		}{{"acme", "dev", other}, {"evil", "prod", evil}} {
			got, _ := s.Rules(ctx, c.org, c.env)
			if len(got) != 1 || got[0] != c.want {
				t.Fatalf("%s/%s rules %+v: rules leak between orgs or envs", c.org, c.env, got)
			}
		}
		if got, _ := s.Rules(ctx, "nobody", "prod"); len(got) != 0 {
			t.Fatalf("an org without rules has %+v", got)
		}
	})
	t.Run("remove takes one rule out and ids are never reused", func(t *testing.T) {
		s := newStore(t)
		a, _ := s.AddRule(ctx, "acme", "prod", "function:a -app", at)
		b, _ := s.AddRule(ctx, "acme", "prod", "function:b -app", at)
		if err := s.RemoveRule(ctx, "acme", "dev", a.ID); !errors.Is(err, drains.ErrRuleNotFound) {
			t.Fatalf("removing another env's rule: %v", err)
		}
		if err := s.RemoveRule(ctx, "acme", "prod", a.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveRule(ctx, "acme", "prod", a.ID); !errors.Is(err, drains.ErrRuleNotFound) {
			t.Fatalf("removing it twice: %v", err)
		}
		c, _ := s.AddRule(ctx, "acme", "prod", "function:c -app", at)
		got, _ := s.Rules(ctx, "acme", "prod")
		if len(got) != 2 || got[0] != b || got[1] != c || c.ID == a.ID || c.ID == b.ID {
			t.Fatalf("after remove and add: %+v", got)
		}
	})
	t.Run("concurrent adds all land with distinct ids", func(t *testing.T) {
		s := newStore(t)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.AddRule(ctx, "acme", "prod", fmt.Sprintf("function:f%d -app", i), at); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		got, _ := s.Rules(ctx, "acme", "prod")
		ids := map[string]bool{}
		for _, r := range got {
			ids[r.ID] = true
		}
		if len(got) != 8 || len(ids) != 8 {
			t.Fatalf("%d rules, %d ids after 8 concurrent adds", len(got), len(ids))
		}
	})
	t.Run("a drain counts ignored events", func(t *testing.T) {
		s := newStore(t)
		d := drains.Drain{ID: "drn_ignored1", Org: "acme", Env: "prod", State: drains.StateActive, CreatedAt: at}
		if err := s.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := s.RecordDelivery(ctx, d.ID, drains.Delivery{At: at, Counters: drains.Counters{Ignored: 3}}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Get(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Counters.Ignored != 6 {
			t.Fatalf("ignored %d, want 6", got.Counters.Ignored)
		}
		list, _ := s.List(ctx)
		if len(list) != 1 {
			t.Fatalf("List shows %d drains (rules must not show as drains)", len(list))
		}
	})
}
