// Package scale sizes the tests whose property holds at any size: `make test` runs them at
// a size that can still fail for the defect they were written for, `make test-long` (the
// environment variable AIENT_TEST_LONG=1) at the size they were first written with.
package scale

import (
	"os"
	"testing"
)

// Env is the environment variable that, set to 1, runs the long versions.
const Env = "AIENT_TEST_LONG"

// Long reports whether the long versions run.
func Long() bool { return os.Getenv(Env) == "1" }

// N is short in `make test`, long under `make test-long`; the test's log says which.
func N(t testing.TB, short, long int) int {
	t.Helper()
	if Long() {
		return long
	}
	t.Logf("size %d (%s=1, as make test-long sets it, runs %d)", short, Env, long)
	return short
}
