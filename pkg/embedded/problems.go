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

// RecordBatch records each problem's new occurrences in one transaction: the occurrences
// inserted if new, then the problem read and written once with all of them (problems.Merge).
// The writer is one connection, so problems are written one after another.
func (p *problemStore) RecordBatch(ctx context.Context, occs []problems.Occurrence) []problems.Result {
	return problems.PlanBatch(occs).Run(ctx, 1, func(ctx context.Context, g problems.Group) []problems.Result {
		out := make([]problems.Result, len(g.Occurrences))
		err := p.s.writeTx(ctx, func(tx *sql.Tx) error {
			var fresh []problems.Occurrence
			crumbs := false // breadcrumbs written: older ones are pruned
			for i, o := range g.Occurrences {
				sm := &o.Sample
				at := o.At.UnixMilli()
				res, err := p.s.exec(ctx, tx, sqlInsertOccurrence, o.Identity, g.ID, at,
					sm.Account, sm.Region, sm.LogGroup, sm.LogStream, sm.EventID, sm.RequestID)
				if err != nil {
					return fmt.Errorf("insert occurrence: %w", err)
				}
				n, err := res.RowsAffected()
				if err != nil {
					return fmt.Errorf("insert occurrence: %w", err)
				}
				if n == 0 {
					continue // recorded before
				}
				out[i].Recorded = true
				fresh = append(fresh, o)
				if wrote, err := p.putBreadcrumbs(ctx, tx, g.ID, &o); err != nil {
					return err
				} else if wrote {
					crumbs = true
				}
				// What the console reads, counted in the same transaction as the count.
				if _, err := p.s.exec(ctx, tx, sqlCountHour, g.ID, at-at%3600000); err != nil {
					return fmt.Errorf("count the hour: %w", err)
				}
				for _, a := range [...]struct{ kind, value string }{
					{"account", sm.Account}, {"region", sm.Region}, {"logGroup", sm.LogGroup},
				} {
					if a.value == "" {
						continue
					}
					if _, err := p.s.exec(ctx, tx, sqlCountAffected, g.ID, a.kind, a.value); err != nil {
						return fmt.Errorf("count the %s: %w", a.kind, err)
					}
				}
			}
			if len(fresh) == 0 {
				return nil // a redelivery: the transaction changed nothing
			}
			if crumbs {
				if err := p.pruneBreadcrumbs(ctx, tx, g.ID); err != nil {
					return err
				}
			}
			old, err := scanProblem(p.s.queryRow(ctx, tx, sqlGetProblem, g.ID))
			exists := err == nil
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("read problem: %w", err)
			}
			times := make([]time.Time, len(fresh))
			for i, o := range fresh {
				times[i] = o.At
			}
			// The lifecycle is decided here, in the transaction that counts.
			pr, notice := problems.Decide(problems.Merge(old, exists, problems.AggregateOf(fresh)), exists, times, p.s.cfg.now())
			lifecycle, err := problems.EncodeLifecycle(pr.Lifecycle)
			if err != nil {
				return err
			}
			sample, err := json.Marshal(pr.Sample)
			if err != nil {
				return fmt.Errorf("encode sample: %w", err)
			}
			groups, err := json.Marshal(append([]string{}, pr.LogGroups...))
			if err != nil {
				return fmt.Errorf("encode log groups: %w", err)
			}
			if _, err := p.s.exec(ctx, tx, sqlPutProblem, pr.ID, pr.Org, pr.Env, pr.Fingerprint, pr.Title, pr.Culprit,
				pr.Level, pr.Count, pr.FirstSeen.UnixMilli(), pr.LastSeen.UnixMilli(), string(groups), string(sample),
				string(pr.State), lifecycle, problems.SearchText(pr.Title, pr.Culprit, pr.Sample.Message)); err != nil {
				return fmt.Errorf("write problem: %w", err)
			}
			if notice != nil {
				return p.s.insertNotice(ctx, tx, *notice)
			}
			return nil
		})
		if err != nil {
			for i := range out {
				out[i] = problems.Result{Err: fmt.Errorf("embedded: record occurrences of problem %s: %w", g.ID, err)}
			}
		}
		return out
	})
}

// Record is RecordBatch of one occurrence.
func (p *problemStore) Record(ctx context.Context, o problems.Occurrence) (bool, error) {
	return problems.RecordOne(ctx, p, o)
}

// The problem store's statements.
const (
	problemColumns = `id, org, env, fingerprint, title, culprit, level, count, first_seen, last_seen,
	log_groups, sample, state, lifecycle`

	sqlInsertOccurrence = `INSERT INTO occurrences (identity, problem_id, at,
		account, region, log_group, log_stream, event_id, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (identity) DO NOTHING`
	sqlCountHour = `INSERT INTO problem_hours (problem_id, hour, count) VALUES (?, ?, 1)
		ON CONFLICT (problem_id, hour) DO UPDATE SET count = count + 1`
	sqlCountAffected = `INSERT INTO problem_affected (problem_id, kind, value, count) VALUES (?, ?, ?, 1)
		ON CONFLICT (problem_id, kind, value) DO UPDATE SET count = count + 1`
	// sqlPutProblem writes a problem computed in the transaction that read it; it sets
	// only the columns it knows, so columns other code adds keep their values.
	sqlPutProblem = `INSERT INTO problems (` + problemColumns + `, search)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			title = excluded.title, culprit = excluded.culprit, level = excluded.level,
			count = excluded.count, first_seen = excluded.first_seen, last_seen = excluded.last_seen,
			log_groups = excluded.log_groups, sample = excluded.sample,
			state = excluded.state, lifecycle = excluded.lifecycle, search = excluded.search`
	sqlSetLifecycle       = `UPDATE problems SET state = ?, lifecycle = ? WHERE id = ?`
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
		state, lifecycle  string
	)
	if err := row.Scan(&pr.ID, &pr.Org, &pr.Env, &pr.Fingerprint, &pr.Title, &pr.Culprit, &pr.Level,
		&pr.Count, &first, &last, &logGroups, &sample, &state, &lifecycle); err != nil {
		return problems.Problem{}, err
	}
	lc, err := problems.DecodeLifecycle(lifecycle)
	if err != nil {
		return problems.Problem{}, fmt.Errorf("problem %s: %w", pr.ID, err)
	}
	pr.Lifecycle = lc
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
		pr.Hourly = nil // Get has them
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

// Act applies an operator's action in one write transaction.
func (p *problemStore) Act(ctx context.Context, id string, a problems.Action) (problems.Problem, error) {
	if err := a.Check(); err != nil {
		return problems.Problem{}, err
	}
	var pr problems.Problem
	err := p.s.writeTx(ctx, func(tx *sql.Tx) error {
		old, err := scanProblem(p.s.queryRow(ctx, tx, sqlGetProblem, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("problem %q: %w", id, problems.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read problem: %w", err)
		}
		if pr, err = problems.Act(old, a, p.s.cfg.now()); err != nil {
			return err
		}
		lifecycle, err := problems.EncodeLifecycle(pr.Lifecycle)
		if err != nil {
			return err
		}
		_, err = p.s.exec(ctx, tx, sqlSetLifecycle, string(pr.State), lifecycle, id)
		return err
	})
	if err != nil {
		return problems.Problem{}, fmt.Errorf("embedded: %s problem %q: %w", a.To, id, err)
	}
	return pr, nil
}
