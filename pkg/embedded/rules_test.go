package embedded_test

import (
	"testing"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/drains/drainstest"
	"github.com/aient/firehose-drain/pkg/embedded"
)

func TestRulesContract(t *testing.T) {
	drainstest.RunRules(t, func(t *testing.T) interface {
		drains.Store
		drains.RuleStore
	} {
		s, err := embedded.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return struct {
			drains.Store
			drains.RuleStore
		}{s.Drains(), s.Rules()}
	})
}
