// Package secrets reads the HMAC pepper of the access-key digests from AWS Secrets Manager.
package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// MinRefreshInterval is how often Refresh may really re-read the secret. A flood of bad
// access keys makes a flood of digest mismatches, each of which asks for a Refresh: they
// cost Secrets Manager one read a minute, not one per request.
const MinRefreshInterval = time.Minute

// secretFetcher is the Secrets Manager call the pepper needs.
type secretFetcher interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ secretFetcher = (*secretsmanager.Client)(nil)

// Pepper fetches the HMAC pepper from Secrets Manager once per container and caches it;
// Refresh re-reads it (called when a digest fails to match, at most once per minute, so a
// rotated secret is picked up).
//
// It is safe for concurrent use: concurrent callers share one read. Its value never appears
// in its errors or in its formatted form (%v, %+v, %#v print the secret id only).
type Pepper struct {
	api      secretFetcher
	secretID string
	ttl      time.Duration
	now      func() time.Time

	// fetching is a one-slot semaphore: the caller holding it reads the secret while the
	// others wait for its result (or for their own ctx).
	fetching chan struct{}

	mu          sync.Mutex
	value       []byte
	fetchedAt   time.Time // when value was read
	attemptedAt time.Time // when a read was last attempted, successful or not
}

// NewPepper returns a Pepper reading secretID (a name or ARN) through client. Get serves the
// cached value for ttl after a read; ttl <= 0 caches it for the life of the container.
func NewPepper(client *secretsmanager.Client, secretID string, ttl time.Duration) *Pepper {
	return newPepper(client, secretID, ttl, time.Now)
}

func newPepper(api secretFetcher, secretID string, ttl time.Duration, now func() time.Time) *Pepper {
	return &Pepper{api: api, secretID: secretID, ttl: ttl, now: now, fetching: make(chan struct{}, 1)}
}

// String names the pepper by its secret id, never by its value.
func (p *Pepper) String() string { return fmt.Sprintf("secrets.Pepper(%s)", p.secretID) }

// GoString is String, so %#v does not print the value either.
func (p *Pepper) GoString() string { return p.String() }

// Get returns the pepper: the cached value while it is fresh, else a read of the secret
// (SecretString, or SecretBinary when there is no string). An empty or missing secret is an
// error that names the secret id.
func (p *Pepper) Get(ctx context.Context) ([]byte, error) {
	if v, ok := p.cached(p.ttl); ok {
		return v, nil
	}
	return p.fetch(ctx, func() bool {
		_, ok := p.cached(p.ttl)
		return ok
	})
}

// Refresh re-reads the secret, so a rotated pepper is picked up. Within MinRefreshInterval
// of the last read (or attempt) it returns the cached value without reading. When the read
// fails it returns the error and keeps the cached value for Get.
func (p *Pepper) Refresh(ctx context.Context) ([]byte, error) {
	recent := func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.value != nil && p.now().Sub(p.attemptedAt) < MinRefreshInterval
	}
	if recent() {
		v, _ := p.cached(0)
		return v, nil
	}
	return p.fetch(ctx, recent)
}

// cached returns a copy of the value if there is one younger than ttl (ttl <= 0: any age).
func (p *Pepper) cached(ttl time.Duration) ([]byte, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.value == nil || (ttl > 0 && p.now().Sub(p.fetchedAt) >= ttl) {
		return nil, false
	}
	return bytes.Clone(p.value), true
}

// fetch reads the secret under the semaphore, unless done reports (once it is held) that
// another caller has just made the read unnecessary.
func (p *Pepper) fetch(ctx context.Context, done func() bool) ([]byte, error) {
	select {
	case p.fetching <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("read pepper secret %q: %w", p.secretID, ctx.Err())
	}
	defer func() { <-p.fetching }()
	if done() {
		v, _ := p.cached(0)
		return v, nil
	}

	v, err := p.read(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.attemptedAt = p.now()
	if err != nil {
		return nil, err
	}
	p.value, p.fetchedAt = v, p.attemptedAt
	return bytes.Clone(v), nil
}

// errEmpty is returned when the secret exists but holds no value (an empty string and no binary).
var errEmpty = errors.New("secret has no value")

func (p *Pepper) read(ctx context.Context) ([]byte, error) {
	out, err := p.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(p.secretID)})
	if err != nil {
		return nil, fmt.Errorf("read pepper secret %q: %w", p.secretID, err)
	}
	switch {
	case aws.ToString(out.SecretString) != "":
		return []byte(*out.SecretString), nil
	case len(out.SecretBinary) > 0:
		return bytes.Clone(out.SecretBinary), nil
	}
	return nil, fmt.Errorf("read pepper secret %q: %w", p.secretID, errEmpty)
}
