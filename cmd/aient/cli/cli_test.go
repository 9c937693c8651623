package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/cmd/aient/cli"
	"github.com/aient/firehose-drain/internal/testkit/conformance"
	"github.com/aient/firehose-drain/internal/testkit/logtest"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/embedded"
)

// aient runs the CLI in-process against data dir dir and returns its exit code and output.
func aient(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := map[string]string{cli.EnvData: dir}
	code := cli.Run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return code, out.String(), errOut.String()
}

func mustJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("output is not the documented JSON: %v\n%s", err, s)
	}
	return v
}

func TestDrainLifecycleThroughTheCLI(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := aient(t, dir, "drains", "create", "--org", "acme", "--env", "prod", "--json")
	if code != 0 {
		t.Fatalf("create exit %d: %s", code, errOut)
	}
	created := mustJSON[cli.Created](t, out)
	if created.AccessKey == "" || !strings.HasSuffix(created.Endpoint, "/aws/firehose/"+created.ID) || created.Org != "acme" {
		t.Fatalf("create printed %+v", created)
	}

	code, out, _ = aient(t, dir, "drains", "status", created.ID, "--json")
	st := mustJSON[drains.Status](t, out)
	if code != 0 || st.Status != drains.StatusNoData || st.ActiveKeys != 1 {
		t.Fatalf("status of a new drain: exit %d %+v", code, st)
	}

	code, out, _ = aient(t, dir, "drains", "rotate", created.ID, "--grace", "1h", "--json")
	rotated := mustJSON[cli.Created](t, out)
	if code != 0 || rotated.AccessKey == created.AccessKey || rotated.OldKeyValidUntil.IsZero() {
		t.Fatalf("rotate: exit %d %+v", code, rotated)
	}
	_, out, _ = aient(t, dir, "drains", "status", created.ID, "--json")
	if st := mustJSON[drains.Status](t, out); st.ActiveKeys != 2 {
		t.Fatalf("within the grace period %d keys work, want 2", st.ActiveKeys)
	}

	if code, out, _ = aient(t, dir, "drains", "revoke", created.ID); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: exit %d %q", code, out)
	}
	_, out, _ = aient(t, dir, "drains", "list", "--json")
	list := mustJSON[[]drains.Status](t, out)
	if len(list) != 1 || list[0].Status != drains.StatusRevoked {
		t.Fatalf("list after revoke: %+v", list)
	}
	if code, _, errOut = aient(t, dir, "drains", "rotate", created.ID); code == 0 || !strings.Contains(errOut, "revoked") {
		t.Fatalf("rotating a revoked drain: exit %d %q", code, errOut)
	}

	// The text forms a person reads.
	_, out, _ = aient(t, dir, "drains", "status", created.ID)
	for _, want := range []string{"Status", "Revoked", "Endpoint", "Events received"} {
		if !strings.Contains(out, want) {
			t.Errorf("drains status text lacks %q:\n%s", want, out)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{},
		{"nonsense"},
		{"drains"},
		{"drains", "create", "--org", "acme"},
		{"drains", "rotate"},
		{"drains", "status", "a", "b"},
		{"problems", "list", "--org", "acme"},
		{"send", "--key", "k"},
		{"drains", "list", "--backend", "aws"},
	} {
		if code, _, errOut := aient(t, dir, args...); code != 2 || errOut == "" {
			t.Errorf("aient %v: exit %d, stderr %q; want 2 with a usage message", args, code, errOut)
		}
	}
	if code, _, errOut := aient(t, dir, "drains", "create", "--org", "acme", "--env", "prod"); code != 0 {
		t.Fatalf("drains create: %s", errOut)
	}
	for _, c := range [][]string{
		{"drains", "status", "drn_nosuch"}, {"drains", "rotate", "drn_nosuch"}, {"drains", "revoke", "drn_nosuch"},
	} {
		if code, _, errOut := aient(t, dir, c...); code != 1 || errOut != "aient: drain drn_nosuch not found\n" {
			t.Errorf("aient %v: exit %d %q, want 1 \"drain drn_nosuch not found\"", c, code, errOut)
		}
	}
	if code, _, errOut := aient(t, dir, "problems", "show", "nosuch"); code != 1 || errOut != "aient: problem nosuch not found\n" {
		t.Errorf("problems show of an unknown problem: exit %d %q", code, errOut)
	}
}

