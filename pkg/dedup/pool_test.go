package dedup_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/dedup"
)

func keysN(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprint("k", i)
	}
	return keys
}

func TestClaimConcurrencyGrowsToWhatTheDeadlineNeeds(t *testing.T) {
	s := newMemStore()
	s.claimDelay = 5 * time.Millisecond
	c := dedup.New(s, dedup.Config{Concurrency: 4, MaxConcurrency: 200, Now: (&clock{start}).Now})
	// 3000 keys at >= 5 ms each within 2 s: at 4 in flight that is >= 3.75 s; finishing in
	// half the time left needs >= 15.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	b, err := c.Claim(ctx, keysN(3000))
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if b.Count(F) != 3000 {
		t.Fatalf("%d fresh, want 3000", b.Count(F))
	}
	if s.inflightMax < 15 || s.inflightMax > 200 {
		t.Fatalf("at most %d claims in flight, want it grown from 4 to at least 15 (and at most 200)", s.inflightMax)
	}
}

func TestThrottledClaimsAreRetriedAtLowerConcurrency(t *testing.T) {
	s := newMemStore()
	s.claimDelay = time.Millisecond
	var throttles atomic.Int64
	// The store refuses any call beyond 3 in flight, as a hot partition would.
	s.claimErr = func(string) error {
		s.mu.Lock()
		over := s.inflightNow > 3
		s.mu.Unlock()
		if over {
			throttles.Add(1)
			return fmt.Errorf("ProvisionedThroughputExceeded: %w: %w", dedup.ErrUnavailable, dedup.ErrThrottled)
		}
		return nil
	}
	c := dedup.New(s, dedup.Config{Concurrency: 16, Now: (&clock{start}).Now})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	b, err := c.Claim(ctx, keysN(300))
	if err != nil {
		t.Fatalf("Claim: %v (after %d throttles)", err, throttles.Load())
	}
	if b.Count(F) != 300 {
		t.Fatalf("%d fresh, want all 300", b.Count(F))
	}
	if throttles.Load() == 0 {
		t.Fatal("the store never throttled: the test tested nothing")
	}
}

func TestAThrottleThatWouldOutlastTheDeadlineIsUnavailableAndReleases(t *testing.T) {
	s := newMemStore()
	s.claimErr = func(key string) error {
		if key == "k7" {
			return fmt.Errorf("ThrottlingException: %w: %w", dedup.ErrUnavailable, dedup.ErrThrottled)
		}
		return nil
	}
	c := dedup.New(s, dedup.Config{Now: (&clock{start}).Now})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err := c.Claim(ctx, keysN(20))
	if !errors.Is(err, dedup.ErrUnavailable) || !errors.Is(err, dedup.ErrThrottled) {
		t.Fatalf("Claim = %v, want ErrUnavailable wrapping the throttle", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Claim = %v: it ran into the deadline, want it to stop when a retry cannot fit", err)
	}
	for _, k := range keysN(20) {
		if st := s.state(k); st != "" {
			t.Fatalf("key %s is %q after the failed claim, want released", k, st)
		}
	}
}
