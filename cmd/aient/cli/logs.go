package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/logs"
)

// logFlags are the filters of `logs search` and `logs tail`: GET /api/logs's parameters.
type logFlags struct {
	*flags
	drain, group, stream, level, requestID, since, until *string
}

func (c *command) newLogFlags(name string) *logFlags {
	f := c.newFlags(name, true)
	return &logFlags{
		flags:     f,
		drain:     f.String("drain", "", "only this drain's lines"),
		group:     f.String("log-group", "", "only this log group's lines"),
		stream:    f.String("stream", "", "only this log stream's lines"),
		level:     f.String("level", "", "only these levels: fatal, error, warn, info, debug, unknown (comma-separated)"),
		requestID: f.String("request-id", "", "only the lines of this Lambda request id"),
		since:     f.String("since", "", "lines at or after: RFC 3339, unix ms, or a duration back from now (15m, 7d)"),
		until:     f.String("until", "", "lines at or before: RFC 3339, unix ms, or a duration back from now"),
	}
}

// query reads the filters (and the words of the search) as the API reads its parameters.
func (f *logFlags) query(words []string, now time.Time) (logs.Query, error) {
	v := url.Values{}
	for k, p := range map[string]*string{
		"drain": f.drain, "logGroup": f.group, "stream": f.stream, "level": f.level,
		"requestId": f.requestID, "since": f.since, "until": f.until,
	} {
		if *p != "" {
			v.Set(k, *p)
		}
	}
	if len(words) > 0 {
		v.Set("q", strings.Join(words, " "))
	}
	q, err := logs.ParseQuery(v, now)
	if err != nil {
		return q, usageError("%s", strings.TrimPrefix(err.Error(), logs.ErrBadQuery.Error()+": "))
	}
	return q, nil
}

// openLogs opens the embedded store's log store: the logs are the local server's.
func (f *logFlags) openLogs() (*embedded.Store, error) {
	if f.backend != "embedded" && f.backend != "" {
		return nil, usageError("%s reads the local server's log store (--backend embedded); a deployed stack forwards its logs to an OTLP backend instead (README: Forward all logs)", f.Name())
	}
	if _, err := os.Stat(filepath.Join(f.data, embedded.DBFile)); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no embedded store in %s (no %s there): start one with `aient serve --data %s`, or point --data (env %s) at an existing one", f.data, embedded.DBFile, f.data, EnvData)
	}
	st, err := embedded.Open(f.data)
	if err != nil {
		return nil, fmt.Errorf("open the embedded store in %s: %w", f.data, err)
	}
	return st, nil
}

func (c *command) logsSearch(ctx context.Context, args []string) (err error) {
	f := c.newLogFlags("logs search")
	limit := f.Int("limit", logs.DefaultLimit, fmt.Sprintf("at most this many lines (1-%d)", logs.MaxLimit))
	cursor := f.String("cursor", "", "the next page: the cursor a previous search printed")
	words, err := f.parse(args)
	if err != nil {
		return err
	}
	q, err := f.query(words, time.Now())
	if err != nil {
		return err
	}
	if *limit <= 0 || *limit > logs.MaxLimit {
		return usageError("--limit %d: a number from 1 to %d", *limit, logs.MaxLimit)
	}
	q.Limit, q.Cursor = *limit, *cursor
	st, err := f.openLogs()
	if err != nil {
		return err
	}
	defer closeStore(st, &err)
	p, err := st.Logs().Search(ctx, q)
	if err != nil {
		return searchError(err)
	}
	if f.json {
		return c.printJSON(p)
	}
	if len(p.Logs) == 0 {
		fmt.Fprintln(c.stdout, "No log line matches.")
		return nil
	}
	for _, l := range p.Logs {
		printLine(c.stdout, l)
	}
	if p.Next != "" {
		fmt.Fprintf(c.stdout, "(older lines: add --cursor %s)\n", p.Next)
	}
	return nil
}

func (c *command) logsTail(ctx context.Context, args []string) (err error) {
	f := c.newLogFlags("logs tail")
	n := f.Int("lines", 20, fmt.Sprintf("print the newest N lines first (0-%d)", logs.MaxLimit))
	follow := f.Bool("follow", false, "then print the lines of every new delivery as it is stored, until interrupted")
	poll := f.Duration("poll", time.Second, "with --follow: how often to look at the store")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("logs tail takes no arguments (its filters are flags; words to search go to logs search)")
	}
	if *n < 0 || *n > logs.MaxLimit {
		return usageError("--lines %d: a number from 0 to %d", *n, logs.MaxLimit)
	}
	if *poll <= 0 {
		return usageError("--poll must be positive")
	}
	q, err := f.query(nil, time.Now())
	if err != nil {
		return err
	}
	st, err := f.openLogs()
	if err != nil {
		return err
	}
	defer closeStore(st, &err)
	ls := st.Logs()
	// Where the follow starts: before the newest lines are read, so none falls between.
	after, err := ls.LastBatch(ctx)
	if err != nil {
		return err
	}
	out := c.lineWriter(f.json)
	if *n > 0 {
		q.Limit = *n
		p, err := ls.Search(ctx, q)
		if err != nil {
			return searchError(err)
		}
		slices.Reverse(p.Logs)
		for _, l := range p.Logs {
			if err := out(l); err != nil {
				return err
			}
		}
	}
	if !*follow {
		return nil
	}
	t := time.NewTicker(*poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for {
			lines, last, err := ls.Follow(ctx, q, after)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			for _, l := range lines {
				if !q.Since.IsZero() && l.Time.Before(q.Since) || !q.Until.IsZero() && l.Time.After(q.Until) {
					continue
				}
				if err := out(l); err != nil {
					return err
				}
			}
			if last == after {
				break
			}
			after = last
		}
	}
}

// lineWriter prints lines as text, or as one JSON object a line (--json).
func (c *command) lineWriter(asJSON bool) func(logs.Line) error {
	if asJSON {
		enc := json.NewEncoder(c.stdout)
		return func(l logs.Line) error { return enc.Encode(l) }
	}
	return func(l logs.Line) error {
		printLine(c.stdout, l)
		return nil
	}
}

// printLine writes one line: time, level, group and stream, then the message, its
// further lines indented.
func printLine(w io.Writer, l logs.Line) {
	msg := strings.TrimRight(l.Message, "\n")
	msg = strings.ReplaceAll(msg, "\n", "\n    ")
	fmt.Fprintf(w, "%s %-7s %s %s  %s\n", l.Time.UTC().Format("2006-01-02T15:04:05.000Z"), strings.ToUpper(l.Level), l.LogGroup, l.LogStream, msg)
}

func searchError(err error) error {
	if errors.Is(err, logs.ErrBadQuery) {
		return usageError("%s", strings.TrimPrefix(err.Error(), logs.ErrBadQuery.Error()+": "))
	}
	return fmt.Errorf("search logs: %w", err)
}

func closeStore(st *embedded.Store, err *error) {
	if cerr := st.Close(); cerr != nil {
		*err = errors.Join(*err, fmt.Errorf("close the store: %w", cerr))
	}
}
