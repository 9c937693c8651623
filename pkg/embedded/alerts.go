package embedded

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/aient/firehose-drain/pkg/alerts"
	"github.com/aient/firehose-drain/pkg/problems"
)

// schemaV4 turns a version 3 database into version 4: problem states and the alert
// outbox and destinations.
var schemaV4 = [...]string{
	`ALTER TABLE problems ADD COLUMN state TEXT NOT NULL DEFAULT 'unresolved'`,
	// JSON of problems.EncodeLifecycle; '' for a problem stored before version 4.
	`ALTER TABLE problems ADD COLUMN lifecycle TEXT NOT NULL DEFAULT ''`,
	`CREATE TABLE notices (
		id TEXT PRIMARY KEY,
		problem_id TEXT NOT NULL,
		body TEXT NOT NULL, -- JSON of problems.Notice
		created_at INTEGER NOT NULL,
		due_at INTEGER NOT NULL,
		done_at INTEGER, -- NULL: not done
		sent TEXT NOT NULL DEFAULT '{}', -- JSON {destination: ms}
		dead TEXT NOT NULL DEFAULT '{}', -- JSON {destination: true}
		attempts TEXT NOT NULL DEFAULT '{}' -- JSON {destination: n}
	) STRICT`,
	`CREATE INDEX notices_pending ON notices (due_at) WHERE done_at IS NULL`,
	`CREATE TABLE alert_destinations (
		id TEXT PRIMARY KEY,
		body TEXT NOT NULL, -- JSON of alerts.Destination
		created_at INTEGER NOT NULL
	) STRICT`,
}

// noticeRetention is how long a done notice is kept (then swept).
const noticeRetention = 14 * 24 * time.Hour

// insertNotice writes a notice in the transaction that decided it; the same id again (a
// retried write) changes nothing.
func (s *Store) insertNotice(ctx context.Context, tx *sql.Tx, n problems.Notice) error {
	body, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("encode notice: %w", err)
	}
	at := n.At.UnixMilli()
	if _, err := s.exec(ctx, tx, `INSERT INTO notices (id, problem_id, body, created_at, due_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`, n.ID, n.Problem.ID, string(body), at, at); err != nil {
		return fmt.Errorf("insert notice: %w", err)
	}
	return nil
}

// outbox is alerts.Outbox over the notices table.
type outbox struct{ s *Store }

var _ alerts.Outbox = (*outbox)(nil)

// Outbox is the alert outbox: the notices the problem store writes.
func (s *Store) Outbox() alerts.Outbox { return &outbox{s: s} }

const noticeColumns = `id, body, sent, dead, attempts`

func scanDelivery(row scanner) (alerts.Delivery, error) {
	var id, body, sent, dead, attempts string
	if err := row.Scan(&id, &body, &sent, &dead, &attempts); err != nil {
		return alerts.Delivery{}, err
	}
	var d alerts.Delivery
	var sentMS map[string]int64
	for _, f := range []struct {
		name string
		src  string
		dst  any
	}{{"body", body, &d.Notice}, {"sent", sent, &sentMS}, {"dead", dead, &d.Dead}, {"attempts", attempts, &d.Attempts}} {
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return alerts.Delivery{}, fmt.Errorf("notice %s: decode %s: %w", id, f.name, err)
		}
	}
	d.Sent = map[string]time.Time{}
	for k, v := range sentMS {
		d.Sent[k] = time.UnixMilli(v).UTC()
	}
	return d, nil
}

func (o *outbox) collect(rows *sql.Rows, err error) ([]alerts.Delivery, error) {
	if err != nil {
		return nil, fmt.Errorf("embedded: read notices: %w", err)
	}
	defer rows.Close()
	var out []alerts.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("embedded: read notices: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("embedded: read notices: %w", err)
	}
	return out, nil
}

func (o *outbox) Pending(ctx context.Context, now time.Time, limit int) ([]alerts.Delivery, error) {
	return o.collect(o.s.query(ctx, nil, `SELECT `+noticeColumns+` FROM notices
		WHERE done_at IS NULL AND due_at <= ? ORDER BY created_at, id LIMIT ?`, now.UnixMilli(), limit))
}

