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

// prefetched records each batch after a Prefetch of all its problems, the way the grouper
// names a batch's problems while it fingerprints it.
type prefetched struct{ *ddb.Store }

func (p prefetched) RecordBatch(ctx context.Context, occs []problems.Occurrence) []problems.Result {
	ids := make([]string, len(occs))
	for i, o := range occs {
		ids[i] = problems.ID(o.Org, o.Env, o.Fingerprint)
	}
	p.Prefetch(ctx, ids)
	return p.Store.RecordBatch(ctx, occs)
}

// TestBatchContractPrefetched runs the batch contract over stormsim's table with every
// batch's problems prefetched first: redelivered, concurrent and crashed batches count
// each occurrence once whichever batch's Prefetch read a problem.
func TestBatchContractPrefetched(t *testing.T) {
	problemstest.RunBatch(t, func(t *testing.T) problems.Store {
		table := stormsim.NewTable(stormsim.TableConfig{}, func(context.Context) string { return "" })
		return prefetched{ddb.NewFromAPI(table, "problems", ddb.Options{}).WithSeenCache(0)}
	}, synctest.Test)
}
