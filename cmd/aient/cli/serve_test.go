package cli_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/cmd/aient/cli"
)

// syncBuffer is a bytes.Buffer safe to write from the server's goroutines while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// servingRE finds the base URL in serve's "Serving ... on URL" line.
var servingRE = regexp.MustCompile(`Serving .*?on (http://[^ ]+) `)

// serveInBackground runs `aient serve args...` until the test ends and returns its base
// URL and outputs.
func serveInBackground(t *testing.T, dir string, args ...string) (string, *syncBuffer, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int)
	env := map[string]string{cli.EnvData: dir}
	go func() {
		done <- cli.Run(ctx, append([]string{"serve"}, args...), func(k string) string { return env[k] }, &out, &errOut)
	}()
	t.Cleanup(func() { cancel(); <-done })
	for range 500 {
		if m := servingRE.FindStringSubmatch(out.String()); m != nil {
			return m[1], &out, &errOut
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not start: %s %s", out.String(), errOut.String())
	return "", nil, nil
}

func TestServeRefusesNonLoopbackWithoutAllowRemote(t *testing.T) {
	for _, listen := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		code, _, errOut := aient(t, t.TempDir(), "serve", "--listen", listen)
		if code != 2 || !strings.Contains(errOut, "--allow-remote") || !strings.Contains(errOut, "not a loopback address") {
			t.Errorf("serve --listen %s: exit %d %q", listen, code, errOut)
		}
	}
}

func TestServeWithAllowRemoteWarnsAndKeepsTheConsoleLocal(t *testing.T) {
	base, _, errOut := serveInBackground(t, t.TempDir(), "--listen", "0.0.0.0:0", "--allow-remote")
	if !strings.Contains(errOut.String(), "WARNING") || !strings.Contains(errOut.String(), "Firehose route") {
		t.Errorf("no warning printed: %q", errOut.String())
	}
	// From this machine, through the loopback name, the console answers.
	port := base[strings.LastIndex(base, ":")+1:]
	resp, err := http.Get("http://127.0.0.1:" + port + "/api/drains")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("local GET /api/drains: %d %s", resp.StatusCode, b)
	}
}

func TestServeAnswersRebindingHostsWith421(t *testing.T) {
	base, _, _ := serveInBackground(t, t.TempDir(), "--listen", "127.0.0.1:0")
	req, _ := http.NewRequest(http.MethodGet, base+"/api/drains", nil)
	req.Host = "attacker.example:8080"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Fatalf("GET /api/drains with Host attacker.example: %d, want 421", resp.StatusCode)
	}
}
