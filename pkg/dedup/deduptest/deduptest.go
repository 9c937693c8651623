// Package deduptest is the contract every dedup.Store must pass. An implementation's
// tests call Run with a constructor of empty stores:
//
//	func TestContract(t *testing.T) {
//		deduptest.Run(t, func(t *testing.T) dedup.Store { return newStore(t) })
//	}
//
// Time is passed to the store explicitly, so the suite never sleeps. All instants are
// whole milliseconds, the DynamoDB adapter's resolution.
package deduptest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/dedup"
)

// lease is the lease the suite's claims carry.
const lease = 3 * time.Minute

// ttl is how long the suite's claims are remembered.
const ttl = 24 * time.Hour

// t0 is the suite's starting instant (2027-01-15), a whole millisecond.
var t0 = time.UnixMilli(1_800_000_000_000).UTC()

// Run runs the dedup.Store contract against stores made by newStore. Every subtest gets a
// fresh store from newStore; newStore should register its own cleanup with t.
func Run(t *testing.T, newStore func(t *testing.T) dedup.Store) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s dedup.Store)
	}{
		{"a key never seen is claimed fresh", freshClaim},
		{"a committed key is a duplicate", committedIsDuplicate},
		{"a committed key stays a duplicate long after its lease", committedStaysDuplicate},
		{"an inflight key with a live lease is busy", inflightIsBusy},
		{"an inflight key is still busy at the instant its lease ends", busyAtLeaseEnd},
		{"an inflight key whose lease ended is taken over", leaseEndedIsTakenOver},
		{"the old token cannot commit a taken-over claim", oldTokenCannotCommit},
		{"the old token cannot release a taken-over claim", oldTokenCannotRelease},
		{"commit of a key never claimed creates nothing", commitUnclaimedCreatesNothing},
		{"a released key can be claimed again", releasedIsFreshAgain},
		{"release leaves the token's other keys alone", releaseOnlyNamedKeys},
		{"commit and release of no keys succeed", emptyKeyLists},
		{"commit marks many keys done at once", commitMany},
		{"release deletes many keys at once", releaseMany},
		{"keys are independent", keysIndependent},
		{"many concurrent claims of one key: exactly one is fresh", concurrentClaims},
		{"many concurrent takeovers of an expired claim: exactly one is fresh", concurrentTakeovers},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

func claimOf(key, token string, now time.Time) dedup.Claim {
	return dedup.Claim{Key: key, Token: token, LeaseUntil: now.Add(lease), ExpiresAt: now.Add(ttl)}
}

func mustClaim(t *testing.T, s dedup.Store, key, token string, now time.Time, want dedup.Outcome) {
	t.Helper()
	got, err := s.Claim(context.Background(), claimOf(key, token, now), now)
	if err != nil {
		t.Fatalf("Claim(%q, token %q, now %s): %v", key, token, now.Format(time.RFC3339Nano), err)
	}
	if got != want {
		t.Fatalf("Claim(%q, token %q, now %s) = %s, want %s", key, token, now.Format(time.RFC3339Nano), got, want)
	}
}

func mustCommit(t *testing.T, s dedup.Store, keys []string, token string, now time.Time) {
	t.Helper()
	if err := s.Commit(context.Background(), keys, token, now.Add(ttl)); err != nil {
		t.Fatalf("Commit(%q, token %q): %v", keys, token, err)
	}
}

func mustRelease(t *testing.T, s dedup.Store, keys []string, token string) {
	t.Helper()
	if err := s.Release(context.Background(), keys, token); err != nil {
		t.Fatalf("Release(%q, token %q): %v", keys, token, err)
	}
}

func freshClaim(t *testing.T, s dedup.Store) {
	mustClaim(t, s, "k1", "tokA", t0, dedup.Fresh)
}

func committedIsDuplicate(t *testing.T, s dedup.Store) {
	mustClaim(t, s, "k1", "tokA", t0, dedup.Fresh)
	mustCommit(t, s, []string{"k1"}, "tokA", t0)
	mustClaim(t, s, "k1", "tokB", t0.Add(time.Second), dedup.Duplicate)
	// The same token claiming again is a duplicate too: done is done.
	mustClaim(t, s, "k1", "tokA", t0.Add(2*time.Second), dedup.Duplicate)
}

func committedStaysDuplicate(t *testing.T, s dedup.Store) {
	mustClaim(t, s, "k1", "tokA", t0, dedup.Fresh)
	mustCommit(t, s, []string{"k1"}, "tokA", t0)
	mustClaim(t, s, "k1", "tokB", t0.Add(2*lease), dedup.Duplicate)
	mustClaim(t, s, "k1", "tokC", t0.Add(2*time.Hour), dedup.Duplicate)
}

func inflightIsBusy(t *testing.T, s dedup.Store) {
	mustClaim(t, s, "k1", "tokA", t0, dedup.Fresh)
	mustClaim(t, s, "k1", "tokB", t0.Add(time.Millisecond), dedup.Busy)
	mustClaim(t, s, "k1", "tokB", t0.Add(lease-time.Millisecond), dedup.Busy)
}

func busyAtLeaseEnd(t *testing.T, s dedup.Store) {
	// The condition is lease_until < now: at lease_until the lease is still live.
	mustClaim(t, s, "k1", "tokA", t0, dedup.Fresh)
	mustClaim(t, s, "k1", "tokB", t0.Add(lease), dedup.Busy)
}

func leaseEndedIsTakenOver(t *testing.T, s dedup.Store) {
	mustClaim(t, s, "k1", "tokA", t0, dedup.Fresh)
	later := t0.Add(lease + time.Millisecond)
	mustClaim(t, s, "k1", "tokB", later, dedup.Fresh)
	// The takeover carries its own, new lease.
	mustClaim(t, s, "k1", "tokC", later.Add(lease-time.Millisecond), dedup.Busy)
	// And its token commits it.
	mustCommit(t, s, []string{"k1"}, "tokB", later)
	mustClaim(t, s, "k1", "tokC", later.Add(time.Second), dedup.Duplicate)
}

func oldTokenCannotCommit(t *testing.T, s dedup.Store) {
	mustClaim(t, s, "k1", "tokA", t0, dedup.Fresh)
	later := t0.Add(lease + time.Second)
	mustClaim(t, s, "k1", "tokB", later, dedup.Fresh)
	// The crashed-and-revived first delivery commits late: it must not mark B's claim done.
	mustCommit(t, s, []string{"k1"}, "tokA", later)
	mustClaim(t, s, "k1", "tokC", later.Add(time.Second), dedup.Busy)
	// B's lease still runs out normally, so the key is taken over again, not a duplicate.
	mustClaim(t, s, "k1", "tokC", later.Add(lease+time.Millisecond), dedup.Fresh)
}

func oldTokenCannotRelease(t *testing.T, s dedup.Store) {
	mustClaim(t, s, "k1", "tokA", t0, dedup.Fresh)
	later := t0.Add(lease + time.Second)
	mustClaim(t, s, "k1", "tokB", later, dedup.Fresh)
	mustRelease(t, s, []string{"k1"}, "tokA")
	mustClaim(t, s, "k1", "tokC", later.Add(time.Second), dedup.Busy)
	mustCommit(t, s, []string{"k1"}, "tokB", later)
	mustRelease(t, s, []string{"k1"}, "tokA")
	mustClaim(t, s, "k1", "tokC", later.Add(2*time.Second), dedup.Duplicate)
	// Not even its own holder can release a committed claim: a sent event stays done.
	mustRelease(t, s, []string{"k1"}, "tokB")
	mustClaim(t, s, "k1", "tokC", later.Add(3*time.Second), dedup.Duplicate)
}

func commitUnclaimedCreatesNothing(t *testing.T, s dedup.Store) {
	mustCommit(t, s, []string{"never"}, "tokA", t0)
	mustClaim(t, s, "never", "tokB", t0.Add(time.Second), dedup.Fresh)
	mustRelease(t, s, []string{"ghost"}, "tokA")
	mustClaim(t, s, "ghost", "tokB", t0.Add(time.Second), dedup.Fresh)
}

func releasedIsFreshAgain(t *testing.T, s dedup.Store) {
	mustClaim(t, s, "k1", "tokA", t0, dedup.Fresh)
	mustRelease(t, s, []string{"k1"}, "tokA")
	// Well within the old lease: the release freed the key at once.
	mustClaim(t, s, "k1", "tokB", t0.Add(time.Second), dedup.Fresh)
	mustClaim(t, s, "k1", "tokC", t0.Add(2*time.Second), dedup.Busy)
}

func releaseOnlyNamedKeys(t *testing.T, s dedup.Store) {
	mustClaim(t, s, "k1", "tokA", t0, dedup.Fresh)
	mustClaim(t, s, "k2", "tokA", t0, dedup.Fresh)
	mustRelease(t, s, []string{"k1"}, "tokA")
	mustClaim(t, s, "k1", "tokB", t0.Add(time.Second), dedup.Fresh)
	mustClaim(t, s, "k2", "tokB", t0.Add(time.Second), dedup.Busy)
}

func emptyKeyLists(t *testing.T, s dedup.Store) {
	mustCommit(t, s, nil, "tokA", t0)
	mustCommit(t, s, []string{}, "tokA", t0)
	mustRelease(t, s, nil, "tokA")
	mustRelease(t, s, []string{}, "tokA")
}

// manyKeys is more than one DynamoDB batch (25) and not a multiple of it.
func manyKeys(prefix string) []string {
	keys := make([]string, 57)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return keys
}

func commitMany(t *testing.T, s dedup.Store) {
	keys := manyKeys("m")
	for _, k := range keys {
		mustClaim(t, s, k, "tokA", t0, dedup.Fresh)
	}
	mustCommit(t, s, keys, "tokA", t0)
	for _, k := range keys {
		mustClaim(t, s, k, "tokB", t0.Add(2*lease), dedup.Duplicate)
	}
}

func releaseMany(t *testing.T, s dedup.Store) {
	keys := manyKeys("r")
	for _, k := range keys {
		mustClaim(t, s, k, "tokA", t0, dedup.Fresh)
	}
	mustRelease(t, s, keys, "tokA")
	for _, k := range keys {
		mustClaim(t, s, k, "tokB", t0.Add(time.Second), dedup.Fresh)
	}
}

func keysIndependent(t *testing.T, s dedup.Store) {
	mustClaim(t, s, "k1", "tokA", t0, dedup.Fresh)
	mustClaim(t, s, "k2", "tokB", t0, dedup.Fresh)
	mustCommit(t, s, []string{"k1"}, "tokA", t0)
	mustClaim(t, s, "k1", "tokC", t0.Add(time.Second), dedup.Duplicate)
	mustClaim(t, s, "k2", "tokC", t0.Add(time.Second), dedup.Busy)
	mustClaim(t, s, "k3", "tokC", t0.Add(time.Second), dedup.Fresh)
	// A token's commit does not touch keys it names but does not hold.
	mustCommit(t, s, []string{"k1", "k2", "k3"}, "tokA", t0)
	mustClaim(t, s, "k2", "tokD", t0.Add(2*time.Second), dedup.Busy)
	mustClaim(t, s, "k3", "tokD", t0.Add(2*time.Second), dedup.Busy)
}

// race has n goroutines claim key at now, each with its own token, and returns how many
// got each outcome.
func race(t *testing.T, s dedup.Store, key string, now time.Time, n int) map[dedup.Outcome]int {
	t.Helper()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		counts = map[dedup.Outcome]int{}
		errs   []error
		start  = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			o, err := s.Claim(context.Background(), claimOf(key, fmt.Sprintf("racer-%d", i), now), now)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			counts[o]++
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		t.Errorf("concurrent Claim: %v", err)
	}
	return counts
}

func concurrentClaims(t *testing.T, s dedup.Store) {
	const n = 16
	counts := race(t, s, "hot", t0, n)
	if counts[dedup.Fresh] != 1 || counts[dedup.Busy] != n-1 {
		t.Fatalf("%d concurrent claims of one key: %v, want exactly 1 fresh and %d busy", n, counts, n-1)
	}
}

func concurrentTakeovers(t *testing.T, s dedup.Store) {
	const n = 16
	mustClaim(t, s, "hot", "crashed", t0, dedup.Fresh)
	counts := race(t, s, "hot", t0.Add(lease+time.Second), n)
	if counts[dedup.Fresh] != 1 || counts[dedup.Busy] != n-1 {
		t.Fatalf("%d concurrent takeovers of one expired claim: %v, want exactly 1 fresh and %d busy", n, counts, n-1)
	}
}
