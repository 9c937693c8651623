package ddb

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/aient/firehose-drain/pkg/problems"
)

// What the console reads, and how it is kept (written by Record in its one transaction):
//
//	problem items     also kind = "problem" (the byLastSeen index: every problem by lastSeen,
//	                  for lists across scopes), search (lower-cased title, culprit and the
//	                  start of the sample message, for the text filter), and one counter per
//	                  account, region and log group: attributes "a.account.<id>",
//	                  "a.region.<name>", "a.logGroup.<name>" (N), ADDed with the count.
//	occurrence items  also of = the problem id, sk = "o#<at, 13 digits>#<identity>", and the
//	                  occurrence's account, region, logGroup, logStream, eventId, requestId:
//	                  a problem's latest occurrences are a Query of the byProblem index.
//	hour items        hour#<problem id>#<hour start ms>: of, sk = "h#<hour, 13 digits>",
//	                  hour (N), count (N, ADDed), expires_at 15 days on: the trend and the
//	                  sparklines are a Query of the byProblem index.
//
// A list page is a Query of byScope (org and env given) or byLastSeen, never a Scan: the
// lastSeen window is its key condition and the other filters its filter expression. Sorted
// by lastSeen it pages on the index (the cursor is the index position); sorted by firstSeen,
// count or recent it reads the query's whole index range, sorts it here and pages by offset.
const (
	// LastSeenIndex is the global secondary index of every problem by lastSeen.
	LastSeenIndex = "byLastSeen"
	// ProblemIndex is the global secondary index of a problem's occurrences and hours.
	ProblemIndex = "byProblem"

	kindProblem      = "problem"
	hourPrefix       = "hour#"
	affectedPrefix   = "a."
	affectedAccount  = "account"
	affectedRegion   = "region"
	affectedLogGroup = "logGroup"
	// sparkWorkers bound the concurrent sparkline queries of one page.
	sparkWorkers = 8
)

func affectedAttr(kind, value string) string { return affectedPrefix + kind + "." + value }

func occurrenceSK(at int64, identity string) string {
	if at < 0 || at > 9_999_999_999_999 { // what %013d does with them
		return fmt.Sprintf("o#%013d#%s", at, identity)
	}
	b := make([]byte, 0, 2+13+1+len(identity))
	b = append(b, "o#"...)
	d := strconv.AppendInt(nil, at, 10)
	for range 13 - len(d) {
		b = append(b, '0')
	}
	b = append(b, d...)
	b = append(b, '#')
	return string(append(b, identity...))
}

func hourSK(ms int64) string { return fmt.Sprintf("h#%013d", ms) }

// searchText is what the text filter searches (problems.SearchText, as the embedded store
// keeps it).
func searchText(title, culprit, message string) string {
	return problems.SearchText(title, culprit, message)
}

func hourOf(ms int64) int64 { return ms - ms%int64(time.Hour/time.Millisecond) }

// hourUpdates count occurrences of problem id in their hours' items, one update per hour.
func (s *Store) hourUpdates(id string, occs []problems.Occurrence) []*types.Update {
	counts := map[int64]int64{}
	for _, o := range occs {
		counts[hourOf(o.At.UnixMilli())]++
	}
	hours := make([]int64, 0, len(counts))
	for h := range counts {
		hours = append(hours, h)
	}
	slices.Sort(hours)
	out := make([]*types.Update, 0, len(hours))
	for _, h := range hours {
		out = append(out, &types.Update{
			TableName:        aws.String(s.table),
			Key:              map[string]types.AttributeValue{attrPK: str(fmt.Sprintf("%s%s#%d", hourPrefix, id, h))},
			UpdateExpression: aws.String("ADD #count :n SET #of = :of, #sk = :sk, #hour = :h, #exp = :exp"),
			ExpressionAttributeNames: map[string]string{
				"#count": attrCount, "#of": attrOf, "#sk": attrSK, "#hour": attrHour, "#exp": attrExpiresAt,
			},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":n": num(counts[h]), ":of": str(id), ":sk": str(hourSK(h)), ":h": num(h),
				":exp": num(time.UnixMilli(h).Add(OccurrenceTTL).Unix()),
			},
		})
	}
	return out
}

