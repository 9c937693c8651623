package embedded

import (
	"context"
	"database/sql"

	"github.com/aient/firehose-drain/pkg/problems"
)

// PutNotice writes a notice as the problem write of a transition does (for the outbox
// contract suite).
func (s *Store) PutNotice(ctx context.Context, n problems.Notice) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error { return s.insertNotice(ctx, tx, n) })
}
