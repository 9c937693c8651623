package cli_test

import (
	"strings"
	"testing"

	"github.com/aient/firehose-drain/pkg/drains"
)

func TestRulesThroughTheCLI(t *testing.T) {
	dir := t.TempDir()
	// Commands other than serve and drains create need an existing data dir.
	if code, _, errOut := aient(t, dir, "drains", "create", "--org", "acme", "--env", "prod"); code != 0 {
		t.Fatalf("drains create: %s", errOut)
	}
	code, out, errOut := aient(t, dir, "rules", "add", "--org", "acme", "--env", "prod", "--json", "code:ForceRetryExecution   ignore")
	if code != 0 {
		t.Fatalf("add: exit %d %s", code, errOut)
	}
	r := mustJSON[drains.Rule](t, out)
	if r.ID == "" || r.Org != "acme" || r.Text != "code:ForceRetryExecution ignore" {
		t.Fatalf("added %+v (the rule is kept in canonical form)", r)
	}
	if code, _, errOut := aient(t, dir, "rules", "add", "--org", "acme", "--env", "prod", `message:"*reset*" fingerprint=db-reset`); code != 0 {
		t.Fatalf("second add: %d %s", code, errOut)
	}
	code, _, errOut = aient(t, dir, "rules", "add", "--org", "acme", "--env", "prod", "pth:**/vendor/** -app")
	if code != 2 || !strings.Contains(errOut, "line 1, column 1") || !strings.Contains(errOut, `unknown matcher "pth"`) {
		t.Fatalf("a syntax error: exit %d %q", code, errOut)
	}
	_, out, _ = aient(t, dir, "rules", "list", "--org", "acme", "--env", "prod", "--json")
	if list := mustJSON[[]drains.Rule](t, out); len(list) != 2 || list[0].ID != r.ID {
		t.Fatalf("list %+v", list)
	}
	_, out, _ = aient(t, dir, "rules", "list", "--org", "other", "--env", "prod")
	if !strings.Contains(out, "No rules for other/prod") {
		t.Fatalf("another org sees rules: %q", out)
	}
	_, out, _ = aient(t, dir, "rules", "list", "--org", "acme", "--env", "prod")
	for _, want := range []string{"ID", "RULE", r.ID, "code:ForceRetryExecution ignore", "message:*reset* fingerprint=db-reset"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	if code, out, errOut := aient(t, dir, "rules", "remove", "--org", "acme", "--env", "prod", r.ID); code != 0 || !strings.Contains(out, "Removed") {
		t.Fatalf("remove: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := aient(t, dir, "rules", "remove", "--org", "acme", "--env", "prod", r.ID); code != 1 || !strings.Contains(errOut, "no rule") {
		t.Fatalf("remove twice: %d %q", code, errOut)
	}
	for _, args := range [][]string{{"rules"}, {"rules", "add", "x -app"}, {"rules", "list", "--org", "acme"}, {"rules", "remove", "--org", "a", "--env", "b"}} {
		if code, _, _ := aient(t, dir, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
