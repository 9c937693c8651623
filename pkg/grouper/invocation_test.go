package grouper_test

import (
	"context"
	"testing"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouper"
	"github.com/aient/firehose-drain/pkg/problems"
	"github.com/aient/firehose-drain/pkg/problems/problemstest"
)

// TestOneOccurrencePerInvocation: a timeout or an out-of-memory kill is one
// occurrence per invocation, however many lines (the runtime's, the
// platform's REPORT in text or JSON) say so; another invocation counts again.
func TestOneOccurrencePerInvocation(t *testing.T) {
	const req1, req2 = "6f1c7c0e-9f0b-4a3e-8c64-1c9d2d7c0a11", "0a1b2c3d-0000-4000-a000-000000000002"
	lines := []struct{ id, msg string }{
		{"e1", "2026-11-21T01:00:00.000Z " + req1 + " Task timed out after 3.00 seconds"},
		{"e2", "REPORT RequestId: " + req1 + "\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 64 MB\tStatus: timeout"},
		{"e3", `{"time":"2026-11-21T01:00:03.000Z","type":"platform.report","record":{"requestId":"` + req1 + `","metrics":{"durationMs":3000.5,"memorySizeMB":128,"maxMemoryUsedMB":64},"status":"timeout"}}`},
		{"e4", "2026-11-21T01:05:00.000Z " + req2 + " Task timed out after 3.00 seconds"},
		{"e5", "RequestId: " + req2 + " Error: Runtime exited with error: signal: killed\nRuntime.ExitError"},
		{"e6", "REPORT RequestId: " + req2 + "\tDuration: 812.12 ms\tBilled Duration: 813 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\tStatus: error\tError Type: Runtime.OutOfMemory"},
	}
	store := problemstest.NewMemStore()
	g := grouper.New(store, nil)
	fresh := 0
	for _, l := range lines {
		e := event.Event{
			Drain: "drn_a", Org: "acme", Env: "prod", LogGroup: "/aws/lambda/pay", LogStream: "s", ID: l.id,
			Timestamp: 1790000000000, Message: l.msg, Level: event.Error,
		}
		ok, err := g.Process(context.Background(), &e)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			fresh++
		}
	}
	if fresh != 3 {
		t.Fatalf("%d occurrences recorded, want 3 (the timeout of req1, the timeout and the out-of-memory kill of req2)", fresh)
	}
	list, _ := store.List(context.Background(), "acme", "prod")
	counts := map[string]int64{}
	for _, p := range list {
		counts[p.Title] = p.Count
	}
	if len(list) != 2 {
		t.Fatalf("problems %v, want a timeout problem and an out-of-memory problem", counts)
	}
	for _, p := range list {
		if p.Count != map[bool]int64{true: 2, false: 1}[p.Fingerprint == grouperFingerprint(lines[0].msg)] {
			t.Errorf("problem %q counted %d", p.Title, p.Count)
		}
	}
	_ = problems.ID
}

func grouperFingerprint(msg string) string {
	e := event.Event{LogGroup: "/aws/lambda/pay", Message: msg}
	return grouper.Occurrence(&e).Fingerprint
}
