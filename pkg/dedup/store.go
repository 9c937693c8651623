// Package dedup claims event identities so that Firehose retries never send an event
// downstream twice. A claim is a conditional write:
//
//	attribute_not_exists(pk) OR (state = inflight AND lease_until < :now)
//
// A fresh claim is ours: the caller sends the event, then commits the claim (state done).
// A done claim is a duplicate: skip it. An inflight claim with a live lease is busy:
// another delivery is working on it, so the caller answers 503 and Firehose retries.
// If sending fails the caller releases its own claims (delete conditional on its token);
// if the process dies, the lease runs out and a retry re-claims. Items expire by TTL.
package dedup

import (
	"context"
	"errors"
	"time"
)

// Outcome is the result of claiming one identity.
type Outcome int

// Claim outcomes.
const (
	// Fresh: the claim is ours; send the event, then commit.
	Fresh Outcome = iota + 1
	// Duplicate: the identity was already sent and committed; skip it.
	Duplicate
	// Busy: another delivery holds a live lease on it; retry later.
	Busy
)

func (o Outcome) String() string {
	switch o {
	case Fresh:
		return "fresh"
	case Duplicate:
		return "duplicate"
	case Busy:
		return "busy"
	}
	return "unknown"
}

// ErrUnavailable wraps store errors that a retry may cure (throttling, timeouts,
// unreachable service). The ingest answers 503 for it.
var ErrUnavailable = errors.New("dedup store unavailable")

// ErrThrottled wraps store errors that say the store refused for capacity (DynamoDB's
// ProvisionedThroughputExceeded, ThrottlingException, RequestLimitExceeded): the claimer
// lowers its concurrency and retries them with jittered backoff while the deadline allows.
// A throttled error also wraps ErrUnavailable.
var ErrThrottled = errors.New("dedup store throttled")

// Claim is one identity to claim.
type Claim struct {
	Key        string
	Token      string    // the claimant's token; commit and release check it
	LeaseUntil time.Time // an inflight claim may be taken over after this
	ExpiresAt  time.Time // TTL: the item may be deleted after this
}

// Store is the conditional-write backend. Implementations: DynamoDB, the embedded store,
// and in-memory fakes in tests.
type Store interface {
	// Claim writes c if the key is absent or holds an inflight claim whose lease ended
	// before now. Otherwise it reports Duplicate (state done) or Busy (live lease).
	Claim(ctx context.Context, c Claim, now time.Time) (Outcome, error)
	// Commit marks the claims of token on keys as done, keeping ExpiresAt. Keys not
	// held by token are left alone.
	Commit(ctx context.Context, keys []string, token string, expiresAt time.Time) error
	// Release deletes the claims of token on keys. Keys not held by token are left alone.
	Release(ctx context.Context, keys []string, token string) error
}

// MaxBatchClaims is the most claims one ClaimBatch call takes (DynamoDB's 100 actions a
// transaction).
const MaxBatchClaims = 100

// BatchStore is a Store that claims up to MaxBatchClaims keys in one request, each with the
// condition and outcomes of Claim. The Claimer uses it when the store has it.
type BatchStore interface {
	Store
	ClaimBatch(ctx context.Context, claims []Claim, now time.Time) ([]Outcome, error)
}
