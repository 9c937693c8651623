package grouper_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouper"
	"github.com/aient/firehose-drain/pkg/problems"
	"github.com/aient/firehose-drain/pkg/problems/problemstest"
)

func stamped(le fht.LogEvent) event.Event {
	return event.Event{
		Drain: "drn_a", Org: "acme", Env: "prod", Account: fht.Owner, Region: "eu-west-1",
		LogGroup: "/aws/lambda/pay", LogStream: "2026/11/21/[$LATEST]a",
		ID: le.ID, Timestamp: le.Timestamp, Message: le.Message, Level: event.Error,
	}
}

func sqsBatch(t *testing.T, bodies ...string) events.SQSEvent {
	t.Helper()
	var ev events.SQSEvent
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: "m" + string(rune('0'+i)), Body: b})
	}
	return ev
}

// noMessage is the JSON of e without its message field.
func noMessage(e event.Event) string {
	b, _ := json.Marshal(e)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	delete(m, "message")
	b, _ = json.Marshal(m)
	return string(b)
}

func body(t *testing.T, e event.Event) string {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestABatchBecomesProblemsAndAPoisonMessageIsReportedAlone(t *testing.T) {
	store := problemstest.NewMemStore()
	g := grouper.New(store, nil)
	ctx := context.Background()
	batch := sqsBatch(t,
		body(t, stamped(fht.ErrorEvent(1))),
		"this is not an event",
		body(t, stamped(fht.ErrorEvent(2))),
		body(t, stamped(fht.OtherErrorEvent(1))),
		`{"message":"an event with no drain or org"}`,
		noMessage(stamped(fht.ErrorEvent(3))),
	)
	resp, err := g.HandleSQS(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if len(failed) != 3 || failed[0] != "m1" || failed[1] != "m4" || failed[2] != "m5" {
		t.Fatalf("failures %v, want the three poison messages m1, m4 and m5 (no message field)", failed)
	}
	list, _ := store.List(ctx, "acme", "prod")
	if len(list) != 2 {
		t.Fatalf("%d problems, want 2: %+v", len(list), list)
	}
	counts := map[int64]int{}
	for _, p := range list {
		counts[p.Count]++
	}
	if counts[2] != 1 || counts[1] != 1 {
		t.Fatalf("counts %v, want one problem of 2 and one of 1", counts)
	}

	// SQS redelivers the whole batch: nothing counts twice.
	if _, err := g.HandleSQS(ctx, batch); err != nil {
		t.Fatal(err)
	}
	again, _ := store.List(ctx, "acme", "prod")
	for i := range again {
		if again[i].Count != list[i].Count {
			t.Fatalf("redelivery changed %s from %d to %d", again[i].Title, list[i].Count, again[i].Count)
		}
	}
}

type failing struct{ problems.Store }

func (failing) RecordBatch(_ context.Context, occs []problems.Occurrence) []problems.Result {
	out := make([]problems.Result, len(occs))
	for i := range out {
		out[i].Err = errors.New("throttled")
	}
	return out
}

func TestAFailingWriteReportsThatMessage(t *testing.T) {
	g := grouper.New(failing{}, nil)
	resp, err := g.HandleSQS(context.Background(), sqsBatch(t, body(t, stamped(fht.ErrorEvent(1)))))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m0" {
		t.Fatalf("failures %+v, want m0: never acknowledged unrecorded", resp.BatchItemFailures)
	}
}

func TestOccurrenceLeadsBackToCloudWatch(t *testing.T) {
	e := stamped(fht.ErrorEvent(7))
	o := grouper.Occurrence(&e)
	if o.Identity != e.Identity() || o.Org != "acme" || o.Env != "prod" || o.Level != "error" || o.At.UnixMilli() != e.Timestamp {
		t.Fatalf("occurrence %+v", o)
	}
	s := o.Sample
	if s.LogGroup != e.LogGroup || s.LogStream != e.LogStream || s.EventID != e.ID || s.Timestamp != e.Timestamp || s.Region != "eu-west-1" {
		t.Fatalf("sample %+v", s)
	}
	if o.Fingerprint == "" || o.Title == "" || len(s.Frames) == 0 {
		t.Fatalf("not fingerprinted: %+v", o)
	}
}

// The SQS sample events of events/ get the answers events/README.md promises.
func TestSampleSQSEvents(t *testing.T) {
	for file, wantFailures := range map[string]int{"sqs-one-error.json": 0, "sqs-poison-message.json": 1} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "events", file))
		if err != nil {
			t.Fatal(err)
		}
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		store := problemstest.NewMemStore()
		resp, err := grouper.New(store, nil).HandleSQS(context.Background(), ev)
		if err != nil || len(resp.BatchItemFailures) != wantFailures {
			t.Errorf("%s: failures %+v (%v), want %d", file, resp.BatchItemFailures, err, wantFailures)
		}
		if list, _ := store.List(context.Background(), "", ""); len(list) != 1 || list[0].Count != 1 {
			t.Errorf("%s: problems %+v, want one with count 1", file, list)
		}
	}
}

// The sample carries the Lambda request id its message names, so the console links the
// problem to that invocation's logs.
func TestTheSampleCarriesTheRequestID(t *testing.T) {
	for msg, want := range map[string]string{
		"2026-11-21T10:00:00.000Z\tc0ffee00-0000-4000-8000-000000000001\tERROR\tInvoke Error {\"errorType\":\"TypeError\"}":                          "c0ffee00-0000-4000-8000-000000000001",
		`{"level":"ERROR","requestId":"c0ffee00-0000-4000-8000-000000000002","message":"boom","stack":"Error: boom\n    at f (/var/task/a.js:1:1)"}`: "c0ffee00-0000-4000-8000-000000000002",
		"panic: runtime error: index out of range": "",
	} {
		e := event.Event{Drain: "drn_x", Org: "o", Env: "e", ID: "1", Timestamp: 1, LogGroup: "/aws/lambda/f", Message: msg, Level: event.Error}
		if got := grouper.Occurrence(&e).Sample.RequestID; got != want {
			t.Errorf("%.40q: sample request id %q, want %q", msg, got, want)
		}
	}
}
