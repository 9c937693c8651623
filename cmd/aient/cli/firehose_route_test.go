package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/aient/firehose-drain/cmd/aient/cli"
	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
)

func createDrain(t *testing.T, dir string, args ...string) (id, key string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := map[string]string{cli.EnvData: dir}
	if code := cli.Run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut); code != 0 {
		t.Fatalf("%v: %d %s", args, code, errOut.String())
	}
	var d struct {
		ID        string `json:"id"`
		AccessKey string `json:"accessKey"`
	}
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatalf("%v: %v: %s", args, err, out.String())
	}
	return d.ID, d.AccessKey
}

// postFirehose posts a small delivery to base+path with key and returns the status, after
// checking that the answer is the Firehose JSON body.
func postFirehose(t *testing.T, base, path, key string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(fht.Body("req-1", fht.Record("g", "s", fht.InfoEvent(1)))))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Firehose-Request-Id", "req-1")
	req.Header.Set("X-Amz-Firehose-Access-Key", key)
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var a struct {
		RequestID string   `json:"requestId"`
		Timestamp *float64 `json:"timestamp"`
	}
	if resp.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &a) != nil || a.RequestID != "req-1" || a.Timestamp == nil {
		t.Errorf("POST %s: %d %q %s: not the Firehose answer", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	return resp.StatusCode
}

// TestLocalFirehoseRouteAnswersLikeFirehoseExpects pins defect 7 of issue 14 for the local
// server: paths the router would clean got a 307 with an empty body, and malformed drain
// ids a 404; every answer on the route is now the Firehose JSON body, with the status of
// the answers table.
func TestLocalFirehoseRouteAnswersLikeFirehoseExpects(t *testing.T) {
	dir := t.TempDir()
	id, key := createDrain(t, dir, "drains", "create", "--org", "acme", "--env", "prod", "--json")
	base, _, _ := serveInBackground(t, dir, "--listen", "127.0.0.1:0")
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/aws/firehose/" + id, 200},
		{"/aws//firehose/" + id, 404},
		{"//aws/firehose/" + id, 404},
		{"/aws/firehose/../firehose/" + id, 401},
		{"/aws/firehose/./" + id, 401},
		{"/aws/firehose/" + id + "/", 401},
		{"/aws/firehose/a%2Fb", 401},
		{"/aws/firehose/drn_nosuchdrain", 401},
	} {
		if got := postFirehose(t, base, c.path, key); got != c.status {
			t.Errorf("POST %s: %d, want %d", c.path, got, c.status)
		}
	}
}

// TestLocalRotationTakesEffectAtOnce pins defect 10 of issue 14 for the local server: a
// rotation by the CLI beside a running `aient serve` holds from the next delivery, for the
// new key and the old one.
func TestLocalRotationTakesEffectAtOnce(t *testing.T) {
	dir := t.TempDir()
	id, oldKey := createDrain(t, dir, "drains", "create", "--org", "acme", "--env", "prod", "--json")
	base, _, _ := serveInBackground(t, dir, "--listen", "127.0.0.1:0")
	if got := postFirehose(t, base, "/aws/firehose/"+id, oldKey); got != 200 {
		t.Fatalf("before rotation: %d", got)
	}
	_, newKey := createDrain(t, dir, "drains", "rotate", id, "--json")
	if got := postFirehose(t, base, "/aws/firehose/"+id, oldKey); got != 401 {
		t.Errorf("old key right after rotation without grace: %d, want 401", got)
	}
	if got := postFirehose(t, base, "/aws/firehose/"+id, newKey); got != 200 {
		t.Errorf("new key right after rotation: %d, want 200", got)
	}
}
