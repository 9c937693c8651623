package drains_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/drains/drainstest"
)

// countingStore counts the reads of a Store.
type countingStore struct {
	drains.Store
	gets atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, id string) (drains.Drain, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, id)
}

var testPepper = drains.PepperFunc(func(context.Context) ([]byte, error) { return []byte("test-pepper"), nil })

// TestRotationElsewhereIsSeenAtOnce pins defect 10 of issue 14: right after a rotation made
// by another process (the CLI beside a running ingest), the new key was refused for up to
// the cache time. A key the cached record does not know now re-reads the drain.
func TestRotationElsewhereIsSeenAtOnce(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	store := &countingStore{Store: drainstest.NewMemStore()}
	ingest := drains.NewService(store, testPepper, drains.Config{Now: c.now})
	cli := drains.NewService(store, testPepper, drains.Config{Now: c.now})
	d, oldKey, err := cli.Create(ctx, "acme", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Authenticate(ctx, d.ID, oldKey); err != nil {
		t.Fatal(err)
	}
	_, newKey, err := cli.Rotate(ctx, d.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Authenticate(ctx, d.ID, newKey); err != nil {
		t.Fatalf("the new key is refused right after the rotation: %v", err)
	}
	if _, err := ingest.Authenticate(ctx, d.ID, oldKey); !errors.Is(err, drains.ErrUnauthorized) {
		t.Errorf("the old key (no grace) still works once the record was re-read: %v", err)
	}

	// A flood of bad keys: at most one store read per RefreshInterval.
	before := store.gets.Load()
	for i := range 1000 {
		if _, err := ingest.Authenticate(ctx, d.ID, fmt.Sprintf("fhd_bad%d", i)); !errors.Is(err, drains.ErrUnauthorized) {
			t.Fatal(err)
		}
	}
	if n := store.gets.Load() - before; n > 1 {
		t.Errorf("1000 bad keys cost %d store reads, want at most 1 within a second", n)
	}
	c.t = c.t.Add(1100 * time.Millisecond)
	if _, err := ingest.Authenticate(ctx, d.ID, "fhd_bad"); !errors.Is(err, drains.ErrUnauthorized) {
		t.Fatalf("a bad key: %v, want ErrUnauthorized", err)
	}
	if n := store.gets.Load() - before; n > 2 {
		t.Errorf("%d store reads after a second, want at most 2", n)
	}
}

// TestNoCacheSeesRotationAndRevocationAtOnce: the local server reads the store on every
// delivery (drains.NoCache), so the CLI's rotation or revocation holds from the next one,
// for the old key too.
func TestNoCacheSeesRotationAndRevocationAtOnce(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	store := drainstest.NewMemStore()
	ingest := drains.NewService(store, testPepper, drains.Config{Now: c.now, CacheTTL: drains.NoCache})
	cli := drains.NewService(store, testPepper, drains.Config{Now: c.now})
	d, oldKey, _ := cli.Create(ctx, "acme", "prod")
	if _, err := ingest.Authenticate(ctx, d.ID, oldKey); err != nil {
		t.Fatal(err)
	}
	_, newKey, _ := cli.Rotate(ctx, d.ID, 0)
	if _, err := ingest.Authenticate(ctx, d.ID, oldKey); !errors.Is(err, drains.ErrUnauthorized) {
		t.Errorf("old key after a rotation without grace: %v, want refused at once", err)
	}
	if err := cli.Revoke(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Authenticate(ctx, d.ID, newKey); !errors.Is(err, drains.ErrRevoked) {
		t.Errorf("after revocation: %v, want ErrRevoked at once", err)
	}
}

// TestUnknownDrainsCostOneCachedRead pins defect 3 of issue 14 for the drain service: an
// unknown drain id is read once, then remembered for NegativeTTL; the error says the drain
// is unknown (so the ingest writes no bookkeeping) while matching ErrUnauthorized; and the
// negative cache is bounded.
func TestUnknownDrainsCostOneCachedRead(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	store := &countingStore{Store: drainstest.NewMemStore()}
	svc := drains.NewService(store, testPepper, drains.Config{Now: c.now})
	for range 100 {
		_, err := svc.Authenticate(ctx, "drn_nosuch", "fhd_x")
		if !errors.Is(err, drains.ErrUnauthorized) || !errors.Is(err, drains.ErrUnknownDrain) {
			t.Fatalf("unknown drain: %v", err)
		}
	}
	if n := store.gets.Load(); n != 1 {
		t.Errorf("100 requests for one unknown drain cost %d reads, want 1", n)
	}
	c.t = c.t.Add(6 * time.Second)
	if _, err := svc.Authenticate(ctx, "drn_nosuch", "fhd_x"); !errors.Is(err, drains.ErrUnauthorized) {
		t.Fatalf("an unknown drain: %v, want ErrUnauthorized", err)
	}
	if n := store.gets.Load(); n != 2 {
		t.Errorf("after the negative TTL: %d reads, want 2", n)
	}
	// A drain created meanwhile is found once the negative entry expires.
	d, key, _ := svc.Create(ctx, "acme", "prod")
	if _, err := svc.Authenticate(ctx, d.ID, key); err != nil {
		t.Fatal(err)
	}
	// Many fresh unknown ids do not evict the real drain from the cache.
	before := store.gets.Load()
	for i := range 10000 {
		if _, err := svc.Authenticate(ctx, fmt.Sprintf("drn_flood%d", i), "fhd_x"); !errors.Is(err, drains.ErrUnauthorized) {
			t.Fatalf("an unknown drain: %v, want ErrUnauthorized", err)
		}
	}
	if n := store.gets.Load() - before; n != 10000 {
		t.Errorf("fresh unknown ids cost %d reads, want one each", n)
	}
	before = store.gets.Load()
	if _, err := svc.Authenticate(ctx, d.ID, key); err != nil || store.gets.Load() != before {
		t.Errorf("the real drain was evicted by the flood: %v, %d reads", err, store.gets.Load()-before)
	}
}
