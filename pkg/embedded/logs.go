package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/logs"
)

// The local log store: every DATA_MESSAGE log event `aient serve` receives, kept in its own
// SQLite database in the data dir (LogsFile) and indexed for full-text search with FTS5.
//
// Its own file, because it takes every event where the rest of the store takes only the
// error-class ones: a delivery's log lines are one transaction there, which holds that
// database's write lock and never the one the claims, the queue and the grouper share;
// its size (the retention's byte cap) is that file's pages alone.
//
// Layout. A line's id (the logs table's rowid, and the FTS rowid) is its event time in
// milliseconds shifted left by 20 bits, plus a number within that millisecond: the table is
// in event-time order, so "newest first", since/until and "oldest dropped first" are rowid
// ranges of the table and of the full-text index (FTS5 walks its doclists in rowid order,
// so a search that matches millions of lines still reads only the page it answers). uid is
// log.record.uid (the dedup identity of the event), unique: a redelivered line is not
// stored twice. Streams (drain, account, region, log group, log stream) are a table of
// their own; batches are the deliveries, in arrival order, for `aient logs tail --follow`.
// The text index is contentless (the message is stored once, in logs) with
// contentless_delete, kept by triggers.

// LogsFile is the log store's database file inside the data dir.
const LogsFile = "logs.db"

// Defaults of the log store's retention (aient serve --log-retention, --log-max-bytes).
const (
	DefaultLogRetention = 7 * 24 * time.Hour
	DefaultLogMaxBytes  = 1 << 30
)

const (
	logSeqBits = 20
	logSeqMask = 1<<logSeqBits - 1
	// logMaxTime is the largest event time (ms) an id holds (year 2248); later times are
	// stored as it, earlier than the epoch as 0.
	logMaxTime = 1<<(63-logSeqBits) - 1
)

// logSchemaVersion is the log database's PRAGMA user_version. Versions 1 and 2 (on main
// for an hour) are rebuilt empty; versions 3 and 4 are migrated in place (logMigrations).
const logSchemaVersion = 5

// logsTextInsert is the trigger that indexes a new line: its message, less the leading
// timestamp of the Lambda runtime's text format (the line's own time, which since/until
// search; the runtime's format is always 24 characters and a tab), and its tags (g<group>
// s<stream> l<level>). The request id is not a tag: it is in the message (pkg/invocation
// reads it from there), and a request id search is that phrase.
const logsTextInsert = `CREATE TRIGGER logs_text_insert AFTER INSERT ON logs BEGIN
		INSERT INTO logs_text (rowid, message, tags)
			SELECT new.id,
				CASE WHEN new.message GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z' || char(9) || '*'
					THEN substr(new.message, 26) ELSE new.message END,
				'g' || s.grp || ' s' || s.id || ' l' || new.level
			FROM log_streams s WHERE s.id = new.stream;
	END`

// logMigrations[v] takes a log database of version v to v+1, in the transaction that opens it.
var logMigrations = map[int][]string{
	// 3: the message was indexed whole and the request id was a tag too. The lines stored by
	// version 3 keep their index entries: searches find them as before.
	3: {`DROP TRIGGER logs_text_insert`, logsTextInsert},
	// 4: FTS5 merged its segments four at a time.
	4: {logsTextAutomerge},
}

// logsTextAutomerge: FTS5 merges the index's segments eight at a time (its default is four).
// A merge rewrites the lines it merges, and each level of segments is one more rewrite of
// every line: eight at a time makes fewer levels, and the store's write about a quarter
// cheaper (BenchmarkLogPut, CPU a line), while a search reads about as many segments (13
// against 14 at 1 M lines) and answered as fast (BenchmarkLogSearch).
const logsTextAutomerge = `INSERT INTO logs_text (logs_text, rank) VALUES ('automerge', 8)`

