package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aient/firehose-drain/cmd/aient/cli"
	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/pkg/logs"
)

// deliver posts a Firehose delivery of records to the drain and returns the status.
func deliver(t *testing.T, base, id, key, requestID string, records ...string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/aws/firehose/"+id, bytes.NewReader(fht.Body(requestID, records...)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Firehose-Request-Id", requestID)
	req.Header.Set("X-Amz-Firehose-Access-Key", key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func getLogsJSON(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", url, ct)
	}
	return resp.StatusCode, b
}

// line is a Lambda text line of request req at time ms.
func line(id int, ms int64, req, lvl, msg string) fht.LogEvent {
	return fht.LogEvent{
		ID: fmt.Sprintf("3756391051148675962444450325050237320491713975919%07d", id), Timestamp: ms,
		Message: fmt.Sprintf("%s\t%s\t%s\t%s\n", time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z"), req, lvl, msg),
	}
}

const (
	reqA = "aaaaaaaa-0000-4000-8000-000000000001"
	reqB = "bbbbbbbb-0000-4000-8000-000000000002"
)

func logsFixture(t *testing.T) (dir, base, id, key string, now int64) {
	t.Helper()
	dir = t.TempDir()
	id, key = createDrain(t, dir, "drains", "create", "--org", "acme", "--env", "prod", "--json")
	base, _, _ = serveInBackground(t, dir, "--listen", "127.0.0.1:0")
	now = time.Now().Add(-time.Minute).UnixMilli()
	st := deliver(t, base, id, key, "req-1",
		fht.Record("/aws/lambda/pay", "2026/11/21/[$LATEST]a1",
			line(1, now, reqA, "INFO", "charging card for order 42"),
			line(2, now+1, reqA, "ERROR", "PaymentDeclined: card expired"),
		),
		fht.Record("/aws/lambda/stock", "2026/11/21/[$LATEST]b1",
			line(3, now+2, reqB, "WARN", "inventory slow"),
			fht.LogEvent{ID: "4", Timestamp: now + 3, Message: "plain line without a request"},
		),
	)
	if st != 200 {
		t.Fatalf("delivery: %d", st)
	}
	return dir, base, id, key, now
}

func TestLogsAPI(t *testing.T) {
	_, base, _, _, now := logsFixture(t)

	status, body := getLogsJSON(t, base+"/api/logs")
	if status != 200 {
		t.Fatalf("GET /api/logs: %d %s", status, body)
	}
	// The documented shape, exactly: requestId only where there is one, no next on the last page.
	var raw struct {
		Logs []map[string]any `json:"logs"`
		Next *string          `json:"next"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Logs) != 4 || raw.Next != nil {
		t.Fatalf("GET /api/logs: %s", body)
	}
	for i, l := range raw.Logs {
		var keys []string
		for k := range l {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		want := []string{"eventId", "level", "logGroup", "logStream", "message", "requestId", "time"}
		if i == 0 {
			want = slices.Delete(want, 5, 6) // the plain line names no request
		}
		if !slices.Equal(keys, want) {
			t.Errorf("line %d has members %v, want %v", i, keys, want)
		}
	}
	var p logs.Page
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if got := p.Logs[0]; got.Message != "plain line without a request" || got.Level != "unknown" || got.EventID != "4" ||
		got.LogGroup != "/aws/lambda/stock" || got.LogStream != "2026/11/21/[$LATEST]b1" || !got.Time.Equal(time.UnixMilli(now+3)) {
		t.Errorf("newest line %+v", got)
	}

	for _, c := range []struct {
		query string
		want  []string // event ids, newest first
	}{
		{"q=card", []string{"3756391051148675962444450325050237320491713975919000000" + "2", "37563910511486759624444503250502373204917139759190000001"}},
		{"requestId=" + reqB, []string{"37563910511486759624444503250502373204917139759190000003"}},
		{"level=error", []string{"37563910511486759624444503250502373204917139759190000002"}},
		{"level=warn,unknown", []string{"4", "37563910511486759624444503250502373204917139759190000003"}},
		{"logGroup=/aws/lambda/pay&q=order", []string{"37563910511486759624444503250502373204917139759190000001"}},
		{fmt.Sprintf("since=%d&until=%d", now+1, now+2), []string{"37563910511486759624444503250502373204917139759190000003", "37563910511486759624444503250502373204917139759190000002"}},
		{"until=" + time.UnixMilli(now).UTC().Format(time.RFC3339Nano), []string{"37563910511486759624444503250502373204917139759190000001"}},
		{"since=1h&q=inventory", []string{"37563910511486759624444503250502373204917139759190000003"}},
		{"stream=nosuch", nil},
	} {
		status, body := getLogsJSON(t, base+"/api/logs?"+c.query)
		var p logs.Page
		if status != 200 || json.Unmarshal(body, &p) != nil {
			t.Errorf("GET /api/logs?%s: %d %s", c.query, status, body)
			continue
		}
		var got []string
		for _, l := range p.Logs {
			got = append(got, l.EventID)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("GET /api/logs?%s: %v, want %v", c.query, got, c.want)
		}
	}

	// Pages: limit and next.
	status, body = getLogsJSON(t, base+"/api/logs?limit=3")
	if err := json.Unmarshal(body, &p); err != nil || status != 200 || len(p.Logs) != 3 || p.Next == "" {
		t.Fatalf("limit=3: %d %s", status, body)
	}
	status, body = getLogsJSON(t, base+"/api/logs?limit=3&cursor="+p.Next)
	p = logs.Page{}
	if err := json.Unmarshal(body, &p); err != nil || status != 200 || len(p.Logs) != 1 || p.Next != "" || p.Logs[0].EventID != "37563910511486759624444503250502373204917139759190000001" {
		t.Fatalf("the second page: %d %s", status, body)
	}

	for _, q := range []string{"level=loud", "since=yesterday", "limit=0", "limit=5000", "q=%22%20-%20%22", "cursor=%21", "since=1h&until=2h"} {
		status, body := getLogsJSON(t, base+"/api/logs?"+q)
		var e struct{ Error string }
		if status != 400 || json.Unmarshal(body, &e) != nil || e.Error == "" {
			t.Errorf("GET /api/logs?%s: %d %s, want 400 with an error", q, status, body)
		}
	}
}

func TestLogsCLI(t *testing.T) {
	dir, base, id, key, now := logsFixture(t)

	code, out, errOut := aient(t, dir, "logs", "search", "card", "--json")
	if code != 0 {
		t.Fatalf("logs search --json: %d %s", code, errOut)
	}
	p := mustJSON[logs.Page](t, out)
	if len(p.Logs) != 2 || !strings.Contains(p.Logs[0].Message, "card expired") || p.Logs[0].RequestID != reqA {
		t.Errorf("logs search card --json: %s", out)
	}
	// The same answer as the API's.
	_, apiBody := getLogsJSON(t, base+"/api/logs?q=card")
	if api := mustJSON[logs.Page](t, string(apiBody)); !slices.Equal(api.Logs, p.Logs) {
		t.Errorf("CLI %+v, API %+v", p.Logs, api.Logs)
	}

	code, out, _ = aient(t, dir, "logs", "search", "--request-id", reqA, "--level", "error")
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, "ERROR") || !strings.Contains(out, "/aws/lambda/pay 2026/11/21/[$LATEST]a1") || !strings.Contains(out, "PaymentDeclined: card expired") {
		t.Errorf("logs search --request-id --level: %d %q", code, out)
	}
	code, out, _ = aient(t, dir, "logs", "search", "--limit", "1", "--log-group", "/aws/lambda/stock")
	if code != 0 || !strings.Contains(out, "plain line without a request") || !strings.Contains(out, "--cursor ") {
		t.Errorf("logs search --limit 1: %d %q", code, out)
	}
	if code, out, _ := aient(t, dir, "logs", "search", "nosuchword"); code != 0 || out != "No log line matches.\n" {
		t.Errorf("no match: %d %q", code, out)
	}

	// tail: the newest lines, oldest first.
	code, out, _ = aient(t, dir, "logs", "tail", "--lines", "2")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.Contains(lines[0], "inventory slow") || !strings.Contains(lines[1], "plain line") {
		t.Errorf("logs tail --lines 2: %d %q", code, out)
	}

	// tail --follow --json prints what arrives, in arrival order, as JSON lines; a late
	// line (older than the ones printed) too.
	ctx, cancel := context.WithCancel(context.Background())
	var fout syncBuffer
	done := make(chan int)
	env := map[string]string{cli.EnvData: dir}
	go func() {
		done <- cli.Run(ctx, []string{"logs", "tail", "--follow", "--json", "--lines", "0", "--poll", "20ms", "--level", "error,info"}, func(k string) string { return env[k] }, &fout, io.Discard)
	}()
	time.Sleep(time.Second) // the follow has begun (100 ms was not enough under -race on a loaded machine)
	if st := deliver(t, base, id, key, "req-2", fht.Record("/aws/lambda/pay", "2026/11/21/[$LATEST]a2",
		line(10, now+10, reqA, "INFO", "second delivery"), line(11, now+11, reqA, "DEBUG", "not followed"))); st != 200 {
		t.Fatal(st)
	}
	if st := deliver(t, base, id, key, "req-3", fht.Record("/aws/lambda/pay", "2026/11/21/[$LATEST]a2",
		line(12, now-5000, reqA, "ERROR", "late line"))); st != 200 {
		t.Fatal(st)
	}
	var got []logs.Line
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		got = got[:0]
		dec := json.NewDecoder(strings.NewReader(fout.String()))
		for {
			var l logs.Line
			if dec.Decode(&l) != nil {
				break
			}
			got = append(got, l)
		}
		if len(got) >= 2 {
			break
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("logs tail --follow exited %d", code)
	}
	if len(got) != 2 || !strings.Contains(got[0].Message, "second delivery") || !strings.Contains(got[1].Message, "late line") {
		t.Errorf("followed %+v", got)
	}

	for _, args := range [][]string{
		{"logs", "search", "--level", "loud"},
		{"logs", "search", "--limit", "0"},
		{"logs", "search", "--since", "yesterday"},
		{"logs", "search", "-"},
		{"logs", "tail", "word"},
		{"logs", "search", "--backend", "aws", "x"},
		{"logs", "nosuch"},
		{"logs"},
	} {
		if code, _, errOut := aient(t, dir, args...); code != 2 || errOut == "" {
			t.Errorf("%v: exit %d %q, want a usage error", args, code, errOut)
		}
	}
	for _, args := range [][]string{{"logs", "--help"}, {"logs", "search", "--help"}, {"logs", "tail", "--help"}} {
		if code, out, _ := aient(t, dir, args...); code != 0 || !strings.Contains(out, "aient logs") {
			t.Errorf("%v: %d %q", args, code, out)
		}
	}
	if code, _, errOut := aient(t, t.TempDir()+"/none", "logs", "search", "x"); code != 1 || !strings.Contains(errOut, "no embedded store") {
		t.Errorf("a data dir without a store: %d %q", code, errOut)
	}
}
