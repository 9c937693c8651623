package problems

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrBadQuery is returned for a Query that cannot be answered (an unknown sort, a bad cursor).
var ErrBadQuery = errors.New("bad problems query")

// Sort orders of a Query.
const (
	SortLastSeen  = "lastSeen"
	SortFirstSeen = "firstSeen"
	SortCount     = "count"
	// SortRecent orders by the count of the last 24 hours.
	SortRecent = "recent"
)

// MaxLimit is the largest page a Query returns.
const MaxLimit = 200

// RecentWindow is what "recent" counts over, and what a row's sparkline spans.
const RecentWindow = 24 * time.Hour

// Query asks for a page of problems. Empty fields do not filter.
type Query struct {
	// Text is searched for, case-insensitively, in the title, the culprit and the sample
	// message.
	Text     string
	Org      string
	Env      string
	State    string
	Level    string
	LogGroup string
	Account  string
	Region   string
	// FirstSeenWithin and LastSeenWithin keep problems first (last) seen no longer than
	// that before Now.
	FirstSeenWithin time.Duration
	LastSeenWithin  time.Duration
	// Sort is one of the Sort constants; empty is SortLastSeen. Every order is descending.
	Sort string
	// Limit is the page size (0: all, up to the backend's own bound); at most MaxLimit.
	Limit int
	// Cursor is a Page.Next of the same query.
	Cursor string
	// Now is the time the windows and the recent counts are measured from.
	Now time.Time
}

// Check validates q and fills its defaults.
func (q *Query) Check() error {
	switch q.Sort {
	case "":
		q.Sort = SortLastSeen
	case SortLastSeen, SortFirstSeen, SortCount, SortRecent:
	default:
		return fmt.Errorf("%w: sort %q: lastSeen, firstSeen, count or recent", ErrBadQuery, q.Sort)
	}
	if q.Limit < 0 || q.Limit > MaxLimit {
		return fmt.Errorf("%w: limit %d: 1 to %d", ErrBadQuery, q.Limit, MaxLimit)
	}
	if q.FirstSeenWithin < 0 || q.LastSeenWithin < 0 {
		return fmt.Errorf("%w: a negative window", ErrBadQuery)
	}
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	return nil
}

// ParseQuery reads a Query from URL parameters: q, org, env, state, level, logGroup,
// account, region, firstSeen and lastSeen (a window such as 1h, 24h, 7d), sort, limit and
// cursor. The same names are the console's URL, so a view can be shared.
func ParseQuery(v url.Values, now time.Time) (Query, error) {
	q := Query{
		Text: strings.TrimSpace(v.Get("q")), Org: v.Get("org"), Env: v.Get("env"), State: v.Get("state"),
		Level: v.Get("level"), LogGroup: v.Get("logGroup"), Account: v.Get("account"), Region: v.Get("region"),
		Sort: v.Get("sort"), Cursor: v.Get("cursor"), Now: now,
	}
	var err error
	if q.FirstSeenWithin, err = ParseWindow(v.Get("firstSeen")); err != nil {
		return Query{}, fmt.Errorf("%w: firstSeen: %w", ErrBadQuery, err)
	}
	if q.LastSeenWithin, err = ParseWindow(v.Get("lastSeen")); err != nil {
		return Query{}, fmt.Errorf("%w: lastSeen: %w", ErrBadQuery, err)
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return Query{}, fmt.Errorf("%w: limit %q: a number from 1 to %d", ErrBadQuery, s, MaxLimit)
		}
		q.Limit = n
	}
	return q, q.Check()
}

