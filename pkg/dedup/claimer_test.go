package dedup_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/dedup"
)

var start = time.UnixMilli(1_800_000_000_000).UTC()

// clock is a settable clock for Config.Now.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func newClaimer(s dedup.Store, clk *clock) *dedup.Claimer {
	return dedup.New(s, dedup.Config{Now: clk.Now})
}

func mustClaim(t *testing.T, c *dedup.Claimer, keys ...string) *dedup.Batch {
	t.Helper()
	b, err := c.Claim(context.Background(), keys)
	if err != nil {
		t.Fatalf("Claim(%q): %v", keys, err)
	}
	if len(b.Outcomes) != len(keys) || !slices.Equal(b.Keys, keys) {
		t.Fatalf("Claim(%q) = keys %q outcomes %v, want one outcome per key", keys, b.Keys, b.Outcomes)
	}
	return b
}

func wantOutcomes(t *testing.T, b *dedup.Batch, want ...dedup.Outcome) {
	t.Helper()
	if !slices.Equal(b.Outcomes, want) {
		t.Fatalf("outcomes of %q = %v, want %v", b.Keys, b.Outcomes, want)
	}
}

const (
	F = dedup.Fresh
	D = dedup.Duplicate
	B = dedup.Busy
)

func TestClaimThenCommitMakesTheSameBatchDuplicate(t *testing.T) {
	s, clk := newMemStore(), &clock{start}
	c := newClaimer(s, clk)
	b := mustClaim(t, c, "a", "b", "c")
	wantOutcomes(t, b, F, F, F)
	if err := c.Commit(context.Background(), b); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	clk.t = clk.t.Add(time.Hour)
	again := mustClaim(t, c, "a", "b", "c")
	wantOutcomes(t, again, D, D, D)
	if again.Count(dedup.Duplicate) != 3 || len(again.Fresh()) != 0 {
		t.Fatalf("second delivery: %d duplicates, fresh %q; want 3 and none", again.Count(dedup.Duplicate), again.Fresh())
	}
}

func TestRepeatedKeyWithinOneBatchIsClaimedOnce(t *testing.T) {
	s := newMemStore()
	c := newClaimer(s, &clock{start})
	b := mustClaim(t, c, "a", "b", "a", "a")
	wantOutcomes(t, b, F, F, D, D)
	if got := b.Fresh(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Fresh() = %q, want [a b]", got)
	}
	if s.claims != 2 {
		t.Fatalf("store saw %d claims, want 2 (one per distinct key)", s.claims)
	}
}

func TestEachBatchHasItsOwnRandomToken(t *testing.T) {
	c := newClaimer(newMemStore(), &clock{start})
	seen := map[string]bool{}
	for i := range 50 {
		b := mustClaim(t, c, fmt.Sprint(i))
		if len(b.Token) < 16 || seen[b.Token] {
			t.Fatalf("batch %d token %q: want a fresh token of at least 16 characters", i, b.Token)
		}
		seen[b.Token] = true
	}
}

func TestInflightClaimIsBusyUntilTheDefaultLeaseEnds(t *testing.T) {
	s, clk := newMemStore(), &clock{start}
	crashed := newClaimer(s, clk)
	mustClaim(t, crashed, "a") // never committed, never released

	retry := newClaimer(s, clk)
	clk.t = start.Add(dedup.DefaultLease - time.Millisecond)
	wantOutcomes(t, mustClaim(t, retry, "a"), B)
	clk.t = start.Add(dedup.DefaultLease + time.Millisecond)
	wantOutcomes(t, mustClaim(t, retry, "a"), F)
}

