package console_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/aient/firehose-drain/pkg/console"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/problems"
)

// seeded is a console over an embedded store holding 60 problems: problem i has i+1
// occurrences, was last seen i minutes ago, is fatal when i%5 == 0, and comes from log
// group /aws/lambda/even or /aws/lambda/odd; titles say "Error<i>" and the messages of every
// seventh one name a "gateway".
func seeded(t *testing.T, now time.Time) (*httptest.Server, *embedded.Store) {
	t.Helper()
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var occs []problems.Occurrence
	for i := range 60 {
		group := "/aws/lambda/even"
		if i%2 == 1 {
			group = "/aws/lambda/odd"
		}
		level := "error"
		if i%5 == 0 {
			level = "fatal"
		}
		msg := fmt.Sprintf("Error%02d: failed", i)
		if i%7 == 0 {
			msg += " calling the payment gateway"
		}
		for k := range i + 1 {
			at := now.Add(-time.Duration(i)*time.Minute - time.Duration(k)*time.Hour)
			occs = append(occs, problems.Occurrence{
				Identity: event.Identity("drn_x", "123456789012", group, "s", fmt.Sprintf("%d-%d", i, k)),
				Org:      "acme", Env: "prod", Fingerprint: fmt.Sprintf("fp%02d", i),
				Title: fmt.Sprintf("Error%02d: failed", i), Culprit: fmt.Sprintf("handler%02d (app.js)", i), Level: level, At: at,
				Sample: problems.Sample{
					Account: "123456789012", Region: "eu-west-1", LogGroup: group, LogStream: "2026/12/01/[$LATEST]s",
					EventID: fmt.Sprintf("%d-%d", i, k), RequestID: fmt.Sprintf("req-%d-%d", i, k), Timestamp: at.UnixMilli(), Message: msg,
					Frames: []problems.Frame{
						{Function: "handler", File: "/var/task/app.js", Line: 3, InApp: true},
						{Function: "lib1", File: "/var/task/node_modules/x/a.js", Line: 1},
						{Function: "lib2", File: "/var/task/node_modules/x/b.js", Line: 2},
						{Function: "Runtime.handleOnce", File: "/var/runtime/Runtime.js", Line: 9},
					},
				},
			})
		}
	}
	batcher, ok := st.Problems().(interface {
		RecordBatch(context.Context, []problems.Occurrence) []problems.Result
	})
	if !ok {
		t.Fatal("the embedded problem store has no RecordBatch")
	}
	for _, r := range batcher.RecordBatch(t.Context(), occs) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	srv := httptest.NewServer(console.New(console.Backend{Problems: st.Reader(), Drains: st.Drains()}, console.Config{Now: func() time.Time { return now }}).Handler())
	t.Cleanup(srv.Close)
	return srv, st
}

