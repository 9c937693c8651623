package drainstest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aient/firehose-drain/pkg/drains"
)

// IgnoreStore is a drains.Store with the drains.IgnoreRecorder that counts on its drains.
type IgnoreStore struct {
	drains.Store
	drains.IgnoreRecorder
}

// RunIgnoreRecorder runs the contract of drains.IgnoreRecorder: every identity is counted
// once on its drain, whether it comes again in one call, in a redelivery or from
// concurrent calls; a call that fails counts and marks nothing, so its retry counts all; a
// missing drain counts nothing and marks nothing. newStore returns an empty store per
// subtest.
func RunIgnoreRecorder(t *testing.T, newStore func(t *testing.T) IgnoreStore) {
	t.Run("each identity counts once, within a call and across calls", func(t *testing.T) { testIgnoredOnce(t, newStore(t)) })
	t.Run("a redelivered call counts nothing again", func(t *testing.T) { testIgnoredRedelivered(t, newStore(t)) })
	t.Run("concurrent calls over the same identities count each once", func(t *testing.T) { testIgnoredConcurrent(t, newStore(t)) })
	t.Run("a failed call marks nothing: its retry counts every identity", func(t *testing.T) { testIgnoredFailed(t, newStore(t)) })
	t.Run("a missing drain counts and marks nothing", func(t *testing.T) { testIgnoredMissingDrain(t, newStore(t)) })
}

func ignoredIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	return ids
}

func ignoredCount(t *testing.T, s drains.Store, id string) int64 {
	t.Helper()
	d, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d.Counters.Ignored
}

func recordIgnored(t *testing.T, s IgnoreStore, drain string, ids []string, want int) {
	t.Helper()
	n, err := s.RecordIgnored(context.Background(), drain, ids, base)
	if err != nil || n != want {
		t.Fatalf("RecordIgnored(%d ids) = %d, %v; want %d new", len(ids), n, err, want)
	}
}

func testIgnoredOnce(t *testing.T, s IgnoreStore) {
	ctx := context.Background()
	for _, id := range []string{"drn_a", "drn_b"} {
		if err := s.Create(ctx, fullDrain(id)); err != nil {
			t.Fatal(err)
		}
	}
	ids := ignoredIDs("a", 250) // more than one DynamoDB transaction holds
	recordIgnored(t, s, "drn_a", append(ids[:3:3], ids[0], ids[1]), 3)
	recordIgnored(t, s, "drn_a", ids, 247)
	recordIgnored(t, s, "drn_b", ignoredIDs("b", 2), 2)
	if got := ignoredCount(t, s, "drn_a"); got != 250 {
		t.Fatalf("drn_a ignored %d, want 250", got)
	}
	if got := ignoredCount(t, s, "drn_b"); got != 2 {
		t.Fatalf("drn_b ignored %d, want 2", got)
	}
	// The bookkeeping of deliveries adds to the same counter without marking anything.
	if err := s.RecordDelivery(ctx, "drn_b", drains.Delivery{At: base, Counters: drains.Counters{Ignored: 1}}); err != nil {
		t.Fatal(err)
	}
	if got := ignoredCount(t, s, "drn_b"); got != 3 {
		t.Fatalf("drn_b ignored %d after RecordDelivery, want 3", got)
	}
}

func testIgnoredRedelivered(t *testing.T, s IgnoreStore) {
	if err := s.Create(context.Background(), fullDrain("drn_r")); err != nil {
		t.Fatal(err)
	}
	ids := ignoredIDs("r", 120)
	recordIgnored(t, s, "drn_r", ids, 120)
	recordIgnored(t, s, "drn_r", ids, 0)
	recordIgnored(t, s, "drn_r", append(ignoredIDs("r2", 1), ids[:5]...), 1)
	if got := ignoredCount(t, s, "drn_r"); got != 121 {
		t.Fatalf("ignored %d, want 121", got)
	}
}

func testIgnoredConcurrent(t *testing.T, s IgnoreStore) {
	if err := s.Create(context.Background(), fullDrain("drn_c")); err != nil {
		t.Fatal(err)
	}
	ids := ignoredIDs("c", 60)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for w := range 6 {
		wg.Go(func() {
			// Each worker sends every identity, in its own order and in pieces.
			mine := append(append([]string(nil), ids[w*10:]...), ids[:w*10]...)
			for k := 0; k < len(mine); k += 20 {
				n, err := s.RecordIgnored(context.Background(), "drn_c", mine[k:k+20], base)
				if err != nil {
					t.Errorf("RecordIgnored: %v", err)
					return
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if got := ignoredCount(t, s, "drn_c"); got != 60 || total != 60 {
		t.Fatalf("ignored %d, the calls said %d new; want 60 and 60", got, total)
	}
}

func testIgnoredFailed(t *testing.T, s IgnoreStore) {
	if err := s.Create(context.Background(), fullDrain("drn_f")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ids := ignoredIDs("f", 5)
	if n, err := s.RecordIgnored(ctx, "drn_f", ids, base); err == nil {
		t.Fatalf("RecordIgnored under a cancelled context = %d, nil; want an error", n)
	}
	if got := ignoredCount(t, s, "drn_f"); got != 0 {
		t.Fatalf("a failed call counted %d", got)
	}
	recordIgnored(t, s, "drn_f", ids, 5)
}

func testIgnoredMissingDrain(t *testing.T, s IgnoreStore) {
	ids := ignoredIDs("m", 3)
	recordIgnored(t, s, "drn_missing", ids, 0)
	if err := s.Create(context.Background(), fullDrain("drn_missing")); err != nil {
		t.Fatal(err)
	}
	recordIgnored(t, s, "drn_missing", ids, 3)
}
