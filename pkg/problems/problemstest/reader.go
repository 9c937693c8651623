package problemstest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/problems"
)

// ReadStore is a problems.Store that the console can read.
type ReadStore interface {
	problems.Store
	problems.Reader
}

// RunReader runs the contract of problems.Reader against stores made by newStore (each
// empty, as for Run): what Record wrote, read back through Query and Detail.
func RunReader(t *testing.T, newStore func(t *testing.T) ReadStore) {
	t.Run("Query filters by scope, level, log group, account, region, text and windows", func(t *testing.T) { testQueryFilters(t, newStore(t)) })
	t.Run("Query sorts by lastSeen, firstSeen, count and recent", func(t *testing.T) { testQuerySorts(t, newStore(t)) })
	t.Run("Query pages with limit and cursor, every problem once", func(t *testing.T) { testQueryPages(t, newStore(t)) })
	t.Run("Query refuses an unknown sort and a foreign cursor", func(t *testing.T) { testQueryBad(t, newStore(t)) })
	t.Run("Detail has the trend, affected and recent occurrences", func(t *testing.T) { testDetail(t, newStore(t)) })
	t.Run("redelivered and concurrent occurrences count once in the aggregates", func(t *testing.T) { testDetailExactlyOnce(t, newStore(t)) })
	t.Run("each recent occurrence carries its own breadcrumbs", func(t *testing.T) { testRecentBreadcrumbs(t, newStore(t)) })
	t.Run("Detail of an unknown id is ErrNotFound", func(t *testing.T) {
		if _, err := newStore(t).Detail(t.Context(), "nosuch", base); !errors.Is(err, problems.ErrNotFound) {
			t.Fatalf("Detail(nosuch): %v, want ErrNotFound", err)
		}
	})
}

// where is an occurrence's origin.
type where struct{ account, region, group string }

var (
	here  = where{"123456789012", "eu-west-1", "/aws/lambda/checkout"}
	there = where{"210987654321", "us-east-1", "/aws/lambda/billing"}
)

// occAt is occ of fingerprint fp in org's prod env, with a title of its own, from w.
func occAt(org, fp, eventID string, t time.Time, w where) problems.Occurrence {
	const env = "prod"
	o := occ(org, env, fp, eventID, t)
	o.Identity = event.Identity("drn_"+org+"_"+env, w.account, w.group, o.Sample.LogStream, eventID)
	o.Title = "Error" + fp + ": failed " + fp
	o.Culprit = "handler" + fp + " (src/" + fp + ".js)"
	o.Sample.Account, o.Sample.Region, o.Sample.LogGroup = w.account, w.region, w.group
	o.Sample.Message = "Error" + fp + ": failed while charging card " + fp + "-secret-word"
	o.Sample.RequestID = "req-" + eventID
	return o
}

func query(t *testing.T, s problems.Reader, q problems.Query) problems.Page {
	t.Helper()
	if q.Now.IsZero() {
		q.Now = base
	}
	p, err := s.Query(t.Context(), q)
	if err != nil {
		t.Fatalf("Query(%+v): %v", q, err)
	}
	return p
}

func fps(p problems.Page) []string {
	out := []string{}
	for _, sm := range p.Problems {
		out = append(out, sm.Fingerprint)
	}
	return out
}

