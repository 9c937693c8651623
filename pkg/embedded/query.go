package embedded

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aient/firehose-drain/pkg/problems"
)

var _ problems.Reader = (*problemStore)(nil)

// maxAffected is how many accounts, regions and log groups a Detail lists of each.
const maxAffected = 20

// Reader is the problem store as the console reads it.
func (s *Store) Reader() problems.Reader { return s.problems }

// Query answers a problems list from the problems table and the hourly counts kept with
// them. The cursor is an offset into the query's order.
func (p *problemStore) Query(ctx context.Context, q problems.Query) (problems.Page, error) {
	if err := q.Check(); err != nil {
		return problems.Page{}, err
	}
	offset, err := decodeOffset(q.Cursor)
	if err != nil {
		return problems.Page{}, err
	}
	since := problems.HourStart(q.Now).Add(-(problems.TrendHours - 1) * time.Hour).UnixMilli()

	var (
		where []string
		args  []any
	)
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	for _, f := range [...]struct{ col, v string }{{"p.org", q.Org}, {"p.env", q.Env}, {"p.level", q.Level}} {
		if f.v != "" {
			add(f.col+" = ?", f.v)
		}
	}
	for _, f := range [...]struct{ kind, v string }{{"account", q.Account}, {"region", q.Region}, {"logGroup", q.LogGroup}} {
		if f.v != "" {
			add("p.id IN (SELECT problem_id FROM problem_affected WHERE kind = ? AND value = ?)", f.kind, f.v)
		}
	}
	if q.State != "" && q.State != "all" {
		st, err := problems.ParseState(q.State)
		if err != nil {
			return problems.Page{}, fmt.Errorf("%w: %w", problems.ErrBadQuery, err)
		}
		add("p.state = ?", string(st))
	}
	if q.FirstSeenWithin > 0 {
		add("p.first_seen >= ?", q.Now.Add(-q.FirstSeenWithin).UnixMilli())
	}
	if q.LastSeenWithin > 0 {
		add("p.last_seen >= ?", q.Now.Add(-q.LastSeenWithin).UnixMilli())
	}
	if q.Text != "" {
		// The search column (schema v6) is problems.SearchText, written with the problem.
		add(`instr(p.search, ?) > 0`, problems.SearchQuery(q.Text))
	}
	var sb strings.Builder
	// The recent count is a lookup of the problem's own hours (its primary key), made only
	// for the rows the filters keep.
	sb.WriteString(`SELECT p.id, p.org, p.env, p.fingerprint, p.title, p.culprit, p.level, p.count,
		p.first_seen, p.last_seen,
		coalesce((SELECT sum(h.count) FROM problem_hours h WHERE h.problem_id = p.id AND h.hour >= ?), 0) AS recent,
		p.state, CASE WHEN p.lifecycle = '' THEN '' ELSE coalesce(json_extract(p.lifecycle, '$.ss'), '') END FROM problems p`)
	all := []any{since}
	for i, w := range where {
		if i == 0 {
			sb.WriteString(" WHERE ")
		} else {
			sb.WriteString(" AND ")
		}
		sb.WriteString(w)
	}
	order := map[string]string{
		problems.SortLastSeen:  "p.last_seen DESC, p.id",
		problems.SortFirstSeen: "p.first_seen DESC, p.id",
		problems.SortCount:     "p.count DESC, p.last_seen DESC, p.id",
		problems.SortRecent:    "recent DESC, p.last_seen DESC, p.id",
	}[q.Sort]
	sb.WriteString(" ORDER BY " + order)
	limit := q.Limit
	if limit > 0 {
		fmt.Fprintf(&sb, " LIMIT %d OFFSET %d", limit+1, offset)
	} else if offset > 0 {
		fmt.Fprintf(&sb, " LIMIT -1 OFFSET %d", offset)
	}
	query := sb.String()
	all = append(all, args...)

	rows, err := p.s.query(ctx, nil, query, all...)
	if err != nil {
		return problems.Page{}, fmt.Errorf("embedded: query problems: %w", err)
	}
	defer rows.Close()
	page := problems.Page{Problems: []problems.Summary{}}
	for rows.Next() {
		var (
			sm          problems.Summary
			first, last int64
		)
		if err := rows.Scan(&sm.ID, &sm.Org, &sm.Env, &sm.Fingerprint, &sm.Title, &sm.Culprit, &sm.Level,
			&sm.Count, &first, &last, &sm.Recent, &sm.State, &sm.Substate); err != nil {
			return problems.Page{}, fmt.Errorf("embedded: query problems: %w", err)
		}
		sm.FirstSeen, sm.LastSeen = time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
		page.Problems = append(page.Problems, sm)
	}
	if err := rows.Err(); err != nil {
		return problems.Page{}, fmt.Errorf("embedded: query problems: %w", err)
	}
	if limit > 0 && len(page.Problems) > limit {
		page.Problems = page.Problems[:limit]
		page.Next = encodeOffset(offset + limit)
	}
	if err := p.sparklines(ctx, page.Problems, since, q.Now); err != nil {
		return problems.Page{}, err
	}
	return page, nil
}

