package problemstest_test

import (
	"context"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/problems"
	"github.com/aient/firehose-drain/pkg/problems/problemstest"
)

func TestSuitePassesOnACorrectStore(t *testing.T) {
	problemstest.Run(t, func(*testing.T) problems.Store { return problemstest.NewMemStore() })
}

func TestMemStoreKeepsTheLifecycleContract(t *testing.T) {
	problemstest.RunLifecycle(t, func(_ *testing.T, now func() time.Time) problemstest.Rig {
		s := problemstest.NewMemStore()
		s.Now = now
		return problemstest.Rig{Store: s, Notices: func(context.Context) ([]problems.Notice, error) { return s.Notices(), nil }}
	})
}
