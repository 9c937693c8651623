package grouper_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/drains/drainstest"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouper"
	"github.com/aient/firehose-drain/pkg/problems/problemstest"
)

// TestOrgRules: an org's rules apply to its events only; its ignore rules drop events
// before they become occurrences, counted on the drain.
func TestOrgRules(t *testing.T) {
	ctx := context.Background()
	ds := drainstest.NewMemStore()
	at := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	for _, d := range []drains.Drain{
		{ID: "drn_acme", Org: "acme", Env: "prod", State: drains.StateActive, CreatedAt: at},
		{ID: "drn_other", Org: "other", Env: "prod", State: drains.StateActive, CreatedAt: at},
	} {
		if err := ds.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []string{"code:ForceRetryExecution ignore", `message:"*connection reset by peer*" fingerprint=db-reset`} {
		if _, err := ds.AddRule(ctx, "acme", "prod", r, at); err != nil {
			t.Fatal(err)
		}
	}
	store := problemstest.NewMemStore()
	g := grouper.New(store, nil).WithRules(ds, ds)
	mk := func(drain, org, id, msg string) string {
		b, _ := json.Marshal(event.Event{
			Drain: drain, Org: org, Env: "prod", LogGroup: "/aws/lambda/f", LogStream: "s", ID: id,
			Timestamp: at.UnixMilli(), Message: msg, Level: event.Error,
		})
		return string(b)
	}
	retry := `{"errorType":"Error","errorMessage":"retry me","code":"ForceRetryExecution"}`
	batch := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "1", Body: mk("drn_acme", "acme", "e1", retry)},
		{MessageId: "2", Body: mk("drn_acme", "acme", "e2", retry)},
		{MessageId: "3", Body: mk("drn_other", "other", "e3", retry)}, // another org: not ignored
		{MessageId: "4", Body: mk("drn_acme", "acme", "e4", "Error: read ECONNRESET: connection reset by peer\n    at a (/var/task/a.js:1:1)")},
		{MessageId: "5", Body: mk("drn_acme", "acme", "e5", `{"level":"error","msg":"query: connection reset by peer"}`)},
		{MessageId: "6", Body: mk("drn_other", "other", "e6", `{"level":"error","msg":"query: connection reset by peer"}`)},
	}}
	resp, err := g.HandleSQS(ctx, batch)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%v %+v", err, resp)
	}
	acme, _ := store.List(ctx, "acme", "prod")
	if len(acme) != 1 || acme[0].Count != 2 {
		t.Fatalf("acme problems %+v: want the two connection resets under the custom fingerprint only", acme)
	}
	other, _ := store.List(ctx, "other", "prod")
	if len(other) != 2 {
		t.Fatalf("other's problems %+v: acme's rules leaked into another org", other)
	}
	d, _ := ds.Get(ctx, "drn_acme")
	o, _ := ds.Get(ctx, "drn_other")
	if d.Counters.Ignored != 2 || o.Counters.Ignored != 0 {
		t.Fatalf("ignored: acme %d (want 2), other %d (want 0)", d.Counters.Ignored, o.Counters.Ignored)
	}

	// A rule added later applies once the cache expires; a broken stored rule fails the
	// message (SQS retries it) rather than grouping it without the org's rules.
	ds2 := drainstest.NewMemStore()
	if _, err := ds2.AddRule(ctx, "acme", "prod", "pth:x -app", at); err != nil {
		t.Fatal(err)
	}
	g2 := grouper.New(problemstest.NewMemStore(), nil).WithRules(ds2, ds2)
	resp, _ = g2.HandleSQS(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "x", Body: mk("drn_acme", "acme", "e9", retry)}}})
	if len(resp.BatchItemFailures) != 1 {
		t.Fatalf("a broken stored rule did not fail the message: %+v", resp)
	}
}