func rows(t *testing.T, ctx context.Context, what string) []string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('`+what+`')].map(e => (e.innerText ?? e.textContent ?? "").trim())`))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func location(t *testing.T, ctx context.Context) url.Values {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// A person triages in the list: searches, filters by level and log group, sorts by count,
// pages through 60 problems 50 at a time, and every view is in the URL.
func TestTriageTheProblemsListInABrowser(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
	srv, _ := seeded(t, now)
	ctx := browser(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	titles := func() []string { return rows(t, ctx, "#problems tr.problem a.title") }

	must(chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#problems`))))
	first := titles()
	if len(first) != console.PageSize || first[0] != "Error00: failed" || first[49] != "Error49: failed" {
		t.Fatalf("the first page shows %d rows from %q to %q, want 50 from Error00 (last seen first)", len(first), first[0], first[len(first)-1])
	}
	if n := len(rows(t, ctx, "#problems td.trend svg.spark")); n != console.PageSize {
		t.Errorf("%d rows have a sparkline, want all %d", n, console.PageSize)
	}
	// Paginate.
	must(chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#next-page`)), chromedp.WaitVisible(chromedp.CSS(`#first-page`))))
	second := titles()
	if len(second) != 10 || second[0] != "Error50: failed" || second[9] != "Error59: failed" {
		t.Fatalf("the second page shows %v", second)
	}
	if location(t, ctx).Get("cursor") == "" {
		t.Error("the page's cursor is not in the URL")
	}
	if n := len(rows(t, ctx, "#next-page")); n != 0 {
		t.Error("the last page offers a next page")
	}

	// Search the message text.
	must(chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#filters`)),
		chromedp.SetValue(chromedp.CSS(`#filters input[name=q]`), "GATEWAY"),
		chromedp.Submit(chromedp.CSS(`#filters input[name=q]`)),
		chromedp.WaitVisible(chromedp.CSS(`#problems`))))
	want := []string{}
	for i := 0; i < 60; i += 7 {
		want = append(want, fmt.Sprintf("Error%02d: failed", i))
	}
	if got := titles(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("search gateway: %v, want %v", got, want)
	}
	if location(t, ctx).Get("q") != "GATEWAY" {
		t.Errorf("the search is not in the URL: %v", location(t, ctx))
	}

	// Filter by level and log group, sort by count: the URL holds the view.
	must(chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#filters`)),
		chromedp.SetValue(chromedp.CSS(`#filters select[name=level]`), "fatal"),
		chromedp.SetValue(chromedp.CSS(`#filters input[name=logGroup]`), "/aws/lambda/odd"),
		chromedp.SetValue(chromedp.CSS(`#filters select[name=sort]`), "count"),
		chromedp.Submit(chromedp.CSS(`#filters input[name=q]`)),
		chromedp.WaitVisible(chromedp.CSS(`#problems`))))
	got := titles()
	want = nil
	for i := 59; i >= 0; i-- {
		if i%5 == 0 && i%2 == 1 {
			want = append(want, fmt.Sprintf("Error%02d: failed", i))
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("fatal in /aws/lambda/odd by count: %v, want %v", got, want)
	}
	counts := rows(t, ctx, "#problems td.count")
	for i := 1; i < len(counts); i++ {
		a, _ := strconv.Atoi(counts[i-1])
		b, _ := strconv.Atoi(counts[i])
		if a < b {
			t.Errorf("counts not descending: %v", counts)
		}
	}
	q := location(t, ctx)
	if q.Get("level") != "fatal" || q.Get("logGroup") != "/aws/lambda/odd" || q.Get("sort") != "count" {
		t.Errorf("the view is not in the URL: %v", q)
	}
	// The shared URL opens the same view.
	shared := srv.URL + "/?" + q.Encode()
	must(chromedp.Do(ctx, chromedp.Navigate(shared), chromedp.WaitVisible(chromedp.CSS(`#problems`))))
	if again := titles(); strings.Join(again, ",") != strings.Join(got, ",") {
		t.Errorf("the shared URL shows %v, want %v", again, got)
	}

	// Sort by the last 24 hours: problem i has min(i+1, 24) occurrences in them.
	must(chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/?sort=recent"), chromedp.WaitVisible(chromedp.CSS(`#problems`))))
	recent := rows(t, ctx, "#problems td.trend")
	if len(recent) == 0 {
		t.Fatal("no rows")
	}
	firstRecent, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#problems td.trend').dataset.recent`))
	must(err)
	if firstRecent != "24" {
		t.Errorf("sorted by recent the first row has %s in 24 h, want 24", firstRecent)
	}

	// At 420 px the list does not scroll sideways.
	must(chromedp.Do(ctx, chromedp.EmulateViewport(420, 800), chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#problems`))))
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	must(err)
	if width > 420 {
		t.Errorf("at 420 px the problems page is %d px wide: it scrolls sideways", width)
	}
}

// A person opens a problem: the hourly and daily charts, who is affected, the last 10
// occurrences with links to CloudWatch, the stack with library frames folded.
func TestProblemDetailInABrowser(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
	srv, _ := seeded(t, now)
	ctx := browser(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Error29: 30 occurrences, one an hour back from 29 minutes ago.
	id := problems.ID("acme", "prod", "fp29")
	must(chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/problems/"+id), chromedp.WaitVisible(chromedp.CSS(`#chart-hourly`))))
	hourly, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[...document.querySelectorAll('#chart-hourly rect')].map(r => +r.dataset.count)`))
	must(err)
	daily, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[...document.querySelectorAll('#chart-daily rect')].map(r => +r.dataset.count)`))
	must(err)
	sum := func(l []int) (n int) {
		for _, v := range l {
			n += v
		}
		return n
	}
	if len(hourly) != 24 || sum(hourly) != 24 || len(daily) != 14 || sum(daily) != 30 {
		t.Errorf("charts: %d hourly bars summing to %d (want 24, 24), %d daily summing to %d (want 14, 30)", len(hourly), sum(hourly), len(daily), sum(daily))
	}
	affected := rows(t, ctx, `#affected table[data-kind=logGroups] tbody tr`)
	accounts := rows(t, ctx, `#affected table[data-kind=accounts] tbody tr`)
	if len(affected) != 1 || !strings.Contains(affected[0], "/aws/lambda/odd") || !strings.Contains(affected[0], "30") ||
		len(accounts) != 1 || !strings.Contains(accounts[0], "123456789012") {
		t.Errorf("affected: log groups %q, accounts %q", affected, accounts)
	}
	recent := rows(t, ctx, `#recent tr.occurrence`)
	links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#recent a.cw')].map(a => a.href)`))
	must(err)
	if len(recent) != problems.RecentOccurrences || len(links) != problems.RecentOccurrences || !strings.Contains(recent[0], "req-29-0") {
		t.Errorf("recent: %d rows, %d links; first %q", len(recent), len(links), recent[0])
	}
	for _, l := range links {
		if !strings.HasPrefix(l, "https://eu-west-1.console.aws.amazon.com/cloudwatch/") {
			t.Errorf("link %s", l)
		}
	}
	inApp := rows(t, ctx, `#frames li.app`)
	folded, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#frames details.lib')].map(d => d.open + ':' + d.querySelector('summary').innerText)`))
	must(err)
	if len(inApp) != 1 || !strings.Contains(inApp[0], "handler") || len(folded) != 1 || folded[0] != "false:3 library frames" {
		t.Errorf("stack: in-app %v, folded %v", inApp, folded)
	}
	abs := rows(t, ctx, `dl dd .abs`)
	if len(abs) < 2 || !strings.HasSuffix(abs[0], "UTC") {
		t.Errorf("absolute times beside the relative ones: %v", abs)
	}
}

// A drain that answered 60 deliveries shows the latest 50 of them, and its errors apart.
func TestDrainDeliveriesInABrowser(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
	srv, st := seeded(t, now)
	ctx := browser(t)
	if err := st.Drains().Create(t.Context(), drains.Drain{ID: "drn_sixty", Org: "acme", Env: "prod", State: drains.StateActive, CreatedAt: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		e := drains.LogEntry{At: now.Add(time.Duration(i-60) * time.Second), Status: 200, Events: int64(i)}
		if i%10 == 0 {
			e.Status, e.Reason = 400, fmt.Sprintf("record 0: not gzip and not JSON (%d)", i)
		}
		if err := st.Drains().RecordDelivery(t.Context(), "drn_sixty", drains.Delivery{At: e.At, Data: true, Counters: drains.Counters{Deliveries: 1}, Log: []drains.LogEntry{e}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/drains/drn_sixty"), chromedp.WaitVisible(chromedp.CSS(`#deliveries`))); err != nil {
		t.Fatal(err)
	}
	deliveries := rows(t, ctx, `#deliveries tr.delivery`)
	errs := rows(t, ctx, `#errors tr.error`)
	count, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#deliveries-count`)))
	if err != nil {
		t.Fatal(err)
	}
	if len(deliveries) != drains.LogDeliveries || len(errs) != 6 || !strings.HasPrefix(count, "60") {
		t.Errorf("the drain page shows %d deliveries (want 50), %d errors (want 6), count %q (want 60)", len(deliveries), len(errs), count)
	}
	if !strings.Contains(deliveries[0], "59") {
		t.Errorf("the newest delivery is not first: %q", deliveries[0])
	}
}