var logSchema = [...]string{
	`CREATE TABLE log_groups (
		id INTEGER PRIMARY KEY,
		drain TEXT NOT NULL,
		log_group TEXT NOT NULL,
		UNIQUE (drain, log_group)
	) STRICT`,
	`CREATE INDEX log_groups_by_name ON log_groups (log_group)`,
	`CREATE TABLE log_streams (
		id INTEGER PRIMARY KEY,
		grp INTEGER NOT NULL, -- log_groups.id
		account TEXT NOT NULL,
		region TEXT NOT NULL,
		log_stream TEXT NOT NULL,
		UNIQUE (grp, account, region, log_stream)
	) STRICT`,
	`CREATE INDEX log_streams_by_name ON log_streams (log_stream)`,
	`CREATE TABLE logs (
		id INTEGER PRIMARY KEY, -- event time ms << 20 | n
		uid BLOB NOT NULL, -- log.record.uid, 32 bytes
		stream INTEGER NOT NULL, -- log_streams.id
		level INTEGER NOT NULL, -- logLevels
		batch INTEGER NOT NULL, -- log_batches.id
		event_id TEXT NOT NULL,
		request_id TEXT, -- NULL: none
		message TEXT NOT NULL
	) STRICT`,
	// One line per uid within its millisecond: a redelivered event has its time, and keyed
	// by time first the index grows at its end, as the table does, instead of at random
	// places of a large B-tree.
	`CREATE UNIQUE INDEX logs_by_uid ON logs (id >> 20, uid)`,
	// The text index: the message, and the line's tags (g<group> s<stream> l<level>
	// r<request id>), so that a search's filters are terms the index intersects with its
	// words, and no other index is kept at random places.
	`CREATE VIRTUAL TABLE logs_text USING fts5(message, tags, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2')`,
	logsTextInsert,
	logsTextAutomerge,
	`CREATE TRIGGER logs_text_delete AFTER DELETE ON logs BEGIN
		DELETE FROM logs_text WHERE rowid = old.id;
	END`,
	`CREATE TABLE log_batches (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		at INTEGER NOT NULL,
		lo INTEGER NOT NULL,
		hi INTEGER NOT NULL,
		n INTEGER NOT NULL
	) STRICT`,
}

// logSchemaV1 are the tables of version 1, dropped by the rebuild.
var logSchemaV1 = [...]string{"logs_text", "logs", "log_streams", "log_groups", "log_batches"}

// logLevels are the stored level codes.
var logLevels = map[event.Level]int64{event.Unknown: 0, event.Debug: 1, event.Info: 2, event.Warn: 3, event.Error: 4, event.Fatal: 5}

var logLevelNames = [...]event.Level{event.Unknown, event.Debug, event.Info, event.Warn, event.Error, event.Fatal}

// insertChunks are the row counts of the prepared multi-row inserts.
var insertChunks = [...]int{256, 64, 16, 4, 1}

// WithLogRetention sets the log store's retention: lines older than age (event time) are
// dropped, and the oldest lines are dropped while the database is over maxBytes. Zero
// values keep the defaults (DefaultLogRetention, DefaultLogMaxBytes).
func WithLogRetention(age time.Duration, maxBytes int64) Option {
	return func(c *config) {
		if age > 0 {
			c.logRetention = age
		}
		if maxBytes > 0 {
			c.logMaxBytes = maxBytes
		}
	}
}

// LogStore is the local log store.
type LogStore struct {
	now      func() time.Time
	age      time.Duration
	maxBytes int64
	w, r     *sql.DB
	inserts  map[int]*sql.Stmt
	maxID    *sql.Stmt // the largest id of a range

	mu      sync.Mutex
	streams map[streamKey]int64 // committed stream ids

	// over is signalled when a write leaves the database over its byte cap.
	over chan struct{}
	// pruneMu makes Prune calls one at a time.
	pruneMu sync.Mutex
}

type streamKey struct{ drain, account, region, group, stream string }

