package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aient/firehose-drain/pkg/problems"
)

// problemStore is problems.Store over the problems and occurrences tables.
type problemStore struct{ s *Store }

var _ problems.Store = (*problemStore)(nil)

func (p *problemStore) Record(ctx context.Context, o problems.Occurrence) (bool, error) {
	sample, err := json.Marshal(o.Sample)
	if err != nil {
		return false, fmt.Errorf("embedded: record occurrence: encode sample: %w", err)
	}
	id := problems.ID(o.Org, o.Env, o.Fingerprint)
	at := o.At.UnixMilli()
	logGroups := "[]"
	if o.Sample.LogGroup != "" {
		b, err := json.Marshal([]string{o.Sample.LogGroup})
		if err != nil {
			return false, fmt.Errorf("embedded: record occurrence: encode log group: %w", err)
		}
		logGroups = string(b)
	}
	recorded := false
	err = p.s.writeTx(ctx, func(tx *sql.Tx) error {
		sm := &o.Sample
		res, err := p.s.exec(ctx, tx, sqlInsertOccurrence, o.Identity, id, at,
			sm.Account, sm.Region, sm.LogGroup, sm.LogStream, sm.EventID, sm.RequestID)
		if err != nil {
			return fmt.Errorf("insert occurrence: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("insert occurrence: %w", err)
		}
		if n == 0 {
			return nil // a redelivery: the transaction changed nothing
		}
		_, err = p.s.exec(ctx, tx, sqlUpsertProblem, id, o.Org, o.Env, o.Fingerprint, o.Title, o.Culprit,
			o.Level, at, logGroups, string(sample), o.Sample.LogGroup)
		if err != nil {
			return fmt.Errorf("upsert problem: %w", err)
		}
		// What the console reads, counted in the same transaction as the count.
		if _, err := p.s.exec(ctx, tx, sqlCountHour, id, at-at%3600000); err != nil {
			return fmt.Errorf("count the hour: %w", err)
		}
		for _, a := range [...]struct{ kind, value string }{
			{"account", sm.Account}, {"region", sm.Region}, {"logGroup", sm.LogGroup},
		} {
			if a.value == "" {
				continue
			}
			if _, err := p.s.exec(ctx, tx, sqlCountAffected, id, a.kind, a.value); err != nil {
				return fmt.Errorf("count the %s: %w", a.kind, err)
			}
		}
		recorded = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("embedded: record occurrence of problem %s: %w", id, err)
	}
	return recorded, nil
}

// The problem store's statements.
const (
	problemColumns = `id, org, env, fingerprint, title, culprit, level, count, first_seen, last_seen,
	log_groups, sample`

	sqlInsertOccurrence = `INSERT INTO occurrences (identity, problem_id, at,
		account, region, log_group, log_stream, event_id, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (identity) DO NOTHING`
	sqlCountHour = `INSERT INTO problem_hours (problem_id, hour, count) VALUES (?, ?, 1)
		ON CONFLICT (problem_id, hour) DO UPDATE SET count = count + 1`
	sqlCountAffected = `INSERT INTO problem_affected (problem_id, kind, value, count) VALUES (?, ?, ?, 1)
		ON CONFLICT (problem_id, kind, value) DO UPDATE SET count = count + 1`
	// In SET, every column on the right-hand side is the row's old value, so the "newest"
	// test compares against the last_seen before this occurrence. Log groups are a JSON
	// array kept as a set; an empty log group is not added.
	sqlUpsertProblem = `INSERT INTO problems (` + problemColumns + `)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?8, ?9, ?10)
		ON CONFLICT (id) DO UPDATE SET
			count = count + 1,
			first_seen = min(first_seen, excluded.first_seen),
			last_seen = max(last_seen, excluded.last_seen),
			title = CASE WHEN excluded.last_seen >= last_seen THEN excluded.title ELSE title END,
			culprit = CASE WHEN excluded.last_seen >= last_seen THEN excluded.culprit ELSE culprit END,
			level = CASE WHEN excluded.last_seen >= last_seen THEN excluded.level ELSE level END,
			sample = CASE WHEN excluded.last_seen >= last_seen THEN excluded.sample ELSE sample END,
			log_groups = CASE
				WHEN ?11 = '' OR EXISTS (SELECT 1 FROM json_each(problems.log_groups) WHERE value = ?11)
				THEN log_groups
				ELSE json_insert(log_groups, '$[#]', ?11) END`
	sqlGetProblem         = `SELECT ` + problemColumns + ` FROM problems WHERE id = ?`
	sqlListProblems       = `SELECT ` + problemColumns + ` FROM problems ORDER BY last_seen DESC, id`
	sqlListScopedProblems = `SELECT ` + problemColumns + ` FROM problems WHERE org = ? AND env = ?
		ORDER BY last_seen DESC, id`
)

func scanProblem(row scanner) (problems.Problem, error) {
	var (
		pr                problems.Problem
		first, last       int64
		logGroups, sample string
	)
	if err := row.Scan(&pr.ID, &pr.Org, &pr.Env, &pr.Fingerprint, &pr.Title, &pr.Culprit, &pr.Level,
		&pr.Count, &first, &last, &logGroups, &sample); err != nil {
		return problems.Problem{}, err
	}
	pr.FirstSeen, pr.LastSeen = time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
	if err := json.Unmarshal([]byte(logGroups), &pr.LogGroups); err != nil {
		return problems.Problem{}, fmt.Errorf("problem %s: decode stored log groups: %w", pr.ID, err)
	}
	slices.Sort(pr.LogGroups)
	if err := json.Unmarshal([]byte(sample), &pr.Sample); err != nil {
		return problems.Problem{}, fmt.Errorf("problem %s: decode stored sample: %w", pr.ID, err)
	}
	return pr, nil
}

func (p *problemStore) List(ctx context.Context, org, env string) ([]problems.Problem, error) {
	q, args := sqlListProblems, []any(nil)
	if org != "" || env != "" {
		q, args = sqlListScopedProblems, []any{org, env}
	}
	rows, err := p.s.query(ctx, nil, q, args...)
	if err != nil {
		return nil, fmt.Errorf("embedded: list problems: %w", err)
	}
	defer rows.Close()
	var out []problems.Problem
	for rows.Next() {
		pr, err := scanProblem(rows)
		if err != nil {
			return nil, fmt.Errorf("embedded: list problems: %w", err)
		}
		out = append(out, pr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("embedded: list problems: %w", err)
	}
	return out, nil
}

func (p *problemStore) Get(ctx context.Context, id string) (problems.Problem, error) {
	pr, err := scanProblem(p.s.queryRow(ctx, nil, sqlGetProblem, id))
	if errors.Is(err, sql.ErrNoRows) {
		return problems.Problem{}, fmt.Errorf("embedded: get problem %q: %w", id, problems.ErrNotFound)
	}
	if err != nil {
		return problems.Problem{}, fmt.Errorf("embedded: get problem %q: %w", id, err)
	}
	return pr, nil
}
