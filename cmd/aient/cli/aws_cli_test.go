package cli_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/aient/firehose-drain/pkg/alerts"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouper"
	"github.com/aient/firehose-drain/pkg/problems"
	problemsddb "github.com/aient/firehose-drain/pkg/problems/ddb"
)

// `aient problems resolve|ignore|reopen` and `aient alerts add|list|test|remove` with
// --backend aws --stack: on the stack's tables (moto), the secrets in Secrets Manager.
func TestTheCLIOverAStack(t *testing.T) {
	m, outputs := startStack(t)
	ctx := t.Context()
	stack := []string{"--backend", "aws", "--stack", "firehose-drain"}
	run := func(args ...string) (int, string, string) {
		t.Helper()
		return aient(t, t.TempDir(), append(args, stack...)...)
	}

	// A problem, as the grouper writes it.
	db := dynamodb.NewFromConfig(m.Config())
	e := event.Event{
		Drain: "drn_x", Org: "acme", Env: "prod", Account: "123456789012", Region: "eu-west-1",
		LogGroup: "/aws/lambda/pay", LogStream: "s", ID: "1", Timestamp: time.Now().Add(-time.Minute).UnixMilli(), Level: event.Error,
		Message: "ERROR PaymentError: card declined\n    at charge (/var/task/pay.js:12:7)",
	}
	if _, err := problemsddb.New(db, outputs["ProblemsTableName"]).Record(ctx, grouper.Occurrence(&e)); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run("problems", "list", "--json")
	list := mustJSON[[]problems.Problem](t, out)
	if code != 0 || len(list) != 1 || list[0].State != problems.Unresolved || list[0].Substate != problems.New {
		t.Fatalf("problems list: exit %d %s %+v", code, errOut, list)
	}
	id := list[0].ID
	for _, c := range []struct {
		args  []string
		check func(p problems.Problem) bool
	}{
		{[]string{"problems", "resolve", id}, func(p problems.Problem) bool { return p.State == problems.Resolved && !p.ResolvedAt.IsZero() }},
		{[]string{"problems", "ignore", id, "--for", "24h"}, func(p problems.Problem) bool {
			return p.State == problems.Ignored && p.IgnoredUntil.After(time.Now().Add(23*time.Hour))
		}},
		{[]string{"problems", "ignore", id, "--until-count", "100"}, func(p problems.Problem) bool {
			return p.State == problems.Ignored && p.IgnoredUntilCount == 100+p.Count
		}},
		{[]string{"problems", "reopen", id}, func(p problems.Problem) bool {
			return p.State == problems.Unresolved && p.Substate == problems.Ongoing
		}},
	} {
		code, out, errOut := run(append(c.args, "--json")...)
		if p := mustJSON[problems.Problem](t, out); code != 0 || p.ID != id || !c.check(p) {
			t.Fatalf("aient %v: exit %d %s %+v", c.args, code, errOut, p)
		}
		// The stack holds it: a fresh read through `problems show` agrees.
		_, out, _ = run("problems", "show", id, "--json")
		if p := mustJSON[problems.Problem](t, out); !c.check(p) {
			t.Fatalf("after aient %v, problems show: %+v", c.args, p)
		}
	}
	if code, _, errOut := run("problems", "resolve", "nosuch"); code != 1 || errOut != "aient: problem nosuch not found\n" {
		t.Fatalf("resolve of an unknown problem: exit %d %q", code, errOut)
	}
	if code, _, errOut := run("problems", "ignore", id, "--for", "1h", "--until-count", "3"); code != 2 {
		t.Fatalf("ignore with both conditions: exit %d %q", code, errOut)
	}

	// A signed webhook destination: its URL and secret in Secrets Manager under the stack's
	// AlertSecretPrefix, never in the table.
	var (
		mu     sync.Mutex
		bodies [][]byte
		sigs   []string
		fail   bool
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		bodies, sigs = append(bodies, b), append(sigs, r.Header.Get("X-Aient-Signature"))
		if fail {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	}))
	defer hook.Close()
	const token, key = "/hooks/T0KEN-in-the-path", "s1gning-key"
	code, out, errOut = run("alerts", "add", "--webhook", hook.URL+token, "--secret", key, "--json")
	dest := mustJSON[alerts.Destination](t, out)
	if code != 0 || dest.Type != alerts.Webhook || dest.Target != alerts.Redact(hook.URL) || !strings.Contains(dest.SecretRef, ":secret:firehose-drain/alerts/"+dest.ID) {
		t.Fatalf("alerts add: exit %d %s %+v", code, errOut, dest)
	}
	scan, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(outputs["ProblemsTableName"])})
	if err != nil {
		t.Fatal(err)
	}
	for _, item := range scan.Items {
		for _, v := range item {
			if s, ok := v.(*types.AttributeValueMemberS); ok && (strings.Contains(s.Value, "T0KEN") || strings.Contains(s.Value, key)) {
				t.Fatalf("a table item holds the destination's secret: %v", item)
			}
		}
	}
	if code, out, _ := run("alerts", "list", "--json"); code != 0 || len(mustJSON[[]alerts.Destination](t, out)) != 1 {
		t.Fatalf("alerts list: exit %d %s", code, out)
	}

	if code, _, errOut := run("alerts", "test", dest.ID); code != 0 {
		t.Fatalf("alerts test: exit %d %s", code, errOut)
	}
	mu.Lock()
	if len(bodies) != 1 {
		t.Fatalf("the webhook got %d calls", len(bodies))
	}
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(bodies[0])
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); sigs[0] != want || !strings.Contains(string(bodies[0]), `"kind":"test"`) {
		t.Fatalf("alert test: signature %q (want %q), body %s", sigs[0], want, bodies[0])
	}
	fail = true
	mu.Unlock()
	if code, _, _ := run("alerts", "test", dest.ID); code != 1 {
		t.Fatalf("alerts test to a failing webhook: exit %d, want 1", code)
	}
	_, out, _ = run("alerts", "list", "--json")
	if l := mustJSON[[]alerts.Destination](t, out); len(l) != 1 || l[0].LastError == "" || l[0].Sent != 1 || strings.Contains(l[0].LastError, "T0KEN") {
		t.Fatalf("alerts list after a failed test: %+v", l)
	}

	if code, _, errOut := run("alerts", "remove", dest.ID); code != 0 {
		t.Fatalf("alerts remove: exit %d %s", code, errOut)
	}
	if _, out, _ := run("alerts", "list", "--json"); len(mustJSON[[]alerts.Destination](t, out)) != 0 {
		t.Fatalf("alerts list after remove: %s", out)
	}
	sm := secretsmanager.NewFromConfig(m.Config())
	if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(dest.SecretRef)}); err == nil {
		t.Fatalf("the removed destination's secret %s is still readable", dest.SecretRef)
	}
	if code, _, errOut := run("alerts", "remove", dest.ID); code != 1 || !strings.Contains(errOut, "not found") {
		t.Fatalf("removing it again: exit %d %q", code, errOut)
	}
}
