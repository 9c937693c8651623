package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aient/firehose-drain/pkg/dedup"
)

// Claim states as stored.
const (
	claimInflight = "inflight"
	claimDone     = "done"
)

// Sweeping expired claims: every claimSweepEvery-th Claim deletes up to claimSweepBatch of
// them, so the table stays bounded without a background job.
const (
	claimSweepEvery = 256
	claimSweepBatch = 500
)

// keysPerStatement bounds the keys bound into one IN (...) list.
const keysPerStatement = 500

// The claim store's fixed statements.
const (
	sqlSweepClaims = `DELETE FROM claims WHERE key IN (SELECT key FROM claims WHERE expires_at < ? LIMIT ?)`
	// The conditional write: insert, or take over an inflight claim whose lease ended (or
	// any claim past its expiry). When the WHERE is false nothing changes.
	sqlClaim = `INSERT INTO claims (key, token, state, lease_until, expires_at)
		VALUES (?1, ?2, ?3, ?4, ?5)
		ON CONFLICT (key) DO UPDATE SET token = excluded.token, state = excluded.state,
			lease_until = excluded.lease_until, expires_at = excluded.expires_at
		WHERE (claims.state = ?3 AND claims.lease_until < ?6) OR claims.expires_at < ?6`
	sqlClaimState = `SELECT state FROM claims WHERE key = ?`
)

// claimStore is dedup.Store over the claims table. An expired claim (ExpiresAt before now)
// counts as absent, as if its TTL had already deleted it; a zero ExpiresAt never expires.
type claimStore struct {
	s      *Store
	claims atomic.Uint64
}

var _ dedup.Store = (*claimStore)(nil)

// unavailable marks the errors a retry may cure (the database locked by another process
// past the busy timeout, a deadline) with dedup.ErrUnavailable, so the ingest answers 503.
func unavailable(err error) error {
	if isBusy(err) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", dedup.ErrUnavailable, err)
	}
	return err
}

func (c *claimStore) Claim(ctx context.Context, cl dedup.Claim, now time.Time) (dedup.Outcome, error) {
	var out dedup.Outcome
	sweep := c.claims.Add(1)%claimSweepEvery == 0
	err := c.s.writeTx(ctx, func(tx *sql.Tx) error {
		if sweep {
			if _, err := c.s.exec(ctx, tx, sqlSweepClaims, now.UnixMilli(), claimSweepBatch); err != nil {
				return fmt.Errorf("sweep expired claims: %w", err)
			}
		}
		res, err := c.s.exec(ctx, tx, sqlClaim, cl.Key, cl.Token, claimInflight, cl.LeaseUntil.UnixMilli(), ms(cl.ExpiresAt), now.UnixMilli())
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
		if n == 1 {
			out = dedup.Fresh
			return nil
		}
		var state string
		if err := c.s.queryRow(ctx, tx, sqlClaimState, cl.Key).Scan(&state); err != nil {
			return fmt.Errorf("read the claim held: %w", err)
		}
		switch state {
		case claimDone:
			out = dedup.Duplicate
		case claimInflight:
			out = dedup.Busy
		default:
			return fmt.Errorf("stored claim has unknown state %q", state)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("embedded: claim %s: %w", cl.Key, unavailable(err))
	}
	return out, nil
}

func (c *claimStore) Commit(ctx context.Context, keys []string, token string, expiresAt time.Time) error {
	err := c.eachChunk(ctx, keys, func(tx *sql.Tx, in string, args []any) error {
		args = append([]any{claimDone, ms(expiresAt), token}, args...)
		_, err := tx.ExecContext(ctx, `UPDATE claims SET state = ?, expires_at = ? WHERE token = ? AND key IN (`+in+`)`, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("embedded: commit %d claims: %w", len(keys), unavailable(err))
	}
	return nil
}

// Release deletes only inflight claims: a release never makes a sent (done) event
// claimable again.
func (c *claimStore) Release(ctx context.Context, keys []string, token string) error {
	err := c.eachChunk(ctx, keys, func(tx *sql.Tx, in string, args []any) error {
		args = append([]any{token, claimInflight}, args...)
		_, err := tx.ExecContext(ctx, `DELETE FROM claims WHERE token = ? AND state = ? AND key IN (`+in+`)`, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("embedded: release %d claims: %w", len(keys), unavailable(err))
	}
	return nil
}

// eachChunk runs fn, in one transaction, over keys in chunks of at most keysPerStatement.
func (c *claimStore) eachChunk(ctx context.Context, keys []string, fn func(tx *sql.Tx, in string, args []any) error) error {
	if len(keys) == 0 {
		return nil
	}
	return c.s.writeTx(ctx, func(tx *sql.Tx) error {
		return inChunks(keys, func(in string, args []any) error { return fn(tx, in, args) })
	})
}

// inChunks calls fn for items in chunks of at most keysPerStatement, giving it the chunk's
// placeholder list for IN (...) ("?,?,?") and the chunk as arguments.
func inChunks[T any](items []T, fn func(in string, args []any) error) error {
	for start := 0; start < len(items); start += keysPerStatement {
		chunk := items[start:min(start+keysPerStatement, len(items))]
		args := make([]any, len(chunk))
		for i, item := range chunk {
			args[i] = item
		}
		if err := fn(strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ","), args); err != nil {
			return err
		}
	}
	return nil
}
