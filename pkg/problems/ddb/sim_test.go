package ddb_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/aient/firehose-drain/internal/testkit/stormsim"
	"github.com/aient/firehose-drain/pkg/problems"
	"github.com/aient/firehose-drain/pkg/problems/ddb"
	"github.com/aient/firehose-drain/pkg/problems/problemstest"
)

// TestBatchContractOnSimulatedTable runs the batch part of the contract (redelivered,
// concurrent and crashed batches among them) over stormsim's table, each case in a
// synctest bubble: every call answers after 5 ms of virtual time, so each batch's writers
// draft their first transactions (a new problem's whole creation) while the batch's read
// is out, every time, and concurrent batches meet the simulation's TransactionConflict
// on overlapping writes of an item. moto answers too fast to make that deterministic.
func TestBatchContractOnSimulatedTable(t *testing.T) {
	for _, c := range []struct {
		name  string
		cache bool
	}{{"without a seen cache", false}, {"with a seen cache", true}} {
		t.Run(c.name, func(t *testing.T) {
			problemstest.RunBatch(t, func(t *testing.T) problems.Store {
				table := stormsim.NewTable(stormsim.TableConfig{}, func(context.Context) string { return "" })
				s := ddb.NewFromAPI(table, "problems", ddb.Options{})
				if c.cache {
					s = s.WithSeenCache(0)
				}
				return s
			}, synctest.Test)
		})
	}
}
