package embedded

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/logs"
)

// logsTextInsertV3 is version 3's trigger: the whole message, and the request id as a tag.
const logsTextInsertV3 = `CREATE TRIGGER logs_text_insert AFTER INSERT ON logs BEGIN
		INSERT INTO logs_text (rowid, message, tags)
			SELECT new.id, new.message, 'g' || s.grp || ' s' || s.id || ' l' || new.level || coalesce(' r' || replace(new.request_id, '-', ''), '')
			FROM log_streams s WHERE s.id = new.stream;
	END`

// A log database of version 3 opens as this version with its lines: they are found as before
// (words, request id, level, a prefix), beside the lines stored after the upgrade.
func TestAVersion3LogStoreIsMigratedWithItsLines(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	const req = "6f1c2a52-9f0e-4d43-8f3e-0a1b2c3d4e5f"
	row := func(i int, msg string) logs.Row {
		r := logs.Row{
			Drain: "d", Account: "1", Region: "eu-west-1", LogGroup: "/aws/lambda/checkout", LogStream: "s", EventID: fmt.Sprint("e", i),
			Time: now.Add(-time.Hour).UnixMilli() + int64(i), Level: event.Info, RequestID: req, Message: msg,
		}
		if i%2 == 1 {
			r.Level = event.Error
		}
		r.UID = sha256.Sum256([]byte(r.EventID))
		return r
	}
	lambda := func(i int, text string) string {
		return time.UnixMilli(now.Add(-time.Hour).UnixMilli()+int64(i)).UTC().Format("2006-01-02T15:04:05.000Z") + "\t" + req + "\tINFO\t" + text
	}

	// A version 3 store: this version's schema with version 3's trigger.
	st, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER logs_text_insert`, logsTextInsertV3, `PRAGMA user_version = 3`} {
		if _, err := st.Logs().w.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	ctx := context.Background()
	if _, err := st.Logs().Put(ctx, []logs.Row{row(0, lambda(0, "charging card before")), row(1, lambda(1, "declined before"))}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = Open(dir)
	if err != nil {
		t.Fatalf("open version 3: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, LogsFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	var trig string
	if err := db.QueryRow(`SELECT (SELECT user_version FROM pragma_user_version), (SELECT sql FROM sqlite_schema WHERE name = 'logs_text_insert')`).Scan(&v, &trig); err != nil {
		t.Fatal(err)
	}
	if v != logSchemaVersion || trig != logsTextInsert {
		t.Fatalf("version %d, trigger %s", v, trig)
	}
	var automerge int
	if err := db.QueryRow(`SELECT v FROM logs_text_config WHERE k = 'automerge'`).Scan(&automerge); err != nil || automerge != 8 {
		t.Fatalf("automerge %d, %v", automerge, err)
	}
	ls := st.Logs()
	if _, err := ls.Put(ctx, []logs.Row{row(2, lambda(2, "charging card after")), row(3, lambda(3, "declined after"))}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		q    logs.Query
		want []string
	}{
		{logs.Query{}, []string{"e3", "e2", "e1", "e0"}},
		{logs.Query{Text: "card"}, []string{"e2", "e0"}},
		{logs.Query{Text: "declin*"}, []string{"e3", "e1"}},
		{logs.Query{RequestID: req}, []string{"e3", "e2", "e1", "e0"}},
		{logs.Query{RequestID: req, Text: "after"}, []string{"e3", "e2"}},
		// The request id as words: in the message, after the Lambda timestamp.
		{logs.Query{Text: req}, []string{"e3", "e2", "e1", "e0"}},
		{logs.Query{Levels: []event.Level{event.Error}}, []string{"e3", "e1"}},
		{logs.Query{LogGroup: "/aws/lambda/checkout", Text: "charging"}, []string{"e2", "e0"}},
	} {
		p, err := ls.Search(ctx, c.q)
		if err != nil {
			t.Fatalf("%+v: %v", c.q, err)
		}
		var got []string
		for _, l := range p.Logs {
			got = append(got, l.EventID)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%+v: got %v, want %v", c.q, got, c.want)
		}
	}
}
