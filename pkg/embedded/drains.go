package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aient/firehose-drain/pkg/drains"
)

// drainStore is drains.Store over the drains table.
type drainStore struct{ s *Store }

var _ drains.Store = (*drainStore)(nil)

// storedKey is how a key digest is kept in the drains.keys JSON column.
type storedKey struct {
	Digest string `json:"digest"`
	// ValidUntil is unix ms; 0 means no end.
	ValidUntil int64 `json:"validUntil,omitempty"`
}

func encodeKeys(keys []drains.Key) (string, error) {
	if keys == nil {
		return "null", nil
	}
	out := make([]storedKey, len(keys))
	for i, k := range keys {
		out[i] = storedKey{Digest: k.Digest}
		if !k.ValidUntil.IsZero() {
			out[i].ValidUntil = k.ValidUntil.UnixMilli()
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("encode keys: %w", err)
	}
	return string(b), nil
}

func decodeKeys(s string) ([]drains.Key, error) {
	var in []storedKey
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("decode stored keys: %w", err)
	}
	if in == nil {
		return nil, nil
	}
	out := make([]drains.Key, len(in))
	for i, k := range in {
		out[i] = drains.Key{Digest: k.Digest}
		if k.ValidUntil != 0 {
			out[i].ValidUntil = time.UnixMilli(k.ValidUntil).UTC()
		}
	}
	return out, nil
}

// note splits an optional note into its stored columns.
func note(n *drains.Note) (sql.NullInt64, sql.NullString) {
	if n == nil {
		return sql.NullInt64{}, sql.NullString{}
	}
	// A note always has a time, even the zero one, so that a set note reads back as set.
	return sql.NullInt64{Int64: n.At.UnixMilli(), Valid: true}, sql.NullString{String: n.Reason, Valid: true}
}

func noteFrom(at sql.NullInt64, reason sql.NullString) *drains.Note {
	if !at.Valid {
		return nil
	}
	return &drains.Note{At: time.UnixMilli(at.Int64).UTC(), Reason: reason.String}
}

