package console_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
)

// requireChromium makes a missing browser a failure instead of a skip (CI sets it).
const requireChromium = "AIENT_REQUIRE_CHROMIUM"

// theBrowser is the package's one Chromium, started by the first test that needs it and
// stopped by TestMain: each test gets a tab of its own (its own target, so no page state
// is shared but the process and its start-up are).
var theBrowser struct {
	once   sync.Once
	ctx    context.Context // the browser's; tabs are contexts under it
	err    error
	cancel func()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if theBrowser.cancel != nil {
		theBrowser.cancel()
	}
	os.Exit(code)
}

func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser is a new tab in the package's Chromium, closed when the test ends, with 90 s
// for the test's steps.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		msg := "no chromium on PATH: install Debian's chromium package to run the browser test"
		if os.Getenv(requireChromium) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	theBrowser.once.Do(func() {
		dir, err := os.MkdirTemp("", "console-chromium-")
		if err != nil {
			theBrowser.err = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-quic", true),
			chromedp.UserDataDir(dir),
			chromedp.WindowSize(1280, 900),
		)
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, cancelBrowser := chromedp.NewContext(actx)
		theBrowser.ctx = bctx
		theBrowser.cancel = func() { cancelBrowser(); cancelAlloc(); _ = os.RemoveAll(dir) }
		theBrowser.err = chromedp.Do(bctx) // starts the browser (its first tab stays blank)
	})
	if theBrowser.err != nil {
		t.Fatalf("start chromium: %v", theBrowser.err)
	}
	ctx, cancelTab := chromedp.NewContext(theBrowser.ctx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelTab() })
	return ctx
}

// A person opens the problems page, sees each bug once with its count, clicks the
// busiest one and reads its stack and sample event; the drain page shows Receiving.
func TestProblemPagesInABrowser(t *testing.T) {
	l := start(t, t.TempDir())
	d, key, err := l.srv.Drains().Create(context.Background(), "acme", "prod")
	if err != nil {
		t.Fatal(err)
	}
	body := fht.Body("req-1", fht.Record("/aws/lambda/pay", "2026/11/21/[$LATEST]a",
		fht.ErrorEvent(1), fht.ErrorEvent(2), fht.ErrorEvent(3), fht.OtherErrorEvent(1), fht.InfoEvent(1)))
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
	text := func(css string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
		must(err)
		return v
	}
	texts := func(js string) []string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](js))
		must(err)
		return v
	}

	must(chromedp.Do(ctx, chromedp.Navigate(l.http.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#problems tr.problem`))))
	titles := texts(`[...document.querySelectorAll('#problems tr.problem a.title')].map(a => a.innerText)`)
	counts := texts(`[...document.querySelectorAll('#problems tr.problem td.count')].map(td => td.innerText)`)
	if len(titles) != 2 || len(counts) != 2 {
		t.Fatalf("the problems page shows %v with counts %v, want 2 rows", titles, counts)
	}
	var payment string
	for i, ti := range titles {
		switch {
		case strings.Contains(ti, "PaymentError"):
			payment = ti
			if counts[i] != "3" {
				t.Errorf("PaymentError shows count %s, want 3", counts[i])
			}
		case strings.Contains(ti, "KeyError"):
			if counts[i] != "1" {
				t.Errorf("KeyError shows count %s, want 1", counts[i])
			}
		default:
			t.Errorf("unexpected row %q", ti)
		}
	}
	if payment == "" {
		t.Fatalf("no PaymentError row among %v", titles)
	}

	// Click through to the problem page: its title, count, in-app frames and message.
	must(chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(`//a[contains(@class,"title")][contains(., "PaymentError")]`)),
		chromedp.WaitVisible(chromedp.CSS(`#frames`)),
	))
	title, count, message := text(`#title`), text(`#count`), text(`#message`)
	inApp := texts(`[...document.querySelectorAll('#frames li.app')].map(li => li.innerText)`)
	if title != payment || count != "3" || !strings.Contains(message, "charge failed") {
		t.Errorf("problem page: title %q count %q message %q", title, count, message)
	}
	if len(inApp) == 0 || !strings.Contains(inApp[0], "charge") {
		t.Errorf("in-app frames shown: %v, want the top one to be charge", inApp)
	}

	must(chromedp.Do(ctx, chromedp.Navigate(l.http.URL+"/drains/"+d.ID), chromedp.WaitVisible(chromedp.CSS(`#status`))))
	if status := text(`#status`); status != "Receiving" {
		t.Errorf("drain page status %q, want Receiving", status)
	}
	if dir := os.Getenv("AIENT_SCREENSHOTS"); dir != "" {
		for name, path := range map[string]string{"problems": "/", "drain": "/drains/" + d.ID} {
			must(chromedp.Do(ctx, chromedp.Navigate(l.http.URL+path)))
			shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			must(err)
			must(os.WriteFile(filepath.Join(dir, name+".png"), shot, 0o644))
		}
	}
}
