package cli_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouper"
	"github.com/aient/firehose-drain/pkg/grouping"
	"github.com/aient/firehose-drain/pkg/problems"
)

func TestProblemsExplainPrintsTheComponents(t *testing.T) {
	dir := t.TempDir()
	st, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := event.Event{
		Drain: "drn_a", Org: "acme", Env: "prod", LogGroup: "/aws/lambda/pay", LogStream: "s", ID: "1",
		Timestamp: time.Now().UnixMilli(), Level: event.Error,
		Message: "TypeError: boom\n    at charge (/var/task/pay.js:3:9)\n    at Job.run (/var/task/node_modules/bull/job.js:20:7)",
	}
	o := grouper.Occurrence(&e)
	if _, err := st.Problems().Record(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	// A sample recorded before samples kept their explanation.
	old := o
	old.Identity, old.Fingerprint, old.Sample.Grouping = "other", "v1:00000000000000000000000000000000", nil
	if _, err := st.Problems().Record(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	st.Close()
	id := problems.ID("acme", "prod", o.Fingerprint)

	code, out, errOut := aient(t, dir, "problems", "explain", id)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"grouping version " + grouping.Version, "+ type", "TypeError", "+ frame", "charge (pay.js)",
		"- frame", "Job.run (job.js)", "not in-app by rule default:", "node_modules", "- message",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = aient(t, dir, "problems", "explain", id, "--json")
	g := mustJSON[grouping.Explanation](t, out)
	if code != 0 || g.Version != grouping.Version || len(g.Components) < 3 || g.Components[0].Name != "type" || !g.Components[0].Contributes || g.Recomputed {
		t.Fatalf("explain --json: %d %+v", code, g)
	}

	_, out, _ = aient(t, dir, "problems", "explain", problems.ID("acme", "prod", old.Fingerprint))
	if !strings.Contains(out, "recomputed") {
		t.Errorf("an old sample's explanation does not say it was recomputed:\n%s", out)
	}
	if code, _, errOut := aient(t, dir, "problems", "explain"); code != 2 || errOut == "" {
		t.Errorf("explain without an id: exit %d", code)
	}
	if code, _, errOut := aient(t, dir, "problems", "explain", "nosuch"); code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("explain of an unknown problem: exit %d %q", code, errOut)
	}
}
