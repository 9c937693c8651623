package dedup

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/aient/firehose-drain/pkg/deadline"
)

// Defaults of Config.
const (
	DefaultLease       = 3 * time.Minute
	DefaultTTL         = 24 * time.Hour
	DefaultConcurrency = 16
	// DefaultMaxConcurrency is how far the claim concurrency may grow when the deadline
	// needs it.
	DefaultMaxConcurrency = 256
)

// releaseGrace bounds the clean-up release after a failed claim when the caller's
// context is already done: the lease covers the claims if even that fails. It is half the
// least margin the ingest keeps before its deadline (deadline.MinMargin), so a claim cut
// off at the end of the work still leaves the answer its time.
const releaseGrace = deadline.MinMargin / 2

// Config tunes a Claimer. The zero value takes every default.
type Config struct {
	// Lease is how long a claim is ours before a retry may take it over. It must outlast
	// the ingest function's timeout. Default 3m.
	Lease time.Duration
	// TTL is how long identities are remembered. It must outlast Firehose's longest retry
	// window (2h). Default 24h.
	TTL time.Duration
	// Concurrency is the store calls of one Claim in flight at first; Claim raises it to
	// what finishing before ctx's deadline needs, up to MaxConcurrency, and halves it when
	// the store throttles (see pool.go). Commit and Release leave their batching to the
	// store. Default 16.
	Concurrency int
	// MaxConcurrency caps the claim concurrency. Default 256.
	MaxConcurrency int
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.TTL <= 0 {
		c.TTL = DefaultTTL
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.MaxConcurrency <= 0 {
		c.MaxConcurrency = max(DefaultMaxConcurrency, c.Concurrency)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Claimer runs the claim / commit / release state machine over a Store for batches of
// identities. It is safe for concurrent use.
type Claimer struct {
	store Store
	cfg   Config
}

// New returns a Claimer over s; zero fields of cfg take their defaults.
func New(s Store, cfg Config) *Claimer {
	return &Claimer{store: s, cfg: cfg.withDefaults()}
}

// Batch is the result of claiming a list of identities under one token.
type Batch struct {
	// Token is the batch's claim token, random per batch.
	Token string
	// Keys are the identities as passed to Claim, repeats included.
	Keys []string
	// Outcomes[i] is the outcome for Keys[i]. A key repeated within the batch is claimed
	// once; its later occurrences are Duplicate.
	Outcomes []Outcome
}

// Fresh returns the keys the batch holds: those to send, then commit (or release).
func (b *Batch) Fresh() []string {
	var fresh []string
	for i, o := range b.Outcomes {
		if o == Fresh {
			fresh = append(fresh, b.Keys[i])
		}
	}
	return fresh
}

// Count returns how many of the batch's keys had outcome o.
func (b *Batch) Count(o Outcome) int {
	n := 0
	for _, got := range b.Outcomes {
		if got == o {
			n++
		}
	}
	return n
}

// Claim claims every key under a new token within ctx, with the adaptive concurrency of
// pool.go (Config.Concurrency at first, up to Config.MaxConcurrency); throttled calls are
// retried while the deadline allows. On a store error or when ctx ends it releases the claims it made
// and returns an *Error, wrapping ErrUnavailable when a retry may cure the failure (and
// ctx's error, if that was the cause).
func (c *Claimer) Claim(ctx context.Context, keys []string) (*Batch, error) {
	b := &Batch{
		Token:    rand.Text(),
		Keys:     keys,
		Outcomes: make([]Outcome, len(keys)),
	}
	// Claim each distinct key once; repeats within the batch are duplicates of the first.
	first := make(map[string]int, len(keys))
	todo := make([]int, 0, len(keys))
	for i, k := range keys {
		if _, seen := first[k]; seen {
			b.Outcomes[i] = Duplicate
			continue
		}
		first[k] = i
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		return b, nil
	}

	now := c.cfg.Now()
	leaseUntil, expiresAt := now.Add(c.cfg.Lease), now.Add(c.cfg.TTL)
	err := c.claimAll(ctx, b, todo, func(key string) Claim {
		return Claim{Key: key, Token: b.Token, LeaseUntil: leaseUntil, ExpiresAt: expiresAt}
	}, now)
	if err == nil {
		return b, nil
	}

	// Give back what we hold so a retry need not wait for the lease.
	rctx, cancel := c.cleanupContext(ctx)
	defer cancel()
	var cleanup error
	if fresh := b.Fresh(); len(fresh) > 0 {
		if rerr := c.store.Release(rctx, fresh, b.Token); rerr != nil {
			cleanup = fmt.Errorf("release %d claims after the failure: %w", len(fresh), rerr)
		}
	}
	e := c.fail(ctx, "claim", len(keys), err)
	e.Cleanup = cleanup
	return nil, e
}

// Commit marks b's fresh keys done. The store batches the writes; keys the batch no
// longer holds (taken over after its lease ended) are left alone.
func (c *Claimer) Commit(ctx context.Context, b *Batch) error {
	fresh := b.Fresh()
	if len(fresh) == 0 {
		return nil
	}
	expiresAt := c.cfg.Now().Add(c.cfg.TTL)
	if err := c.store.Commit(ctx, fresh, b.Token, expiresAt); err != nil {
		return c.fail(ctx, "commit", len(fresh), err)
	}
	return nil
}

// Release deletes b's fresh claims, so that a retry can claim them at once. Keys the batch
// no longer holds are left alone.
func (c *Claimer) Release(ctx context.Context, b *Batch) error {
	fresh := b.Fresh()
	if len(fresh) == 0 {
		return nil
	}
	if err := c.store.Release(ctx, fresh, b.Token); err != nil {
		return c.fail(ctx, "release", len(fresh), err)
	}
	return nil
}

// Error is a failed Claim, Commit or Release: the operation, how many keys, and why. It
// keeps the store's classification: it wraps ErrUnavailable (and ErrThrottled) exactly when
// a retry may cure the failure — the store said so (throttling, a timeout, an unreachable
// service), a call ran out of time, or ctx ended first. A store error of any other kind (access
// denied, a missing table, an answer the claimer does not understand) is permanent and does
// not wrap ErrUnavailable: callers tell the two apart with errors.Is.
type Error struct {
	Op   string // "claim", "commit" or "release"
	Keys int
	// Err is the failure, wrapping ErrUnavailable when it is transient.
	Err error
	// Cleanup is why giving back the claims made before a failed Claim failed too (their
	// lease still frees them); it is reported, and does not change the classification.
	Cleanup error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("dedup: %s %d keys: %v", e.Op, e.Keys, e.Err)
	if e.Cleanup != nil {
		s += "; " + e.Cleanup.Error()
	}
	return s
}

// Unwrap returns Err (not Cleanup: a failed release says nothing about the failure's kind).
func (e *Error) Unwrap() error { return e.Err }

// fail classifies err (see Error), with ctx's error joined when ctx has ended.
func (c *Claimer) fail(ctx context.Context, op string, n int, err error) *Error {
	cerr := ctx.Err()
	if cerr != nil && !errors.Is(err, cerr) {
		err = errors.Join(err, cerr)
	}
	transient := cerr != nil || errors.Is(err, ErrUnavailable) || errors.Is(err, ErrThrottled) ||
		errors.Is(err, context.DeadlineExceeded)
	if transient && !errors.Is(err, ErrUnavailable) {
		err = fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return &Error{Op: op, Keys: n, Err: err}
}

// cleanupContext is ctx, or, when ctx has already ended, a short detached context so that
// clean-up still gets a chance.
func (c *Claimer) cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx.Err() == nil {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(context.WithoutCancel(ctx), releaseGrace)
}
