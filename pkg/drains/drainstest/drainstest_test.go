package drainstest_test

import (
	"testing"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/drains/drainstest"
)

// TestSuitePassesOnMemStore shows that the suite passes on a store that keeps the contract
// (so a failure elsewhere is the store's, not the suite's), and that MemStore, the fake
// other packages' unit tests use, keeps it.
func TestSuitePassesOnMemStore(t *testing.T) {
	drainstest.Run(t, func(*testing.T) drains.Store { return drainstest.NewMemStore() })
}

func TestMemStoreRules(t *testing.T) {
	drainstest.RunRules(t, func(t *testing.T) interface {
		drains.Store
		drains.RuleStore
	} {
		return drainstest.NewMemStore()
	})
}

func TestMemStoreIgnoreRecorder(t *testing.T) {
	drainstest.RunIgnoreRecorder(t, func(*testing.T) drainstest.IgnoreStore {
		s := drainstest.NewMemStore()
		return drainstest.IgnoreStore{Store: s, IgnoreRecorder: s}
	})
}