// ParseWindow reads a window: a Go duration (90m, 24h) or a number of days (7d). Empty is 0.
func ParseWindow(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 || n > 3650 {
			return 0, fmt.Errorf("window %q: a duration such as 1h or 7d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	w, err := time.ParseDuration(s)
	if err != nil || w <= 0 {
		return 0, fmt.Errorf("window %q: a duration such as 1h or 7d", s)
	}
	return w, nil
}

// Summary is one row of a problems list.
type Summary struct {
	ID          string    `json:"id"`
	Fingerprint string    `json:"fingerprint"`
	Title       string    `json:"title"`
	Culprit     string    `json:"culprit"`
	Level       string    `json:"level"`
	Count       int64     `json:"count"`
	FirstSeen   time.Time `json:"firstSeen"`
	LastSeen    time.Time `json:"lastSeen"`
	Org         string    `json:"org"`
	Env         string    `json:"env"`
	// State and Substate are the problem's lifecycle (lifecycle.go).
	State    State    `json:"state"`
	Substate Substate `json:"substate,omitempty"`
	// Recent counts the occurrences of the last 24 hours.
	Recent int64 `json:"recent"`
	// Hourly is the sparkline: 24 hourly counts, oldest first, the last one the hour of Now.
	Hourly []int64 `json:"hourly"`
}

// Page is one page of a problems list. Next, when set, is the Cursor of the next page.
type Page struct {
	Problems []Summary `json:"problems"`
	Next     string    `json:"next,omitempty"`
}

// Bucket is the count of one hour or one day (Start in UTC).
type Bucket struct {
	Start time.Time `json:"start"`
	Count int64     `json:"count"`
}

// Tally is a count by name: an account, a region or a log group.
type Tally struct {
	ID    string `json:"id"`
	Count int64  `json:"count"`
}

// Affected says where a problem occurs: counts by account, region and log group, largest
// first.
type Affected struct {
	Accounts  []Tally `json:"accounts"`
	Regions   []Tally `json:"regions"`
	LogGroups []Tally `json:"logGroups"`
}

// Seen is one recorded occurrence, with what leads back to CloudWatch.
type Seen struct {
	At        time.Time `json:"at"`
	Account   string    `json:"account,omitempty"`
	Region    string    `json:"region,omitempty"`
	LogGroup  string    `json:"logGroup"`
	LogStream string    `json:"logStream"`
	EventID   string    `json:"eventId"`
	RequestID string    `json:"requestId,omitempty"`
	// CloudWatchURL opens the log stream at the event; set by the console.
	CloudWatchURL string `json:"cloudWatchUrl,omitempty"`
	// Breadcrumbs are the log lines of the invocation before the occurrence.
	Breadcrumbs []Breadcrumb `json:"breadcrumbs,omitempty"`
}

// Detail is a problem with its trend, who it affects and its latest occurrences.
type Detail struct {
	Problem
	// Hourly has 24 buckets and Daily 14, oldest first, the last one holding Now: the
	// console's trend. (The JSON name "hourly" is the lifecycle's 14 days of buckets,
	// which the embedded Problem carries.)
	Hourly   []Bucket `json:"last24h"`
	Daily    []Bucket `json:"daily"`
	Affected Affected `json:"affected"`
	// Recent is the last RecentOccurrences occurrences, newest first.
	Recent []Seen `json:"recent"`
}

// RecentOccurrences is how many occurrences a Detail lists.
const RecentOccurrences = 10

// Trend windows of a Detail.
const (
	TrendHours = 24
	TrendDays  = 14
)

// Reader is what the console reads of problems; both backends implement it.
type Reader interface {
	// Query returns a page of the problems q selects, in q's order; ErrBadQuery for a
	// query it cannot answer.
	Query(ctx context.Context, q Query) (Page, error)
	// Detail returns one problem with its trend, affected and recent occurrences measured
	// at now; ErrNotFound when there is none.
	Detail(ctx context.Context, id string, now time.Time) (Detail, error)
}

// HourStart is the start of t's hour in UTC.
func HourStart(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

// DayStart is the start of t's day in UTC.
func DayStart(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Trend turns hourly counts (by hour start in unix ms) into the 24 hourly and 14 daily
// buckets of a Detail at now.
func Trend(hours map[int64]int64, now time.Time) (hourly, daily []Bucket) {
	h0 := HourStart(now).Add(-(TrendHours - 1) * time.Hour)
	hourly = make([]Bucket, TrendHours)
	for i := range hourly {
		hourly[i].Start = h0.Add(time.Duration(i) * time.Hour)
	}
	d0 := DayStart(now).AddDate(0, 0, -(TrendDays - 1))
	daily = make([]Bucket, TrendDays)
	for i := range daily {
		daily[i].Start = d0.AddDate(0, 0, i)
	}
	for ms, n := range hours {
		t := time.UnixMilli(ms).UTC()
		if i := int(t.Sub(h0) / time.Hour); !t.Before(h0) && i < TrendHours {
			hourly[i].Count += n
		}
		if i := int(t.Sub(d0) / (24 * time.Hour)); !t.Before(d0) && i < TrendDays {
			daily[i].Count += n
		}
	}
	return hourly, daily
}

// Sparkline turns hourly counts (by hour start in unix ms) into a Summary's 24 counts at
// now and their sum.
func Sparkline(hours map[int64]int64, now time.Time) (line []int64, sum int64) {
	h0 := HourStart(now).Add(-(TrendHours - 1) * time.Hour)
	line = make([]int64, TrendHours)
	for ms, n := range hours {
		t := time.UnixMilli(ms).UTC()
		if i := int(t.Sub(h0) / time.Hour); !t.Before(h0) && i < TrendHours {
			line[i] += n
			sum += n
		}
	}
	return line, sum
}

// SortTallies orders tallies largest first, ties by id.
func SortTallies(l []Tally) {
	slices.SortFunc(l, func(a, b Tally) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}