// The CLI works on the data dir while the local server runs on it, and `aient send`
// delivers Firehose bodies and events/ files.
func TestSendWhileTheServerRuns(t *testing.T) {
	dir := t.TempDir()
	st, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := cli.NewLocal(st, cli.LocalConfig{})
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()

	code, out, errOut := aient(t, dir, "drains", "create", "--org", "acme", "--env", "prod", "--json", "--endpoint-base", hs.URL)
	if code != 0 {
		t.Fatalf("create while the server runs: %d %s", code, errOut)
	}
	c := mustJSON[cli.Created](t, out)
	files := []string{
		filepath.Join(conformance.Dir(), "firehose/alloy/cw_logs_mixed.json"),
		filepath.Join(conformance.Dir(), "firehose/vector/guide_request_body.json"),
	}
	code, out, errOut = aient(t, dir, append([]string{"send", "--endpoint", c.Endpoint, "--key", c.AccessKey}, files...)...)
	if code != 0 || strings.Count(out, ": 200 ") != 2 {
		t.Fatalf("send: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = aient(t, dir, "send", "--endpoint", c.Endpoint, "--key", "fhd_wrong", files[0])
	if code != 1 || !strings.Contains(out, ": 401 ") {
		t.Fatalf("send with a wrong key: exit %d %s", code, out)
	}

	_, out, _ = aient(t, dir, "drains", "status", c.ID, "--json")
	s := mustJSON[drains.Status](t, out)
	if s.Status != drains.StatusReceiving || s.Counters.Events != 15 || s.LastControlAt.IsZero() || s.LastAuthError == nil || s.Alert != drains.AlertAuth {
		t.Fatalf("status after the deliveries: %+v", s)
	}
	if time.Since(s.LastReceivedAt) > time.Minute {
		t.Errorf("last received %v", s.LastReceivedAt)
	}
}

// The access key is shown once and never stored: search every file of the data dir.
func TestTheKeyIsNeverStored(t *testing.T) {
	dir := t.TempDir()
	_, out, _ := aient(t, dir, "drains", "create", "--org", "acme", "--env", "prod", "--json")
	c := mustJSON[cli.Created](t, out)
	_, out, _ = aient(t, dir, "drains", "rotate", c.ID, "--grace", "1h", "--json")
	r := mustJSON[cli.Created](t, out)
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, k := range []string{c.AccessKey, r.AccessKey} {
			if bytes.Contains(b, []byte(k)) || bytes.Contains(b, []byte(strings.TrimPrefix(k, drains.KeyPrefix))) {
				t.Errorf("%s holds an access key", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The drain lifecycle of issue 4 on the embedded store, through the CLI and the local
// server: receiving, rotation with grace, a bad-key flood, revocation, and the key never in
// a log line. The server's clock is the test's, so the grace period passes without sleeping.
func TestDrainLifecycleOnTheLocalServer(t *testing.T) {
	dir := t.TempDir()
	st, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	log, logs := logtest.Logger()
	srv := cli.NewLocal(st, cli.LocalConfig{Now: clock, Logger: log})
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()

	_, out, _ := aient(t, dir, "drains", "create", "--org", "acme", "--env", "prod", "--json", "--endpoint-base", hs.URL)
	c := mustJSON[cli.Created](t, out)
	file := filepath.Join(conformance.Dir(), "firehose/alloy/cw_logs_with_only_data_messages.json")
	send := func(key string) string {
		t.Helper()
		_, out, _ := aient(t, dir, "send", "--endpoint", c.Endpoint, "--key", key, file)
		return out
	}
	status := func() drains.Status {
		t.Helper()
		_, out, _ := aient(t, dir, "drains", "status", c.ID, "--json")
		return mustJSON[drains.Status](t, out)
	}
	if out := send(c.AccessKey); !strings.Contains(out, ": 200 ") {
		t.Fatalf("first delivery: %s", out)
	}
	if s := status(); s.Status != drains.StatusReceiving {
		t.Fatalf("after a delivery the drain is %q", s.Status)
	}

	_, out, _ = aient(t, dir, "drains", "rotate", c.ID, "--grace", "1h", "--json")
	r := mustJSON[cli.Created](t, out)
	advance(3 * time.Second) // past the server's drain cache
	for name, k := range map[string]string{"old": c.AccessKey, "new": r.AccessKey} {
		if out := send(k); !strings.Contains(out, ": 200 ") {
			t.Errorf("within the grace period the %s key: %s", name, out)
		}
	}
	advance(time.Hour)
	if out := send(c.AccessKey); !strings.Contains(out, ": 401 ") {
		t.Errorf("after the grace period the old key: %s", out)
	}
	if out := send(r.AccessKey); !strings.Contains(out, ": 200 ") {
		t.Errorf("after the grace period the new key: %s", out)
	}

	// A flood of bad keys writes the auth failure once a minute at most.
	advance(2 * time.Minute)
	first := clock()
	body, _ := os.ReadFile(file)
	for i := 0; i < 1000; i++ {
		advance(30 * time.Millisecond)
		req, _ := http.NewRequest(http.MethodPost, c.Endpoint, bytes.NewReader(body))
		req.Header.Set("X-Amz-Firehose-Access-Key", "fhd_guess")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("bad key answered %d", resp.StatusCode)
		}
	}
	s := status()
	if s.Alert != drains.AlertAuth || s.LastAuthError == nil || !s.LastAuthError.At.Equal(first.Add(30*time.Millisecond).Truncate(time.Millisecond)) {
		t.Fatalf("after a 30 s flood the last auth error is %+v, want the first one's only (first at %v)", s.LastAuthError, first)
	}

	if code, _, _ := aient(t, dir, "drains", "revoke", c.ID); code != 0 {
		t.Fatal("revoke failed")
	}
	advance(3 * time.Second)
	if out := send(r.AccessKey); !strings.Contains(out, ": 403 ") {
		t.Errorf("after revoke: %s", out)
	}

	lines := logs.String()
	if !strings.Contains(lines, "firehose delivery") {
		t.Fatal("no server log lines captured: the leak check proves nothing")
	}
	for _, k := range []string{c.AccessKey, r.AccessKey} {
		if strings.Contains(lines, strings.TrimPrefix(k, drains.KeyPrefix)) {
			t.Error("a server log line holds an access key")
		}
	}
}

// `aient send` replays events/ files as they are: their method and their own key unless
// --key is given; SQS batches are for the grouper and are skipped with a note.
func TestSendReplaysEventFiles(t *testing.T) {
	dir := t.TempDir()
	st, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hs := httptest.NewServer(cli.NewLocal(st, cli.LocalConfig{}).Handler())
	defer hs.Close()
	_, out, _ := aient(t, dir, "drains", "create", "--org", "acme", "--env", "prod", "--json", "--endpoint-base", hs.URL)
	c := mustJSON[cli.Created](t, out)
	ev := func(name string) string { return filepath.Join("..", "..", "..", "events", name) }

	code, out, _ := aient(t, dir, "send", "--endpoint", c.Endpoint, "--key", c.AccessKey,
		ev("url-gzip-request.json"), ev("url-get.json"), ev("sqs-one-error.json"))
	for _, want := range []string{"url-gzip-request.json: 200 ", "url-get.json: 405 ", "sqs-one-error.json: skipped: an SQS event"} {
		if !strings.Contains(out, want) {
			t.Errorf("send output lacks %q:\n%s", want, out)
		}
	}
	if code != 1 {
		t.Errorf("exit %d with a 405 among the answers, want 1", code)
	}
	// Without --key the file's own (example) key is sent: this drain does not know it.
	if _, out, _ = aient(t, dir, "send", "--endpoint", c.Endpoint, ev("url-cloudwatch-data.json")); !strings.Contains(out, ": 401 ") {
		t.Errorf("an events/ file's example key was not sent as it is: %s", out)
	}
}
