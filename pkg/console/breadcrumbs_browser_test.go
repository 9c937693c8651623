package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
)

// A stream interleaving two invocations, each failing: every problem's API answer and
// page show the lines of its own invocation only, never the other invocation's nor those
// of another stream, with time and level.
func TestLogsOfThisInvocationInABrowser(t *testing.T) {
	l := start(t, t.TempDir())
	d, key, err := l.srv.Drains().Create(context.Background(), "acme", "prod")
	if err != nil {
		t.Fatal(err)
	}
	body, wantA, wantB := fht.Interleaved("req-crumbs")
	if st := l.deliver(d.ID, key, body); st != 200 {
		t.Fatalf("delivery answered %d", st)
	}
	l.group()
	var list []struct{ ID, Title string }
	if st := l.get("/api/problems", &list); st != 200 || len(list) != 2 {
		t.Fatalf("GET /api/problems: %d %+v", st, list)
	}
	ctx := browser(t)
	for _, p := range list {
		want := wantA
		if strings.Contains(p.Title, "RangeError") {
			want = wantB
		}
		var full struct {
			Sample struct {
				Breadcrumbs []struct{ Time, Level, Message string }
			}
			Recent []struct {
				Breadcrumbs []struct{ Message string }
			}
		}
		if st := l.get("/api/problems/"+p.ID, &full); st != 200 {
			t.Fatalf("GET /api/problems/%s: %d", p.ID, st)
		}
		bc := full.Sample.Breadcrumbs
		if len(bc) != len(want) || len(full.Recent) != 1 || len(full.Recent[0].Breadcrumbs) != len(want) {
			t.Fatalf("%s: API breadcrumbs %+v (recent %+v), want %q", p.Title, bc, full.Recent, want)
		}
		for i, w := range want {
			if strings.TrimSpace(bc[i].Message) != w || bc[i].Time == "" || !strings.HasPrefix(bc[i].Time, "2023-11-14T22:13:20") {
				t.Errorf("%s: breadcrumb %d = %+v, want %q with its time", p.Title, i, bc[i], w)
			}
		}
		if bc[2].Level != "warn" && bc[2].Level != "info" {
			t.Errorf("%s: breadcrumb level %q", p.Title, bc[2].Level)
		}

		if err := chromedp.Do(ctx, chromedp.Navigate(l.http.URL+"/problems/"+p.ID), chromedp.WaitVisible(chromedp.CSS(`#breadcrumbs`))); err != nil {
			t.Fatal(err)
		}
		heading, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('h2')].map(h => h.innerText).find(t => t.startsWith('Logs of'))`))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](`[...document.querySelectorAll('#breadcrumbs tr.crumb')].map(tr => [...tr.querySelectorAll('td')].map(td => td.innerText.trim()))`))
		if err != nil {
			t.Fatal(err)
		}
		if heading != "Logs of this invocation" || len(rows) != len(want) {
			t.Fatalf("%s: page section %q with rows %q, want %d rows", p.Title, heading, rows, len(want))
		}
		for i, w := range want {
			if rows[i][2] != w || !strings.HasPrefix(rows[i][0], "22:13:20.0") {
				t.Errorf("%s: row %d = %q, want time, level and %q", p.Title, i, rows[i], w)
			}
		}
		for _, r := range rows {
			if strings.Contains(r[2], "OTHER STREAM") || (p.Title != "" && strings.Contains(r[2], map[bool]string{true: fht.ReqA, false: fht.ReqB}[strings.Contains(p.Title, "RangeError")])) {
				t.Errorf("%s: a line of another invocation or stream: %q", p.Title, r[2])
			}
		}
		if rows[2][1] == "" {
			t.Errorf("%s: no level shown in %q", p.Title, rows[2])
		}
	}
}
