package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aient/firehose-drain/cmd/aient/cli"
	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/embedded"
)

type local struct {
	t     *testing.T
	dir   string
	store *embedded.Store
	srv   *cli.Local
	http  *httptest.Server
}

func start(t *testing.T, dir string) *local {
	t.Helper()
	st, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := cli.NewLocal(st, cli.LocalConfig{})
	l := &local{t: t, dir: dir, store: st, srv: srv, http: httptest.NewServer(srv.Handler())}
	t.Cleanup(l.stop)
	return l
}

func (l *local) stop() {
	l.http.Close()
	l.store.Close()
}

func (l *local) deliver(id, key string, body []byte) int {
	l.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, l.http.URL+"/aws/firehose/"+id, bytes.NewReader(body))
	var b struct {
		RequestID string `json:"requestId"`
	}
	_ = json.Unmarshal(body, &b)
	req.Header.Set("X-Amz-Firehose-Request-Id", b.RequestID)
	req.Header.Set("X-Amz-Firehose-Access-Key", key)
	req.Header.Set("X-Amz-Firehose-Source-Arn", "arn:aws:firehose:eu-west-1:123456789012:deliverystream/logs")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// group runs the grouper until the queue is empty.
func (l *local) group() {
	l.t.Helper()
	for {
		n, err := l.srv.GroupOnce(context.Background())
		if err != nil {
			l.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func (l *local) get(path string, v any) int {
	l.t.Helper()
	resp, err := http.Get(l.http.URL + path)
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(b, v); err != nil {
			l.t.Fatalf("GET %s: %v: %s", path, err, b)
		}
	}
	return resp.StatusCode
}

type summary struct {
	ID, Title, Culprit, Level, Fingerprint string
	Count                                  int64
}

func TestErrorsBecomeProblemsCountedOncePerEvent(t *testing.T) {
	l := start(t, t.TempDir())
	d, key, err := l.srv.Drains().Create(context.Background(), "acme", "prod")
	if err != nil {
		t.Fatal(err)
	}
	// Three occurrences of one bug, two of another, and noise, over two records.
	body := fht.Body("req-1",
		fht.Record("/aws/lambda/pay", "2026/11/21/[$LATEST]a", fht.ErrorEvent(1), fht.InfoEvent(1), fht.ErrorEvent(2), fht.OtherErrorEvent(1)),
		fht.Record("/aws/lambda/pay", "2026/11/21/[$LATEST]b", fht.ErrorEvent(3), fht.OtherErrorEvent(2), fht.InfoEvent(2)))
	if st := l.deliver(d.ID, key, body); st != 200 {
		t.Fatalf("delivery answered %d", st)
	}
	// Firehose retries the same batch (a lost answer): nothing counts twice.
	if st := l.deliver(d.ID, key, body); st != 200 {
		t.Fatalf("retry answered %d", st)
	}
	l.group()

	var list []summary
	if st := l.get("/api/problems", &list); st != 200 || len(list) != 2 {
		t.Fatalf("GET /api/problems: %d %+v", st, list)
	}
	counts := map[string]int64{}
	for _, p := range list {
		switch {
		case strings.Contains(p.Title, "PaymentError"):
			counts["PaymentError"] = p.Count
		case strings.Contains(p.Title, "KeyError"):
			counts["KeyError"] = p.Count
		}
		if p.Level != "error" || p.Fingerprint == "" {
			t.Errorf("problem %+v", p)
		}
	}
	if counts["PaymentError"] != 3 || counts["KeyError"] != 2 {
		t.Fatalf("counts %v, want PaymentError 3 and KeyError 2", counts)
	}

	var full struct {
		Title  string
		Count  int64
		Sample struct {
			LogGroup, LogStream, EventID string
			Frames                       []struct{ Function string }
		}
	}
	if st := l.get("/api/problems/"+list[0].ID, &full); st != 200 || full.Sample.LogGroup != "/aws/lambda/pay" || full.Sample.EventID == "" {
		t.Fatalf("GET /api/problems/{id}: %d %+v", st, full)
	}
	if st := l.get("/api/problems/nosuch", nil); st != 404 {
		t.Errorf("unknown problem answered %d", st)
	}

	var status drains.Status
	if st := l.get("/api/drains/"+d.ID, &status); st != 200 {
		t.Fatalf("GET /api/drains/{id}: %d", st)
	}
	if status.Status != drains.StatusReceiving || status.Counters.Events != 14 || status.Counters.ErrorEvents != 10 || status.Counters.Duplicates != 5 {
		t.Fatalf("drain status %+v", status)
	}
	if strings.Contains(status.Endpoint, key) {
		t.Fatal("the status shows the key")
	}
	// The drain says which source kinds feed it: here the Firehose endpoint only.
	if len(status.Sources) != 1 || status.Sources[0].Kind != drains.SourceFirehose || status.Sources[0].Deliveries != status.Counters.Deliveries {
		t.Errorf("drain sources %+v, want the firehose kind with every delivery", status.Sources)
	}
	resp, err := http.Get(l.http.URL + "/drains/" + d.ID)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(page, []byte(`id="sources"`)) || !bytes.Contains(page, []byte("<td>firehose</td><td>Receiving</td>")) {
		t.Errorf("the drain page lists no sources:\n%s", page)
	}
}

// The queue is durable: events accepted before the server dies are grouped after it restarts.
func TestKillingTheServerBetweenIngestAndGroupingLosesNothing(t *testing.T) {
	dir := t.TempDir()
	l := start(t, dir)
	d, key, err := l.srv.Drains().Create(context.Background(), "acme", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if st := l.deliver(d.ID, key, fht.Body("req-1", fht.Record("/aws/lambda/pay", "s", fht.ErrorEvent(1), fht.ErrorEvent(2)))); st != 200 {
		t.Fatalf("delivery answered %d", st)
	}
	l.stop() // no grouping happened

	l2 := start(t, dir)
	l2.group()
	var list []summary
	l2.get("/api/problems", &list)
	if len(list) != 1 || list[0].Count != 2 {
		t.Fatalf("after the restart: %+v", list)
	}
}

// GET /api/problems answers the bare list without limit and a page with it; a query it
// cannot answer is a 400 naming the parameter.
func TestProblemsAPIPages(t *testing.T) {
	l := start(t, t.TempDir())
	d, key, _ := l.srv.Drains().Create(context.Background(), "acme", "prod")
	l.deliver(d.ID, key, fht.Body("req-1", fht.Record("/aws/lambda/pay", "s", fht.ErrorEvent(1), fht.OtherErrorEvent(1))))
	l.group()
	var bare []summary
	if st := l.get("/api/problems", &bare); st != 200 || len(bare) != 2 {
		t.Fatalf("bare list: %d %+v", st, bare)
	}
	var page struct {
		Problems []summary
		Next     *string
	}
	if st := l.get("/api/problems?limit=1&sort=count", &page); st != 200 || len(page.Problems) != 1 || page.Next == nil {
		t.Fatalf("first page: %d %+v", st, page)
	}
	var second struct {
		Problems []summary
		Next     *string
	}
	if st := l.get("/api/problems?limit=1&sort=count&cursor="+*page.Next, &second); st != 200 || len(second.Problems) != 1 || second.Next != nil || second.Problems[0].ID == page.Problems[0].ID {
		t.Fatalf("second page: %d %+v", st, second)
	}
	for _, q := range []string{"sort=title", "limit=0", "limit=x", "lastSeen=forever", "cursor=zzz&limit=2"} {
		if st := l.get("/api/problems?"+q, nil); st != 400 {
			t.Errorf("GET /api/problems?%s: %d, want 400", q, st)
		}
	}
	var list []summary
	if st := l.get("/api/problems?q=paymenterror", &list); st != 200 || len(list) != 1 {
		t.Errorf("search: %d %+v", st, list)
	}
}

func TestPagesRender(t *testing.T) {
	l := start(t, t.TempDir())
	d, key, _ := l.srv.Drains().Create(context.Background(), "acme", "prod")
	l.deliver(d.ID, key, fht.Body("req-1", fht.Record("/aws/lambda/pay", "s", fht.ErrorEvent(1))))
	l.group()
	var list []summary
	l.get("/api/problems", &list)
	// Unknown pages are styled pages with the navigation, naming what was asked for.
	for path, want := range map[string]string{
		"/problems/nosuch": "problem nosuch not found", "/drains/drn_nosuch": "drain drn_nosuch not found",
		"/nosuch": "There is no page at /nosuch",
	} {
		resp, err := http.Get(l.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") ||
			!bytes.Contains(b, []byte(`href="/drains"`)) || !bytes.Contains(b, []byte("</html>")) || !bytes.Contains(b, []byte(want)) {
			t.Errorf("GET %s: %d %s: want a styled 404 saying %q", path, resp.StatusCode, b, want)
		}
	}
	for path, want := range map[string]string{"/api/problems/nosuch": "problem nosuch not found", "/api/drains/drn_x": "drain drn_x not found"} {
		var e struct{ Error string }
		resp, err := http.Get(l.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != 404 || e.Error != want {
			t.Errorf("GET %s: %d %q, want 404 %q", path, resp.StatusCode, e.Error, want)
		}
	}
	// One occurrence reads "1 event", not "1 events".
	resp, err := http.Get(l.http.URL + "/problems/" + list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(b, []byte(`<span id="count">1</span> event</p>`)) {
		t.Errorf("a problem seen once: %s", b)
	}
	for _, path := range []string{"/", "/problems/" + list[0].ID, "/drains", "/drains/" + d.ID} {
		resp, err := http.Get(l.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || !bytes.Contains(b, []byte("</html>")) {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
		}
	}
}
