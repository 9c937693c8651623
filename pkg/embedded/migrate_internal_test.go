package embedded

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/problems"
)

// A data dir written by schema version 1 opens: its occurrences get their hourly counts,
// and new occurrences all the aggregates.
func TestAVersion1DatabaseIsMigrated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, DBFile)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range schemaV1 {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
	at := now.Add(-time.Hour).UnixMilli()
	id := problems.ID("acme", "prod", "fp")
	for _, stmt := range []string{
		`PRAGMA journal_mode=WAL`,
		fmt.Sprintf(`INSERT INTO problems VALUES ('%s','acme','prod','fp','E: x','c','error',2,%d,%d,'["/g"]','{"logGroup":"/g","logStream":"s","eventId":"1","timestamp":%d,"message":"E: x"}')`, id, at, at, at),
		fmt.Sprintf(`INSERT INTO occurrences VALUES ('i1','%s',%d), ('i2','%s',%d)`, id, at, id, at),
		`PRAGMA user_version = 1`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	db.Close()

	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, err := s.problems.Detail(t.Context(), id, now)
	if err != nil {
		t.Fatal(err)
	}
	if d.Hourly[problems.TrendHours-2].Count != 2 || len(d.Recent) != 2 {
		t.Fatalf("after the migration: hourly %v, recent %+v", d.Hourly, d.Recent)
	}
	var v int
	if err := s.r.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != schemaVersion {
		t.Fatalf("schema version %d (%v), want %d", v, err, schemaVersion)
	}
}

// A version 5 data dir (no search column) opens as version 6 with every problem's search
// text computed as a write would have: the text filter finds its problems by title,
// culprit and message, in any case, non-ASCII included.
func TestAVersion5DatabaseGetsItsSearchColumn(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
	occ := func(fp, title, culprit, message string) problems.Occurrence {
		return problems.Occurrence{
			Identity: "id-" + fp, Org: "acme", Env: "prod", Fingerprint: fp, Title: title, Culprit: culprit,
			Level: "error", At: now.Add(-time.Minute),
			Sample: problems.Sample{LogGroup: "/g", LogStream: "s", EventID: fp, Timestamp: now.UnixMilli(), Message: message},
		}
	}
	for _, r := range s.problems.RecordBatch(t.Context(), []problems.Occurrence{
		occ("a", "PaymentError: card declined", "charge (pay.js)", "PaymentError: card declined\n    at charge (/var/task/pay.js:1:1)"),
		occ("b", "KeyError: 'user'", "handler (app.py)", "Traceback: the ÉCOLE lookup failed"),
	}) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{`ALTER TABLE problems DROP COLUMN search`, `PRAGMA user_version = 5`} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	db.Close()

	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for q, want := range map[string]string{"CARD DECLINED": "a", "pay.js": "a", "école": "b", "'user'": "b", "lookup": "b"} {
		page, err := s.problems.Query(t.Context(), problems.Query{Text: q, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Problems) != 1 || page.Problems[0].Fingerprint != want {
			t.Errorf("q=%q after the migration: %+v, want problem %s", q, page.Problems, want)
		}
	}
	var v int
	if err := s.r.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != schemaVersion || v < 6 {
		t.Fatalf("schema version %d (%v), want %d", v, err, schemaVersion)
	}
}
