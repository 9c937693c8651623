package console_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
)

// record is the base64 data of one gzip record holding a document per stream,
// each event one line.
func record(t *testing.T, docs ...[2]any) string {
	t.Helper()
	var raw bytes.Buffer
	for _, d := range docs {
		stream, _ := d[0].(string)
		lines, _ := d[1].([]string)
		evs := make([]fht.LogEvent, len(lines))
		for i, l := range lines {
			evs[i] = fht.LogEvent{ID: fmt.Sprintf("%s-%03d", stream, i), Timestamp: 1790000000000 + int64(i), Message: l}
		}
		b, err := json.Marshal(map[string]any{
			"messageType": "DATA_MESSAGE", "owner": fht.Owner, "logGroup": "/ecs/orders",
			"logStream": stream, "subscriptionFilters": []string{"aient"}, "logEvents": evs,
		})
		if err != nil {
			t.Fatal(err)
		}
		raw.Write(b)
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = w.Write(raw.Bytes()) // into a bytes.Buffer: never fails
	_ = w.Close()
	return base64.StdEncoding.EncodeToString(gz.Bytes())
}

// TestTracesSplitAcrossEventsAreOneOccurrenceEach: Java, Python, Go and Node
// traces printed one line per event (awslogs, Fluent Bit without multiline),
// interleaved with ordinary lines, in two streams of one record: one
// occurrence each, with frames; the continuation lines are no errors.
func TestTracesSplitAcrossEventsAreOneOccurrenceEach(t *testing.T) {
	l := start(t, t.TempDir())
	d, key, err := l.srv.Drains().Create(context.Background(), "acme", "prod")
	if err != nil {
		t.Fatal(err)
	}
	a := []string{
		"INFO GET /orders/42 started",
		"2026-11-21 01:02:03.456 ERROR [main] c.a.o.OrderService - order failed",
		"java.lang.IllegalStateException: order 42 has no lines",
		"\tat com.acme.orders.OrderService.validate(OrderService.java:88)",
		"\tat com.acme.orders.Handler.handleRequest(Handler.java:31)",
		"INFO GET /orders/42 done",
		"Traceback (most recent call last):",
		"  File \"/app/worker.py\", line 12, in handle",
		"    order = msg[\"order\"]",
		"KeyError: 'order'",
		"INFO next job",
	}
	b := []string{
		"panic: runtime error: invalid memory address or nil pointer dereference",
		"",
		"goroutine 1 [running]:",
		"main.(*api).getOrder(0x0, {0x6b1f40, 0xc000012345})",
		"\t/app/api.go:42 +0x1d",
		"main.main()",
		"\t/app/main.go:10 +0x5f",
		"INFO restarted",
		"TypeError: Cannot read properties of undefined (reading 'id')",
		"    at getUser (/app/src/users.js:42:18)",
		"    at async handler (/app/src/server.js:10:5)",
	}
	body := fht.Body("req-1", record(t, [2]any{"a", a}, [2]any{"b", b}))
	if st := l.deliver(d.ID, key, body); st != 200 {
		t.Fatalf("delivery answered %d", st)
	}
	if st := l.deliver(d.ID, key, body); st != 200 { // Firehose's retry counts nothing twice
		t.Fatalf("retry answered %d", st)
	}
	l.group()

	var list []summary
	if st := l.get("/api/problems", &list); st != 200 {
		t.Fatalf("GET /api/problems: %d", st)
	}
	want := map[string]string{
		"IllegalStateException": "com.acme.orders.OrderService.validate", "KeyError": "handle",
		"panic": "main.(*api).getOrder", "TypeError": "getUser",
	}
	if len(list) != len(want) {
		t.Fatalf("%d problems, want %d: %+v", len(list), len(want), list)
	}
	for _, p := range list {
		if p.Count != 1 {
			t.Errorf("%q counted %d, want 1", p.Title, p.Count)
		}
		var full struct {
			Sample struct {
				EventID string
				Message string
				Frames  []struct{ Function string }
			}
		}
		l.get("/api/problems/"+p.ID, &full)
		matched := false
		for typ, fn := range want {
			if strings.Contains(p.Title, typ) {
				matched = true
				if len(full.Sample.Frames) == 0 || !strings.Contains(p.Culprit, fn) {
					t.Errorf("%q: culprit %q, %d frames", p.Title, p.Culprit, len(full.Sample.Frames))
				}
				if !strings.HasSuffix(full.Sample.EventID, "-001") && !strings.HasSuffix(full.Sample.EventID, "-006") &&
					!strings.HasSuffix(full.Sample.EventID, "-000") && !strings.HasSuffix(full.Sample.EventID, "-008") {
					t.Errorf("%q: identity of event %s, want the trace's first event", p.Title, full.Sample.EventID)
				}
			}
		}
		if !matched {
			t.Errorf("unexpected problem %q", p.Title)
		}
	}
	var st struct {
		Counters struct{ ErrorEvents int64 } `json:"counters"`
	}
	l.get("/api/drains/"+d.ID, &st)
	if st.Counters.ErrorEvents != 2*4 { // two deliveries of four stitched error events
		t.Errorf("errorEvents %d, want 8: continuation lines counted as errors", st.Counters.ErrorEvents)
	}
}
