// Package drains manages Firehose drains: their access keys (only an HMAC digest is
// stored), authentication of deliveries, rotation with a grace period, revocation, and the
// status an operator reads.
package drains

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// ErrUnauthorized is the authentication error: the ingest answers 401 for it (a wrong or
// missing key and an unknown drain alike, so drains cannot be enumerated), and 403 for
// ErrRevoked.
var ErrUnauthorized = errors.New("access key does not match this drain")

// Pepper is the secret HMAC key behind access-key digests: Secrets Manager in AWS, a file in
// the data dir locally.
type Pepper interface {
	Get(ctx context.Context) ([]byte, error)
}

// Refresher is a Pepper that can re-read its secret (secrets.Pepper). Authenticate calls
// Refresh when no key matches, so a rotated pepper is picked up; the implementation bounds
// how often it really reads.
type Refresher interface {
	Refresh(ctx context.Context) ([]byte, error)
}

// PepperFunc adapts a function to Pepper.
type PepperFunc func(ctx context.Context) ([]byte, error)

// Get calls f.
func (f PepperFunc) Get(ctx context.Context) ([]byte, error) { return f(ctx) }

// Config tunes a Service. Zero values take the documented defaults.
type Config struct {
	// CacheTTL is how long a drain record is reused between deliveries before it is read
	// again: the most a revocation, or the end of a rotated-out key, may take to reach a
	// running ingest. A key the cached record does not know re-reads the drain at once
	// (at most once per RefreshInterval), so a new key works immediately. Default 2s;
	// NoCache (negative) reads the store on every Authenticate (the local server, where
	// the CLI rotates and revokes from another process).
	CacheTTL time.Duration
	// NegativeTTL is how long "no such drain" is remembered: a flood of requests for
	// unknown drain ids costs at most one store read per id per NegativeTTL, and no
	// write. Default 5s. At most maxNegative ids are remembered.
	NegativeTTL time.Duration
	// RefreshInterval bounds the re-reads of one drain that keys the cached record does not
	// know may cause, so that a flood of bad keys costs no more than one store read per
	// interval. Default 1s.
	RefreshInterval time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// NoCache as Config.CacheTTL turns the drain cache off.
const NoCache = -1

// Service is the drain lifecycle over a Store.
type Service struct {
	store  Store
	pepper Pepper
	cfg    Config
	now    func() time.Time

	mu       sync.Mutex
	cache    map[string]cachedDrain
	negative map[string]time.Time // unknown drain id -> when the store said so
}

type cachedDrain struct {
	d         Drain
	fetched   time.Time
	refreshed time.Time // the last re-read a key mismatch caused
}

// maxCached and maxNegative bound the caches; past them a cache is cleared (drains are
// few, and a flood of unknown drain ids must not grow memory or evict real drains).
const (
	maxCached   = 4096
	maxNegative = 4096
)

// NewService returns a Service.
func NewService(store Store, pepper Pepper, cfg Config) *Service {
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 2 * time.Second
	}
	if cfg.NegativeTTL == 0 {
		cfg.NegativeTTL = 5 * time.Second
	}
	if cfg.RefreshInterval == 0 {
		cfg.RefreshInterval = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{store: store, pepper: pepper, cfg: cfg, now: cfg.Now, cache: map[string]cachedDrain{}, negative: map[string]time.Time{}}
}

// Store returns the store behind the service.
func (s *Service) Store() Store { return s.store }

// Create makes a drain for org and env and returns it with its access key. The key is
// returned only here: only its digest is stored.
func (s *Service) Create(ctx context.Context, org, env string) (Drain, string, error) {
	if err := validName("org", org); err != nil {
		return Drain{}, "", err
	}
	if err := validName("env", env); err != nil {
		return Drain{}, "", err
	}
	key, digest, err := s.newKey(ctx)
	if err != nil {
		return Drain{}, "", err
	}
	d := Drain{
		ID:        NewID(),
		Org:       org,
		Env:       env,
		State:     StateActive,
		Keys:      []Key{{Digest: digest}},
		CreatedAt: s.now().UTC().Truncate(time.Millisecond),
	}
	if err := s.store.Create(ctx, d); err != nil {
		return Drain{}, "", fmt.Errorf("create drain: %w", err)
	}
	return d, key, nil
}

// Rotate issues a new access key for the drain. The keys that were valid keep working for
// grace (0: they stop at once), so Firehose can be updated without dropped deliveries.
func (s *Service) Rotate(ctx context.Context, id string, grace time.Duration) (Drain, string, error) {
	if grace < 0 {
		return Drain{}, "", fmt.Errorf("grace period %v is negative", grace)
	}
	d, err := s.store.Get(ctx, id)
	if err != nil {
		return Drain{}, "", fmt.Errorf("rotate drain %s: %w", id, err)
	}
	if d.State == StateRevoked {
		return Drain{}, "", fmt.Errorf("rotate drain %s: %w", id, ErrRevoked)
	}
	key, digest, err := s.newKey(ctx)
	if err != nil {
		return Drain{}, "", err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	keys := []Key{{Digest: digest}}
	if grace > 0 {
		until := now.Add(grace)
		for _, k := range d.Keys {
			if k.ValidUntil.IsZero() || k.ValidUntil.After(now) {
				if k.ValidUntil.IsZero() || k.ValidUntil.After(until) {
					k.ValidUntil = until
				}
				keys = append(keys, k)
			}
		}
	}
	if err := s.store.SetKeys(ctx, id, keys, now); err != nil {
		return Drain{}, "", fmt.Errorf("rotate drain %s: %w", id, err)
	}
	s.forget(id)
	d.Keys, d.RotatedAt = keys, now
	return d, key, nil
}

// Revoke stops the drain: from the next delivery on (at most CacheTTL later on a running
// ingest) its keys are refused with 403.
func (s *Service) Revoke(ctx context.Context, id string) error {
	if err := s.store.Revoke(ctx, id, s.now().UTC().Truncate(time.Millisecond)); err != nil {
		return fmt.Errorf("revoke drain %s: %w", id, err)
	}
	s.forget(id)
	return nil
}

// ErrUnknownDrain is wrapped with ErrUnauthorized for a drain id that does not exist: the
// answer is the same as for a wrong key (no drain enumeration), but the caller can tell so
// as to write no bookkeeping for a drain that is not there.
var ErrUnknownDrain = fmt.Errorf("%w: no such drain", ErrNotFound)

// Authenticate checks key against the drain's valid key digests in constant time. It
// does the same digest work whether or not the drain exists. It returns ErrUnauthorized
// for a wrong key or an unknown drain (then wrapping ErrUnknownDrain too), ErrRevoked for
// a valid key on a revoked drain, and other errors when the store or the pepper cannot be
// read. A key the cached drain record does not know re-reads the drain (at most once per
// RefreshInterval), so a rotation made elsewhere is seen at once.
func (s *Service) Authenticate(ctx context.Context, id, key string) (Drain, error) {
	pepper, err := s.pepper.Get(ctx)
	if err != nil {
		return Drain{}, fmt.Errorf("read pepper: %w", err)
	}
	d, cached, err := s.lookup(ctx, id)
	if errors.Is(err, ErrNotFound) {
		// Same digest and comparison work as for a drain with one key, then the same
		// answer as a wrong key.
		got := digestBytes(pepper, key)
		hmac.Equal(got, make([]byte, len(got)))
		return Drain{}, fmt.Errorf("%w (%w)", ErrUnauthorized, ErrUnknownDrain)
	}
	if err != nil {
		return Drain{}, err
	}
	match := s.matches(d, pepper, key)
	if !match && key != "" && cached && s.mayRefresh(id) {
		// The record may predate a rotation: read it again.
		fresh, err := s.store.Get(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			s.remember(id, Drain{}, err)
			return Drain{}, fmt.Errorf("%w (%w)", ErrUnauthorized, ErrUnknownDrain)
		case err != nil:
			return Drain{}, fmt.Errorf("read drain: %w", err)
		}
		s.remember(id, fresh, nil)
		d = fresh
		match = s.matches(d, pepper, key)
	}
	if !match && key != "" {
		// The pepper may have been rotated since it was cached.
		if r, ok := s.pepper.(Refresher); ok {
			if fresh, err := r.Refresh(ctx); err == nil && !hmac.Equal(fresh, pepper) {
				match = s.matches(d, fresh, key)
			}
		}
	}
	if key == "" || !match {
		return d, ErrUnauthorized
	}
	if d.State == StateRevoked {
		return d, ErrRevoked
	}
	return d, nil
}

// matches reports whether key is one of d's keys that work now, comparing every digest in
// constant time.
func (s *Service) matches(d Drain, pepper []byte, key string) bool {
	got := digestBytes(pepper, key)
	now := s.now()
	match := false
	for _, k := range d.Keys {
		want, err := hex.DecodeString(k.Digest)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) && (k.ValidUntil.IsZero() || now.Before(k.ValidUntil)) {
			match = true
		}
	}
	return match
}

// lookup returns the drain, from the cache (cached is set) or the store; ErrNotFound,
// remembered for NegativeTTL, when there is none.
func (s *Service) lookup(ctx context.Context, id string) (d Drain, cached bool, err error) {
	now := s.now()
	s.mu.Lock()
	c, ok := s.cache[id]
	neg, isNeg := s.negative[id]
	s.mu.Unlock()
	if s.cfg.CacheTTL > 0 {
		if ok && now.Sub(c.fetched) < s.cfg.CacheTTL && now.Sub(c.fetched) >= 0 {
			return c.d, true, nil
		}
		if isNeg && now.Sub(neg) < s.cfg.NegativeTTL && now.Sub(neg) >= 0 {
			return Drain{}, true, ErrNotFound
		}
	}
	d, err = s.store.Get(ctx, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Drain{}, false, fmt.Errorf("read drain: %w", err)
	}
	s.remember(id, d, err)
	return d, false, err
}

// remember caches what the store said of id: the drain, or that there is none.
func (s *Service) remember(id string, d Drain, err error) {
	if s.cfg.CacheTTL < 0 {
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		delete(s.cache, id)
		if len(s.negative) >= maxNegative {
			clear(s.negative)
		}
		s.negative[id] = now
		return
	}
	delete(s.negative, id)
	if len(s.cache) >= maxCached {
		clear(s.cache)
	}
	refreshed := s.cache[id].refreshed
	s.cache[id] = cachedDrain{d: d, fetched: now, refreshed: refreshed}
}

// mayRefresh reports whether a key mismatch may re-read drain id now, and if so notes it.
func (s *Service) mayRefresh(id string) bool {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cache[id]
	if !ok {
		return false
	}
	if !c.refreshed.IsZero() && now.Sub(c.refreshed) < s.cfg.RefreshInterval && now.Sub(c.refreshed) >= 0 {
		return false
	}
	c.refreshed = now
	s.cache[id] = c
	return true
}

func (s *Service) forget(id string) {
	s.mu.Lock()
	delete(s.cache, id)
	delete(s.negative, id)
	s.mu.Unlock()
}

func (s *Service) newKey(ctx context.Context) (key, digest string, err error) {
	pepper, err := s.pepper.Get(ctx)
	if err != nil {
		return "", "", fmt.Errorf("read pepper: %w", err)
	}
	key = NewKey()
	return key, Digest(pepper, key), nil
}

// Digest is the stored form of an access key: hex HMAC-SHA256(pepper, key).
func Digest(pepper []byte, key string) string { return hex.EncodeToString(digestBytes(pepper, key)) }

func digestBytes(pepper []byte, key string) []byte {
	m := hmac.New(sha256.New, pepper)
	m.Write([]byte(key))
	return m.Sum(nil)
}

// KeyPrefix starts every access key, so a leaked key is recognisable by secret scanners.
const KeyPrefix = "fhd_"

// NewKey returns a fresh access key: 32 random bytes, URL-safe base64.
func NewKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return KeyPrefix + base64.RawURLEncoding.EncodeToString(b)
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a fresh drain id: "drn_" and 16 random lower-case base32 characters.
func NewID() string {
	b := make([]byte, 10)
	rand.Read(b)
	return "drn_" + idEncoding.EncodeToString(b)
}

// ValidID reports whether s can be a drain id (URL-safe, bounded), so that garbage in a
// request path never reaches the store.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func validName(what, v string) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("%s is required", what)
	}
	if len(v) > 128 || strings.ContainsAny(v, "/\x00\n") {
		return fmt.Errorf("%s %q: at most 128 characters, no '/' or control characters", what, v)
	}
	return nil
}
