package dedup_test

import (
	"testing"

	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/dedup/deduptest"
)

// TestMemStoreContract keeps the unit tests' fake honest: it must behave like a real store.
func TestMemStoreContract(t *testing.T) {
	deduptest.Run(t, func(*testing.T) dedup.Store { return newMemStore() })
}