func openLogs(dir string, cfg config) (*LogStore, error) {
	path := filepath.Join(dir, LogsFile)
	if err := touchPrivate(path); err != nil {
		return nil, err
	}
	busyMS := cfg.busyTimeout.Milliseconds()
	l := &LogStore{now: cfg.now, age: cfg.logRetention, maxBytes: cfg.logMaxBytes, streams: map[streamKey]int64{}, over: make(chan struct{}, 1)}
	var err error
	if l.w, err = sql.Open("sqlite", logsDSN(path, busyMS, false)); err != nil {
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	l.w.SetMaxOpenConns(1)
	l.w.SetMaxIdleConns(1)
	l.w.SetConnMaxLifetime(0)
	l.w.SetConnMaxIdleTime(0)
	if err := l.init(cfg); err != nil {
		_ = l.w.Close()
		return nil, err
	}
	if l.r, err = sql.Open("sqlite", logsDSN(path, busyMS, true)); err != nil {
		_ = l.w.Close()
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	l.r.SetMaxOpenConns(readConns)
	l.r.SetMaxIdleConns(readConns)
	l.inserts = map[int]*sql.Stmt{}
	if l.maxID, err = l.w.Prepare(`SELECT max(id) FROM logs WHERE id BETWEEN ? AND ?`); err != nil {
		_ = l.close()
		return nil, fmt.Errorf("embedded: open: prepare the log store: %w", err)
	}
	for _, n := range insertChunks {
		st, err := l.w.Prepare(insertLogsSQL(n))
		if err != nil {
			_ = l.close()
			return nil, fmt.Errorf("embedded: open: prepare the log insert: %w", err)
		}
		l.inserts[n] = st
	}
	return l, nil
}

// logsDSN is dsn with a larger page cache: 64 MiB for the writer (the indexes a delivery
// inserts into), 16 MiB for each reader.
func logsDSN(path string, busyMS int64, readOnly bool) string {
	kib := 65536
	if readOnly {
		kib = 16384
	}
	return dsn(path, busyMS, readOnly) + "&_pragma=" + url.QueryEscape(fmt.Sprintf("cache_size(-%d)", kib))
}

func (l *LogStore) init(cfg config) error {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.busyTimeout+5*time.Second)
	defer cancel()
	var mode string
	for {
		err := l.w.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode)
		if err == nil {
			break
		}
		if !isBusy(err) || ctx.Err() != nil {
			return fmt.Errorf("embedded: open the log store: set WAL mode: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("embedded: open the log store: set WAL mode: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("embedded: open the log store: begin: %w", err)
	}
	defer rollback(tx)
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("embedded: open the log store: read schema version: %w", err)
	}
	switch v {
	case logSchemaVersion:
		return tx.Commit()
	case 3, 4:
		for ; v < logSchemaVersion; v++ {
			for _, stmt := range logMigrations[v] {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("embedded: open the log store: migrate version %d: %w", v, err)
				}
			}
		}
		return l.commitVersion(ctx, tx)
	case 0:
	case 1, 2:
		for _, t := range logSchemaV1 {
			if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+t); err != nil {
				return fmt.Errorf("embedded: open the log store: rebuild version 1: %w", err)
			}
		}
	default:
		return fmt.Errorf("embedded: open the log store: schema version %d is not this program's %d", v, logSchemaVersion)
	}
	for _, stmt := range logSchema {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("embedded: open the log store: create schema: %w", err)
		}
	}
	return l.commitVersion(ctx, tx)
}

func (l *LogStore) commitVersion(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", logSchemaVersion)); err != nil {
		return fmt.Errorf("embedded: open the log store: write schema version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("embedded: open the log store: commit schema: %w", err)
	}
	return nil
}

func (l *LogStore) close() error {
	var errs []error
	for _, st := range l.inserts {
		errs = append(errs, st.Close())
	}
	if l.maxID != nil {
		errs = append(errs, l.maxID.Close())
	}
	if l.r != nil {
		errs = append(errs, l.r.Close())
	}
	return errors.Join(append(errs, l.w.Close())...)
}

func insertLogsSQL(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO logs (id, uid, stream, level, batch, event_id, request_id, message) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?)")
	}
	b.WriteString(" ON CONFLICT (id >> 20, uid) DO NOTHING")
	return b.String()
}

// Retention is the store's age and byte caps.
func (l *LogStore) Retention() (time.Duration, int64) { return l.age, l.maxBytes }

// Over is signalled (without blocking the writer) when a Put left the database over its
// byte cap: the server prunes then.
func (l *LogStore) Over() <-chan struct{} { return l.over }

func clampTime(ms int64) int64 { return min(max(ms, 0), logMaxTime) }