// sparklines fills the rows' hourly counts since since.
func (p *problemStore) sparklines(ctx context.Context, rows []problems.Summary, since int64, now time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	byID := make(map[string]map[int64]int64, len(rows))
	ids := make([]any, 0, len(rows)+1)
	ids = append(ids, since)
	for _, r := range rows {
		byID[r.ID] = map[int64]int64{}
		ids = append(ids, r.ID)
	}
	in := strings.TrimSuffix(strings.Repeat("?,", len(rows)), ",")
	res, err := p.s.query(ctx, nil, `SELECT problem_id, hour, count FROM problem_hours
		WHERE hour >= ? AND problem_id IN (`+in+`)`, ids...)
	if err != nil {
		return fmt.Errorf("embedded: problem sparklines: %w", err)
	}
	defer res.Close()
	for res.Next() {
		var (
			id      string
			hour, n int64
		)
		if err := res.Scan(&id, &hour, &n); err != nil {
			return fmt.Errorf("embedded: problem sparklines: %w", err)
		}
		byID[id][hour] += n
	}
	if err := res.Err(); err != nil {
		return fmt.Errorf("embedded: problem sparklines: %w", err)
	}
	for i := range rows {
		rows[i].Hourly, _ = problems.Sparkline(byID[rows[i].ID], now)
	}
	return nil
}

// Detail reads a problem with its hourly counts of the last 14 days, its affected counts
// and its last occurrences.
func (p *problemStore) Detail(ctx context.Context, id string, now time.Time) (problems.Detail, error) {
	pr, err := p.Get(ctx, id)
	if err != nil {
		return problems.Detail{}, err
	}
	d := problems.Detail{Problem: pr, Recent: []problems.Seen{}}
	fail := func(what string, err error) (problems.Detail, error) {
		return problems.Detail{}, fmt.Errorf("embedded: problem %s: %s: %w", id, what, err)
	}

	since := problems.DayStart(now).AddDate(0, 0, -(problems.TrendDays - 1)).UnixMilli()
	rows, err := p.s.query(ctx, nil, `SELECT hour, count FROM problem_hours WHERE problem_id = ? AND hour >= ?`, id, since)
	if err != nil {
		return fail("trend", err)
	}
	hours := map[int64]int64{}
	for rows.Next() {
		var h, n int64
		if err := rows.Scan(&h, &n); err != nil {
			rows.Close()
			return fail("trend", err)
		}
		hours[h] += n
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fail("trend", err)
	}
	d.Hourly, d.Daily = problems.Trend(hours, now)

	aff, err := p.Affected(ctx, []string{id})
	if err != nil {
		return fail("affected", err)
	}
	d.Affected = aff[id]
	if d.Affected.Accounts == nil {
		d.Affected = problems.Affected{Accounts: []problems.Tally{}, Regions: []problems.Tally{}, LogGroups: []problems.Tally{}}
	}

	rows, err = p.s.query(ctx, nil, `SELECT o.at, o.account, o.region, o.log_group, o.log_stream, o.event_id, o.request_id, b.crumbs
		FROM occurrences o LEFT JOIN occurrence_breadcrumbs b ON b.identity = o.identity
		WHERE o.problem_id = ? ORDER BY o.at DESC LIMIT ?`, id, problems.RecentOccurrences)
	if err != nil {
		return fail("recent occurrences", err)
	}
	for rows.Next() {
		var (
			s      problems.Seen
			at     int64
			crumbs *string
		)
		if err := rows.Scan(&at, &s.Account, &s.Region, &s.LogGroup, &s.LogStream, &s.EventID, &s.RequestID, &crumbs); err != nil {
			rows.Close()
			return fail("recent occurrences", err)
		}
		if s.Breadcrumbs, err = decodeBreadcrumbs(crumbs); err != nil {
			rows.Close()
			return fail("recent occurrences", err)
		}
		s.At = time.UnixMilli(at).UTC()
		d.Recent = append(d.Recent, s)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fail("recent occurrences", err)
	}
	return d, nil
}

// sortTallies orders each list largest first (ties by name), as the window query does
// within each kind.
func sortTallies(a *problems.Affected) {
	for _, l := range []*[]problems.Tally{&a.Accounts, &a.Regions, &a.LogGroups} {
		problems.SortTallies(*l)
	}
}

// A cursor is an offset into the query's order, opaque to the client.
func encodeOffset(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o" + strconv.Itoa(n)))
}

func decodeOffset(c string) (int, error) {
	if c == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil && len(b) > 1 && b[0] == 'o' {
		if n, err := strconv.Atoi(string(b[1:])); err == nil && n >= 0 {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%w: cursor %q is not one this store gave", problems.ErrBadQuery, c)
}
