// Package embedded is the persistent, pure-Go store behind `aient serve` and the CLI: drains,
// problems, dedup claims and a durable queue in one SQLite database (modernc.org/sqlite, no
// cgo) at <dir>/aient.db.
//
// Several processes may use one data dir at once (the server and CLI commands). The database
// runs in WAL mode, so readers never block the writer and the writer never blocks readers;
// SQLite admits one writer at a time across all processes, and a writer that finds the lock
// taken waits up to the busy timeout before the call fails with an error (never a silent
// drop). Within one process every write goes through a single connection, so goroutines
// queue in database/sql instead of polling the lock; across processes the busy timeout
// arbitrates. Every transaction that reads and then writes starts with BEGIN IMMEDIATE, so
// it holds the write lock from its first read and can never fail to upgrade a stale
// snapshot; single conditional statements need no transaction. Transactions are short and
// never wait on anything but the database.
//
// Durability: commits use synchronous=NORMAL in WAL mode, which survives a killed process
// (what the queue promises); a power loss may lose the last few commits.
package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/problems"
)

// DBFile is the database's file name inside the data dir.
const DBFile = "aient.db"

// schemaVersion is the PRAGMA user_version this code writes and understands.
const schemaVersion = len(migrations)

// Defaults for Open's options.
const (
	// DefaultBusyTimeout is how long a write waits for another process's write lock.
	DefaultBusyTimeout = 10 * time.Second
	// DefaultRetryDelay is the queue's base delay before a failed message is visible again.
	DefaultRetryDelay = time.Second
	// readConns is the size of the read-only connection pool.
	readConns = 4
)

// Option configures Open.
type Option func(*config)

type config struct {
	now         func() time.Time
	busyTimeout time.Duration
	retryDelay  time.Duration
	// The log store's retention (logs.go).
	logRetention time.Duration
	logMaxBytes  int64
}

// WithClock sets the clock of the queue and of the problems' lifecycle (default
// time.Now), so tests can move time without sleeping. The other stores take their times
// as arguments.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// WithBusyTimeout sets how long a write waits for the database lock held by another
// process before it fails (default DefaultBusyTimeout).
func WithBusyTimeout(d time.Duration) Option {
	return func(c *config) { c.busyTimeout = d }
}

// WithRetryDelay sets the queue's base retry delay (default DefaultRetryDelay): a message
// that failed on its n-th attempt is visible again after n times this delay.
func WithRetryDelay(d time.Duration) Option {
	return func(c *config) { c.retryDelay = d }
}

// Store is the embedded store: one SQLite database in a data dir.
type Store struct {
	dir string
	cfg config
	// w is the only connection that writes (MaxOpenConns 1, BEGIN IMMEDIATE).
	w *sql.DB
	// r is a pool of read-only connections; in WAL mode they read alongside the writer.
	r *sql.DB

	drains   *drainStore
	problems *problemStore
	claims   *claimStore
	queue    *Queue
	logs     *LogStore

	// ws and rs are the statements prepared at Open on w and r, by their SQL; they are
	// not changed afterwards. Parsing a statement costs more than running it.
	ws, rs stmtSet

	pepperMu sync.Mutex
	pepper   []byte
}