// Put stores the lines of one delivery in one transaction and returns how many were new:
// a line whose uid is stored already (a Firehose retry, an event twice in a delivery) is
// not stored again. Lines older than the retention are not stored. It returns only once
// the transaction is committed (WAL, synchronous=NORMAL: a killed process loses nothing
// Put returned for).
func (l *LogStore) Put(ctx context.Context, rows []logs.Row) (int, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	oldest := l.now().Add(-l.age).UnixMilli()
	keep := make([]*logs.Row, 0, len(rows))
	for i := range rows {
		if rows[i].Time >= oldest {
			keep = append(keep, &rows[i])
		}
	}
	if len(keep) == 0 {
		return 0, nil
	}
	slices.SortStableFunc(keep, func(a, b *logs.Row) int { return compareInt(clampTime(a.Time), clampTime(b.Time)) })

	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store logs: begin: %w", err)
	}
	defer rollback(tx)
	added := map[streamKey]int64{}
	streamOf := func(r *logs.Row) (int64, error) {
		k := streamKey{r.Drain, r.Account, r.Region, r.LogGroup, r.LogStream}
		if id, ok := added[k]; ok {
			return id, nil
		}
		l.mu.Lock()
		id, ok := l.streams[k]
		l.mu.Unlock()
		if ok {
			return id, nil
		}
		var grp int64
		err := tx.QueryRowContext(ctx, `INSERT INTO log_groups (drain, log_group) VALUES (?,?)
			ON CONFLICT (drain, log_group) DO UPDATE SET drain = excluded.drain RETURNING id`, k.drain, k.group).Scan(&grp)
		if err != nil {
			return 0, err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO log_streams (grp, account, region, log_stream) VALUES (?,?,?,?)
			ON CONFLICT (grp, account, region, log_stream) DO UPDATE SET grp = excluded.grp RETURNING id`, grp, k.account, k.region, k.stream).Scan(&id)
		if err != nil {
			return 0, err
		}
		added[k] = id
		return id, nil
	}
	var batch int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO log_batches (at, lo, hi, n) VALUES (?, 0, 0, 0) RETURNING id`, l.now().UnixMilli()).Scan(&batch); err != nil {
		return 0, fmt.Errorf("store logs: %w", err)
	}

	// Ids: within each millisecond, after the largest id stored in it; ascending, as the
	// lines are sorted by time. A millisecond of more than a million lines spills into the
	// next free ids (the insert fails rather than overwrite a line: uid is the only
	// conflict it skips).
	// Lines newer than every stored one (the usual delivery) need no lookup at all.
	ids := make([]int64, len(keep))
	var top sql.NullInt64
	if err := tx.StmtContext(ctx, l.maxID).QueryRowContext(ctx, clampTime(keep[0].Time)<<logSeqBits, int64(1<<63-1)).Scan(&top); err != nil {
		return 0, fmt.Errorf("store logs: %w", err)
	}
	fresh := !top.Valid
	var ms, next, prev int64 = -1, 0, -1
	for i, r := range keep {
		if t := clampTime(r.Time); t != ms {
			ms = t
			if fresh {
				next = t << logSeqBits
			} else if next, err = l.nextID(ctx, tx, t<<logSeqBits); err != nil {
				return 0, fmt.Errorf("store logs: %w", err)
			}
		}
		next = max(next, prev+1)
		if next&logSeqMask == 0 && next>>logSeqBits != ms {
			if next, err = l.nextID(ctx, tx, next); err != nil {
				return 0, fmt.Errorf("store logs: %w", err)
			}
			next = max(next, prev+1)
		}
		ids[i] = next
		prev = next
		next++
	}

	n := 0
	args := make([]any, 0, 8*insertChunks[0])
	for done := 0; done < len(keep); {
		size := insertChunks[len(insertChunks)-1]
		for _, c := range insertChunks {
			if len(keep)-done >= c {
				size = c
				break
			}
		}
		args = args[:0]
		for i := done; i < done+size; i++ {
			r := keep[i]
			sid, err := streamOf(r)
			if err != nil {
				return 0, fmt.Errorf("store logs: stream: %w", err)
			}
			var req any
			if r.RequestID != "" {
				req = r.RequestID
			}
			args = append(args, ids[i], r.UID[:], sid, logLevels[r.Level], batch, r.EventID, req, r.Message)
		}
		res, err := tx.StmtContext(ctx, l.inserts[size]).ExecContext(ctx, args...)
		if err != nil {
			return 0, fmt.Errorf("store logs: insert: %w", err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("store logs: insert: %w", err)
		}
		n += int(k)
		done += size
	}
	if n == 0 {
		_, err = tx.ExecContext(ctx, `DELETE FROM log_batches WHERE id = ?`, batch)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE log_batches SET lo = ?, hi = ?, n = ? WHERE id = ?`, ids[0], ids[len(ids)-1], n, batch)
	}
	if err != nil {
		return 0, fmt.Errorf("store logs: batch: %w", err)
	}
	used, err := usedBytes(ctx, tx)
	if err != nil {
		return 0, fmt.Errorf("store logs: size: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store logs: commit: %w", err)
	}
	if len(added) > 0 {
		l.mu.Lock()
		for k, id := range added {
			l.streams[k] = id
		}
		l.mu.Unlock()
	}
	if used > l.maxBytes {
		select {
		case l.over <- struct{}{}:
		default:
		}
	}
	return n, nil
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// nextID is the first free id at or after from within from's millisecond, else the first
// after the largest id stored from there on.
func (l *LogStore) nextID(ctx context.Context, tx *sql.Tx, from int64) (int64, error) {
	var top sql.NullInt64
	if err := tx.StmtContext(ctx, l.maxID).QueryRowContext(ctx, from, from|logSeqMask).Scan(&top); err != nil {
		return 0, err
	}
	switch {
	case !top.Valid:
		return from, nil
	case top.Int64 < from|logSeqMask:
		return top.Int64 + 1, nil
	}
	// The millisecond is full: after the last id of the ones that follow.
	if err := tx.QueryRowContext(ctx, `SELECT max(id) FROM logs WHERE id > ?`, from).Scan(&top); err != nil {
		return 0, err
	}
	if top.Int64 >= 1<<63-1 {
		return 0, errors.New("no free line id")
	}
	return top.Int64 + 1, nil
}

// usedBytes is the size of the database's pages in use (the freed ones are reused).
func usedBytes(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
},
) (int64, error) {
	var pages, free, size int64
	if err := q.QueryRowContext(ctx, `SELECT (SELECT page_count FROM pragma_page_count()), (SELECT freelist_count FROM pragma_freelist_count()), (SELECT page_size FROM pragma_page_size())`).Scan(&pages, &free, &size); err != nil {
		return 0, err
	}
	return (pages - free) * size, nil
}

// Size is the bytes of the log database in use: what --log-max-bytes caps.
func (l *LogStore) Size(ctx context.Context) (int64, error) { return usedBytes(ctx, l.w) }

// Prune drops the lines older than the retention and, while the database is over its byte
// cap, the oldest lines (to 90% of the cap, so that a store at its cap does not prune at
// every delivery). Each step is a short transaction of its own. It returns how many
// lines it dropped.
func (l *LogStore) Prune(ctx context.Context) (int64, error) {
	l.pruneMu.Lock()
	defer l.pruneMu.Unlock()
	const chunk = 2000
	var dropped int64
	cutoff := clampTime(l.now().Add(-l.age).UnixMilli()) << logSeqBits
	for {
		k, err := l.dropBelow(ctx, cutoff, chunk)
		dropped += k
		if err != nil {
			return dropped, fmt.Errorf("prune logs by age: %w", err)
		}
		if k < chunk {
			break
		}
	}
	used, err := l.Size(ctx)
	if err != nil {
		return dropped, fmt.Errorf("prune logs: size: %w", err)
	}
	if used > l.maxBytes {
		target := l.maxBytes / 10 * 9
		var count int64
		if err := l.w.QueryRowContext(ctx, `SELECT count(*) FROM logs`).Scan(&count); err != nil {
			return dropped, fmt.Errorf("prune logs: count: %w", err)
		}
		for used > target && count > 0 {
			// As many of the oldest lines as the bytes over the target hold on average.
			n := max(64, (used-target)*count/used+1)
			var k int64
			for k < n {
				var lo sql.NullInt64
				if err := l.w.QueryRowContext(ctx, `SELECT id FROM logs ORDER BY id LIMIT 1 OFFSET ?`, min(chunk, n-k)-1).Scan(&lo); err != nil && !errors.Is(err, sql.ErrNoRows) {
					return dropped, fmt.Errorf("prune logs by size: %w", err)
				}
				cut := int64(1<<63 - 1)
				if lo.Valid {
					cut = lo.Int64 + 1
				}
				d, err := l.dropBelow(ctx, cut, chunk)
				dropped, k, count = dropped+d, k+d, count-d
				if err != nil {
					return dropped, fmt.Errorf("prune logs by size: %w", err)
				}
				if d == 0 {
					count = 0
					break
				}
			}
			if used, err = l.Size(ctx); err != nil {
				return dropped, fmt.Errorf("prune logs: size: %w", err)
			}
		}
	}
	return dropped, nil
}

// dropBelow deletes at most n of the lines with ids below cut, the oldest first, and the
// batches that no longer hold a line.
func (l *LogStore) dropBelow(ctx context.Context, cut int64, n int) (int64, error) {
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer rollback(tx)
	res, err := tx.ExecContext(ctx, `DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE id < ? ORDER BY id LIMIT ?)`, cut, n)
	if err != nil {
		return 0, err
	}
	k, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if k > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM log_batches WHERE hi < coalesce((SELECT min(id) FROM logs), 1 << 62)`); err != nil {
			return 0, err
		}
	}
	return k, tx.Commit()
}

