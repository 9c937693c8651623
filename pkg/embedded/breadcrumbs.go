package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/aient/firehose-drain/pkg/problems"
)

// Breadcrumbs of the recent occurrences (issue 10 item 5): the lines of each occurrence's
// invocation, in an additive table beside occurrences, written in the transaction that
// inserts the occurrence (a redelivery inserts nothing, so writes nothing) and kept for a
// problem's newest keptBreadcrumbs occurrences only: the console lists the newest
// RecentOccurrences; the sample carries its own in the problem's sample column.

// keptBreadcrumbs is how many occurrences of a problem keep their breadcrumbs (a margin
// over RecentOccurrences for occurrences of the same millisecond).
const keptBreadcrumbs = 2 * problems.RecentOccurrences

const (
	sqlPutBreadcrumbs = `INSERT INTO occurrence_breadcrumbs (identity, problem_id, at, crumbs)
		VALUES (?, ?, ?, ?) ON CONFLICT (identity) DO NOTHING`
	sqlPruneBreadcrumbs = `DELETE FROM occurrence_breadcrumbs WHERE problem_id = ?1 AND identity NOT IN
		(SELECT identity FROM occurrence_breadcrumbs WHERE problem_id = ?1 ORDER BY at DESC, identity DESC LIMIT ?2)`
)

// putBreadcrumbs stores a new occurrence's breadcrumbs in tx; it reports whether it wrote.
func (p *problemStore) putBreadcrumbs(ctx context.Context, tx *sql.Tx, id string, o *problems.Occurrence) (bool, error) {
	if len(o.Sample.Breadcrumbs) == 0 {
		return false, nil
	}
	b, err := json.Marshal(o.Sample.Breadcrumbs)
	if err != nil {
		return false, fmt.Errorf("encode breadcrumbs: %w", err)
	}
	if _, err := p.s.exec(ctx, tx, sqlPutBreadcrumbs, o.Identity, id, o.At.UnixMilli(), string(b)); err != nil {
		return false, fmt.Errorf("insert breadcrumbs: %w", err)
	}
	return true, nil
}

// pruneBreadcrumbs drops the breadcrumbs of a problem's older occurrences in tx.
func (p *problemStore) pruneBreadcrumbs(ctx context.Context, tx *sql.Tx, id string) error {
	if _, err := p.s.exec(ctx, tx, sqlPruneBreadcrumbs, id, keptBreadcrumbs); err != nil {
		return fmt.Errorf("prune breadcrumbs: %w", err)
	}
	return nil
}

// decodeBreadcrumbs reads a stored breadcrumbs column (NULL: none).
func decodeBreadcrumbs(raw *string) ([]problems.Breadcrumb, error) {
	if raw == nil || *raw == "" {
		return nil, nil
	}
	var bs []problems.Breadcrumb
	if err := json.Unmarshal([]byte(*raw), &bs); err != nil {
		return nil, fmt.Errorf("breadcrumbs: %w", err)
	}
	return bs, nil
}
