package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aient/firehose-drain/pkg/drains"
)

// schemaV5 keeps the custom grouping rules per org and env, and the count of events
// ignore rules dropped per drain.
var schemaV5 = [...]string{
	`ALTER TABLE drains ADD COLUMN ignored INTEGER NOT NULL DEFAULT 0`,
	`CREATE TABLE grouping_rules (
		org TEXT NOT NULL,
		env TEXT NOT NULL,
		seq INTEGER NOT NULL,
		rule TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		PRIMARY KEY (org, env, seq)
	) STRICT`,
	`CREATE TABLE grouping_rule_seq (
		org TEXT NOT NULL,
		env TEXT NOT NULL,
		last INTEGER NOT NULL,
		PRIMARY KEY (org, env)
	) STRICT`,
}

const (
	sqlAddIgnored = `UPDATE drains SET ignored = ignored + ? WHERE id = ?`
	sqlRules      = `SELECT seq, rule, created_at FROM grouping_rules WHERE org = ? AND env = ? ORDER BY seq`
	sqlRuleCount  = `SELECT count(*) FROM grouping_rules WHERE org = ? AND env = ?`
	sqlRuleSeq    = `INSERT INTO grouping_rule_seq (org, env, last) VALUES (?, ?, 1)
		ON CONFLICT (org, env) DO UPDATE SET last = last + 1 RETURNING last`
	sqlAddRule    = `INSERT INTO grouping_rules (org, env, seq, rule, created_at) VALUES (?, ?, ?, ?, ?)`
	sqlRemoveRule = `DELETE FROM grouping_rules WHERE org = ? AND env = ? AND seq = ?`
)

var _ drains.RuleStore = (*drainStore)(nil)

func (d *drainStore) Rules(ctx context.Context, org, env string) ([]drains.Rule, error) {
	rows, err := d.s.query(ctx, nil, sqlRules, org, env)
	if err != nil {
		return nil, fmt.Errorf("embedded: rules of %s/%s: %w", org, env, err)
	}
	defer rows.Close()
	var out []drains.Rule
	for rows.Next() {
		var seq, at int64
		r := drains.Rule{Org: org, Env: env}
		if err := rows.Scan(&seq, &r.Text, &at); err != nil {
			return nil, fmt.Errorf("embedded: rules of %s/%s: %w", org, env, err)
		}
		r.ID, r.CreatedAt = "r"+strconv.FormatInt(seq, 10), time.UnixMilli(at).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("embedded: rules of %s/%s: %w", org, env, err)
	}
	return out, nil
}

func (d *drainStore) AddRule(ctx context.Context, org, env, text string, at time.Time) (drains.Rule, error) {
	r := drains.Rule{Org: org, Env: env, Text: text, CreatedAt: at.UTC().Truncate(time.Millisecond)}
	err := d.s.writeTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := d.s.queryRow(ctx, tx, sqlRuleCount, org, env).Scan(&n); err != nil {
			return err
		}
		if n >= drains.MaxRules {
			return drains.ErrTooManyRules
		}
		var seq int64
		if err := d.s.queryRow(ctx, tx, sqlRuleSeq, org, env).Scan(&seq); err != nil {
			return err
		}
		r.ID = "r" + strconv.FormatInt(seq, 10)
		_, err := d.s.exec(ctx, tx, sqlAddRule, org, env, seq, text, r.CreatedAt.UnixMilli())
		return err
	})
	if err != nil {
		return drains.Rule{}, fmt.Errorf("embedded: add rule to %s/%s: %w", org, env, err)
	}
	return r, nil
}

func (d *drainStore) RemoveRule(ctx context.Context, org, env, id string) error {
	seq, err := strconv.ParseInt(strings.TrimPrefix(id, "r"), 10, 64)
	if err != nil || !strings.HasPrefix(id, "r") {
		return fmt.Errorf("embedded: remove rule %q of %s/%s: %w", id, org, env, drains.ErrRuleNotFound)
	}
	res, err := d.s.exec(ctx, nil, sqlRemoveRule, org, env, seq)
	if err != nil {
		return fmt.Errorf("embedded: remove rule %s of %s/%s: %w", id, org, env, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("embedded: remove rule %s of %s/%s: %w", id, org, env, errors.Join(err, drains.ErrRuleNotFound))
	}
	return nil
}
