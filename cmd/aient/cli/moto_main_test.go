package cli_test

import (
	"testing"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
)

// TestMain runs the package's tests on one moto server (each test in an account of its own).
// The aient command that tests run as a process is built once (buildAient), removed at the end.
func TestMain(m *testing.M) { awstest.Main(m, removeAient) }
