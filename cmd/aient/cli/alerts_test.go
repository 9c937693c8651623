package cli_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/cmd/aient/cli"
	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/internal/testkit/logtest"
	"github.com/aient/firehose-drain/pkg/alerts"
	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/problems"
)

// hookServer is a webhook receiver that keeps every call.
type hookServer struct {
	*httptest.Server
	mu    sync.Mutex
	calls []hookCall
}

type hookCall struct {
	body []byte
	head http.Header
}

func newHook(t *testing.T) *hookServer {
	h := &hookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.calls = append(h.calls, hookCall{b, r.Header.Clone()})
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) docs(t *testing.T, key string) []alerts.Document {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []alerts.Document
	for _, c := range h.calls {
		if got, want := c.head.Get("X-Aient-Signature"), alerts.Sign(key, c.body); got != want {
			t.Fatalf("signature %q, want %q", got, want)
		}
		var d alerts.Document
		if err := json.Unmarshal(c.body, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// The local server end to end: an alert for the new problem, resolve through the API, a
// new occurrence regresses it, and exactly one regression alert reaches the webhook.
func TestResolveThenRegressOnTheLocalServer(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	now := time.Now().UTC().Truncate(time.Millisecond)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	st, err := embedded.Open(dir, embedded.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log, _ := logtest.Logger()
	hook := newHook(t)

	var l *cli.Local
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { l.Handler().ServeHTTP(w, r) }))
	defer hs.Close()
	l = cli.NewLocal(st, cli.LocalConfig{EndpointBase: hs.URL, Now: clock, Logger: log})
	ctx := t.Context()

	code, out, errOut := aient(t, dir, "alerts", "add", "--webhook", hook.URL+"/in?token=SECRETTOKEN", "--secret", "k3y", "--json")
	if code != 0 {
		t.Fatalf("alerts add: %d %s", code, errOut)
	}
	dest := mustJSON[alerts.Destination](t, out)
	if dest.Type != alerts.Webhook || strings.Contains(out, "SECRETTOKEN") || strings.Contains(out, "k3y") {
		t.Fatalf("alerts add printed %s", out)
	}

	d, key, err := l.Drains().Create(ctx, "acme", "prod")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	send := func() {
		t.Helper()
		n++
		ev := fht.ErrorEvent(n)
		ev.Timestamp = clock().Add(-time.Second).UnixMilli()
		body := fht.Body("req-"+string(rune('a'+n)), fht.Record("/aws/lambda/pay", "2026/12/01/[$LATEST]abc", ev))
		req, _ := http.NewRequest(http.MethodPost, hs.URL+"/aws/firehose/"+d.ID, bytes.NewReader(body))
		req.Header.Set("X-Amz-Firehose-Access-Key", key)
		req.Header.Set("X-Amz-Firehose-Request-Id", "req-"+string(rune('a'+n)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("delivery answered %d", resp.StatusCode)
		}
		if _, err := l.GroupOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	deliver := func() {
		t.Helper()
		for range 2 { // a second round sends nothing more
			if _, err := l.DeliverOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	post := func(path, ctype, body string) (int, problems.Problem) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, hs.URL+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var p problems.Problem
		_ = json.NewDecoder(resp.Body).Decode(&p)
		return resp.StatusCode, p
	}
	get := func(path string, v any) {
		t.Helper()
		resp, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}

	send()
	if ps, _ := st.Problems().List(ctx, "", ""); len(ps) != 1 {
		t.Fatalf("problems after the first delivery: %+v", ps)
	}
	if pend, err := st.Outbox().Pending(ctx, clock(), 10); len(pend) != 1 {
		t.Fatalf("outbox after the first delivery: %+v %v", pend, err)
	}
	deliver()
	docs := hook.docs(t, "k3y")
	if len(docs) != 1 || docs[0].Kind != alerts.KindNew || docs[0].Problem == nil || docs[0].Problem.Org != "acme" {
		t.Fatalf("after the first occurrence the webhook got %+v, want one new alert", docs)
	}
	id := docs[0].Problem.ID
	if !strings.HasPrefix(docs[0].Problem.URL, hs.URL+"/problems/") {
		t.Fatalf("problem URL %q, want the local console", docs[0].Problem.URL)
	}

	if code, _ := post("/api/problems/"+id+"/resolve", "", ""); code != http.StatusUnsupportedMediaType {
		t.Fatalf("a resolve without a JSON content type answered %d, want 415 (no cross-site forms)", code)
	}
	advance(time.Minute)
	code, p := post("/api/problems/"+id+"/resolve", "application/json", "")
	if code != 200 || p.State != problems.Resolved || p.ResolvedAt.IsZero() {
		t.Fatalf("resolve: %d %+v", code, p.Lifecycle)
	}
	var resolved []problems.Summary
	get("/api/problems?state=resolved", &resolved)
	if len(resolved) != 1 || resolved[0].ID != id || resolved[0].State != problems.Resolved {
		t.Fatalf("GET ?state=resolved: %+v", resolved)
	}
	var unresolved []problems.Summary
	get("/api/problems?state=unresolved", &unresolved)
	if len(unresolved) != 0 {
		t.Fatalf("GET ?state=unresolved: %+v", unresolved)
	}

	advance(time.Minute)
	send()
	var got map[string]any
	get("/api/problems/"+id, &got)
	if got["state"] != "unresolved" || got["substate"] != "regressed" || got["regressedAt"] == nil || got["resolvedAt"] == nil {
		t.Fatalf("after a new occurrence: state %v/%v regressedAt %v", got["state"], got["substate"], got["regressedAt"])
	}
	deliver()
	docs = hook.docs(t, "k3y")
	regressions := 0
	for _, d := range docs {
		if d.Kind == alerts.KindRegressed {
			regressions++
		}
	}
	if len(docs) != 2 || regressions != 1 {
		t.Fatalf("the webhook got %d alerts, %d regressions; want the new one and exactly one regression", len(docs), regressions)
	}

	// Ignore through the API, then the CLI's own actions and listing.
	code, p = post("/api/problems/"+id+"/ignore", "application/json", `{"untilCount":5}`)
	if code != 200 || p.State != problems.Ignored || p.IgnoredUntilCount != p.Count+5 {
		t.Fatalf("ignore: %d %+v", code, p.Lifecycle)
	}
	if code, _ := post("/api/problems/"+id+"/ignore", "application/json", `{"for":"soon"}`); code != http.StatusBadRequest {
		t.Fatalf("a bad duration answered %d", code)
	}
	if code, _ := post("/api/problems/nope/resolve", "application/json", "{}"); code != http.StatusNotFound {
		t.Fatalf("an unknown problem answered %d", code)
	}
	_, out, _ = aient(t, dir, "problems", "list", "--json")
	if list := mustJSON[[]problems.Problem](t, out); len(list) != 0 {
		t.Fatalf("problems list (unresolved by default) = %d problems, want 0 while it is ignored", len(list))
	}
	_, out, _ = aient(t, dir, "problems", "list", "--state", "ignored", "--json")
	if list := mustJSON[[]problems.Problem](t, out); len(list) != 1 || list[0].State != problems.Ignored {
		t.Fatalf("problems list --state ignored: %s", out)
	}
	code, out, _ = aient(t, dir, "problems", "reopen", id, "--json")
	if p := mustJSON[problems.Problem](t, out); code != 0 || p.State != problems.Unresolved || p.Substate != problems.Ongoing {
		t.Fatalf("problems reopen: %d %s", code, out)
	}
	code, out, _ = aient(t, dir, "problems", "ignore", id, "--for", "24h", "--json")
	if p := mustJSON[problems.Problem](t, out); code != 0 || p.IgnoredUntil.IsZero() {
		t.Fatalf("problems ignore --for: %d %s", code, out)
	}
	if code, _, errOut := aient(t, dir, "problems", "ignore", id, "--for", "1h", "--until-count", "3"); code != 2 {
		t.Fatalf("two ignore conditions: exit %d %s", code, errOut)
	}
	code, out, _ = aient(t, dir, "problems", "show", id, "--json")
	shown := mustJSON[map[string]any](t, out)
	if hourly, _ := shown["hourly"].([]any); code != 0 || len(hourly) == 0 || shown["ignoredUntil"] == nil {
		t.Fatalf("problems show --json: %s", out)
	}
	if code, out, _ = aient(t, dir, "problems", "resolve", id); code != 0 || !strings.Contains(out, "resolved") {
		t.Fatalf("problems resolve: %d %s", code, out)
	}

	// The destination's record, a test alert, and its removal with its secret.
	_, out, _ = aient(t, dir, "alerts", "list", "--json")
	list := mustJSON[[]alerts.Destination](t, out)
	if len(list) != 1 || list[0].Sent != 2 || list[0].Health != alerts.Healthy || strings.Contains(out, "SECRETTOKEN") {
		t.Fatalf("alerts list: %s", out)
	}
	if code, _, errOut := aient(t, dir, "alerts", "test", dest.ID, "--console-url", "https://console.example"); code != 0 {
		t.Fatalf("alerts test: %d %s", code, errOut)
	}
	docs = hook.docs(t, "k3y")
	if last := docs[len(docs)-1]; last.Kind != alerts.KindTest || !strings.HasPrefix(last.Problem.URL, "https://console.example/problems/") {
		t.Fatalf("the test alert: %+v", last)
	}
	if code, _, _ := aient(t, dir, "alerts", "remove", dest.ID); code != 0 {
		t.Fatal("alerts remove failed")
	}
	if code, _, _ := aient(t, dir, "alerts", "test", dest.ID); code == 0 {
		t.Fatal("a removed destination can still be tested")
	}
	for _, bad := range [][]string{
		{"alerts", "add"},
		{"alerts", "add", "--webhook", "https://a", "--slack-webhook", "https://b"},
		{"alerts", "add", "--slack-webhook", "https://b", "--secret", "s"},
		{"alerts", "add", "--sns-topic", "not-an-arn"},
		{"alerts", "add", "--webhook", "ftp://x"},
		{"alerts", "add", "--webhook", "https://a", "--org", "acme"},
	} {
		if code, _, _ := aient(t, dir, bad...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)", bad, code)
		}
	}
}