// affectedCount is what occurrences add to one affected counter of their problem.
type affectedCount struct {
	attr string
	n    int64
}

func affectedCounts(occs []problems.Occurrence) []affectedCount {
	counts := map[string]int64{}
	for _, o := range occs {
		for _, a := range [...]struct{ kind, value string }{
			{affectedAccount, o.Sample.Account}, {affectedRegion, o.Sample.Region}, {affectedLogGroup, o.Sample.LogGroup},
		} {
			if a.value != "" {
				counts[affectedAttr(a.kind, a.value)]++
			}
		}
	}
	out := make([]affectedCount, 0, len(counts))
	for a, n := range counts {
		out = append(out, affectedCount{a, n})
	}
	slices.SortFunc(out, func(a, b affectedCount) int { return strings.Compare(a.attr, b.attr) })
	return out
}

// cursor is a page position: an offset into a sorted read, or the index key to start after.
type cursor struct {
	Offset int               `json:"o,omitempty"`
	Key    map[string]string `json:"k,omitempty"` // attribute -> "S:value" or "N:value"
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.Offset < 0 {
		return cursor{}, fmt.Errorf("%w: cursor %q is not one this store gave", problems.ErrBadQuery, s)
	}
	return c, nil
}

func keyOf(item map[string]types.AttributeValue, attrs ...string) map[string]string {
	k := map[string]string{}
	for _, a := range attrs {
		switch v := item[a].(type) {
		case *types.AttributeValueMemberS:
			k[a] = "S:" + v.Value
		case *types.AttributeValueMemberN:
			k[a] = "N:" + v.Value
		}
	}
	return k
}

func startKey(k map[string]string) (map[string]types.AttributeValue, error) {
	if len(k) == 0 {
		return nil, nil
	}
	out := map[string]types.AttributeValue{}
	for a, v := range k {
		switch {
		case strings.HasPrefix(v, "S:"):
			out[a] = str(v[2:])
		case strings.HasPrefix(v, "N:"):
			out[a] = &types.AttributeValueMemberN{Value: v[2:]}
		default:
			return nil, fmt.Errorf("%w: a cursor this store did not give", problems.ErrBadQuery)
		}
	}
	return out, nil
}

