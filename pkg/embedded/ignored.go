package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/aient/firehose-drain/pkg/drains"
)

// Ignored is the recorder of the events ignore rules dropped (the grouper's), counted on
// the drains exactly once per identity.
func (s *Store) Ignored() drains.IgnoreRecorder { return s.drains }

var _ drains.IgnoreRecorder = (*drainStore)(nil)

const (
	// sqlMarkIgnored marks a dropped event's identity in the occurrences table, as its
	// occurrence would be marked (with no problem): an identity counts once, as an
	// occurrence or as ignored.
	sqlMarkIgnored = `INSERT INTO occurrences (identity, problem_id, at) VALUES (?, '', ?)
		ON CONFLICT (identity) DO NOTHING`
	sqlDrainExists = `SELECT 1 FROM drains WHERE id = ?`
)

// RecordIgnored marks the identities and adds the new ones to the drain's ignored count
// in one transaction.
func (d *drainStore) RecordIgnored(ctx context.Context, drain string, ids []string, at time.Time) (int, error) {
	n := 0
	err := d.s.writeTx(ctx, func(tx *sql.Tx) error {
		var one int
		switch err := d.s.queryRow(ctx, tx, sqlDrainExists, drain).Scan(&one); {
		case errors.Is(err, sql.ErrNoRows):
			return nil // no such drain: nothing to mark or count
		case err != nil:
			return err
		}
		for _, id := range ids {
			res, err := d.s.exec(ctx, tx, sqlMarkIgnored, id, at.UnixMilli())
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += int(k)
		}
		if n == 0 {
			return nil
		}
		_, err := d.s.exec(ctx, tx, sqlAddIgnored, n, drain)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("embedded: record ignored events on drain %s: %w", drain, err)
	}
	return n, nil
}
