package embedded

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/aient/firehose-drain/pkg/drains"
)

// additiveSchema are tables added after schema version 1 that no existing table depends on:
// created when missing by every Open, so data dirs made before them keep working without
// a version change. (Issue 10: the OTLP export's rejections per drain.)
var additiveSchema = [...]string{
	// The alerts' digest count (alerts.Rate, alerts.go): single alerts per destination
	// per minute, shared by every process on the data dir.
	`CREATE TABLE IF NOT EXISTS alert_rate (
		dest TEXT NOT NULL,
		minute INTEGER NOT NULL, -- start of the minute, unix ms
		count INTEGER NOT NULL,
		PRIMARY KEY (dest, minute)
	) STRICT, WITHOUT ROWID`,
	`CREATE TABLE IF NOT EXISTS drain_logs_rejected (
		drain_id TEXT PRIMARY KEY,
		logs_rejected INTEGER NOT NULL DEFAULT 0,
		last_at INTEGER,
		last_reason TEXT
	) STRICT`,
	// Issue 10 item 5: the breadcrumbs of each problem's recent occurrences (breadcrumbs.go).
	`CREATE TABLE IF NOT EXISTS occurrence_breadcrumbs (
		identity TEXT PRIMARY KEY,
		problem_id TEXT NOT NULL,
		at INTEGER NOT NULL,
		crumbs TEXT NOT NULL
	) STRICT`,
	`CREATE INDEX IF NOT EXISTS occurrence_breadcrumbs_by_problem ON occurrence_breadcrumbs (problem_id, at)`,
}

// initAdditive creates the additive tables.
func (s *Store) initAdditive() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.busyTimeout+5*time.Second)
	defer cancel()
	for _, stmt := range additiveSchema {
		if _, err := s.w.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("embedded: open: create schema: %w", err)
		}
	}
	return nil
}

const (
	// sqlRecordLogsRejected adds a delivery's rejected log records to the drain's count and
	// replaces the last reason when the delivery has one (a NULL parameter keeps it).
	sqlRecordLogsRejected = `INSERT INTO drain_logs_rejected (drain_id, logs_rejected, last_at, last_reason)
		SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM drains WHERE id = ?1)
		ON CONFLICT (drain_id) DO UPDATE SET
		logs_rejected = logs_rejected + excluded.logs_rejected,
		last_at = coalesce(excluded.last_at, last_at),
		last_reason = CASE WHEN excluded.last_at IS NULL THEN last_reason ELSE excluded.last_reason END`
	sqlGetLogsRejected = `SELECT drain_id, logs_rejected, last_at, last_reason FROM drain_logs_rejected WHERE drain_id = ?`
	sqlAllLogsRejected = `SELECT drain_id, logs_rejected, last_at, last_reason FROM drain_logs_rejected`
)

// recordLogsRejected applies a delivery's OTLP rejections, when it has any, in tx.
func (d *drainStore) recordLogsRejected(ctx context.Context, tx *sql.Tx, id string, dl drains.Delivery) error {
	if dl.Counters.LogsRejected == 0 && dl.LogsRejected == nil {
		return nil
	}
	at, reason := note(dl.LogsRejected)
	_, err := d.s.exec(ctx, tx, sqlRecordLogsRejected, id, dl.Counters.LogsRejected, at, reason)
	return err
}

// withLogsRejected fills the drains' OTLP rejections.
func (d *drainStore) withLogsRejected(ctx context.Context, drs []drains.Drain) error {
	if len(drs) == 0 {
		return nil
	}
	q, args := sqlAllLogsRejected, []any(nil)
	if len(drs) == 1 {
		q, args = sqlGetLogsRejected, []any{drs[0].ID}
	}
	rows, err := d.s.query(ctx, nil, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	at := map[string]int{}
	for i := range drs {
		at[drs[i].ID] = i
	}
	for rows.Next() {
		var id string
		var n int64
		var lastAt sql.NullInt64
		var reason sql.NullString
		if err := rows.Scan(&id, &n, &lastAt, &reason); err != nil {
			return err
		}
		if i, ok := at[id]; ok {
			drs[i].Counters.LogsRejected = n
			drs[i].LastLogsRejected = noteFrom(lastAt, reason)
		}
	}
	return rows.Err()
}