// Query answers a problems list from an index (see above); it never scans the table.
func (s *Store) Query(ctx context.Context, q problems.Query) (problems.Page, error) {
	if err := q.Check(); err != nil {
		return problems.Page{}, err
	}
	var state problems.State
	if q.State != "" && q.State != "all" {
		var err error
		if state, err = problems.ParseState(q.State); err != nil {
			return problems.Page{}, fmt.Errorf("%w: %w", problems.ErrBadQuery, err)
		}
	}
	cur, err := decodeCursor(q.Cursor)
	if err != nil {
		return problems.Page{}, err
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		ScanIndexForward:          aws.Bool(false),
		ExpressionAttributeNames:  map[string]string{},
		ExpressionAttributeValues: map[string]types.AttributeValue{},
	}
	keyAttrs := []string{attrPK, attrLastSeen}
	if q.Org != "" && q.Env != "" {
		in.IndexName = aws.String(ScopeIndex)
		in.KeyConditionExpression = aws.String("#scope = :scope")
		in.ExpressionAttributeNames["#scope"] = attrScope
		in.ExpressionAttributeValues[":scope"] = str(Scope(q.Org, q.Env))
		keyAttrs = append(keyAttrs, attrScope)
	} else {
		in.IndexName = aws.String(LastSeenIndex)
		in.KeyConditionExpression = aws.String("#kind = :kind")
		in.ExpressionAttributeNames["#kind"] = attrKind
		in.ExpressionAttributeValues[":kind"] = str(kindProblem)
		keyAttrs = append(keyAttrs, attrKind)
	}
	if q.LastSeenWithin > 0 {
		in.KeyConditionExpression = aws.String(*in.KeyConditionExpression + " AND #lastSeen >= :since")
		in.ExpressionAttributeNames["#lastSeen"] = attrLastSeen
		in.ExpressionAttributeValues[":since"] = num(q.Now.Add(-q.LastSeenWithin).UnixMilli())
	}
	var filter []string
	eq := func(attr, v string) {
		if v == "" {
			return
		}
		n := len(filter)
		in.ExpressionAttributeNames[fmt.Sprintf("#f%d", n)] = attr
		in.ExpressionAttributeValues[fmt.Sprintf(":f%d", n)] = str(v)
		filter = append(filter, fmt.Sprintf("#f%d = :f%d", n, n))
	}
	eq(attrOrg, q.Org)
	eq(attrEnv, q.Env)
	eq(attrLevel, q.Level)
	switch state {
	case "":
	case problems.Unresolved: // and the problems written before states existed
		in.ExpressionAttributeNames["#state"] = attrState
		in.ExpressionAttributeValues[":state"] = str(string(state))
		filter = append(filter, "(attribute_not_exists(#state) OR #state = :state)")
	default:
		eq(attrState, string(state))
	}
	for i, a := range [...]struct{ kind, v string }{{affectedAccount, q.Account}, {affectedRegion, q.Region}, {affectedLogGroup, q.LogGroup}} {
		if a.v != "" {
			in.ExpressionAttributeNames[fmt.Sprintf("#a%d", i)] = affectedAttr(a.kind, a.v)
			filter = append(filter, fmt.Sprintf("attribute_exists(#a%d)", i))
		}
	}
	if q.FirstSeenWithin > 0 {
		in.ExpressionAttributeNames["#firstSeen"] = attrFirstSeen
		in.ExpressionAttributeValues[":first"] = num(q.Now.Add(-q.FirstSeenWithin).UnixMilli())
		filter = append(filter, "#firstSeen >= :first")
	}
	if q.Text != "" {
		in.ExpressionAttributeNames["#search"] = attrSearch
		in.ExpressionAttributeValues[":text"] = str(problems.SearchQuery(q.Text))
		filter = append(filter, "contains(#search, :text)")
	}
	if len(filter) > 0 {
		in.FilterExpression = aws.String(strings.Join(filter, " AND "))
	}
	if len(in.ExpressionAttributeValues) == 0 {
		in.ExpressionAttributeValues = nil
	}

	var (
		rows []problems.Summary
		next string
	)
	if q.Sort == problems.SortLastSeen {
		rows, next, err = s.queryIndexOrder(ctx, in, q.Limit, cur, keyAttrs)
	} else {
		rows, next, err = s.querySorted(ctx, in, q, cur)
	}
	if err != nil {
		return problems.Page{}, err
	}
	if err := s.sparklines(ctx, rows, q.Now); err != nil {
		return problems.Page{}, err
	}
	return problems.Page{Problems: rows, Next: next}, nil
}

// queryIndexOrder pages on the index itself: up to limit rows (0: all), and the key of the
// last one returned as the cursor when more may follow.
func (s *Store) queryIndexOrder(ctx context.Context, in *dynamodb.QueryInput, limit int, cur cursor, keyAttrs []string) ([]problems.Summary, string, error) {
	start, err := startKey(cur.Key)
	if err != nil {
		return nil, "", err
	}
	rows := []problems.Summary{}
	var lastItem map[string]types.AttributeValue
	for {
		in.ExclusiveStartKey = start
		if limit > 0 {
			in.Limit = aws.Int32(int32(limit - len(rows) + 1))
		}
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("query problems: %w", err)
		}
		for _, item := range page.Items {
			if limit > 0 && len(rows) == limit {
				// One more matches: the page ends at the last row returned.
				return rows, cursor{Key: keyOf(lastItem, keyAttrs...)}.encode(), nil
			}
			sm, err := summaryOf(item)
			if err != nil {
				return nil, "", err
			}
			rows = append(rows, sm)
			lastItem = item
		}
		if len(page.LastEvaluatedKey) == 0 {
			return rows, "", nil
		}
		start = page.LastEvaluatedKey
	}
}