// RunRetention prunes the store every interval and whenever a Put left it over its cap,
// until ctx ends; failures are handed to report.
func (l *LogStore) RunRetention(ctx context.Context, interval time.Duration, report func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := l.Prune(ctx); err != nil && ctx.Err() == nil {
			report(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-l.over:
		}
	}
}

// lineColumns are what a line is read from: logs l, log_streams s, log_groups g.
const lineColumns = `SELECT l.id, l.level, l.event_id, l.request_id, l.message, g.log_group, s.log_stream`

// Search answers a query, newest lines first.
func (l *LogStore) Search(ctx context.Context, q logs.Query) (logs.Page, error) {
	if err := q.Check(); err != nil {
		return logs.Page{}, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = logs.DefaultLimit
	}
	lo, hi := int64(0), int64(1<<63-1)
	if !q.Since.IsZero() {
		lo = clampTime(q.Since.UnixMilli()) << logSeqBits
	}
	if !q.Until.IsZero() {
		hi = clampTime(q.Until.UnixMilli())<<logSeqBits | logSeqMask
	}
	if q.Cursor != "" {
		c, err := strconv.ParseInt(q.Cursor, 36, 64)
		if err != nil || c <= 0 {
			return logs.Page{}, fmt.Errorf("%w: cursor %q", logs.ErrBadQuery, q.Cursor)
		}
		hi = min(hi, c-1)
	}
	// The prefix expansion reads the index before the search does, not in one snapshot:
	// the words of the lines stored meanwhile may be missing from it, never the words of a
	// line stored before the search began.
	w, err := l.where(ctx, l.r, q)
	if err != nil {
		return logs.Page{}, err
	}
	if w.none {
		return logs.Page{Logs: []logs.Line{}}, nil
	}
	var sqlText string
	var args []any
	switch {
	case w.fts != "":
		// The text index drives — the words and the filters' tags — in id order, newest
		// first: it stops at the page. The columns confirm every filter.
		sqlText = lineColumns + `
			FROM logs_text t CROSS JOIN logs l ON l.id = t.rowid CROSS JOIN log_streams s ON s.id = l.stream CROSS JOIN log_groups g ON g.id = s.grp
			WHERE logs_text MATCH ? AND t.rowid BETWEEN ? AND ?` + w.sql(false) + ` ORDER BY t.rowid DESC LIMIT ?`
		args = append(append([]any{w.fts, lo, hi}, w.args(false)...), limit+1)
	default:
		sqlText = lineColumns + `
			FROM logs l JOIN log_streams s ON s.id = l.stream JOIN log_groups g ON g.id = s.grp
			WHERE l.id BETWEEN ? AND ?` + w.sql(false) + ` ORDER BY l.id DESC LIMIT ?`
		args = append(append([]any{lo, hi}, w.args(false)...), limit+1)
	}
	lines, ids, err := l.lines(ctx, l.r, sqlText, args...)
	if err != nil {
		return logs.Page{}, err
	}
	p := logs.Page{Logs: lines}
	if len(lines) > limit {
		p.Logs = lines[:limit]
		p.Next = strconv.FormatInt(ids[limit-1], 36)
	}
	return p, nil
}

