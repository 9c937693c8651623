package embedded

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/aient/firehose-drain/pkg/drains"
)

// The per-source-kind bookkeeping of drains (drains.Drain.Sources): one row per drain and
// kind, upserted in the same transaction as the drain's own counters. The table is created
// with IF NOT EXISTS when the store opens, so a database made before it gains it in place.
const (
	sqlCreateSources = `CREATE TABLE IF NOT EXISTS drain_sources (
		drain_id TEXT NOT NULL,
		kind TEXT NOT NULL,
		deliveries INTEGER NOT NULL DEFAULT 0,
		events INTEGER NOT NULL DEFAULT 0,
		error_events INTEGER NOT NULL DEFAULT 0,
		rejected INTEGER NOT NULL DEFAULT 0,
		last_received_at INTEGER,
		last_error_at INTEGER,
		last_error_reason TEXT,
		PRIMARY KEY (drain_id, kind)
	) STRICT, WITHOUT ROWID`
	sqlRecordSource = `INSERT INTO drain_sources
		(drain_id, kind, deliveries, events, error_events, rejected, last_received_at, last_error_at, last_error_reason)
		SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 WHERE EXISTS (SELECT 1 FROM drains WHERE id = ?1)
		ON CONFLICT (drain_id, kind) DO UPDATE SET
		deliveries = deliveries + excluded.deliveries,
		events = events + excluded.events,
		error_events = error_events + excluded.error_events,
		rejected = rejected + excluded.rejected,
		last_received_at = coalesce(excluded.last_received_at, last_received_at),
		last_error_at = coalesce(excluded.last_error_at, last_error_at),
		last_error_reason = CASE WHEN excluded.last_error_at IS NULL THEN last_error_reason ELSE excluded.last_error_reason END`
	sqlGetSources = `SELECT kind, deliveries, events, error_events, rejected, last_received_at, last_error_at, last_error_reason
		FROM drain_sources WHERE drain_id = ?`
)

func (s *Store) initSources() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.busyTimeout+5*time.Second)
	defer cancel()
	if _, err := s.w.ExecContext(ctx, sqlCreateSources); err != nil {
		return fmt.Errorf("embedded: open: create drain_sources: %w", err)
	}
	return nil
}

// recordSource books dl under its source kind, in tx.
func (d *drainStore) recordSource(ctx context.Context, tx *sql.Tx, id string, dl drains.Delivery) error {
	kind := drains.SourceOf(dl)
	if err := drains.CheckSource(kind); err != nil {
		return err
	}
	var received sql.NullInt64
	if dl.Data || dl.Control {
		received = ms(dl.At)
	}
	errAt, errReason := note(dl.PayloadError)
	c := dl.Counters
	_, err := d.s.exec(ctx, tx, sqlRecordSource, id, kind, c.Deliveries, c.Events, c.ErrorEvents, c.RecordsRejected,
		received, errAt, errReason)
	return err
}

// sources reads a drain's per-source rows; nil when it has none.
func (d *drainStore) sources(ctx context.Context, id string) (map[string]drains.SourceStats, error) {
	rows, err := d.s.query(ctx, nil, sqlGetSources, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out map[string]drains.SourceStats
	for rows.Next() {
		var (
			kind            string
			st              drains.SourceStats
			received, errAt sql.NullInt64
			errReason       sql.NullString
		)
		if err := rows.Scan(&kind, &st.Deliveries, &st.Events, &st.ErrorEvents, &st.Rejected, &received, &errAt, &errReason); err != nil {
			return nil, err
		}
		st.LastReceivedAt = fromMS(received)
		st.LastError = noteFrom(errAt, errReason)
		if out == nil {
			out = map[string]drains.SourceStats{}
		}
		out[kind] = st
	}
	return out, rows.Err()
}
