package ddb_test

import (
	"testing"

	"github.com/aient/firehose-drain/internal/testkit/awstest"
)

// TestMain runs the package's tests on one moto server (each test in an account of its own).
func TestMain(m *testing.M) { awstest.Main(m) }