// LastBatch is the newest delivery stored (0: none): where a follow starts.
func (l *LogStore) LastBatch(ctx context.Context) (int64, error) {
	var b sql.NullInt64
	if err := l.r.QueryRowContext(ctx, `SELECT max(id) FROM log_batches`).Scan(&b); err != nil {
		return 0, fmt.Errorf("read logs: %w", err)
	}
	return b.Int64, nil
}

// Follow returns the lines matching q (its time bounds, limit and cursor aside) of the
// deliveries stored after batch after, in arrival order (each delivery's lines oldest
// first), and the last delivery it looked at: `aient logs tail --follow` polls it.
func (l *LogStore) Follow(ctx context.Context, q logs.Query, after int64) ([]logs.Line, int64, error) {
	w, err := l.where(ctx, l.r, q)
	if err != nil {
		return nil, after, err
	}
	rows, err := l.r.QueryContext(ctx, `SELECT id, lo, hi FROM log_batches WHERE id > ? ORDER BY id LIMIT 100`, after)
	if err != nil {
		return nil, after, fmt.Errorf("read logs: %w", err)
	}
	type span struct{ id, lo, hi int64 }
	var batches []span
	for rows.Next() {
		var b span
		if err := rows.Scan(&b.id, &b.lo, &b.hi); err != nil {
			rows.Close()
			return nil, after, fmt.Errorf("read logs: %w", err)
		}
		batches = append(batches, b)
	}
	if err := rows.Close(); err != nil {
		return nil, after, fmt.Errorf("read logs: %w", err)
	}
	if err := rows.Err(); err != nil {
		return nil, after, fmt.Errorf("read logs: %w", err)
	}
	var out []logs.Line
	for _, b := range batches {
		if !w.none {
			extra, extraArgs := w.sql(true), w.args(true)
			lines, _, err := l.lines(ctx, l.r, lineColumns+`
				FROM logs l JOIN log_streams s ON s.id = l.stream JOIN log_groups g ON g.id = s.grp
				WHERE l.id BETWEEN ? AND ? AND l.batch = ?`+extra+` ORDER BY l.id`, append([]any{b.lo, b.hi, b.id}, extraArgs...)...)
			if err != nil {
				return out, after, err
			}
			out = append(out, lines...)
		}
		after = b.id
	}
	return out, after, nil
}