func TestConfiguredLeaseAndTTLReachTheStore(t *testing.T) {
	s, clk := newMemStore(), &clock{start}
	c := dedup.New(s, dedup.Config{Lease: time.Minute, TTL: 2 * time.Hour, Now: clk.Now})
	b := mustClaim(t, c, "a")
	it := s.items["a"]
	if !it.leaseUntil.Equal(start.Add(time.Minute)) || !it.expiresAt.Equal(start.Add(2*time.Hour)) {
		t.Fatalf("claim lease %s expiry %s, want %s and %s", it.leaseUntil, it.expiresAt, start.Add(time.Minute), start.Add(2*time.Hour))
	}
	clk.t = start.Add(10 * time.Second)
	if err := c.Commit(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if got := s.items["a"].expiresAt; !got.Equal(clk.t.Add(2 * time.Hour)) {
		t.Fatalf("committed expiry %s, want commit time + TTL %s", got, clk.t.Add(2*time.Hour))
	}
}

func TestDefaultTTLIsADay(t *testing.T) {
	s := newMemStore()
	mustClaim(t, newClaimer(s, &clock{start}), "a")
	if got := s.items["a"].expiresAt; !got.Equal(start.Add(24 * time.Hour)) {
		t.Fatalf("expiry %s, want %s", got, start.Add(24*time.Hour))
	}
}

func TestMixedBatchCommitsOnlyItsFreshKeys(t *testing.T) {
	s, clk := newMemStore(), &clock{start}
	other := newClaimer(s, clk)
	mustClaim(t, other, "busy")
	done := mustClaim(t, other, "dup")
	if err := other.Commit(context.Background(), done); err != nil {
		t.Fatal(err)
	}

	c := newClaimer(s, clk)
	b := mustClaim(t, c, "new", "busy", "dup")
	wantOutcomes(t, b, F, B, D)
	if b.Count(F) != 1 || b.Count(B) != 1 || b.Count(D) != 1 {
		t.Fatalf("counts fresh %d busy %d dup %d, want 1 each", b.Count(F), b.Count(B), b.Count(D))
	}
	if err := c.Commit(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if got := s.commitBatches[len(s.commitBatches)-1]; !slices.Equal(got, []string{"new"}) {
		t.Fatalf("committed %q, want only the fresh key [new]", got)
	}
	if s.state("busy") != "inflight" {
		t.Fatalf("the other delivery's claim is %q, want still inflight", s.state("busy"))
	}
}

func TestReleaseFreesTheBatchsClaimsForAnImmediateRetry(t *testing.T) {
	s, clk := newMemStore(), &clock{start}
	c := newClaimer(s, clk)
	mustClaim(t, c, "held-by-other")
	b := mustClaim(t, c, "a", "b", "held-by-other")
	wantOutcomes(t, b, F, F, B)
	if err := c.Release(context.Background(), b); err != nil {
		t.Fatalf("Release: %v", err)
	}
	clk.t = start.Add(time.Second)
	wantOutcomes(t, mustClaim(t, c, "a", "b", "held-by-other"), F, F, B)
}

func TestBatchWithNothingFreshMakesNoCommitOrRelease(t *testing.T) {
	s := newMemStore()
	c := newClaimer(s, &clock{start})
	for _, keys := range [][]string{nil, {}} {
		b := mustClaim(t, c, keys...)
		if err := c.Commit(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		if err := c.Release(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	if s.claims+s.commits+s.releases != 0 {
		t.Fatalf("store calls: %d claims %d commits %d releases, want none", s.claims, s.commits, s.releases)
	}
}

// A failed claim gives back what it claimed and keeps the store's classification: a
// transient store error (and a throttle) stays one, any other store error is permanent —
// never reported as something a retry cures.
func TestStoreFailureReleasesTheClaimsMadeAndKeepsItsClass(t *testing.T) {
	for _, tc := range []struct {
		name      string
		failure   error
		transient bool
		throttled bool
	}{
		{"a store error that says it is transient", fmt.Errorf("timeout: %w", dedup.ErrUnavailable), true, false},
		{"a throttle", fmt.Errorf("ProvisionedThroughputExceeded: %w: %w", dedup.ErrUnavailable, dedup.ErrThrottled), true, true},
		{"a store call out of time", fmt.Errorf("put item: %w", context.DeadlineExceeded), true, false},
		{"a store error of any other kind", errors.New("AccessDeniedException: not authorized"), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newMemStore()
			s.claimErr = func(key string) error {
				if key == "k-30" {
					return tc.failure
				}
				return nil
			}
			c := dedup.New(s, dedup.Config{Concurrency: 1, Now: (&clock{start}).Now})
			keys := make([]string, 40)
			for i := range keys {
				keys[i] = fmt.Sprintf("k-%d", i)
			}
			// A deadline: a throttle is retried until a retry would pass it, then reported.
			ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
			defer cancel()
			b, err := c.Claim(ctx, keys)
			if !errors.Is(err, tc.failure) {
				t.Fatalf("Claim error %v, want one wrapping the store's error", err)
			}
			if got := errors.Is(err, dedup.ErrUnavailable); got != tc.transient {
				t.Fatalf("Claim error %v: wraps ErrUnavailable %t, want %t", err, got, tc.transient)
			}
			if got := errors.Is(err, dedup.ErrThrottled); got != tc.throttled {
				t.Fatalf("Claim error %v: wraps ErrThrottled %t, want %t", err, got, tc.throttled)
			}
			var de *dedup.Error
			if !errors.As(err, &de) || de.Op != "claim" || de.Keys != 40 {
				t.Fatalf("Claim error %#v, want a *dedup.Error of the claim of 40 keys", err)
			}
			if b != nil {
				t.Fatalf("Claim returned a batch %v with its error", b)
			}
			for _, k := range keys {
				if st := s.state(k); st != "" {
					t.Fatalf("key %s is %q after the failed claim, want released", k, st)
				}
			}
			if s.releases != 1 {
				t.Fatalf("%d releases, want 1", s.releases)
			}
			if !tc.throttled && s.claims > 31 {
				t.Fatalf("%d claims attempted, want the claim to stop at the failure (at most 31)", s.claims)
			}
		})
	}
}

// A release that fails after a failed claim is reported, but a transient release failure
// does not make a permanent claim failure look transient.
func TestFailedCleanupIsReportedWithoutChangingTheClass(t *testing.T) {
	s := newMemStore()
	s.claimErr = func(key string) error {
		if key == "bad" {
			return errors.New("ValidationException: boom")
		}
		return nil
	}
	s.releaseErr = fmt.Errorf("release timed out: %w", dedup.ErrUnavailable)
	c := dedup.New(s, dedup.Config{Concurrency: 1, Now: (&clock{start}).Now})
	_, err := c.Claim(context.Background(), []string{"good", "bad"})
	var de *dedup.Error
	if !errors.As(err, &de) || !errors.Is(de.Cleanup, s.releaseErr) || !strings.Contains(err.Error(), "release timed out") {
		t.Fatalf("Claim error %v, want it to report the release failure", err)
	}
	if errors.Is(err, dedup.ErrUnavailable) {
		t.Fatalf("Claim error %v wraps ErrUnavailable: the claim's permanent failure was reclassified by its cleanup's", err)
	}
}

func TestClaimStopsAtTheDeadlineAndReleases(t *testing.T) {
	s := newMemStore()
	s.claimDelay = 20 * time.Millisecond
	c := dedup.New(s, dedup.Config{Concurrency: 2, MaxConcurrency: 2, Now: (&clock{start}).Now})
	keys := make([]string, 200)
	for i := range keys {
		keys[i] = fmt.Sprint(i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Claim(ctx, keys)
	if !errors.Is(err, dedup.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Claim error %v, want ErrUnavailable and DeadlineExceeded", err)
	}
	if s.claims >= len(keys) {
		t.Fatalf("%d claims attempted after the deadline, want the claim to stop early", s.claims)
	}
	for _, k := range keys {
		if st := s.state(k); st != "" {
			t.Fatalf("key %s is %q after the deadline, want released", k, st)
		}
	}
}

// Without a deadline there is nothing to hurry for: the concurrency stays where it starts.
func TestClaimConcurrencyIsBounded(t *testing.T) {
	s := newMemStore()
	s.claimDelay = 2 * time.Millisecond
	c := dedup.New(s, dedup.Config{Concurrency: 4, Now: (&clock{start}).Now})
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = fmt.Sprint(i)
	}
	b := mustClaim(t, c, keys...)
	if b.Count(F) != 100 {
		t.Fatalf("%d fresh, want 100", b.Count(F))
	}
	if s.inflightMax > 4 || s.inflightMax < 2 {
		t.Fatalf("at most %d claims in flight at once, want between 2 and the bound 4", s.inflightMax)
	}
}

func TestCommitAndReleaseFailuresKeepTheirClass(t *testing.T) {
	s := newMemStore()
	c := newClaimer(s, &clock{start})
	b := mustClaim(t, c, "a")
	s.commitErr = errors.New("ResourceNotFoundException: commit failed")
	s.releaseErr = errors.New("AccessDeniedException: release failed")
	if err := c.Commit(context.Background(), b); errors.Is(err, dedup.ErrUnavailable) || !errors.Is(err, s.commitErr) {
		t.Fatalf("Commit error %v, want the store's permanent error, not ErrUnavailable", err)
	}
	if err := c.Release(context.Background(), b); errors.Is(err, dedup.ErrUnavailable) || !errors.Is(err, s.releaseErr) {
		t.Fatalf("Release error %v, want the store's permanent error, not ErrUnavailable", err)
	}
	s.commitErr = fmt.Errorf("commit: %w: %w", dedup.ErrUnavailable, dedup.ErrThrottled)
	s.releaseErr = fmt.Errorf("release: %w", context.DeadlineExceeded)
	if err := c.Commit(context.Background(), b); !errors.Is(err, dedup.ErrUnavailable) || !errors.Is(err, dedup.ErrThrottled) {
		t.Fatalf("Commit error %v, want ErrUnavailable and ErrThrottled kept", err)
	}
	if err := c.Release(context.Background(), b); !errors.Is(err, dedup.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Release error %v, want a call out of time to be transient", err)
	}
	// A context that ended makes any failure transient: the retry gets a new deadline.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.commitErr = errors.New("some error")
	if err := c.Commit(ctx, b); !errors.Is(err, dedup.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit error %v after ctx ended, want ErrUnavailable and ctx's error", err)
	}
}

func TestConcurrentClaimsOfTheSameKeysAreFreshOnceAcrossBatches(t *testing.T) {
	s := newMemStore()
	c := newClaimer(s, &clock{start})
	keys := make([]string, 50)
	for i := range keys {
		keys[i] = fmt.Sprint(i)
	}
	batches := make([]*dedup.Batch, 4)
	errs := make([]error, 4)
	done := make(chan struct{})
	for i := range batches {
		go func() {
			defer func() { done <- struct{}{} }()
			batches[i], errs[i] = c.Claim(context.Background(), keys)
		}()
	}
	for range batches {
		<-done
	}
	fresh := map[string]int{}
	for i, b := range batches {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		for _, k := range b.Fresh() {
			fresh[k]++
		}
	}
	for _, k := range keys {
		if fresh[k] != 1 {
			t.Fatalf("key %s fresh in %d of the concurrent batches, want exactly 1", k, fresh[k])
		}
	}
}

// liar is a Store that answers an outcome the Claimer does not know.
type liar struct{ *memStore }

func (l liar) Claim(ctx context.Context, c dedup.Claim, now time.Time) (dedup.Outcome, error) {
	if _, err := l.memStore.Claim(ctx, c, now); err != nil {
		return 0, err
	}
	return dedup.Outcome(42), nil
}

func TestUnknownOutcomeFromTheStoreIsAPermanentError(t *testing.T) {
	s := newMemStore()
	_, err := newClaimer(liar{s}, &clock{start}).Claim(context.Background(), []string{"a"})
	if err == nil || errors.Is(err, dedup.ErrUnavailable) || !strings.Contains(err.Error(), "unknown outcome") {
		t.Fatalf("Claim: %v, want a permanent error naming the unknown outcome", err)
	}
}
