package embedded_test

import (
	"context"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/dedup"
	"github.com/aient/firehose-drain/pkg/dedup/deduptest"
	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/drains/drainstest"
	"github.com/aient/firehose-drain/pkg/embedded"
	"github.com/aient/firehose-drain/pkg/problems"
	"github.com/aient/firehose-drain/pkg/problems/problemstest"
)

func TestDrainsContract(t *testing.T) {
	drainstest.Run(t, func(t *testing.T) drains.Store { return openStore(t, t.TempDir()).Drains() })
}

func TestDrainLogContract(t *testing.T) {
	drainstest.RunLog(t, func(t *testing.T) drainstest.LogStore {
		ls, ok := openStore(t, t.TempDir()).Drains().(drainstest.LogStore)
		if !ok {
			t.Fatal("the embedded drain store is not a drains.LogReader")
		}
		return ls
	})
}

func TestProblemsContract(t *testing.T) {
	problemstest.Run(t, func(t *testing.T) problems.Store { return openStore(t, t.TempDir()).Problems() })
}

func TestDedupContract(t *testing.T) {
	deduptest.Run(t, func(t *testing.T) dedup.Store { return openStore(t, t.TempDir()).Claims() })
}

func TestProblemsLifecycleContract(t *testing.T) {
	problemstest.RunLifecycle(t, func(t *testing.T, now func() time.Time) problemstest.Rig {
		st := openStore(t, t.TempDir(), embedded.WithClock(now))
		return problemstest.Rig{Store: st.Problems(), Notices: func(ctx context.Context) ([]problems.Notice, error) {
			ds, err := st.Outbox().Pending(ctx, time.Now().Add(100*365*24*time.Hour), 100000)
			var out []problems.Notice
			for _, d := range ds {
				out = append(out, d.Notice)
			}
			return out, err
		}}
	})
}

func TestProblemReaderContract(t *testing.T) {
	problemstest.RunReader(t, func(t *testing.T) problemstest.ReadStore {
		rs, ok := openStore(t, t.TempDir()).Problems().(problemstest.ReadStore)
		if !ok {
			t.Fatal("the embedded problem store does not implement problemstest.ReadStore")
		}
		return rs
	})
}
