package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aient/firehose-drain/pkg/console"
	"github.com/aient/firehose-drain/pkg/embedded"
)

func guarded(t *testing.T, cfg console.Config) http.Handler {
	t.Helper()
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg.Ingest = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ingest":true}`)
	})
	return console.New(console.Backend{Problems: st.Reader(), Drains: st.Drains()}, cfg).Handler()
}

func do(h http.Handler, remote, host, path string) (int, string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = remote
	req.Host = host
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// DNS rebinding: a page of another site that resolves its own name to 127.0.0.1 reaches
// the server with its own Host; the console refuses it.
func TestConsoleAnswersOnlyToLocalHostNames(t *testing.T) {
	h := guarded(t, console.Config{Hosts: []string{"devbox.internal"}})
	for _, c := range []struct {
		host string
		want int
	}{
		{"localhost:8080", 200},
		{"127.0.0.1:8080", 200},
		{"[::1]:8080", 200},
		{"LOCALHOST", 200},
		{"devbox.internal:8080", 200},
		{"evil.example", 421},
		{"evil.example:8080", 421},
		{"127.0.0.1.evil.example", 421},
		{"", 421},
	} {
		for _, path := range []string{"/", "/api/problems", "/api/drains", "/drains"} {
			if code, body := do(h, "127.0.0.1:50000", c.host, path); code != c.want {
				t.Errorf("Host %q GET %s: %d, want %d: %.200s", c.host, path, code, c.want, body)
			}
		}
	}
	// The Firehose route is authenticated by its key and answers whatever the Host.
	if code, body := do(h, "127.0.0.1:50000", "evil.example", "/aws/firehose/drn_x"); code != 200 || !strings.Contains(body, "ingest") {
		t.Errorf("the Firehose route behind a foreign Host: %d %s", code, body)
	}
}

// With --allow-remote, a remote caller reaches the Firehose route and nothing else.
func TestRemoteCallersReachOnlyTheFirehoseRoute(t *testing.T) {
	h := guarded(t, console.Config{Remote: true, Hosts: []string{"0.0.0.0"}})
	for _, path := range []string{"/", "/api/problems", "/api/drains", "/drains", "/problems/x", "/nosuch"} {
		if code, _ := do(h, "203.0.113.7:40000", "192.0.2.1:8080", path); code != http.StatusForbidden {
			t.Errorf("remote GET %s: %d, want 403", path, code)
		}
		if code, _ := do(h, "203.0.113.7:40000", "localhost:8080", path); code != http.StatusForbidden {
			t.Errorf("remote GET %s with Host localhost: %d, want 403", path, code)
		}
	}
	for _, path := range []string{"/aws/firehose/drn_x", "/aws//firehose/drn_x"} {
		if code, body := do(h, "203.0.113.7:40000", "192.0.2.1:8080", path); code != 200 || !strings.Contains(body, "ingest") {
			t.Errorf("remote POST %s: %d %s, want the ingest's answer", path, code, body)
		}
	}
	if code, _ := do(h, "127.0.0.1:40000", "localhost:8080", "/"); code != 200 {
		t.Errorf("a local caller of a remote-listening server: %d", code)
	}
}

func TestLoopbackHost(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:0": true, "[::1]:8080": true, "127.0.0.2:1": true,
		"0.0.0.0:8080": false, ":8080": false, "[::]:8080": false, "192.168.1.4:8080": false, "example.com:80": false,
	} {
		if got := console.LoopbackHost(addr); got != want {
			t.Errorf("LoopbackHost(%q) = %v", addr, got)
		}
	}
}