// querySorted reads the query's whole index range, sorts it by q.Sort and returns the page
// at the cursor's offset.
func (s *Store) querySorted(ctx context.Context, in *dynamodb.QueryInput, q problems.Query, cur cursor) ([]problems.Summary, string, error) {
	if cur.Key != nil {
		return nil, "", fmt.Errorf("%w: a cursor of another sort", problems.ErrBadQuery)
	}
	all := []problems.Summary{}
	var start map[string]types.AttributeValue
	for {
		in.ExclusiveStartKey = start
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("query problems: %w", err)
		}
		for _, item := range page.Items {
			sm, err := summaryOf(item)
			if err != nil {
				return nil, "", err
			}
			all = append(all, sm)
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		start = page.LastEvaluatedKey
	}
	var key func(problems.Summary) int64
	switch q.Sort {
	case problems.SortFirstSeen:
		key = func(p problems.Summary) int64 { return p.FirstSeen.UnixMilli() }
	case problems.SortCount:
		key = func(p problems.Summary) int64 { return p.Count }
	case problems.SortRecent:
		// Only problems seen since the window began can have a recent count.
		since := problems.HourStart(q.Now).Add(-(problems.TrendHours - 1) * time.Hour)
		var active []problems.Summary
		idx := map[string]int{}
		for i, p := range all {
			if !p.LastSeen.Before(since) {
				idx[p.ID] = i
				active = append(active, p)
			}
		}
		if err := s.sparklines(ctx, active, q.Now); err != nil {
			return nil, "", err
		}
		for _, p := range active {
			all[idx[p.ID]].Recent = p.Recent
		}
		key = func(p problems.Summary) int64 { return p.Recent }
	}
	slices.SortStableFunc(all, func(a, b problems.Summary) int {
		if c := cmpDesc(key(a), key(b)); c != 0 {
			return c
		}
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if cur.Offset > len(all) {
		cur.Offset = len(all)
	}
	all = all[cur.Offset:]
	if q.Limit > 0 && len(all) > q.Limit {
		return all[:q.Limit], cursor{Offset: cur.Offset + q.Limit}.encode(), nil
	}
	return all, "", nil
}

func cmpDesc(a, b int64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

func summaryOf(item map[string]types.AttributeValue) (problems.Summary, error) {
	p, err := unmarshal(item)
	if err != nil {
		return problems.Summary{}, fmt.Errorf("query problems: %w", err)
	}
	return problems.Summary{
		ID: p.ID, Fingerprint: p.Fingerprint, Title: p.Title, Culprit: p.Culprit, Level: p.Level,
		Count: p.Count, FirstSeen: p.FirstSeen, LastSeen: p.LastSeen, Org: p.Org, Env: p.Env,
		State: p.State, Substate: p.Substate,
	}, nil
}

// hours reads a problem's hourly counts since since (unix ms): one Query of byProblem.
func (s *Store) hours(ctx context.Context, id string, since int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String(ProblemIndex),
		KeyConditionExpression: aws.String("#of = :of AND #sk BETWEEN :from AND :to"),
		ExpressionAttributeNames: map[string]string{
			"#of": attrOf, "#sk": attrSK,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":of": str(id), ":from": str(hourSK(since)), ":to": str("h#~"),
		},
	}
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("hourly counts of problem %s: %w", id, err)
		}
		for _, item := range page.Items {
			h, _ := strconv.ParseInt(numAttr(item[attrHour]), 10, 64)
			n, _ := strconv.ParseInt(numAttr(item[attrCount]), 10, 64)
			out[h] += n
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

func numAttr(v types.AttributeValue) string {
	if n, ok := v.(*types.AttributeValueMemberN); ok {
		return n.Value
	}
	return ""
}

// sparklines fills each row's 24 hourly counts and their sum, a few queries at a time.
func (s *Store) sparklines(ctx context.Context, rows []problems.Summary, now time.Time) error {
	since := problems.HourStart(now).Add(-(problems.TrendHours - 1) * time.Hour).UnixMilli()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(sparkWorkers)
	for i := range rows {
		g.Go(func() error {
			h, err := s.hours(gctx, rows[i].ID, since)
			if err != nil {
				return err
			}
			rows[i].Hourly, rows[i].Recent = problems.Sparkline(h, now)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("problem sparklines: %w", err)
	}
	return nil
}

// Detail reads the problem item (with its affected counters), its hours of the last 14
// days and its latest occurrences: one GetItem and two Queries of byProblem.
func (s *Store) Detail(ctx context.Context, id string, now time.Time) (problems.Detail, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table),
		Key:       map[string]types.AttributeValue{attrPK: str(problemPrefix + id)},
	})
	if err != nil {
		return problems.Detail{}, fmt.Errorf("get problem %s: %w", id, err)
	}
	if out.Item == nil {
		return problems.Detail{}, fmt.Errorf("get problem %s: %w", id, problems.ErrNotFound)
	}
	p, err := unmarshal(out.Item)
	if err != nil {
		return problems.Detail{}, fmt.Errorf("get problem %s: %w", id, err)
	}
	d := problems.Detail{Problem: p, Recent: []problems.Seen{}, Affected: affectedOf(out.Item)}
	h, err := s.hours(ctx, id, problems.DayStart(now).AddDate(0, 0, -(problems.TrendDays-1)).UnixMilli())
	if err != nil {
		return problems.Detail{}, err
	}
	d.Hourly, d.Daily = problems.Trend(h, now)
	rec, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(ProblemIndex),
		KeyConditionExpression:    aws.String("#of = :of AND begins_with(#sk, :o)"),
		ExpressionAttributeNames:  map[string]string{"#of": attrOf, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":of": str(id), ":o": str("o#")},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(problems.RecentOccurrences),
	})
	if err != nil {
		return problems.Detail{}, fmt.Errorf("recent occurrences of problem %s: %w", id, err)
	}
	for _, item := range rec.Items {
		at, _ := strconv.ParseInt(numAttr(item[attrAt]), 10, 64)
		d.Recent = append(d.Recent, problems.Seen{
			At: time.UnixMilli(at).UTC(), Account: strAttr(item[attrAccount]), Region: strAttr(item[attrRegion]),
			LogGroup: strAttr(item[attrLogGroup]), LogStream: strAttr(item[attrLogStream]),
			EventID: strAttr(item[attrEventID]), RequestID: strAttr(item[attrRequestID]),
			Breadcrumbs: breadcrumbsOf(item[attrBreadcrumbs]),
		})
	}
	return d, nil
}

func strAttr(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// maxAffected is how many accounts, regions and log groups a Detail lists of each.
const maxAffected = 20

// affectedOf reads the affected counters of a problem item.
func affectedOf(item map[string]types.AttributeValue) problems.Affected {
	a := problems.Affected{Accounts: []problems.Tally{}, Regions: []problems.Tally{}, LogGroups: []problems.Tally{}}
	for name, v := range item {
		rest, ok := strings.CutPrefix(name, affectedPrefix)
		if !ok {
			continue
		}
		kind, value, ok := strings.Cut(rest, ".")
		n, err := strconv.ParseInt(numAttr(v), 10, 64)
		if !ok || err != nil {
			continue
		}
		t := problems.Tally{ID: value, Count: n}
		switch kind {
		case affectedAccount:
			a.Accounts = append(a.Accounts, t)
		case affectedRegion:
			a.Regions = append(a.Regions, t)
		case affectedLogGroup:
			a.LogGroups = append(a.LogGroups, t)
		}
	}
	for _, l := range []*[]problems.Tally{&a.Accounts, &a.Regions, &a.LogGroups} {
		problems.SortTallies(*l)
		if len(*l) > maxAffected {
			*l = (*l)[:maxAffected]
		}
	}
	return a
}
