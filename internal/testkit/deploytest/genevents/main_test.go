package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/aient/firehose-drain/internal/testkit/conformance"
)

// TestRunWritesTheCommittedEvents runs the command as `go run` would, into a temporary
// directory, and compares every file with the committed events/.
func TestRunWritesTheCommittedEvents(t *testing.T) {
	captures := filepath.Join(conformance.Dir(), "firehose")
	out := t.TempDir()
	var stdout bytes.Buffer
	if err := run([]string{"-conformance", captures, "-out", out}, &stdout); err != nil {
		t.Fatal(err)
	}
	written, err := filepath.Glob(filepath.Join(out, "*.json"))
	if err != nil || len(written) == 0 {
		t.Fatalf("wrote %v (%v)", written, err)
	}
	for _, f := range written {
		got, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "events", filepath.Base(f)))
		if err != nil {
			t.Errorf("%s is not committed: %v", filepath.Base(f), err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the committed file", filepath.Base(f))
		}
	}
	if !bytes.Contains(stdout.Bytes(), []byte("wrote ")) {
		t.Errorf("stdout %q does not list what was written", stdout.String())
	}
}

func TestRunFailsClearlyWithoutTheCaptures(t *testing.T) {
	err := run([]string{"-conformance", t.TempDir(), "-out", t.TempDir()}, &bytes.Buffer{})
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("run without captures: %v, want a not-exist error", err)
	}
}