// Open opens (creating if needed, dir 0700) the store in dir: dir/aient.db. Safe for
// concurrent use by goroutines and by several processes on the same dir.
func Open(dir string, opts ...Option) (*Store, error) {
	cfg := config{
		now: time.Now, busyTimeout: DefaultBusyTimeout, retryDelay: DefaultRetryDelay,
		logRetention: DefaultLogRetention, logMaxBytes: DefaultLogMaxBytes,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.now == nil {
		return nil, errors.New("embedded: open: clock is nil")
	}
	if cfg.busyTimeout <= 0 || cfg.retryDelay < 0 {
		return nil, errors.New("embedded: open: busy timeout must be positive and retry delay not negative")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded: open: create data dir: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("embedded: open: data dir: %w", err)
	}
	path := filepath.Join(abs, DBFile)
	if err := touchPrivate(path); err != nil {
		return nil, err
	}

	s := &Store{dir: dir, cfg: cfg}
	busyMS := cfg.busyTimeout.Milliseconds()
	s.w, err = sql.Open("sqlite", dsn(path, busyMS, false))
	if err != nil {
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)

	if err := s.init(); err != nil {
		_ = s.w.Close()
		return nil, err
	}
	if err := s.initSources(); err != nil {
		_ = s.w.Close()
		return nil, err
	}
	if err := s.initAdditive(); err != nil {
		_ = s.w.Close()
		return nil, err
	}

	s.r, err = sql.Open("sqlite", dsn(path, busyMS, true))
	if err != nil {
		_ = s.w.Close()
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	s.r.SetMaxOpenConns(readConns)
	s.r.SetMaxIdleConns(readConns)

	if err := s.prepare(); err != nil {
		_ = s.Close()
		return nil, err
	}

	if s.logs, err = openLogs(abs, cfg); err != nil {
		_ = s.Close()
		return nil, err
	}

	s.drains = &drainStore{s: s}
	s.problems = &problemStore{s: s}
	s.claims = &claimStore{s: s}
	s.queue = &Queue{s: s}
	return s, nil
}

// touchPrivate creates the database file at path ourselves so that it (and the -wal and
// -shm files SQLite derives from it) is private to the user; SQLite treats an empty file
// as a new database.
func touchPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("embedded: open: create database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("embedded: open: create database file: %w", err)
	}
	return nil
}

// dsn builds the connection string: the busy timeout first (the driver applies it before
// anything else), synchronous=NORMAL (safe in WAL mode), BEGIN IMMEDIATE for transactions
// on the writer, query_only on the readers.
func dsn(path string, busyMS int64, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyMS))
	q.Add("_pragma", "synchronous(NORMAL)")
	// Truncate the WAL back to at most 64 MiB after a checkpoint that emptied it.
	q.Add("_pragma", "journal_size_limit(67108864)")
	if readOnly {
		q.Set("_query_only", "1")
	} else {
		q.Set("_txlock", "immediate")
	}
	return (&url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: q.Encode()}).String()
}

