package problemstest_test

import (
	"testing"

	"github.com/aient/firehose-drain/pkg/problems"
	"github.com/aient/firehose-drain/pkg/problems/problemstest"
)

func TestSuitePassesOnACorrectStore(t *testing.T) {
	problemstest.Run(t, func(*testing.T) problems.Store { return problemstest.NewMemStore() })
}
