package embedded

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aient/firehose-drain/pkg/problems"
)

var _ problems.AffectedReader = (*problemStore)(nil)

// Affected answers the problems' counts by account, region and log group from
// problem_affected (written with each count), at most maxAffected of each kind, largest
// first: what Detail shows. Problems without counts are left out.
func (p *problemStore) Affected(ctx context.Context, ids []string) (map[string]problems.Affected, error) {
	out := map[string]problems.Affected{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(ids)+1)
	for _, id := range ids {
		args = append(args, id)
	}
	args = append(args, maxAffected)
	in := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
	rows, err := p.s.query(ctx, nil, `SELECT problem_id, kind, value, count FROM (
		SELECT problem_id, kind, value, count,
			row_number() OVER (PARTITION BY problem_id, kind ORDER BY count DESC, value) AS n
		FROM problem_affected WHERE problem_id IN (`+in+`)) WHERE n <= ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("embedded: affected counts: %w", err)
	}
	for rows.Next() {
		var (
			id, kind string
			t        problems.Tally
		)
		if err := rows.Scan(&id, &kind, &t.ID, &t.Count); err != nil {
			rows.Close()
			return nil, fmt.Errorf("embedded: affected counts: %w", err)
		}
		a, ok := out[id]
		if !ok {
			a = problems.Affected{Accounts: []problems.Tally{}, Regions: []problems.Tally{}, LogGroups: []problems.Tally{}}
		}
		switch kind {
		case "account":
			a.Accounts = append(a.Accounts, t)
		case "region":
			a.Regions = append(a.Regions, t)
		case "logGroup":
			a.LogGroups = append(a.LogGroups, t)
		}
		out[id] = a
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("embedded: affected counts: %w", err)
	}
	for id, a := range out {
		sortTallies(&a)
		out[id] = a
	}
	return out, nil
}
