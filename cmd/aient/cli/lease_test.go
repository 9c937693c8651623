package cli_test

import (
	"strings"
	"testing"
)

func TestServeLeaseFlag(t *testing.T) {
	for _, bad := range []string{"0s", "500ms", "-1m"} {
		code, _, errOut := aient(t, t.TempDir(), "serve", "--listen", "127.0.0.1:0", "--lease", bad)
		if code != 2 || !strings.Contains(errOut, "--lease") {
			t.Errorf("serve --lease %s: exit %d %q, want a usage error naming --lease", bad, code, errOut)
		}
	}
	code, out, _ := aient(t, t.TempDir(), "serve", "--help")
	if code != 0 || !strings.Contains(out, "-lease") {
		t.Errorf("serve --help: exit %d, %q: want the --lease flag listed", code, out)
	}
	serveInBackground(t, t.TempDir(), "--listen", "127.0.0.1:0", "--lease", "30s")
}

func TestServeGroupTimeoutFlag(t *testing.T) {
	for _, bad := range []string{"0s", "500ms", "-1m"} {
		code, _, errOut := aient(t, t.TempDir(), "serve", "--listen", "127.0.0.1:0", "--group-timeout", bad)
		if code != 2 || !strings.Contains(errOut, "--group-timeout") {
			t.Errorf("serve --group-timeout %s: exit %d %q, want a usage error naming --group-timeout", bad, code, errOut)
		}
	}
	code, out, _ := aient(t, t.TempDir(), "serve", "--help")
	if code != 0 || !strings.Contains(out, "-group-timeout") {
		t.Errorf("serve --help: exit %d, %q: want the --group-timeout flag listed", code, out)
	}
}
