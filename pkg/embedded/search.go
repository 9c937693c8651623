package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aient/firehose-drain/pkg/problems"
)

// schemaV6 keeps each problem's search text (problems.SearchText: title, culprit and the
// start of the sample message, lower-cased) in a column written by the write that sets
// them, so the list's text filter is a substring test of one column rather than a JSON
// parse of every problem's sample. backfillSearch fills it for the problems stored before.
var schemaV6 = [...]string{
	`ALTER TABLE problems ADD COLUMN search TEXT NOT NULL DEFAULT ''`,
}

// backfills[v] runs, in the schema transaction, after the statements that take the
// database to version v: what SQL alone cannot compute the same way as the Go code that
// writes it afterwards.
var backfills = map[int]func(ctx context.Context, tx *sql.Tx) error{
	6: backfillSearch,
}

// backfillSearch computes the search text of every problem stored before version 6.
func backfillSearch(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, title, culprit, sample FROM problems`)
	if err != nil {
		return fmt.Errorf("read problems: %w", err)
	}
	type row struct{ id, search string }
	var todo []row
	for rows.Next() {
		var id, title, culprit, sample string
		if err := rows.Scan(&id, &title, &culprit, &sample); err != nil {
			rows.Close()
			return fmt.Errorf("read problems: %w", err)
		}
		var sm struct {
			Message string `json:"message"`
		}
		if err := json.Unmarshal([]byte(sample), &sm); err != nil {
			rows.Close()
			return fmt.Errorf("problem %s: sample: %w", id, err)
		}
		todo = append(todo, row{id, problems.SearchText(title, culprit, sm.Message)})
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("read problems: %w", err)
	}
	st, err := tx.PrepareContext(ctx, `UPDATE problems SET search = ? WHERE id = ?`)
	if err != nil {
		return err
	}
	for _, r := range todo {
		if _, err := st.ExecContext(ctx, r.search, r.id); err != nil {
			return errors.Join(fmt.Errorf("problem %s: %w", r.id, err), st.Close())
		}
	}
	return st.Close()
}
