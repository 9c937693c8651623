package drains_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/drains/drainstest"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newService(t *testing.T, store drains.Store, c *clock) *drains.Service {
	t.Helper()
	pepper := drains.PepperFunc(func(context.Context) ([]byte, error) { return []byte("test-pepper"), nil })
	return drains.NewService(store, pepper, drains.Config{Now: c.now, CacheTTL: 2 * time.Second})
}

func TestCreateShowsTheKeyOnceAndStoresOnlyItsDigest(t *testing.T) {
	ctx := context.Background()
	store := drainstest.NewMemStore()
	c := &clock{time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	svc := newService(t, store, c)
	d, key, err := svc.Create(ctx, "acme", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, drains.KeyPrefix) || len(key) < 40 || !drains.ValidID(d.ID) {
		t.Fatalf("key %d chars, id %q", len(key), d.ID)
	}
	stored, err := store.Get(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(stored)
	if strings.Contains(string(raw), key) || strings.Contains(string(raw), strings.TrimPrefix(key, drains.KeyPrefix)) {
		t.Fatalf("the stored drain holds the key: %s", raw)
	}
	if len(stored.Keys) != 1 || stored.Keys[0].Digest != drains.Digest([]byte("test-pepper"), key) {
		t.Fatalf("stored keys %+v", stored.Keys)
	}
	if _, err := svc.Authenticate(ctx, d.ID, key); err != nil {
		t.Fatalf("the shown key does not authenticate: %v", err)
	}
	for name, k := range map[string]string{"wrong key": key + "x", "empty key": "", "key of another length": "short"} {
		if _, err := svc.Authenticate(ctx, d.ID, k); !errors.Is(err, drains.ErrUnauthorized) {
			t.Errorf("%s: %v, want ErrUnauthorized", name, err)
		}
	}
	if _, err := svc.Authenticate(ctx, "drn_unknown", key); !errors.Is(err, drains.ErrUnauthorized) {
		t.Errorf("unknown drain: %v, want ErrUnauthorized (the same as a wrong key)", err)
	}
	if _, _, err := svc.Create(ctx, "", "prod"); err == nil {
		t.Error("a drain without an org was created")
	}
}

func TestRotationKeepsTheOldKeyForTheGracePeriod(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	svc := newService(t, drainstest.NewMemStore(), c)
	d, oldKey, _ := svc.Create(ctx, "acme", "prod")
	_, newKey, err := svc.Rotate(ctx, d.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]string{"old": oldKey, "new": newKey} {
		if _, err := svc.Authenticate(ctx, d.ID, k); err != nil {
			t.Errorf("within the grace period the %s key fails: %v", name, err)
		}
	}
	c.t = c.t.Add(time.Hour + time.Second)
	if _, err := svc.Authenticate(ctx, d.ID, oldKey); !errors.Is(err, drains.ErrUnauthorized) {
		t.Errorf("after the grace period the old key: %v, want ErrUnauthorized", err)
	}
	if _, err := svc.Authenticate(ctx, d.ID, newKey); err != nil {
		t.Errorf("after the grace period the new key fails: %v", err)
	}
	// A rotation without grace stops every previous key at once.
	_, newest, _ := svc.Rotate(ctx, d.ID, 0)
	if _, err := svc.Authenticate(ctx, d.ID, newKey); !errors.Is(err, drains.ErrUnauthorized) {
		t.Errorf("after a rotation without grace the previous key: %v", err)
	}
	if _, err := svc.Authenticate(ctx, d.ID, newest); err != nil {
		t.Errorf("the newest key fails: %v", err)
	}
}

func TestRevocationReachesEveryInstanceWithinTheCacheTTL(t *testing.T) {
	ctx := context.Background()
	store := drainstest.NewMemStore()
	c := &clock{time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	operator, ingest := newService(t, store, c), newService(t, store, c)
	d, key, _ := operator.Create(ctx, "acme", "prod")
	if _, err := ingest.Authenticate(ctx, d.ID, key); err != nil {
		t.Fatal(err)
	}
	if err := operator.Revoke(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := operator.Authenticate(ctx, d.ID, key); !errors.Is(err, drains.ErrRevoked) {
		t.Errorf("the revoking instance: %v, want ErrRevoked at once", err)
	}
	c.t = c.t.Add(2 * time.Second)
	if _, err := ingest.Authenticate(ctx, d.ID, key); !errors.Is(err, drains.ErrRevoked) {
		t.Errorf("another instance after the cache TTL: %v, want ErrRevoked", err)
	}
	if _, err := ingest.Authenticate(ctx, d.ID, "fhd_wrong"); !errors.Is(err, drains.ErrUnauthorized) {
		t.Errorf("a wrong key on a revoked drain: %v, want ErrUnauthorized (no hint that the drain exists)", err)
	}
	if _, _, err := operator.Rotate(ctx, d.ID, 0); !errors.Is(err, drains.ErrRevoked) {
		t.Errorf("rotating a revoked drain: %v, want ErrRevoked", err)
	}
}

func TestStatusAsTheOperatorSeesIt(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) time.Time { return now.Add(-ago) }
	note := func(ago time.Duration) *drains.Note { return &drains.Note{At: at(ago), Reason: "r"} }
	cases := []struct {
		name          string
		d             drains.Drain
		status, alert string
	}{
		{"new drain", drains.Drain{State: drains.StateActive}, drains.StatusNoData, ""},
		{"only control messages so far", drains.Drain{State: drains.StateActive, LastControlAt: at(time.Minute)}, drains.StatusNoData, ""},
		{"data a minute ago", drains.Drain{State: drains.StateActive, LastReceivedAt: at(time.Minute)}, drains.StatusReceiving, ""},
		{"data 15 minutes ago", drains.Drain{State: drains.StateActive, LastReceivedAt: at(15 * time.Minute)}, drains.StatusReceiving, ""},
		{"data an hour ago", drains.Drain{State: drains.StateActive, LastReceivedAt: at(time.Hour)}, drains.StatusIdle, ""},
		{"revoked", drains.Drain{State: drains.StateRevoked, LastReceivedAt: at(time.Minute), LastAuthError: note(0)}, drains.StatusRevoked, ""},
		{"bad key after data", drains.Drain{State: drains.StateActive, LastReceivedAt: at(time.Hour), LastAuthError: note(time.Minute)}, drains.StatusIdle, drains.AlertAuth},
		{"bad key before data never received", drains.Drain{State: drains.StateActive, LastAuthError: note(time.Minute)}, drains.StatusNoData, drains.AlertAuth},
		{"auth error cured by later data", drains.Drain{State: drains.StateActive, LastReceivedAt: at(time.Minute), LastAuthError: note(time.Hour)}, drains.StatusReceiving, ""},
		{"rejected record in the last delivery", drains.Drain{State: drains.StateActive, LastReceivedAt: at(time.Minute), LastPayloadError: note(time.Minute)}, drains.StatusReceiving, drains.AlertPayload},
		{"payload error then good data", drains.Drain{State: drains.StateActive, LastReceivedAt: at(time.Minute), LastPayloadError: note(time.Hour)}, drains.StatusReceiving, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := drains.StatusOf(c.d, now, "")
			if s.Status != c.status || s.Alert != c.alert {
				t.Fatalf("status %q alert %q, want %q %q", s.Status, s.Alert, c.status, c.alert)
			}
		})
	}
}

func TestStatusCountsTheKeysThatWork(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	d := drains.Drain{State: drains.StateActive, Keys: []drains.Key{
		{Digest: "aa"}, {Digest: "bb", ValidUntil: now.Add(time.Hour)}, {Digest: "cc", ValidUntil: now.Add(-time.Second)},
	}}
	s := drains.StatusOf(d, now, "")
	if s.ActiveKeys != 2 || !s.OldKeyValidUntil.Equal(now.Add(time.Hour)) {
		t.Fatalf("active keys %d, old key valid until %v", s.ActiveKeys, s.OldKeyValidUntil)
	}
}

// rotatingPepper serves a cached pepper until Refresh reads the rotated one.
type rotatingPepper struct {
	cached, current []byte
	refreshes       int
}

func (p *rotatingPepper) Get(context.Context) ([]byte, error) { return p.cached, nil }
func (p *rotatingPepper) Refresh(context.Context) ([]byte, error) {
	p.refreshes++
	p.cached = p.current
	return p.cached, nil
}

func TestARotatedPepperIsPickedUpOnAMismatch(t *testing.T) {
	ctx := context.Background()
	store := drainstest.NewMemStore()
	p := &rotatingPepper{cached: []byte("new"), current: []byte("new")}
	d, key, err := drains.NewService(store, p, drains.Config{}).Create(ctx, "acme", "prod")
	if err != nil {
		t.Fatal(err)
	}
	// An ingest that cached the pepper before its rotation.
	stale := &rotatingPepper{cached: []byte("old"), current: []byte("new")}
	if _, err := drains.NewService(store, stale, drains.Config{}).Authenticate(ctx, d.ID, key); err != nil {
		t.Fatalf("with a stale pepper: %v, want the refreshed pepper to authenticate", err)
	}
	if stale.refreshes != 1 {
		t.Fatalf("%d refreshes, want 1", stale.refreshes)
	}
}
