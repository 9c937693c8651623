package embedded

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aient/firehose-drain/pkg/event"
)

// Message is one queued event as received.
type Message struct {
	ID    int64
	Event event.Event
	// Body is the message as queued: the JSON of Event.
	Body []byte
	// Attempts is how many times the message has been received, this time included.
	Attempts int
}

// The queue's fixed statements.
const (
	sqlEnqueue = `INSERT INTO queue (body, attempts, visible_at, enqueued_at) VALUES (?, 0, ?, ?)`
	sqlLease   = `UPDATE queue SET attempts = attempts + 1, visible_at = ?1
		WHERE id IN (SELECT id FROM queue WHERE visible_at <= ?2 ORDER BY id LIMIT ?3)
		RETURNING id, body, attempts`
	sqlAttempts = `SELECT attempts FROM queue WHERE id = ?`
	sqlRetry    = `UPDATE queue SET visible_at = ? WHERE id = ?`
	sqlBury     = `INSERT INTO dead (id, body, attempts, enqueued_at, dead_at)
		SELECT id, body, attempts, enqueued_at, ? FROM queue WHERE id = ?`
	sqlDequeue = `DELETE FROM queue WHERE id = ?`
	sqlDepth   = `SELECT
		(SELECT count(*) FROM queue WHERE visible_at <= ?1),
		(SELECT count(*) FROM queue WHERE visible_at > ?1),
		(SELECT count(*) FROM dead)`
)

// Queue is the durable local stand-in for SQS: killing the server between ingest and
// grouping loses nothing. A message stays in the database until it is acked or moved to the
// dead-letter table; receiving it only hides it for a visibility timeout (a lease).
// Delivery is at least once: a consumer whose lease runs out before its Ack may see its
// message handed to another, so processing must be idempotent (problems.Store.Record is).
type Queue struct{ s *Store }

// Send enqueues events in one transaction, all or nothing, visible at once.
func (q *Queue) Send(ctx context.Context, events []event.Event) error {
	if len(events) == 0 {
		return nil
	}
	bodies := make([][]byte, len(events))
	for i := range events {
		b, err := json.Marshal(&events[i])
		if err != nil {
			return fmt.Errorf("embedded: queue send: encode event %d: %w", i, err)
		}
		bodies[i] = b
	}
	now := q.s.cfg.now().UnixMilli()
	err := q.s.writeTx(ctx, func(tx *sql.Tx) error {
		for i, b := range bodies {
			if _, err := q.s.exec(ctx, tx, sqlEnqueue, b, now, now); err != nil {
				return fmt.Errorf("insert event %d: %w", i, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("embedded: queue send %d events: %w", len(events), err)
	}
	return nil
}

// Receive leases up to max messages for visibility; a leased message not acked by then is
// received again. Messages come oldest first. A stored body that no longer decodes is moved
// to the dead-letter table instead of being returned.
func (q *Queue) Receive(ctx context.Context, max int, visibility time.Duration) ([]Message, error) {
	if max <= 0 || visibility <= 0 {
		return nil, fmt.Errorf("embedded: queue receive: max (%d) and visibility (%s) must be positive", max, visibility)
	}
	now := q.s.cfg.now()
	var msgs []Message
	err := q.s.writeTx(ctx, func(tx *sql.Tx) error {
		rows, err := q.s.query(ctx, tx, sqlLease, now.Add(visibility).UnixMilli(), now.UnixMilli(), max)
		if err != nil {
			return fmt.Errorf("lease: %w", err)
		}
		var poisoned []int64
		for rows.Next() {
			var (
				m    Message
				body []byte
			)
			if err := rows.Scan(&m.ID, &body, &m.Attempts); err != nil {
				rows.Close()
				return fmt.Errorf("lease: %w", err)
			}
			if err := json.Unmarshal(body, &m.Event); err != nil {
				poisoned = append(poisoned, m.ID)
				continue
			}
			m.Body = body
			msgs = append(msgs, m)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("lease: %w", err)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("lease: %w", err)
		}
		for _, id := range poisoned {
			if err := q.bury(ctx, tx, id, now); err != nil {
				return fmt.Errorf("dead-letter undecodable message %d: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: queue receive: %w", err)
	}
	// RETURNING has no defined order.
	slices.SortFunc(msgs, func(a, b Message) int { return cmp.Compare(a.ID, b.ID) })
	return msgs, nil
}

// Ack deletes messages that were processed. Ids no longer queued are ignored.
func (q *Queue) Ack(ctx context.Context, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	err := q.s.writeTx(ctx, func(tx *sql.Tx) error {
		return inChunks(ids, func(in string, args []any) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM queue WHERE id IN (`+in+`)`, args...)
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("embedded: queue ack %d messages: %w", len(ids), err)
	}
	return nil
}

// Fail records a failed attempt; after maxAttempts the message moves to the dead-letter
// table (reported by dead=true). Attempts are receipts (like SQS's maxReceiveCount): a
// message received maxAttempts times that fails again is dead. Otherwise it becomes visible
// again after its attempt count times the retry delay (WithRetryDelay). A message that is no
// longer queued (acked, or dead already) is left alone: false, nil.
func (q *Queue) Fail(ctx context.Context, id int64, maxAttempts int) (dead bool, err error) {
	if maxAttempts <= 0 {
		return false, fmt.Errorf("embedded: queue fail message %d: maxAttempts %d must be positive", id, maxAttempts)
	}
	now := q.s.cfg.now()
	err = q.s.writeTx(ctx, func(tx *sql.Tx) error {
		var attempts int
		err := q.s.queryRow(ctx, tx, sqlAttempts, id).Scan(&attempts)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if attempts >= maxAttempts {
			dead = true
			return q.bury(ctx, tx, id, now)
		}
		retryAt := now.Add(time.Duration(max(attempts, 1)) * q.s.cfg.retryDelay)
		if _, err := q.s.exec(ctx, tx, sqlRetry, retryAt.UnixMilli(), id); err != nil {
			return fmt.Errorf("schedule retry: %w", err)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("embedded: queue fail message %d: %w", id, err)
	}
	return dead, nil
}

// bury moves a message to the dead-letter table.
func (q *Queue) bury(ctx context.Context, tx *sql.Tx, id int64, now time.Time) error {
	if _, err := q.s.exec(ctx, tx, sqlBury, now.UnixMilli(), id); err != nil {
		return fmt.Errorf("copy to dead letters: %w", err)
	}
	if _, err := q.s.exec(ctx, tx, sqlDequeue, id); err != nil {
		return fmt.Errorf("delete from queue: %w", err)
	}
	return nil
}

// Depth counts messages: ready to receive, leased (or waiting to be retried), and dead.
func (q *Queue) Depth(ctx context.Context) (ready, inflight, dead int, err error) {
	now := q.s.cfg.now().UnixMilli()
	err = q.s.queryRow(ctx, nil, sqlDepth, now).Scan(&ready, &inflight, &dead)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("embedded: queue depth: %w", err)
	}
	return ready, inflight, dead, nil
}
