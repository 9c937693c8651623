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
	t.Parallel() // a store of its own
	drainstest.Run(t, func(t *testing.T) drains.Store { return openStore(t, t.TempDir()).Drains() })
}

func TestDrainLogContract(t *testing.T) {
	t.Parallel() // a store of its own
	drainstest.RunLog(t, func(t *testing.T) drainstest.LogStore {
		ls, ok := openStore(t, t.TempDir()).Drains().(drainstest.LogStore)
		if !ok {
			t.Fatal("the embedded drain store is not a drains.LogReader")
		}
		return ls
	})
}

func TestProblemsContract(t *testing.T) {
	t.Parallel() // a store of its own
	problemstest.Run(t, func(t *testing.T) problems.Store { return openStore(t, t.TempDir()).Problems() })
}

func TestDedupContract(t *testing.T) {
	t.Parallel() // a store of its own
	deduptest.Run(t, func(t *testing.T) dedup.Store { return openStore(t, t.TempDir()).Claims() })
}

func TestProblemsLifecycleContract(t *testing.T) {
	t.Parallel() // a store of its own
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
	t.Parallel() // a store of its own
	problemstest.RunReader(t, func(t *testing.T) problemstest.ReadStore {
		rs, ok := openStore(t, t.TempDir()).Problems().(problemstest.ReadStore)
		if !ok {
			t.Fatal("the embedded problem store does not implement problemstest.ReadStore")
		}
		return rs
	})
}

func TestIgnoreRecorderContract(t *testing.T) {
	drainstest.RunIgnoreRecorder(t, func(t *testing.T) drainstest.IgnoreStore {
		s := openStore(t, t.TempDir())
		return drainstest.IgnoreStore{Store: s.Drains(), IgnoreRecorder: s.Ignored()}
	})
}

// TestIgnoredSharesTheOccurrenceMarker: an identity counts once, as an occurrence or as
// ignored, never both.
func TestIgnoredSharesTheOccurrenceMarker(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	at := time.UnixMilli(1_763_700_000_123).UTC()
	if err := s.Drains().Create(ctx, drains.Drain{ID: "drn_1", Org: "acme", Env: "prod", State: drains.StateActive, CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	occ := func(id string) problems.Occurrence {
		return problems.Occurrence{
			Identity: id, Org: "acme", Env: "prod", Fingerprint: "fp", Title: "Error: x", Level: "error", At: at,
			Sample: problems.Sample{LogGroup: "/aws/lambda/f", LogStream: "s", EventID: id, Timestamp: at.UnixMilli(), Message: "Error: x"},
		}
	}
	if n, err := s.Ignored().RecordIgnored(ctx, "drn_1", []string{"dropped"}, at); n != 1 || err != nil {
		t.Fatalf("RecordIgnored = %d, %v", n, err)
	}
	if r := s.Problems().RecordBatch(ctx, []problems.Occurrence{occ("dropped"), occ("kept")}); r[0].Err != nil || r[0].Recorded || !r[1].Recorded {
		t.Fatalf("RecordBatch after RecordIgnored = %+v", r)
	}
	if n, err := s.Ignored().RecordIgnored(ctx, "drn_1", []string{"kept"}, at); n != 0 || err != nil {
		t.Fatalf("RecordIgnored of a recorded occurrence = %d, %v; want 0", n, err)
	}
	p, err := s.Problems().Get(ctx, problems.ID("acme", "prod", "fp"))
	d, _ := s.Drains().Get(ctx, "drn_1")
	if err != nil || p.Count != 1 || d.Counters.Ignored != 1 {
		t.Fatalf("problem %+v (%v), ignored %d: want count 1 and 1 ignored", p, err, d.Counters.Ignored)
	}
}