func (o *outbox) Load(ctx context.Context, ids []string) ([]alerts.Delivery, error) {
	var out []alerts.Delivery
	for _, id := range ids {
		d, err := scanDelivery(o.s.queryRow(ctx, nil, `SELECT `+noticeColumns+` FROM notices WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("embedded: read notice %s: %w", id, err)
		}
		out = append(out, d)
	}
	return out, nil
}

func (o *outbox) MarkSent(ctx context.Context, id, dest string, at time.Time) error {
	_, err := o.s.exec(ctx, nil, `UPDATE notices SET sent = json_set(sent, '$.' || json_quote(?1), ?2) WHERE id = ?3`,
		dest, at.UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("embedded: mark notice %s sent: %w", id, err)
	}
	return nil
}

func (o *outbox) MarkFailed(ctx context.Context, id, dest string, attempts int, dead bool, retryAt time.Time) error {
	q := `UPDATE notices SET attempts = json_set(attempts, '$.' || json_quote(?1), ?2), due_at = ?3 WHERE id = ?4`
	if dead {
		q = `UPDATE notices SET attempts = json_set(attempts, '$.' || json_quote(?1), ?2), due_at = ?3,
			dead = json_set(dead, '$.' || json_quote(?1), json('true')) WHERE id = ?4`
	}
	if _, err := o.s.exec(ctx, nil, q, dest, attempts, retryAt.UnixMilli(), id); err != nil {
		return fmt.Errorf("embedded: record the failed attempt of notice %s: %w", id, err)
	}
	return nil
}

func (o *outbox) Done(ctx context.Context, id string, at time.Time) error {
	return o.s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := o.s.exec(ctx, tx, `UPDATE notices SET done_at = ? WHERE id = ? AND done_at IS NULL`, at.UnixMilli(), id); err != nil {
			return fmt.Errorf("embedded: mark notice %s done: %w", id, err)
		}
		if _, err := o.s.exec(ctx, tx, `DELETE FROM notices WHERE done_at < ?`, at.Add(-noticeRetention).UnixMilli()); err != nil {
			return fmt.Errorf("embedded: sweep old notices: %w", err)
		}
		return nil
	})
}

// destinations is alerts.Destinations over the alert_destinations table.
type destinations struct{ s *Store }

var _ alerts.Destinations = (*destinations)(nil)

// Destinations are the alert destinations.
func (s *Store) Destinations() alerts.Destinations { return &destinations{s: s} }

func (d *destinations) Add(ctx context.Context, dest alerts.Destination) error {
	body, err := json.Marshal(dest)
	if err != nil {
		return fmt.Errorf("embedded: add destination: %w", err)
	}
	res, err := d.s.exec(ctx, nil, `INSERT INTO alert_destinations (id, body, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		dest.ID, string(body), dest.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("embedded: add destination: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("embedded: add destination: %w: id %s is taken", alerts.ErrInvalid, dest.ID)
	}
	return nil
}

func (d *destinations) List(ctx context.Context) ([]alerts.Destination, error) {
	rows, err := d.s.query(ctx, nil, `SELECT body FROM alert_destinations ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("embedded: list destinations: %w", err)
	}
	defer rows.Close()
	var out []alerts.Destination
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("embedded: list destinations: %w", err)
		}
		var dest alerts.Destination
		if err := json.Unmarshal([]byte(body), &dest); err != nil {
			return nil, fmt.Errorf("embedded: list destinations: %w", err)
		}
		out = append(out, dest)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("embedded: list destinations: %w", err)
	}
	return out, nil
}

func (d *destinations) get(ctx context.Context, tx *sql.Tx, id string) (alerts.Destination, error) {
	var body string
	err := d.s.queryRow(ctx, tx, `SELECT body FROM alert_destinations WHERE id = ?`, id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return alerts.Destination{}, fmt.Errorf("destination %q: %w", id, alerts.ErrNotFound)
	}
	if err != nil {
		return alerts.Destination{}, fmt.Errorf("embedded: get destination %q: %w", id, err)
	}
	var dest alerts.Destination
	if err := json.Unmarshal([]byte(body), &dest); err != nil {
		return alerts.Destination{}, fmt.Errorf("embedded: get destination %q: %w", id, err)
	}
	return dest, nil
}

func (d *destinations) Get(ctx context.Context, id string) (alerts.Destination, error) {
	return d.get(ctx, nil, id)
}

func (d *destinations) Remove(ctx context.Context, id string) error {
	res, err := d.s.exec(ctx, nil, `DELETE FROM alert_destinations WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("embedded: remove destination %q: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("destination %q: %w", id, alerts.ErrNotFound)
	}
	return nil
}

func (d *destinations) Report(ctx context.Context, id string, r alerts.Report) error {
	return d.s.writeTx(ctx, func(tx *sql.Tx) error {
		dest, err := d.get(ctx, tx, id)
		if errors.Is(err, alerts.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		dest.Status = dest.Apply(r)
		body, err := json.Marshal(dest)
		if err != nil {
			return fmt.Errorf("embedded: report on destination %q: %w", id, err)
		}
		if _, err := d.s.exec(ctx, tx, `UPDATE alert_destinations SET body = ? WHERE id = ?`, string(body), id); err != nil {
			return fmt.Errorf("embedded: report on destination %q: %w", id, err)
		}
		return nil
	})
}

// secretsDir holds the destinations' secrets, one 0600 file each, outside the database
// (so that no backup or dump of the problems carries them).
const secretsDir = "alert-secrets"

// fileSecrets is alerts.SecretStore over files in the data dir.
type fileSecrets struct{ dir string }

var _ alerts.SecretStore = fileSecrets{}

// Secrets is the destinations' secret store: files in <data dir>/alert-secrets.
func (s *Store) Secrets() alerts.SecretStore {
	return fileSecrets{dir: filepath.Join(s.dir, secretsDir)}
}

var secretRef = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)

func (f fileSecrets) PutSecret(_ context.Context, id string, v alerts.Secret) (string, error) {
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return "", fmt.Errorf("embedded: store secret: %w", err)
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", fmt.Errorf("embedded: store secret: %w", err)
	}
	ref := id + "-" + hex.EncodeToString(rnd[:])
	if !secretRef.MatchString(ref) {
		return "", fmt.Errorf("embedded: store secret: %w: id %q", alerts.ErrInvalid, id)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("embedded: store secret: %w", err)
	}
	tmp, err := os.CreateTemp(f.dir, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("embedded: store secret: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone after the rename; removed on a failure
	if _, err := tmp.Write(b); err != nil {
		_ = tmp.Close() // the write failed: that is the error to report
		return "", fmt.Errorf("embedded: store secret: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("embedded: store secret: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(f.dir, ref)); err != nil {
		return "", fmt.Errorf("embedded: store secret: %w", err)
	}
	return ref, nil
}

func (f fileSecrets) GetSecret(_ context.Context, ref string) (alerts.Secret, error) {
	if !secretRef.MatchString(ref) {
		return alerts.Secret{}, fmt.Errorf("embedded: read secret: %w: bad name", alerts.ErrInvalid)
	}
	b, err := os.ReadFile(filepath.Join(f.dir, ref))
	if err != nil {
		return alerts.Secret{}, fmt.Errorf("embedded: read secret %s: %w", ref, errors.Unwrap(err))
	}
	var v alerts.Secret
	if err := json.Unmarshal(b, &v); err != nil {
		return alerts.Secret{}, fmt.Errorf("embedded: read secret %s: not a stored secret", ref)
	}
	return v, nil
}

func (f fileSecrets) DeleteSecret(_ context.Context, ref string) error {
	if !secretRef.MatchString(ref) {
		return fmt.Errorf("embedded: delete secret: %w: bad name", alerts.ErrInvalid)
	}
	if err := os.Remove(filepath.Join(f.dir, ref)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("embedded: delete secret %s: %w", ref, err)
	}
	return nil
}

var _ alerts.Rate = (*destinations)(nil)

// Take implements alerts.Rate: one upsert adds n to the minute's row unless that passes
// limit (a row changed is a take), in the transaction that also drops rows older than
// an hour. The writer is one connection and SQLite one writer, so takes of every process
// serialize.
func (d *destinations) Take(ctx context.Context, dest string, minute time.Time, n, limit int) (bool, error) {
	took := false
	err := d.s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := d.s.exec(ctx, tx, `INSERT INTO alert_rate (dest, minute, count) SELECT ?1, ?2, ?3 WHERE ?3 <= ?4
			ON CONFLICT (dest, minute) DO UPDATE SET count = count + excluded.count WHERE count + excluded.count <= ?4`,
			dest, minute.UnixMilli(), n, limit)
		if err != nil {
			return err
		}
		rows, err := res.RowsAffected()
		if err != nil {
			return err
		}
		took = rows == 1
		_, err = d.s.exec(ctx, tx, `DELETE FROM alert_rate WHERE minute < ?`, minute.Add(-time.Hour).UnixMilli())
		return err
	})
	if err != nil {
		return false, fmt.Errorf("embedded: alert count of destination %s: %w", dest, err)
	}
	return took, nil
}