func testQueryFilters(t *testing.T, s ReadStore) {
	// a: acme/prod, here, error, old; b: acme/prod, there, fatal, recent; c: other/prod, here.
	mustRecord(t, s, occAt("acme", "a", "a1", base.Add(-10*24*time.Hour), here))
	mustRecord(t, s, occAt("acme", "a", "a2", base.Add(-9*24*time.Hour), here))
	ob := occAt("acme", "b", "b1", base.Add(-time.Hour), there)
	ob.Level = string(event.Fatal)
	mustRecord(t, s, ob)
	mustRecord(t, s, occAt("other", "c", "c1", base.Add(-2*time.Hour), here))

	for _, c := range []struct {
		name string
		q    problems.Query
		want []string
	}{
		{"all", problems.Query{}, []string{"b", "c", "a"}},
		{"org and env", problems.Query{Org: "acme", Env: "prod"}, []string{"b", "a"}},
		{"org only", problems.Query{Org: "other"}, []string{"c"}},
		{"env only", problems.Query{Env: "prod"}, []string{"b", "c", "a"}},
		{"level", problems.Query{Level: "fatal"}, []string{"b"}},
		{"log group", problems.Query{LogGroup: here.group}, []string{"c", "a"}},
		{"account", problems.Query{Account: there.account}, []string{"b"}},
		{"region", problems.Query{Region: here.region}, []string{"c", "a"}},
		{"text in the title, any case", problems.Query{Text: "errorb"}, []string{"b"}},
		{"text in the culprit", problems.Query{Text: "src/c.js"}, []string{"c"}},
		{"text in the message", problems.Query{Text: "a-SECRET-word"}, []string{"a"}},
		{"text nowhere", problems.Query{Text: "nothing like it"}, []string{}},
		{"last seen within 3h", problems.Query{LastSeenWithin: 3 * time.Hour}, []string{"b", "c"}},
		{"first seen within 5d", problems.Query{FirstSeenWithin: 5 * 24 * time.Hour}, []string{"b", "c"}},
		{"first seen within 5d in acme", problems.Query{Org: "acme", FirstSeenWithin: 5 * 24 * time.Hour}, []string{"b"}},
		{"combined", problems.Query{Org: "acme", Region: here.region, Text: "failed"}, []string{"a"}},
	} {
		if got := fps(query(t, s, c.q)); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func testQuerySorts(t *testing.T, s ReadStore) {
	// first seen: a oldest, then b, c; last seen: c newest, then a, b; count: b 3, a 2, c 1;
	// in the last 24 h: a 2 (its old occurrence is 30 days back), b 1, c 1.
	mustRecord(t, s, occAt("acme", "a", "a1", base.Add(-30*24*time.Hour), here))
	mustRecord(t, s, occAt("acme", "a", "a2", base.Add(-3*time.Hour), here))
	mustRecord(t, s, occAt("acme", "a", "a3", base.Add(-2*time.Hour), here))
	mustRecord(t, s, occAt("acme", "b", "b1", base.Add(-20*24*time.Hour), here))
	mustRecord(t, s, occAt("acme", "b", "b2", base.Add(-10*24*time.Hour), here))
	mustRecord(t, s, occAt("acme", "b", "b3", base.Add(-4*time.Hour), here))
	mustRecord(t, s, occAt("acme", "c", "c1", base.Add(-time.Hour), here))
	for sort, want := range map[string][]string{
		problems.SortLastSeen:  {"c", "a", "b"},
		problems.SortFirstSeen: {"c", "b", "a"},
		problems.SortCount:     {"a", "b", "c"}, // a and b have 3 each: the tie goes to the latest seen
		problems.SortRecent:    {"a", "c", "b"}, // a 2; c and b 1 each, c seen last
	} {
		if got := fps(query(t, s, problems.Query{Sort: sort})); !slices.Equal(got, want) {
			t.Errorf("sort %s: got %v, want %v", sort, got, want)
		}
	}
	p := query(t, s, problems.Query{Sort: problems.SortRecent})
	for _, sm := range p.Problems {
		var sum int64
		for _, n := range sm.Hourly {
			sum += n
		}
		want := map[string]int64{"a": 2, "b": 1, "c": 1}[sm.Fingerprint]
		if len(sm.Hourly) != problems.TrendHours || sum != want || sm.Recent != want {
			t.Errorf("%s: recent %d, sparkline %v; want %d in 24 buckets", sm.Fingerprint, sm.Recent, sm.Hourly, want)
		}
		if sm.Fingerprint == "c" && sm.Hourly[problems.TrendHours-2] != 1 {
			t.Errorf("c's one occurrence an hour ago is not in the 23rd bucket: %v", sm.Hourly)
		}
	}
}

func testQueryPages(t *testing.T, s ReadStore) {
	const n = 7
	for i := range n {
		mustRecord(t, s, occAt("acme", fmt.Sprintf("p%d", i), fmt.Sprintf("e%d", i), base.Add(-time.Duration(i)*time.Minute), here))
	}
	for _, sort := range []string{problems.SortLastSeen, problems.SortCount, problems.SortRecent} {
		var seen []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > n {
				t.Fatalf("sort %s: more pages than problems", sort)
			}
			p := query(t, s, problems.Query{Sort: sort, Limit: 3, Cursor: cursor, Org: "acme", Env: "prod"})
			if len(p.Problems) > 3 {
				t.Fatalf("a page of limit 3 holds %d", len(p.Problems))
			}
			seen = append(seen, fps(p)...)
			if p.Next == "" {
				break
			}
			cursor = p.Next
		}
		want := []string{"p0", "p1", "p2", "p3", "p4", "p5", "p6"}
		if !slices.Equal(seen, want) {
			t.Errorf("sort %s: pages hold %v, want %v", sort, seen, want)
		}
	}
	if p := query(t, s, problems.Query{Limit: n}); len(p.Problems) != n || p.Next != "" {
		t.Errorf("a limit of exactly all: %d rows, next %q", len(p.Problems), p.Next)
	}
}

func testQueryBad(t *testing.T, s ReadStore) {
	for _, q := range []problems.Query{
		{Sort: "title", Now: base},
		{Cursor: "not-a-cursor", Limit: 2, Now: base},
		{Limit: problems.MaxLimit + 1, Now: base},
	} {
		if _, err := s.Query(t.Context(), q); !errors.Is(err, problems.ErrBadQuery) {
			t.Errorf("Query(%+v): %v, want ErrBadQuery", q, err)
		}
	}
}

func testDetail(t *testing.T, s ReadStore) {
	now := base
	// 12 occurrences: 3 in this hour, 2 two hours back, 4 three days back, 2 twenty days
	// back (outside both windows), 1 from there an hour back.
	var n int
	add := func(d time.Duration, w where, k int) {
		for range k {
			n++
			mustRecord(t, s, occAt("acme", "a", fmt.Sprintf("e%02d", n), now.Add(-d-time.Duration(n)*time.Millisecond), w))
		}
	}
	add(0, here, 3)
	add(2*time.Hour, here, 2)
	add(3*24*time.Hour, here, 4)
	add(20*24*time.Hour, here, 2)
	add(time.Hour, there, 1)
	id := problems.ID("acme", "prod", "a")
	d, err := s.Detail(t.Context(), id, now)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != id || d.Count != 12 {
		t.Fatalf("Detail: id %s count %d", d.ID, d.Count)
	}
	if len(d.Hourly) != problems.TrendHours || len(d.Daily) != problems.TrendDays {
		t.Fatalf("%d hourly and %d daily buckets", len(d.Hourly), len(d.Daily))
	}
	hourly := map[int]int64{}
	for i, b := range d.Hourly {
		if b.Count > 0 {
			hourly[i] = b.Count
		}
		if !b.Start.Equal(problems.HourStart(now).Add(-time.Duration(problems.TrendHours-1-i) * time.Hour)) {
			t.Errorf("hourly bucket %d starts at %v", i, b.Start)
		}
	}
	// The buckets hold whole UTC hours; base is 04:40 UTC, so "now" and "now-2h" fall in
	// hours 23 and 21, and an hour back from now-1h's few milliseconds in hour 22.
	h := func(d time.Duration) int {
		return problems.TrendHours - 1 - int(problems.HourStart(now).Sub(problems.HourStart(now.Add(-d)))/time.Hour)
	}
	want := map[int]int64{}
	want[h(0)] += 3
	want[h(2*time.Hour)] += 2
	want[h(time.Hour)] += 1
	if !mapsEqual(hourly, want) {
		t.Errorf("hourly counts %v, want %v", hourly, want)
	}
	// base is 04:40 UTC: today holds 6, three days back 4; twenty days back is outside.
	daily := map[int]int64{}
	for i, b := range d.Daily {
		if b.Count > 0 {
			daily[i] = b.Count
		}
		if !b.Start.Equal(problems.DayStart(now).AddDate(0, 0, -(problems.TrendDays - 1 - i))) {
			t.Errorf("daily bucket %d starts at %v", i, b.Start)
		}
	}
	if want := map[int]int64{problems.TrendDays - 1: 6, problems.TrendDays - 4: 4}; !mapsEqual(daily, want) {
		t.Errorf("daily counts %v, want %v", daily, want)
	}
	wantAff := problems.Affected{
		Accounts:  []problems.Tally{{ID: here.account, Count: 11}, {ID: there.account, Count: 1}},
		Regions:   []problems.Tally{{ID: here.region, Count: 11}, {ID: there.region, Count: 1}},
		LogGroups: []problems.Tally{{ID: here.group, Count: 11}, {ID: there.group, Count: 1}},
	}
	if !slices.Equal(d.Affected.Accounts, wantAff.Accounts) || !slices.Equal(d.Affected.Regions, wantAff.Regions) || !slices.Equal(d.Affected.LogGroups, wantAff.LogGroups) {
		t.Errorf("affected %+v, want %+v", d.Affected, wantAff)
	}
	// The alerts' read of the same counts answers what Detail does.
	if ar, ok := s.(problems.AffectedReader); ok {
		got, err := ar.Affected(t.Context(), []string{id, "nosuch", id})
		if err != nil {
			t.Fatalf("Affected: %v", err)
		}
		if _, ok := got["nosuch"]; ok || len(got) != 1 || !slices.Equal(got[id].Accounts, d.Affected.Accounts) ||
			!slices.Equal(got[id].Regions, d.Affected.Regions) || !slices.Equal(got[id].LogGroups, d.Affected.LogGroups) {
			t.Errorf("Affected = %+v, want {%s: %+v} as Detail", got, id, d.Affected)
		}
	}
	if len(d.Recent) != problems.RecentOccurrences {
		t.Fatalf("%d recent occurrences, want %d", len(d.Recent), problems.RecentOccurrences)
	}
	for i, r := range d.Recent {
		if i > 0 && r.At.After(d.Recent[i-1].At) {
			t.Errorf("recent occurrences not newest first: %v after %v", r.At, d.Recent[i-1].At)
		}
		if r.LogGroup == "" || r.LogStream == "" || r.EventID == "" || r.Account == "" || r.Region == "" || r.RequestID != "req-"+r.EventID {
			t.Errorf("recent occurrence %+v lacks a field", r)
		}
	}
	if r := d.Recent[0]; r.EventID != "e01" || r.Account != here.account {
		t.Errorf("the newest occurrence is %+v, want e01", r)
	}
}

func mapsEqual(a, b map[int]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func testDetailExactlyOnce(t *testing.T, s ReadStore) {
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		o := occAt("acme", "a", fmt.Sprintf("e%02d", i), base.Add(-time.Duration(i)*time.Second), here)
		for range 3 { // each delivered three times at once
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.Record(t.Context(), o); err != nil {
					t.Errorf("Record: %v", err)
				}
			}()
		}
	}
	wg.Wait()
	mustRecord(t, s, occAt("acme", "a", "x", base.Add(-time.Hour), there))
	again := occAt("acme", "a", "x", base.Add(-time.Hour), there)
	if fresh, err := s.Record(t.Context(), again); err != nil || fresh {
		t.Fatalf("a redelivery: fresh %v err %v", fresh, err)
	}
	d, err := s.Detail(t.Context(), problems.ID("acme", "prod", "a"), base)
	if err != nil {
		t.Fatal(err)
	}
	var hours int64
	for _, b := range d.Hourly {
		hours += b.Count
	}
	want := []problems.Tally{{ID: here.account, Count: n}, {ID: there.account, Count: 1}}
	if d.Count != n+1 || hours != n+1 || !slices.Equal(d.Affected.Accounts, want) {
		t.Fatalf("count %d, hourly sum %d, accounts %+v; want %d, %d, %+v", d.Count, hours, d.Affected.Accounts, n+1, n+1, want)
	}
	p := query(t, s, problems.Query{Sort: problems.SortRecent})
	if len(p.Problems) != 1 || p.Problems[0].Recent != n+1 {
		t.Fatalf("recent count in the list %+v, want %d", p.Problems, n+1)
	}
}
