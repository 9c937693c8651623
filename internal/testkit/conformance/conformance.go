// Package conformance locates the conformance fixtures kept in testdata/conformance: real
// Firehose deliveries captured from AWS and stack-trace grouping examples, copied verbatim
// from the product's shared/conformance (see testdata/conformance/firehose/INDEX.md for
// their sources and licences). Every test of the ingest and grouping paths runs them.
package conformance

import (
	"path/filepath"
	"runtime"
	"testing"
)

// Dir is the absolute path of testdata/conformance.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "conformance")
}

// Files lists the files matching pattern (relative to Dir, e.g. "firehose/alloy/*.json"),
// failing the test when there are none.
func Files(t testing.TB, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(Dir(), pattern))
	if err != nil || len(m) == 0 {
		t.Fatalf("no conformance fixtures match %s (err %v)", pattern, err)
	}
	return m
}
