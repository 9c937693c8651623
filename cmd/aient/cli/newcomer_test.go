package cli_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Every command and subcommand answers --help with its own usage, on stdout, exit 0; a
// group answers with its subcommands.
func TestEveryCommandAnswersHelp(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--help"}, "aient serve "},
		{[]string{"drains", "--help"}, "aient drains create"},
		{[]string{"drains", "-h"}, "aient drains status"},
		{[]string{"drains", "create", "--help"}, "aient drains create"},
		{[]string{"drains", "rotate", "--help"}, "aient drains rotate"},
		{[]string{"drains", "revoke", "-h"}, "aient drains revoke"},
		{[]string{"drains", "list", "--help"}, "aient drains list"},
		{[]string{"drains", "status", "--help"}, "aient drains status"},
		{[]string{"problems", "--help"}, "aient problems show"},
		{[]string{"problems", "list", "--help"}, "aient problems list"},
		{[]string{"problems", "show", "--help"}, "aient problems show"},
		{[]string{"send", "--help"}, "aient send"},
		{[]string{"version", "--help"}, "aient version"},
	} {
		code, out, errOut := aient(t, dir, c.args...)
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("aient %v: exit %d, stdout %q, stderr %q; want 0 and %q", c.args, code, out, errOut, c.want)
		}
		group := c.args[0]
		if strings.Contains(out, "aient serve") && group != "serve" || strings.Contains(out, "aient problems") && group != "problems" {
			t.Errorf("aient %v prints other commands' usage: %q", c.args, out)
		}
	}
}

// A flag typo prints that command's usage only.
func TestAFlagTypoPrintsThatCommandsUsage(t *testing.T) {
	code, _, errOut := aient(t, t.TempDir(), "drains", "list", "--jsn")
	if code != 2 || !strings.Contains(errOut, "-jsn") || !strings.Contains(errOut, "aient drains list") ||
		strings.Contains(errOut, "aient serve") || strings.Contains(errOut, "aient problems") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// A --data dir that does not exist is refused, named, with how to make one; drains create
// and serve may start one.
func TestAMissingDataDirIsRefused(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "typo")
	for _, args := range [][]string{
		{"drains", "list"}, {"problems", "list"}, {"drains", "status", "drn_x"}, {"problems", "show", "x"},
	} {
		code, out, errOut := aient(t, missing, args...)
		if code != 1 || !strings.Contains(errOut, missing) || !strings.Contains(errOut, "aient serve --data") || strings.Contains(out, "No problems yet") {
			t.Errorf("aient %v on a missing data dir: exit %d %q %q", args, code, out, errOut)
		}
		if _, err := os.Stat(missing); err == nil {
			t.Fatalf("aient %v created %s", args, missing)
		}
	}
	if code, _, errOut := aient(t, missing, "drains", "create", "--org", "a", "--env", "b"); code != 0 {
		t.Fatalf("drains create on a new data dir: %d %s", code, errOut)
	}
	if code, _, errOut := aient(t, missing, "drains", "list"); code != 0 {
		t.Fatalf("drains list after create: %d %s", code, errOut)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := aient(t, t.TempDir(), "version")
	if code != 0 || !strings.HasPrefix(out, "aient ") || !strings.Contains(out, "revision ") || !strings.Contains(out, "go1.") {
		t.Fatalf("aient version: exit %d %q", code, out)
	}
}

// `make install` installs the aient command (go install ./cmd/aient).
func TestMakeInstall(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	out, err := exec.Command("make", "-C", root, "-n", "install").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "install ./cmd/aient") {
		t.Fatalf("make -n install: %v\n%s", err, out)
	}
}

// `make lint`, and so `make test`, without cfn-lint on the PATH fail at once (before vet or
// golangci-lint run) with what to install, not with the shell's "not found".
func TestMakeLintWithoutCfnLint(t *testing.T) {
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Skip("no make on this machine")
	}
	root := filepath.Join("..", "..", "..")
	for _, target := range []string{"lint", "test"} {
		cmd := exec.Command(mk, "-C", root, target)
		cmd.Env = append(os.Environ(), "PATH="+t.TempDir()) // an empty PATH dir: no cfn-lint, no go
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 { // make exits 2 when a recipe fails
			t.Fatalf("make %s without cfn-lint: %v, want exit 2\n%s", target, err, out)
		}
		if !strings.Contains(string(out), "make lint needs cfn-lint (with the SAM translator): pip install cfn-lint") ||
			strings.Contains(string(out), "not found") || strings.Contains(string(out), "go vet") {
			t.Fatalf("make %s without cfn-lint printed:\n%s", target, out)
		}
	}
}
