package console_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
)

// lambdaLine is a Lambda text line of request req, n ms after at.
func lambdaLine(id int, at time.Time, req, lvl, msg string) fht.LogEvent {
	t := at.Add(time.Duration(id) * time.Millisecond)
	return fht.LogEvent{
		ID:        fmt.Sprintf("3756391051148675962444450325050237320491713975920%07d", id),
		Timestamp: t.UnixMilli(),
		Message:   fmt.Sprintf("%s\t%s\t%s\t%s\n", t.UTC().Format("2006-01-02T15:04:05.000Z"), req, lvl, msg),
	}
}

// A person opens the logs page from the nav, searches a word, narrows by level, follows a
// request id, and comes to a stream's lines from a problem's occurrence; the filters stay in
// the URL.
func TestLogsPageInABrowser(t *testing.T) {
	l := start(t, t.TempDir())
	d, key, err := l.srv.Drains().Create(context.Background(), "acme", "prod")
	if err != nil {
		t.Fatal(err)
	}
	const reqA, reqB = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"
	at := time.Now().Add(-10 * time.Minute)
	body := fht.Body("req-1",
		fht.Record("/aws/lambda/pay", "2026/11/21/[$LATEST]a",
			lambdaLine(1, at, reqA, "INFO", "charging card for order 42"),
			lambdaLine(2, at, reqA, "ERROR", "TypeError: Cannot read properties of undefined (reading 'card')\n    at charge (/var/task/src/pay.js:10:5)\n    at handler (/var/task/src/index.js:12:3)"),
			lambdaLine(3, at, reqB, "INFO", "charging card for order 43"),
		),
		fht.Record("/aws/lambda/stock", "2026/11/21/[$LATEST]b",
			lambdaLine(4, at, reqB, "WARN", "inventory slow <script>alert(1)</script>"),
		),
	)
	if st := l.deliver(d.ID, key, body); st != 200 {
		t.Fatalf("delivery answered %d", st)
	}
	l.group()

	ctx := browser(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	texts := func(js string) []string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](js))
		must(err)
		return v
	}
	messages := func() []string {
		t.Helper()
		return texts(`[...document.querySelectorAll('#logs tr.line pre.message')].map(p => p.innerText.trim())`)
	}
	location := func() *url.URL {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
		must(err)
		u, err := url.Parse(v)
		must(err)
		return u
	}
	wantLines := func(step string, want ...string) {
		t.Helper()
		got := messages()
		if len(got) != len(want) {
			t.Fatalf("%s: %d lines %q, want %d", step, len(got), got, len(want))
		}
		for i := range want {
			if !strings.Contains(got[i], want[i]) {
				t.Errorf("%s: line %d is %q, want it to contain %q", step, i, got[i], want[i])
			}
		}
	}

	// From the problems page, the nav leads to the logs: every line, newest first, the
	// markup in a message shown as text.
	must(chromedp.Do(ctx, chromedp.Navigate(l.http.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#nav-logs`)),
		chromedp.Click(chromedp.CSS(`#nav-logs`)), chromedp.WaitVisible(chromedp.CSS(`#logs tr.line`))))
	wantLines("all", "<script>alert(1)</script>", "order 43", "TypeError", "order 42")
	if lv := texts(`[...document.querySelectorAll('#logs .level')].map(e => e.innerText)`); strings.Join(lv, ",") != "warn,info,error,info" {
		t.Errorf("levels shown %v", lv)
	}

	// Search a word and a level with the form: the filters land in the URL.
	must(chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#log-filters input[name=q]`), "card"),
		chromedp.SetValue(chromedp.CSS(`#log-filters select[name=level]`), "info"),
		chromedp.Submit(chromedp.CSS(`#log-filters`)),
		chromedp.WaitVisible(chromedp.CSS(`#logs tr.line`)),
	))
	wantLines("q=card level=info", "order 43", "order 42")
	if q := location().Query(); q.Get("q") != "card" || q.Get("level") != "info" {
		t.Errorf("the URL keeps %v", q)
	}
	// The form shows the filters of the URL.
	if v := texts(`[document.querySelector('#log-filters input[name=q]').value, document.querySelector('#log-filters select[name=level]').value]`); v[0] != "card" || v[1] != "info" {
		t.Errorf("the form shows %v", v)
	}

	// A request id links to that invocation's lines.
	must(chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(`//a[contains(@class,"request")][contains(., "`+reqB+`")]`)),
		chromedp.WaitVisible(chromedp.CSS(`#logs tr.line`)),
	))
	wantLines("requestId", "<script>", "order 43")
	if q := location().Query(); q.Get("requestId") != reqB || q.Get("q") != "" {
		t.Errorf("the request link leads to %v", q)
	}

	// Nothing matches: the page says so and offers to clear the filters.
	must(chromedp.Do(ctx, chromedp.Navigate(l.http.URL+"/logs?q=nosuchword"), chromedp.WaitVisible(chromedp.CSS(`#no-logs`))))
	if v := texts(`[document.querySelector('#no-logs').innerText]`); !strings.Contains(v[0], "No log line matches") {
		t.Errorf("empty page says %q", v)
	}
	// A bad query is a styled 400 page.
	must(chromedp.Do(ctx, chromedp.Navigate(l.http.URL+"/logs?level=loud"), chromedp.WaitVisible(chromedp.CSS(`main`))))
	if v := texts(`[document.body.innerText]`); !strings.Contains(v[0], "level") {
		t.Errorf("bad query page: %q", v)
	}

	// From the problem's recent occurrence to its stream's lines up to that moment.
	must(chromedp.Do(ctx, chromedp.Navigate(l.http.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#problems tr.problem`)),
		chromedp.Click(chromedp.CSS(`#problems a.title`)), chromedp.WaitVisible(chromedp.CSS(`#recent a.logs`)),
		chromedp.Click(chromedp.CSS(`#recent a.logs`)), chromedp.WaitVisible(chromedp.CSS(`#logs tr.line`)),
	))
	wantLines("occurrence", "order 43", "TypeError", "order 42")
	if q := location().Query(); q.Get("logGroup") != "/aws/lambda/pay" || q.Get("stream") != "2026/11/21/[$LATEST]a" || q.Get("until") == "" {
		t.Errorf("the occurrence link leads to %v", q)
	}

	// Paging: one line a page, Older and Newest.
	must(chromedp.Do(ctx, chromedp.Navigate(l.http.URL+"/logs?limit=3"), chromedp.WaitVisible(chromedp.CSS(`#next-page`)),
		chromedp.Click(chromedp.CSS(`#next-page`)), chromedp.WaitVisible(chromedp.CSS(`#first-page`))))
	wantLines("second page", "order 42")

	if dir := os.Getenv("AIENT_SCREENSHOTS"); dir != "" {
		must(chromedp.Do(ctx, chromedp.Navigate(l.http.URL+"/logs")))
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		must(err)
		must(os.WriteFile(filepath.Join(dir, "logs.png"), shot, 0o644))
	}
}
