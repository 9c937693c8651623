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
