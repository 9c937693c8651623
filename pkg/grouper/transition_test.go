package grouper_test

import (
	"context"
	"testing"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouper"
	v1 "github.com/aient/firehose-drain/pkg/grouping/v1"
	"github.com/aient/firehose-drain/pkg/problems"
	"github.com/aient/firehose-drain/pkg/problems/problemstest"
)

// TestVersionUpgradeKeepsProblems: a bug recorded under its version-1 fingerprint keeps
// counting on that problem after the upgrade; a bug new since gets a version-2 problem.
func TestVersionUpgradeKeepsProblems(t *testing.T) {
	ctx := context.Background()
	store := problemstest.NewMemStore()
	known := "TypeError: Cannot read properties of undefined (reading 'id')\n    at getUser (/var/task/src/users.js:42:18)\n    at Runtime.handler (/var/task/index.js:9:22)"
	mk := func(id, msg string) event.Event {
		return event.Event{
			Drain: "drn_a", Org: "acme", Env: "prod", LogGroup: "/aws/lambda/users", LogStream: "s", ID: id,
			Timestamp: 1790000000000, Message: msg, Level: event.Error,
		}
	}
	// What the version-1 grouper recorded before the upgrade.
	old := mk("e0", known)
	o := grouper.Occurrence(&old)
	o.Fingerprint, o.Sample.Grouping = v1.Analyze(known, old.LogGroup).Fingerprint, nil
	if _, err := store.Record(ctx, o); err != nil {
		t.Fatal(err)
	}
	oldID := problems.ID("acme", "prod", o.Fingerprint)

	g := grouper.New(store, nil).WithTransition(store)
	for i, msg := range []string{known, known, "RangeError: Invalid time value\n    at getUser (/var/task/src/users.js:50:3)"} {
		e := mk("e"+string(rune('1'+i)), msg)
		if _, err := g.Process(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	list, _ := store.List(ctx, "acme", "prod")
	if len(list) != 2 {
		t.Fatalf("%d problems after the upgrade, want the known one and the new bug's: %+v", len(list), list)
	}
	p, err := store.Get(ctx, oldID)
	if err != nil || p.Count != 3 {
		t.Fatalf("the version-1 problem: %+v %v, want 3 occurrences", p, err)
	}
	for _, q := range list {
		if q.ID != oldID && q.Count != 1 {
			t.Errorf("the new bug's problem %+v", q)
		}
	}
	// Without the transition, the same bug would have started a new problem.
	if v2 := grouper.Occurrence(&old).Fingerprint; v2 == o.Fingerprint {
		t.Fatal("precondition: the versions' fingerprints differ")
	}
}
