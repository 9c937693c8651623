// Package logs is the local log store's vocabulary: the line a delivery keeps for every
// DATA_MESSAGE log event (Row, collected while the records decode by a cwpayload.Visitor),
// the query the console's GET /api/logs and `aient logs` ask (Query, ParseQuery), and the
// lines they answer (Line, Page). The store itself is pkg/embedded's LogStore.
package logs

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aient/firehose-drain/pkg/event"
)

// Row is one log event as a delivery stores it.
type Row struct {
	// UID is the event's identity: the bytes of log.record.uid (the dedup's hash of drain,
	// account, log group, log stream and event id). The store keeps one line per UID.
	UID                    [32]byte
	Drain, Account, Region string
	LogGroup, LogStream    string
	EventID                string
	Time                   int64 // the event's own time, ms since the epoch
	Level                  event.Level
	RequestID              string // the Lambda request id the message names, or ""
	Message                string
}

// UIDString is log.record.uid as the OTLP export writes it (hex).
func (r *Row) UIDString() string { return hex.EncodeToString(r.UID[:]) }

// Line is one stored log line as the API and the CLI answer it.
type Line struct {
	Time      time.Time `json:"time"`
	Level     string    `json:"level"`
	LogGroup  string    `json:"logGroup"`
	LogStream string    `json:"logStream"`
	EventID   string    `json:"eventId"`
	RequestID string    `json:"requestId,omitempty"`
	Message   string    `json:"message"`
}

// Page is GET /api/logs: lines newest first, and the cursor of the next (older) page.
type Page struct {
	Logs []Line `json:"logs"`
	Next string `json:"next,omitempty"`
}

// Limits of a query.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// ErrBadQuery is what a query the store cannot answer wraps (400 on the API).
var ErrBadQuery = errors.New("bad log query")

// Query is a search of the log store. Every set field narrows it.
type Query struct {
	// Text is full-text search: every word must occur (whole words, case-insensitive;
	// "a phrase" in double quotes; word* a prefix).
	Text             string
	Drain            string
	LogGroup, Stream string
	RequestID        string
	Levels           []event.Level // any of them; event.Unknown is "unknown"
	Since, Until     time.Time     // event time, inclusive; zero is unbounded
	Limit            int           // 0 is DefaultLimit
	Cursor           string        // a Page's Next
}

// LevelName is a level as lines show it: "unknown" for a level that could not be read.
func LevelName(l event.Level) string {
	if l == event.Unknown {
		return "unknown"
	}
	return string(l)
}

// ParseLevel reads a level name as LevelName writes it.
func ParseLevel(s string) (event.Level, error) {
	switch l := event.Level(strings.ToLower(strings.TrimSpace(s))); l {
	case event.Fatal, event.Error, event.Warn, event.Info, event.Debug:
		return l, nil
	case "unknown":
		return event.Unknown, nil
	}
	return "", fmt.Errorf("%w: level %q: fatal, error, warn, info, debug or unknown", ErrBadQuery, s)
}

// ParseQuery reads the parameters of GET /api/logs (q, drain, logGroup, stream, level,
// requestId, since, until, limit, cursor). level may list several, comma-separated;
// since and until are RFC 3339 times, unix milliseconds, or a duration back from now
// (15m, 24h, 7d).
func ParseQuery(v url.Values, now time.Time) (Query, error) {
	q := Query{
		Text: strings.TrimSpace(v.Get("q")), Drain: v.Get("drain"), LogGroup: v.Get("logGroup"),
		Stream: v.Get("stream"), RequestID: strings.TrimSpace(v.Get("requestId")), Cursor: v.Get("cursor"),
	}
	if s := v.Get("level"); s != "" {
		for _, p := range strings.Split(s, ",") {
			l, err := ParseLevel(p)
			if err != nil {
				return Query{}, err
			}
			q.Levels = append(q.Levels, l)
		}
	}
	var err error
	if q.Since, err = ParseTime(v.Get("since"), now); err != nil {
		return Query{}, fmt.Errorf("%w: since: %w", ErrBadQuery, err)
	}
	if q.Until, err = ParseTime(v.Get("until"), now); err != nil {
		return Query{}, fmt.Errorf("%w: until: %w", ErrBadQuery, err)
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 || n > MaxLimit {
			return Query{}, fmt.Errorf("%w: limit %q: a number from 1 to %d", ErrBadQuery, s, MaxLimit)
		}
		q.Limit = n
	}
	return q, q.Check()
}

// Check reports what makes q unanswerable.
func (q Query) Check() error {
	if q.Limit < 0 || q.Limit > MaxLimit {
		return fmt.Errorf("%w: limit %d: a number from 1 to %d", ErrBadQuery, q.Limit, MaxLimit)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && q.Until.Before(q.Since) {
		return fmt.Errorf("%w: until is before since", ErrBadQuery)
	}
	return nil
}

// Values is q as URL parameters (the console's links), without the cursor.
func (q Query) Values() url.Values {
	v := url.Values{}
	for _, kv := range [...][2]string{
		{"q", q.Text}, {"drain", q.Drain}, {"logGroup", q.LogGroup}, {"stream", q.Stream}, {"requestId", q.RequestID},
	} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	if len(q.Levels) > 0 {
		names := make([]string, len(q.Levels))
		for i, l := range q.Levels {
			names[i] = LevelName(l)
		}
		v.Set("level", strings.Join(names, ","))
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	return v
}

// ParseTime reads a time bound: RFC 3339, unix milliseconds, or a duration back from now
// (90s, 15m, 24h, 7d). Empty is the zero time (unbounded).
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return time.UnixMilli(n).UTC(), nil
	}
	if d, err := ParseAge(s); err == nil {
		return now.Add(-d).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q: an RFC 3339 time, unix milliseconds, or a duration back from now such as 15m or 7d", s)
}

// ParseAge reads a duration: a Go duration (90m, 24h) or a number of days (7d).
func ParseAge(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 || n > 36500 {
			return 0, fmt.Errorf("duration %q: such as 1h or 7d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("duration %q: such as 1h or 7d", s)
	}
	return d, nil
}

// ParseBytes reads a size: a number of bytes, or with a unit B, KB, MB, GB, TB (powers of
// 1000) or KiB, MiB, GiB, TiB (powers of 1024), e.g. 1GiB, 500MB.
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') {
		i--
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	mult := map[string]int64{
		"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
	}[unit]
	n, err := strconv.ParseInt(num, 10, 64)
	if mult == 0 || err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q: a number of bytes, or with a unit such as 500MB or 1GiB", s)
	}
	return n * mult, nil
}