func (l *LogStore) lines(ctx context.Context, db querier, q string, args ...any) ([]logs.Line, []int64, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("read logs: %w", err)
	}
	defer rows.Close()
	out := []logs.Line{}
	var ids []int64
	for rows.Next() {
		var id, lvl int64
		var req sql.NullString
		var ln logs.Line
		if err := rows.Scan(&id, &lvl, &ln.EventID, &req, &ln.Message, &ln.LogGroup, &ln.LogStream); err != nil {
			return nil, nil, fmt.Errorf("read logs: %w", err)
		}
		ln.Time = time.UnixMilli(id >> logSeqBits).UTC()
		if lvl >= 0 && int(lvl) < len(logLevelNames) {
			ln.Level = logs.LevelName(logLevelNames[lvl])
		}
		ln.RequestID = req.String
		out = append(out, ln)
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read logs: %w", err)
	}
	return out, ids, nil
}

// maxTagIDs is how many groups or streams a filter names as tags at most; beyond, the
// columns alone filter (a drain of more log groups than that, a stream name in as many).
const maxTagIDs = 64

// filter is a query's conditions other than its time bounds: the MATCH
// expression (the words, and the filters as tags) and the SQL that confirms each filter
// on the line's columns (the tags only narrow; the columns decide).
type filter struct {
	fts   string // the MATCH expression, "" without words or tags
	text  string // the words' part alone
	conds []string
	cargs []any
	none  bool // a filter names nothing stored: no line matches
}

// sql is the conditions as " AND ..."; withText adds the words as a per-line check.
func (f filter) sql(withText bool) string {
	var b strings.Builder
	for _, c := range f.conds {
		b.WriteString(" AND ")
		b.WriteString(c)
	}
	if withText && f.text != "" {
		b.WriteString(" AND EXISTS (SELECT 1 FROM logs_text WHERE logs_text MATCH ? AND rowid = l.id)")
	}
	return b.String()
}

func (f filter) args(withText bool) []any {
	a := slices.Clone(f.cargs)
	if withText && f.text != "" {
		a = append(a, f.text)
	}
	return a
}

func (l *LogStore) where(ctx context.Context, db querier, q logs.Query) (filter, error) {
	var f filter
	var parts []string
	if q.Text != "" {
		e, none, err := ftsExpr(ctx, db, q.Text)
		if err != nil {
			return f, err
		}
		if none {
			f.none = true
			return f, nil
		}
		f.text = "message : (" + e + ")"
		parts = append(parts, f.text)
	}
	if len(q.Levels) > 0 {
		marks, tags := make([]string, len(q.Levels)), make([]string, len(q.Levels))
		for i, lv := range q.Levels {
			code, ok := logLevels[lv]
			if !ok {
				return f, fmt.Errorf("%w: level %q", logs.ErrBadQuery, lv)
			}
			marks[i], tags[i] = "?", "l"+strconv.FormatInt(code, 10)
			f.cargs = append(f.cargs, code)
		}
		f.conds = append(f.conds, "l.level IN ("+strings.Join(marks, ",")+")")
		parts = append(parts, "tags : ("+strings.Join(tags, " OR ")+")")
	}
	if q.RequestID != "" {
		f.conds = append(f.conds, "l.request_id = ?")
		f.cargs = append(f.cargs, q.RequestID)
		if strings.ContainsFunc(q.RequestID, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			parts = append(parts, `message : "`+strings.ReplaceAll(strings.ReplaceAll(q.RequestID, "\x00", " "), `"`, `""`)+`"`)
		}
	}
	var groups []int64
	if q.Drain != "" || q.LogGroup != "" {
		gq, gargs := `SELECT id FROM log_groups WHERE 1`, []any{}
		if q.Drain != "" {
			gq += ` AND drain = ?`
			gargs = append(gargs, q.Drain)
			f.conds = append(f.conds, "g.drain = ?")
			f.cargs = append(f.cargs, q.Drain)
		}
		if q.LogGroup != "" {
			gq += ` AND log_group = ?`
			gargs = append(gargs, q.LogGroup)
			f.conds = append(f.conds, "g.log_group = ?")
			f.cargs = append(f.cargs, q.LogGroup)
		}
		var err error
		if groups, err = l.ids(ctx, db, gq+` LIMIT ?`, append(gargs, maxTagIDs+1)...); err != nil {
			return f, err
		}
		if len(groups) == 0 {
			f.none = true
			return f, nil
		}
		if len(groups) <= maxTagIDs {
			parts = append(parts, tagsOf("g", groups))
		} else {
			groups = nil
		}
	}
	if q.Stream != "" {
		sq, sargs := `SELECT id FROM log_streams WHERE log_stream = ?`, []any{q.Stream}
		if len(groups) > 0 {
			marks := strings.TrimSuffix(strings.Repeat("?,", len(groups)), ",")
			sq += ` AND grp IN (` + marks + `)`
			for _, g := range groups {
				sargs = append(sargs, g)
			}
		}
		streams, err := l.ids(ctx, db, sq+` LIMIT ?`, append(sargs, maxTagIDs+1)...)
		if err != nil {
			return f, err
		}
		if len(streams) == 0 {
			f.none = true
			return f, nil
		}
		if len(streams) <= maxTagIDs {
			parts = append(parts, tagsOf("s", streams))
		}
		f.conds = append(f.conds, "s.log_stream = ?")
		f.cargs = append(f.cargs, q.Stream)
	}
	f.fts = strings.Join(parts, " AND ")
	return f, nil
}

