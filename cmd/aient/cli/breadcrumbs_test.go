package cli_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aient/firehose-drain/cmd/aient/cli"
	fht "github.com/aient/firehose-drain/internal/testkit/firehosetest"
	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/problems"
)

// `problems show` prints the lines of the sample's invocation; --json carries them as
// "breadcrumbs":[{"time","level","message"}] on the sample.
func TestProblemsShowPrintsTheLogsOfTheInvocation(t *testing.T) {
	dir := t.TempDir()
	st, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := cli.NewLocal(st, cli.LocalConfig{})
	hs := httptest.NewServer(srv.Handler())
	d, key, err := srv.Drains().Create(context.Background(), "acme", "prod")
	if err != nil {
		t.Fatal(err)
	}
	body, wantA, _ := fht.Interleaved("req-cli")
	req, _ := http.NewRequest(http.MethodPost, hs.URL+"/aws/firehose/"+d.ID, bytes.NewReader(body))
	req.Header.Set("X-Amz-Firehose-Request-Id", "req-cli")
	req.Header.Set("X-Amz-Firehose-Access-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("delivery: %v %v", resp, err)
	}
	resp.Body.Close()
	for {
		n, err := srv.GroupOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	hs.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	_, out, _ := aient(t, dir, "problems", "list", "--json")
	var id string
	for _, p := range mustJSON[[]problems.Problem](t, out) {
		if strings.Contains(p.Title, "TypeError") {
			id = p.ID
		}
	}
	code, out, errOut := aient(t, dir, "problems", "show", id, "--json")
	if code != 0 {
		t.Fatalf("problems show --json: %d %s", code, errOut)
	}
	shown := mustJSON[struct {
		Sample struct {
			Breadcrumbs []map[string]any `json:"breadcrumbs"`
		} `json:"sample"`
	}](t, out)
	bc := shown.Sample.Breadcrumbs
	if len(bc) != len(wantA) {
		t.Fatalf("problems show --json: %d breadcrumbs, want %d: %s", len(bc), len(wantA), out)
	}
	for i, w := range wantA {
		if bc[i]["message"] != w+"\n" || bc[i]["time"] == nil || bc[i]["level"] == nil || len(bc[i]) != 3 {
			t.Errorf("breadcrumb %d = %v, want {time, level, message %q}", i, bc[i], w)
		}
	}
	code, out, _ = aient(t, dir, "problems", "show", id)
	if code != 0 || !strings.Contains(out, "Logs of this invocation:") || !strings.Contains(out, "WARN  "+wantA[2]) || strings.Contains(out, fht.ReqB) {
		t.Errorf("problems show:\n%s", out)
	}
}