// init switches the database to WAL mode and creates or checks the schema. Two processes
// opening a new dir at once serialize on the write lock; the second finds the schema done.
func (s *Store) init() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.busyTimeout+5*time.Second)
	defer cancel()
	// journal_mode=WAL is persistent in the file; setting it again is a no-op. Changing it
	// needs an exclusive lock, which another process opening the file can hold briefly.
	var mode string
	for {
		err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode)
		if err == nil {
			break
		}
		if !isBusy(err) || ctx.Err() != nil {
			return fmt.Errorf("embedded: open: set WAL mode: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("embedded: open: set WAL mode: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if mode != "wal" {
		return fmt.Errorf("embedded: open: journal mode is %q, want wal", mode)
	}

	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("embedded: open: begin schema transaction: %w", err)
	}
	defer rollback(tx)
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("embedded: open: read schema version: %w", err)
	}
	switch {
	case v == schemaVersion:
		return tx.Commit()
	case v > schemaVersion:
		return fmt.Errorf("embedded: open: database schema version %d is newer than this program's %d", v, schemaVersion)
	case v < 0:
		return fmt.Errorf("embedded: open: unknown database schema version %d", v)
	}
	for i, m := range migrations[v:] {
		for _, stmt := range m {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("embedded: open: schema version %d: %w", v+i+1, err)
			}
		}
		if fill := backfills[v+i+1]; fill != nil {
			if err := fill(ctx, tx); err != nil {
				return fmt.Errorf("embedded: open: schema version %d: %w", v+i+1, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		return fmt.Errorf("embedded: open: write schema version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("embedded: open: commit schema: %w", err)
	}
	return nil
}

// migrations[i] takes the database from schema version i to i+1; a new database runs them
// all. Times are unix milliseconds; NULL is "never".
var migrations = [...][]string{schemaV1[:], schemaV2[:], schemaV3[:], schemaV4[:], schemaV5[:], schemaV6[:]}

// schemaV1 is version 1 of the database.
var schemaV1 = [...]string{
	`CREATE TABLE drains (
		id TEXT PRIMARY KEY,
		org TEXT NOT NULL,
		env TEXT NOT NULL,
		state TEXT NOT NULL,
		keys TEXT NOT NULL, -- JSON array of {"digest","validUntil"(ms)}
		created_at INTEGER,
		rotated_at INTEGER,
		revoked_at INTEGER,
		last_received_at INTEGER,
		last_control_at INTEGER,
		last_auth_error_at INTEGER,
		last_auth_error_reason TEXT,
		last_payload_error_at INTEGER,
		last_payload_error_reason TEXT,
		deliveries INTEGER NOT NULL DEFAULT 0,
		events INTEGER NOT NULL DEFAULT 0,
		error_events INTEGER NOT NULL DEFAULT 0,
		duplicates INTEGER NOT NULL DEFAULT 0,
		records_rejected INTEGER NOT NULL DEFAULT 0
	) STRICT`,
	`CREATE TABLE problems (
		id TEXT PRIMARY KEY,
		org TEXT NOT NULL,
		env TEXT NOT NULL,
		fingerprint TEXT NOT NULL,
		title TEXT NOT NULL,
		culprit TEXT NOT NULL,
		level TEXT NOT NULL,
		count INTEGER NOT NULL,
		first_seen INTEGER NOT NULL,
		last_seen INTEGER NOT NULL,
		log_groups TEXT NOT NULL, -- JSON array, a set
		sample TEXT NOT NULL -- JSON of problems.Sample
	) STRICT`,
	`CREATE INDEX problems_by_scope ON problems (org, env, last_seen DESC)`,
	`CREATE INDEX problems_by_last_seen ON problems (last_seen DESC)`,
	`CREATE TABLE occurrences (
		identity TEXT PRIMARY KEY,
		problem_id TEXT NOT NULL,
		at INTEGER NOT NULL
	) STRICT, WITHOUT ROWID`,
	`CREATE TABLE claims (
		key TEXT PRIMARY KEY,
		token TEXT NOT NULL,
		state TEXT NOT NULL, -- inflight | done
		lease_until INTEGER NOT NULL,
		expires_at INTEGER -- NULL: never expires
	) STRICT`,
	`CREATE INDEX claims_by_expiry ON claims (expires_at)`,
	`CREATE TABLE queue (
		id INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, so a stale Ack cannot hit a new message
		body BLOB NOT NULL, -- JSON of event.Event
		attempts INTEGER NOT NULL DEFAULT 0, -- times received
		visible_at INTEGER NOT NULL,
		enqueued_at INTEGER NOT NULL
	) STRICT`,
	`CREATE INDEX queue_by_visibility ON queue (visible_at, id)`,
	`CREATE TABLE dead (
		id INTEGER PRIMARY KEY,
		body BLOB NOT NULL,
		attempts INTEGER NOT NULL,
		enqueued_at INTEGER NOT NULL,
		dead_at INTEGER NOT NULL
	) STRICT`,
}

// schemaV2 keeps what the console reads of each problem, written with its count: where
// each occurrence came from, hourly counts, and counts by account, region and log group.
// Hourly counts of the occurrences stored before are derived from them.
var schemaV2 = [...]string{
	`ALTER TABLE occurrences ADD COLUMN account TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE occurrences ADD COLUMN region TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE occurrences ADD COLUMN log_group TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE occurrences ADD COLUMN log_stream TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE occurrences ADD COLUMN event_id TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE occurrences ADD COLUMN request_id TEXT NOT NULL DEFAULT ''`,
	`CREATE INDEX occurrences_by_problem ON occurrences (problem_id, at DESC)`,
	`CREATE TABLE problem_hours (
		problem_id TEXT NOT NULL,
		hour INTEGER NOT NULL, -- start of the hour, unix ms
		count INTEGER NOT NULL,
		PRIMARY KEY (problem_id, hour)
	) STRICT, WITHOUT ROWID`,
	`CREATE INDEX problem_hours_by_hour ON problem_hours (hour, problem_id)`,
	`CREATE TABLE problem_affected (
		problem_id TEXT NOT NULL,
		kind TEXT NOT NULL, -- account | region | logGroup
		value TEXT NOT NULL,
		count INTEGER NOT NULL,
		PRIMARY KEY (problem_id, kind, value)
	) STRICT, WITHOUT ROWID`,
	`CREATE INDEX problem_affected_by_value ON problem_affected (kind, value, problem_id)`,
	`INSERT INTO problem_hours (problem_id, hour, count)
		SELECT problem_id, at - at % 3600000, count(*) FROM occurrences GROUP BY 1, 2`,
}

// writeStatements are the fixed statements run on the writer, in a transaction or alone.
var writeStatements = [...]string{
	sqlCreateDrain, sqlSetKeys, sqlRevokeDrain, sqlRecordDelivery, sqlRecordAuthFailure, sqlRecordSource, sqlAddIgnored,
	sqlMarkIgnored, sqlDrainExists, sqlInsertOccurrence, sqlPutProblem, sqlCountHour, sqlCountAffected,
	sqlGetProblem, // also read in a write transaction
	sqlSweepClaims, sqlClaim, sqlClaimState,
	sqlEnqueue, sqlLease, sqlAttempts, sqlRetry, sqlBury, sqlDequeue,
}

// readStatements are the fixed statements run on the readers.
var readStatements = [...]string{
	sqlGetDrain, sqlListDrains, sqlDrainState, sqlGetSources, sqlReadLog, sqlGetProblem, sqlListProblems, sqlListScopedProblems, sqlDepth,
}

// stmtSet holds prepared statements by their SQL.
type stmtSet map[string]*sql.Stmt

func (s *Store) prepare() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.busyTimeout+5*time.Second)
	defer cancel()
	s.ws, s.rs = stmtSet{}, stmtSet{}
	for _, set := range []struct {
		db      *sql.DB
		dst     stmtSet
		queries []string
	}{{s.w, s.ws, writeStatements[:]}, {s.r, s.rs, readStatements[:]}} {
		for _, q := range set.queries {
			st, err := set.db.PrepareContext(ctx, q)
			if err != nil {
				return fmt.Errorf("embedded: open: prepare %q: %w", q, err)
			}
			set.dst[q] = st
		}
	}
	return nil
}

