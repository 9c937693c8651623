package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aient/firehose-drain/cmd/aient/cli"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/problems"
)

// sendRig is a running local server (ingest and grouper) and a drain on it.
func sendRig(t *testing.T) (dir string, c cli.Created) {
	t.Helper()
	dir = t.TempDir()
	serveInBackground(t, dir, "--listen", "127.0.0.1:0")
	code, out, errOut := aient(t, dir, "drains", "create", "--org", "acme", "--env", "prod", "--json")
	if code != 0 {
		t.Fatalf("drains create: %s", errOut)
	}
	return dir, mustJSON[cli.Created](t, out)
}

// problemsOf waits until the local server's grouper has counted want occurrences in all,
// and answers the problems.
func problemsOf(t *testing.T, dir string, want int64) []problems.Problem {
	t.Helper()
	var list []problems.Problem
	for range 500 {
		_, out, _ := aient(t, dir, "problems", "list", "--json")
		list = mustJSON[[]problems.Problem](t, out)
		var n int64
		for _, p := range list {
			n += p.Count
		}
		if n == want {
			return list
		}
		if n > want {
			t.Fatalf("%d occurrences counted, want %d: %+v", n, want, list)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the grouper did not count %d occurrences: %+v", want, list)
	return nil
}

// `aient send --message` delivers a real Firehose request of that log line: the problem
// appears with --count occurrences in --log-group, and sending again counts again (fresh
// event ids).
func TestSendAMessage(t *testing.T) {
	dir, c := sendRig(t)
	code, out, errOut := aient(t, dir, "send", "--endpoint", c.Endpoint, "--key", c.AccessKey,
		"--message", "ERROR something broke: order 42", "--log-group", "/aws/lambda/checkout", "--count", "3")
	if code != 0 || !strings.HasPrefix(out, "--message: 200 {") || strings.Contains(out, "note:") {
		t.Fatalf("send --message: exit %d\n%s\n%s", code, out, errOut)
	}
	list := problemsOf(t, dir, 3)
	if len(list) != 1 || list[0].Count != 3 || !strings.Contains(list[0].Title, "something broke") ||
		len(list[0].LogGroups) != 1 || list[0].LogGroups[0] != "/aws/lambda/checkout" {
		t.Fatalf("problems after send --message --count 3: %+v", list)
	}
	if code, _, errOut = aient(t, dir, "send", "--endpoint", c.Endpoint, "--key", c.AccessKey, "--message", "ERROR something broke: order 43"); code != 0 {
		t.Fatalf("second send: %s", errOut)
	}
	if list = problemsOf(t, dir, 4); len(list) != 1 || list[0].Count != 4 {
		t.Fatalf("a second send is counted once more: %+v", list)
	}
	_, out, _ = aient(t, dir, "drains", "status", c.ID, "--json")
	if st := mustJSON[drains.Status](t, out); st.Counters.Events != 4 || st.Counters.ErrorEvents != 4 || st.Counters.Duplicates != 0 {
		t.Fatalf("drain counters after two sends: %+v", st.Counters)
	}

	// A line that is not error-class is delivered, with a note that it makes no problem.
	code, out, _ = aient(t, dir, "send", "--endpoint", c.Endpoint, "--key", c.AccessKey, "--message", "user signed in", "--json")
	res := mustJSON[[]cli.SendResult](t, out)
	if code != 0 || len(res) != 1 || res[0].Status != 200 || !strings.Contains(res[0].Note, "not error-class") {
		t.Fatalf("send of an info line: exit %d %+v", code, res)
	}
}

// A base URL, or any URL that is not /aws/firehose/{drainId}, is refused before anything
// is sent, with the path explained.
func TestSendToABaseURLExplainsThePath(t *testing.T) {
	dir, c := sendRig(t)
	base := strings.TrimSuffix(c.Endpoint, "/aws/firehose/"+c.ID)
	for _, ep := range []string{base, base + "/", base + "/aws/firehose/", base + "/drains/" + c.ID, "127.0.0.1:8080"} {
		code, out, errOut := aient(t, dir, "send", "--endpoint", ep, "--key", c.AccessKey, "--message", "ERROR x")
		if code != 2 || out != "" || (!strings.Contains(errOut, "/aws/firehose/<drainId>") && !strings.Contains(errOut, "not an http(s) URL")) {
			t.Errorf("send --endpoint %s: exit %d, stdout %q, stderr %q", ep, code, out, errOut)
		}
	}
	_, out, _ := aient(t, dir, "drains", "status", c.ID, "--json")
	if st := mustJSON[drains.Status](t, out); st.Counters.Deliveries != 0 {
		t.Fatalf("a refused endpoint reached the drain: %+v", st.Counters)
	}
}

// A FILE that is a bare CloudWatch Logs document is sent wrapped in a Firehose request
// (with a note); its ids are its own, so sending it again is a duplicate. Every FILE is
// sent and reported, also after one that cannot be read.
func TestSendWrapsACloudWatchDocumentAndReportsEveryFile(t *testing.T) {
	dir, c := sendRig(t)
	doc := filepath.Join(t.TempDir(), "doc.json")
	if err := os.WriteFile(doc, []byte(`{"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"/aws/lambda/pay",
		"logStream":"2026/12/01/[$LATEST]abc","subscriptionFilters":["f"],
		"logEvents":[{"id":"1","timestamp":1764590000000,"message":"ERROR PaymentError: card declined"},
		             {"id":"2","timestamp":1764590000001,"message":"ERROR PaymentError: card declined"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "nosuch.json")
	code, out, errOut := aient(t, dir, "send", "--endpoint", c.Endpoint, "--key", c.AccessKey, missing, doc)
	if code != 1 || !strings.Contains(out, missing+": not sent: ") || !strings.Contains(out, doc+": 200 ") ||
		!strings.Contains(out, "note: a CloudWatch Logs document") || !strings.Contains(errOut, "1 of 2 inputs were not accepted") {
		t.Fatalf("send of a missing file and a document: exit %d\n%s\n%s", code, out, errOut)
	}
	list := problemsOf(t, dir, 2)
	if len(list) != 1 || list[0].Sample.Account != "111122223333" {
		t.Fatalf("the wrapped document's problem: %+v", list)
	}
	code, out, _ = aient(t, dir, "send", "--endpoint", c.Endpoint, "--key", c.AccessKey, "--json", doc, doc)
	res := mustJSON[[]cli.SendResult](t, out)
	if code != 0 || len(res) != 2 || res[0].Status != 200 || res[1].Status != 200 {
		t.Fatalf("send --json of the document twice: exit %d %+v", code, res)
	}
	problemsOf(t, dir, 2) // duplicates: counted once
	_, out, _ = aient(t, dir, "drains", "status", c.ID, "--json")
	if st := mustJSON[drains.Status](t, out); st.Counters.Duplicates != 4 {
		t.Fatalf("resending the document: %+v, want 4 duplicates", st.Counters)
	}
}

// send takes --data and --json as every command does, and its usage shows --key as
// optional and --message.
func TestSendUsage(t *testing.T) {
	dir := t.TempDir()
	code, out, _ := aient(t, dir, "send", "--help")
	for _, want := range []string{"[--key KEY]", "--message", "--count", "--log-group", "-data", "-json"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("send --help lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	for _, args := range [][]string{
		{"send", "--endpoint", "http://127.0.0.1:1/aws/firehose/drn_x"},
		{"send", "--endpoint", "http://127.0.0.1:1/aws/firehose/drn_x", "--message", "ERROR x", "f.json"},
		{"send", "--endpoint", "http://127.0.0.1:1/aws/firehose/drn_x", "--message", "ERROR x", "--count", "0"},
		{"send", "--message", "ERROR x"},
	} {
		if code, _, errOut := aient(t, dir, args...); code != 2 || !strings.Contains(errOut, "aient send") {
			t.Errorf("aient %v: exit %d %q, want 2 with send's usage", args, code, errOut)
		}
	}
	// Nothing listens there: reported, exit 1, not a usage error.
	code, out, _ = aient(t, dir, "send", "--data", dir, "--endpoint", "http://127.0.0.1:1/aws/firehose/drn_x", "--message", "ERROR x")
	if code != 1 || !strings.Contains(out, "--message: not sent: ") {
		t.Errorf("send to a closed port: exit %d %q", code, out)
	}
}
