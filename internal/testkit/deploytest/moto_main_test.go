package deploytest

import (
	"testing"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
)

// TestMain runs the package's tests on one moto server (each test in an account of its own).
// The bootstraps are built once for all the tests (BuildBootstrap), removed at the end.
func TestMain(m *testing.M) { awstest.Main(m, RemoveBuilds) }
