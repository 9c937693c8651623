package embedded_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/dedup"
)

// The behaviour of the embedded claims beyond the shared contract (deduptest).

var claimT0 = time.UnixMilli(1_800_000_000_000).UTC()

func claimAt(key, token string, now time.Time) dedup.Claim {
	return dedup.Claim{Key: key, Token: token, LeaseUntil: now.Add(time.Minute), ExpiresAt: now.Add(time.Hour)}
}

func TestClaimPastItsExpiryIsFreshAgain(t *testing.T) {
	s := openStore(t, t.TempDir()).Claims()
	ctx := context.Background()
	if o, err := s.Claim(ctx, claimAt("k", "a", claimT0), claimT0); err != nil || o != dedup.Fresh {
		t.Fatalf("first claim = %v, %v", o, err)
	}
	if err := s.Commit(ctx, []string{"k"}, "a", claimT0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		now  time.Time
		want dedup.Outcome
	}{
		{"at its expiry it is still a duplicate", claimT0.Add(time.Hour), dedup.Duplicate},
		{"after its expiry it is gone, as if the TTL had deleted it", claimT0.Add(time.Hour + time.Millisecond), dedup.Fresh},
	} {
		if o, err := s.Claim(ctx, claimAt("k", "b", tc.now), tc.now); err != nil || o != tc.want {
			t.Errorf("%s: Claim = %v, %v; want %v", tc.name, o, err, tc.want)
		}
	}
}

func TestClaimWithoutExpiryNeverExpires(t *testing.T) {
	s := openStore(t, t.TempDir()).Claims()
	ctx := context.Background()
	c := dedup.Claim{Key: "k", Token: "a", LeaseUntil: claimT0.Add(time.Minute)}
	if o, err := s.Claim(ctx, c, claimT0); err != nil || o != dedup.Fresh {
		t.Fatalf("first claim = %v, %v", o, err)
	}
	if err := s.Commit(ctx, []string{"k"}, "a", time.Time{}); err != nil {
		t.Fatal(err)
	}
	later := claimT0.Add(10 * 365 * 24 * time.Hour)
	if o, err := s.Claim(ctx, claimAt("k", "b", later), later); err != nil || o != dedup.Duplicate {
		t.Fatalf("claim ten years later = %v, %v; want duplicate", o, err)
	}
}

func TestReleaseNeverUndoesACommit(t *testing.T) {
	s := openStore(t, t.TempDir()).Claims()
	ctx := context.Background()
	if _, err := s.Claim(ctx, claimAt("k", "a", claimT0), claimT0); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, []string{"k"}, "a", claimT0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, []string{"k"}, "a"); err != nil {
		t.Fatal(err)
	}
	if o, err := s.Claim(ctx, claimAt("k", "b", claimT0), claimT0); err != nil || o != dedup.Duplicate {
		t.Fatalf("claim after releasing a committed key = %v, %v; want duplicate", o, err)
	}
}

func TestExpiredClaimsAreSweptAsClaimsGoOn(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir).Claims()
	ctx := context.Background()
	const n = 300
	for i := range n {
		if _, err := s.Claim(ctx, claimAt(fmt.Sprintf("old-%d", i), "a", claimT0), claimT0); err != nil {
			t.Fatal(err)
		}
	}
	later := claimT0.Add(2 * time.Hour) // every old claim has expired
	for i := range n {
		if _, err := s.Claim(ctx, claimAt(fmt.Sprintf("new-%d", i), "b", later), later); err != nil {
			t.Fatal(err)
		}
	}
	var old int
	if err := rawDB(t, dir).QueryRow(`SELECT count(*) FROM claims WHERE key LIKE 'old-%'`).Scan(&old); err != nil {
		t.Fatal(err)
	}
	if old == n {
		t.Fatalf("none of the %d expired claims was deleted after %d more claims", n, n)
	}
}
