package deploytest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// requireEnv makes a missing tool a failure instead of a skip (CI sets it, and CI has
// cfn-lint, aws-sam-translator and moto installed together).
const requireEnv = "AIENT_REQUIRE_MOTO"

// repoRoot is the module root: this package lives in internal/testkit/deploytest.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test source")
	}
	root := filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root %s: %v", root, err)
	}
	return root
}

// lookTool finds a command, or skips the test with how to install it (fails under
// AIENT_REQUIRE_MOTO when required is true).
func lookTool(t testing.TB, name, install string, required bool) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		msg := name + " not found: " + install
		if required && os.Getenv(requireEnv) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// runIn runs a command in dir and returns its stdout; a failure reports stderr too.
func runIn(t testing.TB, dir, name string, args ...string) []byte {
	t.Helper()
	out, stderr, err := tryRunIn(dir, name, args...)
	if err != nil {
		t.Fatalf("%s %v: %v\nstdout:\n%s\nstderr:\n%s", name, args, err, out, stderr)
	}
	return out
}

func tryRunIn(dir, name string, args ...string) (stdout, stderr []byte, err error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.Bytes(), e.Bytes(), err
}
