package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/aient/firehose-drain/pkg/drains"
)

var _ drains.LogReader = (*drainStore)(nil)

// The delivery log's statements (schema version 3). A new entry is inserted with the
// delivery's counters, then the drain's entries that are neither among its LogDeliveries
// newest nor among its LogErrors newest errors are deleted: the log stays bounded.
const (
	sqlLogDelivery = `INSERT INTO drain_log (drain_id, at, status, source, records, events, error_events,
		duplicates, reason, is_error) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10
		WHERE EXISTS (SELECT 1 FROM drains WHERE id = ?1)`
	sqlPruneLog = `DELETE FROM drain_log WHERE drain_id = ?1
		AND seq NOT IN (SELECT seq FROM drain_log WHERE drain_id = ?1 ORDER BY seq DESC LIMIT ?2)
		AND seq NOT IN (SELECT seq FROM drain_log WHERE drain_id = ?1 AND is_error ORDER BY seq DESC LIMIT ?3)`
	sqlReadLog = `SELECT at, status, source, records, events, error_events, duplicates, reason FROM drain_log
		WHERE drain_id = ?1 AND (?2 = 0 OR is_error) ORDER BY seq DESC LIMIT ?3`
)

// schemaV3 is the drains' delivery log.
var schemaV3 = [...]string{
	`CREATE TABLE drain_log (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		drain_id TEXT NOT NULL,
		at INTEGER NOT NULL,
		status INTEGER NOT NULL,
		source TEXT NOT NULL,
		records INTEGER NOT NULL,
		events INTEGER NOT NULL,
		error_events INTEGER NOT NULL,
		duplicates INTEGER NOT NULL,
		reason TEXT NOT NULL,
		is_error INTEGER NOT NULL
	) STRICT`,
	`CREATE INDEX drain_log_by_drain ON drain_log (drain_id, seq)`,
}

// logDelivery appends entries to drain id's log in tx and prunes it.
func (d *drainStore) logDelivery(ctx context.Context, tx *sql.Tx, id string, entries []drains.LogEntry) error {
	if len(entries) == 0 {
		return nil
	}
	for _, e := range entries {
		isErr := 0
		if e.IsError() {
			isErr = 1
		}
		if _, err := d.s.exec(ctx, tx, sqlLogDelivery, id, e.At.UnixMilli(), e.Status, e.Source, e.Records, e.Events,
			e.ErrorEvents, e.Duplicates, e.Reason, isErr); err != nil {
			return fmt.Errorf("log delivery: %w", err)
		}
	}
	if _, err := d.s.exec(ctx, tx, sqlPruneLog, id, drains.LogDeliveries, drains.LogErrors); err != nil {
		return fmt.Errorf("prune delivery log: %w", err)
	}
	return nil
}

// DeliveryLog reads drain id's log, newest first.
func (d *drainStore) DeliveryLog(ctx context.Context, id string) ([]drains.LogEntry, []drains.LogEntry, error) {
	read := func(errorsOnly, limit int) ([]drains.LogEntry, error) {
		rows, err := d.s.query(ctx, nil, sqlReadLog, id, errorsOnly, limit)
		if err != nil {
			return nil, err
		}
		out := []drains.LogEntry{}
		for rows.Next() {
			var (
				e  drains.LogEntry
				at int64
			)
			if err := rows.Scan(&at, &e.Status, &e.Source, &e.Records, &e.Events, &e.ErrorEvents, &e.Duplicates, &e.Reason); err != nil {
				rows.Close()
				return nil, err
			}
			e.At = fromMS(sql.NullInt64{Int64: at, Valid: true})
			out = append(out, e)
		}
		return out, errors.Join(rows.Err(), rows.Close())
	}
	all, err := read(0, drains.LogDeliveries)
	if err != nil {
		return nil, nil, fmt.Errorf("embedded: delivery log of drain %s: %w", id, err)
	}
	errs, err := read(1, drains.LogErrors)
	if err != nil {
		return nil, nil, fmt.Errorf("embedded: delivery log of drain %s: %w", id, err)
	}
	return all, errs, nil
}