// exec runs a write on the writer, in tx when there is one, prepared when it is one of
// writeStatements.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	st := s.ws[q]
	switch {
	case tx != nil && st != nil:
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	case tx != nil:
		return tx.ExecContext(ctx, q, args...)
	case st != nil:
		return st.ExecContext(ctx, args...)
	default:
		return s.w.ExecContext(ctx, q, args...)
	}
}

// query runs a query in tx on the writer, or without one on a reader.
func (s *Store) query(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	if tx != nil {
		if st := s.ws[q]; st != nil {
			return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
		}
		return tx.QueryContext(ctx, q, args...)
	}
	if st := s.rs[q]; st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.r.QueryContext(ctx, q, args...)
}

// queryRow is query for one row.
func (s *Store) queryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	if tx != nil {
		if st := s.ws[q]; st != nil {
			return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
		}
		return tx.QueryRowContext(ctx, q, args...)
	}
	if st := s.rs[q]; st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.r.QueryRowContext(ctx, q, args...)
}

// Close closes the prepared statements and the database connections.
func (s *Store) Close() error {
	var errs []error
	for _, set := range []stmtSet{s.ws, s.rs} {
		for _, st := range set {
			errs = append(errs, st.Close())
		}
	}
	if s.logs != nil {
		errs = append(errs, s.logs.close())
	}
	return errors.Join(append(errs, s.r.Close(), s.w.Close())...)
}

// Dir is the data dir the store lives in.
func (s *Store) Dir() string { return s.dir }

// Drains is the drain store.
func (s *Store) Drains() drains.Store { return s.drains }

// Rules is the store of the custom grouping rules per org and env, kept with the drains.
func (s *Store) Rules() drains.RuleStore { return s.drains }

// Problems is the problem store.
func (s *Store) Problems() problems.Store { return s.problems }

// Claims is the dedup claim store.
func (s *Store) Claims() dedup.Store { return s.claims }

// Logs is the local log store (logs.go): every data event the server received.
func (s *Store) Logs() *LogStore { return s.logs }

// Queue is the durable queue between the ingest and the grouper.
func (s *Store) Queue() *Queue { return s.queue }

// writeTx runs fn in a BEGIN IMMEDIATE transaction on the writer and commits it.
func (s *Store) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer rollback(tx)
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// rollback ends a transaction that was not committed; after Commit it is a no-op.
func rollback(tx *sql.Tx) { _ = tx.Rollback() }

// isBusy reports whether err is SQLite's "database is locked" (busy or locked), which a
// later retry may cure.
func isBusy(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}

// ms stores a time as unix milliseconds, the zero time as NULL.
func ms(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// fromMS reads a stored time; NULL is the zero time.
func fromMS(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMilli(n.Int64).UTC()
}
