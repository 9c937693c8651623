package embedded_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/problems"
)

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestDataDirIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", ".aient")
	s := openStore(t, dir)
	if _, err := s.Pepper(context.Background()); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]fs.FileMode{
		dir:                                     0o700,
		filepath.Join(dir, embedded.DBFile):     0o600,
		filepath.Join(dir, embedded.PepperFile): 0o600,
	} {
		if got := mode(t, path); got != want {
			t.Errorf("%s has mode %v, want %v", path, got, want)
		}
	}
}

func TestPepperIsCreatedOnceAndKept(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Pepper(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 32 || bytes.Equal(first, make([]byte, 32)) {
		t.Fatalf("pepper is %d bytes, all zero: %v; want 32 random bytes", len(first), bytes.Equal(first, make([]byte, 32)))
	}
	first[0] ^= 0xff // the caller's copy is its own
	again, err := s.Pepper(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first[0] ^= 0xff
	if !bytes.Equal(first, again) {
		t.Fatal("a second call returned a different pepper, or the first caller could change it")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	reopened, err := openStore(t, dir).Pepper(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, reopened) {
		t.Fatal("the pepper changed across Close and Open")
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".pepper-*")); len(leftovers) != 0 {
		t.Errorf("temporary pepper files left behind: %v", leftovers)
	}
}

func TestHandlesStartingTogetherAgreeOnThePepper(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	const n = 8
	peppers := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := embedded.Open(dir)
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			peppers[i], errs[i] = s.Pepper(context.Background())
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("handle %d: %v", i, errs[i])
		}
		if !bytes.Equal(peppers[i], peppers[0]) {
			t.Fatalf("handle %d got a different pepper than handle 0", i)
		}
	}
}

func TestAPepperFileOfTheWrongSizeIsAnErrorThatDoesNotShowIt(t *testing.T) {
	dir := t.TempDir()
	secret := "not-a-pepper-but-secret-looking-0123456789"
	if err := os.WriteFile(filepath.Join(dir, embedded.PepperFile), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := openStore(t, dir).Pepper(context.Background())
	if err == nil {
		t.Fatal("a pepper file of 42 bytes was accepted")
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("the error shows the file's content: %v", err)
	}
}

func TestADatabaseFromANewerVersionIsRefused(t *testing.T) {
	dir := t.TempDir()
	openStore(t, dir)
	if _, err := rawDB(t, dir).Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	if s, err := embedded.Open(dir); err == nil {
		s.Close()
		t.Fatal("Open of a schema version 99 database succeeded")
	}
}

// TestALockHeldTooLongIsAnErrorNotADrop holds the write lock from another connection (as
// a stuck process would) past the busy timeout: every write must fail loudly, dedup's as
// ErrUnavailable, and succeed once the lock is released.
func TestALockHeldTooLongIsAnErrorNotADrop(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := openStore(t, dir, embedded.WithBusyTimeout(100*time.Millisecond))
	if err := s.Drains().Create(ctx, drains.Drain{ID: "d1", Org: "acme", Env: "prod"}); err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1_800_000_000_000).UTC()
	claim := dedup.Claim{Key: "k", Token: "t", LeaseUntil: now.Add(time.Minute), ExpiresAt: now.Add(time.Hour)}
	occ := problems.Occurrence{Identity: "i1", Org: "acme", Env: "prod", Fingerprint: "fp", At: now}
	delivery := drains.Delivery{At: now, Data: true, Counters: drains.Counters{Deliveries: 1}}

	conn, err := rawDB(t, dir).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}

	writes := map[string]func() error{
		"queue send":    func() error { return s.Queue().Send(ctx, events(0, 1)) },
		"record":        func() error { _, err := s.Problems().Record(ctx, occ); return err },
		"delivery":      func() error { return s.Drains().RecordDelivery(ctx, "d1", delivery) },
		"claim":         func() error { _, err := s.Claims().Claim(ctx, claim, now); return err },
		"queue receive": func() error { _, err := s.Queue().Receive(ctx, 1, time.Minute); return err },
	}
	for name, write := range writes {
		err := write()
		if err == nil {
			t.Errorf("%s succeeded while another process held the write lock", name)
		}
		if name == "claim" && !errors.Is(err, dedup.ErrUnavailable) {
			t.Errorf("claim under a held lock: %v, want it to wrap dedup.ErrUnavailable", err)
		}
	}
	// Reads go on: WAL readers do not wait for the writer.
	if _, err := s.Drains().Get(ctx, "d1"); err != nil {
		t.Errorf("Get while another process writes: %v", err)
	}

	if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	for name, write := range writes {
		if err := write(); err != nil {
			t.Errorf("%s after the lock was released: %v", name, err)
		}
	}
}

func TestReopeningKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	now := time.UnixMilli(1_800_000_000_000).UTC()
	s, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Drains().Create(ctx, drains.Drain{ID: "d1", Org: "acme", Env: "prod", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Problems().Record(ctx, problems.Occurrence{Identity: "i1", Org: "acme", Env: "prod", Fingerprint: "fp", At: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, dir)
	if d, err := s.Drains().Get(ctx, "d1"); err != nil || !d.CreatedAt.Equal(now) {
		t.Errorf("drain after reopening: %+v, %v", d, err)
	}
	if recorded, err := s.Problems().Record(ctx, problems.Occurrence{Identity: "i1", Org: "acme", Env: "prod", Fingerprint: "fp", At: now}); err != nil || recorded {
		t.Errorf("the same occurrence after reopening: recorded=%v, %v; want false, nil", recorded, err)
	}
}