func tagsOf(prefix string, ids []int64) string {
	t := make([]string, len(ids))
	for i, id := range ids {
		t[i] = prefix + strconv.FormatInt(id, 10)
	}
	return "tags : (" + strings.Join(t, " OR ") + ")"
}

func (l *LogStore) ids(ctx context.Context, db querier, q string, args ...any) ([]int64, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read logs: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read logs: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read logs: %w", err)
	}
	return out, nil
}

// ftsExpr turns the words of a search into an FTS5 expression: each word, or "quoted
// phrase", becomes a quoted FTS5 phrase (so no character of the search is FTS5 syntax),
// word* a prefix (a word of ASCII letters and digits expanded into the index's words that
// begin with it, logsprefix.go); all must match. Words without a letter or digit are
// dropped (the tokenizer would ignore them); a search of none is a bad query. none: a
// prefix that no word of the index has, so no line matches.
func ftsExpr(ctx context.Context, db querier, text string) (expr string, none bool, err error) {
	var terms []string
	s := text
	for s != "" {
		r, size := utf8.DecodeRuneInString(s)
		if unicode.IsSpace(r) {
			s = s[size:]
			continue
		}
		var t string
		prefix := false
		if r == '"' {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				t, s = s[1:], ""
			} else {
				t, s = s[1:1+end], s[2+end:]
			}
		} else {
			end := strings.IndexFunc(s, unicode.IsSpace)
			if end < 0 {
				end = len(s)
			}
			t, s = s[:end], s[end:]
			t, prefix = strings.CutSuffix(t, "*")
		}
		if !strings.ContainsFunc(t, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			continue
		}
		// A NUL would end the expression for SQLite's parser: it separates words, as a space.
		t = strings.ReplaceAll(t, "\x00", " ")
		e := `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
		if prefix {
			e += "*"
			if w, ok := asciiWord(t); ok {
				words, err := prefixTerms(ctx, db, w)
				switch {
				case err == nil && len(words) == 0:
					return "", true, nil
				case err == nil:
					for i, w := range words {
						words[i] = `"` + w + `"`
					}
					e = "(" + strings.Join(words, " OR ") + ")"
				case errors.Is(err, errPrefixTooBroad), errors.Is(err, errLeafFormat):
					// FTS5's own prefix query.
				default:
					return "", false, fmt.Errorf("read logs: %w", err)
				}
			}
		}
		terms = append(terms, e)
	}
	if len(terms) == 0 {
		return "", false, fmt.Errorf("%w: q %q has no word to search for", logs.ErrBadQuery, text)
	}
	return strings.Join(terms, " AND "), false, nil
}

// asciiWord is w lowercased, as the tokenizer stores it, when it is one token of ASCII
// letters and digits.
func asciiWord(w string) (string, bool) {
	b := []byte(w)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case 'A' <= c && c <= 'Z':
			b[i] = c + 'a' - 'A'
		default:
			return "", false
		}
	}
	return string(b), len(b) > 0
}