func (d *drainStore) Create(ctx context.Context, dr drains.Drain) error {
	keys, err := encodeKeys(dr.Keys)
	if err != nil {
		return fmt.Errorf("embedded: create drain %s: %w", dr.ID, err)
	}
	state := dr.State
	if state == "" {
		state = drains.StateActive
	}
	authAt, authReason := note(dr.LastAuthError)
	payAt, payReason := note(dr.LastPayloadError)
	c := dr.Counters
	res, err := d.s.exec(ctx, nil, sqlCreateDrain,
		dr.ID, dr.Org, dr.Env, state, keys, ms(dr.CreatedAt), ms(dr.RotatedAt), ms(dr.RevokedAt),
		ms(dr.LastReceivedAt), ms(dr.LastControlAt), authAt, authReason, payAt, payReason,
		c.Deliveries, c.Events, c.ErrorEvents, c.Duplicates, c.RecordsRejected, c.Ignored)
	if err != nil {
		return fmt.Errorf("embedded: create drain %s: %w", dr.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("embedded: create drain %s: %w", dr.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("embedded: create drain %s: %w", dr.ID, drains.ErrExists)
	}
	return nil
}

// The drain store's statements.
const (
	drainColumns = `id, org, env, state, keys, created_at, rotated_at, revoked_at, last_received_at,
	last_control_at, last_auth_error_at, last_auth_error_reason, last_payload_error_at,
	last_payload_error_reason, deliveries, events, error_events, duplicates, records_rejected, ignored`

	sqlCreateDrain = `INSERT INTO drains (` + drainColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`
	sqlGetDrain    = `SELECT ` + drainColumns + ` FROM drains WHERE id = ?`
	sqlListDrains  = `SELECT ` + drainColumns + ` FROM drains ORDER BY created_at, id`
	sqlDrainState  = `SELECT state FROM drains WHERE id = ?`
	sqlSetKeys     = `UPDATE drains SET keys = ?, rotated_at = ? WHERE id = ? AND state = ?`
	sqlRevokeDrain = `UPDATE drains SET state = ?, revoked_at = coalesce(revoked_at, ?) WHERE id = ?`
	// Counters are added; each time and the payload error are replaced only when the
	// delivery sets them (a NULL parameter keeps the stored value).
	sqlRecordDelivery = `UPDATE drains SET
		deliveries = deliveries + ?1,
		events = events + ?2,
		error_events = error_events + ?3,
		duplicates = duplicates + ?4,
		records_rejected = records_rejected + ?5,
		last_received_at = coalesce(?6, last_received_at),
		last_control_at = coalesce(?7, last_control_at),
		last_payload_error_at = coalesce(?8, last_payload_error_at),
		last_payload_error_reason = CASE WHEN ?8 IS NULL THEN last_payload_error_reason ELSE ?9 END
		WHERE id = ?10`
	sqlRecordAuthFailure = `UPDATE drains SET last_auth_error_at = ?, last_auth_error_reason = ?
		WHERE id = ? AND (last_auth_error_at IS NULL OR last_auth_error_at <= ?)`
)

type scanner interface{ Scan(dest ...any) error }

func scanDrain(row scanner) (drains.Drain, error) {
	var (
		dr                                           drains.Drain
		keys                                         string
		created, rotated, revoked, received, control sql.NullInt64
		authAt, payAt                                sql.NullInt64
		authReason, payReason                        sql.NullString
	)
	c := &dr.Counters
	if err := row.Scan(&dr.ID, &dr.Org, &dr.Env, &dr.State, &keys, &created, &rotated, &revoked,
		&received, &control, &authAt, &authReason, &payAt, &payReason,
		&c.Deliveries, &c.Events, &c.ErrorEvents, &c.Duplicates, &c.RecordsRejected, &c.Ignored); err != nil {
		return drains.Drain{}, err
	}
	var err error
	if dr.Keys, err = decodeKeys(keys); err != nil {
		return drains.Drain{}, fmt.Errorf("drain %s: %w", dr.ID, err)
	}
	dr.CreatedAt, dr.RotatedAt, dr.RevokedAt = fromMS(created), fromMS(rotated), fromMS(revoked)
	dr.LastReceivedAt, dr.LastControlAt = fromMS(received), fromMS(control)
	dr.LastAuthError = noteFrom(authAt, authReason)
	dr.LastPayloadError = noteFrom(payAt, payReason)
	return dr, nil
}

func (d *drainStore) Get(ctx context.Context, id string) (drains.Drain, error) {
	dr, err := scanDrain(d.s.queryRow(ctx, nil, sqlGetDrain, id))
	if errors.Is(err, sql.ErrNoRows) {
		return drains.Drain{}, fmt.Errorf("embedded: get drain %q: %w", id, drains.ErrNotFound)
	}
	if err != nil {
		return drains.Drain{}, fmt.Errorf("embedded: get drain %q: %w", id, err)
	}
	one := []drains.Drain{dr}
	if err := d.withLogsRejected(ctx, one); err != nil {
		return drains.Drain{}, fmt.Errorf("embedded: get drain %q: %w", id, err)
	}
	if one[0].Sources, err = d.sources(ctx, id); err != nil {
		return drains.Drain{}, fmt.Errorf("embedded: get drain %q: sources: %w", id, err)
	}
	return one[0], nil
}

func (d *drainStore) List(ctx context.Context) ([]drains.Drain, error) {
	rows, err := d.s.query(ctx, nil, sqlListDrains)
	if err != nil {
		return nil, fmt.Errorf("embedded: list drains: %w", err)
	}
	defer rows.Close()
	var out []drains.Drain
	for rows.Next() {
		dr, err := scanDrain(rows)
		if err != nil {
			return nil, fmt.Errorf("embedded: list drains: %w", err)
		}
		out = append(out, dr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("embedded: list drains: %w", err)
	}
	if err := d.withLogsRejected(ctx, out); err != nil {
		return nil, fmt.Errorf("embedded: list drains: %w", err)
	}
	for i := range out {
		if out[i].Sources, err = d.sources(ctx, out[i].ID); err != nil {
			return nil, fmt.Errorf("embedded: list drains: sources of %s: %w", out[i].ID, err)
		}
	}
	return out, nil
}

// state reads a drain's state after a conditional write touched no row, to tell why.
// Drains are never deleted and only move from active to revoked, so reading after the
// write cannot mistake why the write did nothing.
func (d *drainStore) state(ctx context.Context, id string) (string, error) {
	var state string
	err := d.s.queryRow(ctx, nil, sqlDrainState, id).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", drains.ErrNotFound
	}
	return state, err
}

func (d *drainStore) SetKeys(ctx context.Context, id string, keys []drains.Key, rotatedAt time.Time) error {
	enc, err := encodeKeys(keys)
	if err != nil {
		return fmt.Errorf("embedded: set keys of drain %s: %w", id, err)
	}
	res, err := d.s.exec(ctx, nil, sqlSetKeys, enc, ms(rotatedAt), id, drains.StateActive)
	if err != nil {
		return fmt.Errorf("embedded: set keys of drain %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("embedded: set keys of drain %s: %w", id, err)
	}
	if n == 1 {
		return nil
	}
	state, err := d.state(ctx, id)
	switch {
	case err != nil:
		return fmt.Errorf("embedded: set keys of drain %s: %w", id, err)
	case state == drains.StateRevoked:
		return fmt.Errorf("embedded: set keys of drain %s: %w", id, drains.ErrRevoked)
	default:
		return fmt.Errorf("embedded: set keys of drain %s: drain is in state %q", id, state)
	}
}

func (d *drainStore) Revoke(ctx context.Context, id string, at time.Time) error {
	// A second revocation keeps the first one's time.
	res, err := d.s.exec(ctx, nil, sqlRevokeDrain, drains.StateRevoked, ms(at), id)
	if err != nil {
		return fmt.Errorf("embedded: revoke drain %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("embedded: revoke drain %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("embedded: revoke drain %s: %w", id, drains.ErrNotFound)
	}
	return nil
}

func (d *drainStore) RecordDelivery(ctx context.Context, id string, dl drains.Delivery) error {
	at := ms(dl.At)
	var received, control sql.NullInt64
	if dl.Data {
		received = at
	}
	if dl.Control {
		control = at
	}
	payAt, payReason := note(dl.PayloadError)
	c := dl.Counters
	// One transaction: the drain's counters, its source kind's and its OTLP rejections.
	err := d.s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := d.s.exec(ctx, tx, sqlRecordDelivery, c.Deliveries, c.Events, c.ErrorEvents, c.Duplicates, c.RecordsRejected,
			received, control, payAt, payReason, id); err != nil {
			return err
		}
		if c.Ignored != 0 {
			if _, err := d.s.exec(ctx, tx, sqlAddIgnored, c.Ignored, id); err != nil {
				return err
			}
		}
		if err := d.logDelivery(ctx, tx, id, dl.Log); err != nil {
			return err
		}
		if err := d.recordSource(ctx, tx, id, dl); err != nil {
			return err
		}
		return d.recordLogsRejected(ctx, tx, id, dl)
	})
	if err != nil {
		return fmt.Errorf("embedded: record delivery on drain %s: %w", id, err)
	}
	return nil
}

func (d *drainStore) RecordAuthFailure(ctx context.Context, id string, n drains.Note, minInterval time.Duration) (bool, error) {
	// One conditional statement: under any number of concurrent callers, only the first
	// within an interval finds the condition true; the others change no row.
	threshold := n.At.Add(-minInterval).UnixMilli()
	res, err := d.s.exec(ctx, nil, sqlRecordAuthFailure, n.At.UnixMilli(), n.Reason, id, threshold)
	if err != nil {
		return false, fmt.Errorf("embedded: record auth failure on drain %s: %w", id, err)
	}
	rows, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("embedded: record auth failure on drain %s: %w", id, err)
	}
	return rows == 1, nil
}
