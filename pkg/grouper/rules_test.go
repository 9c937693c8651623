package grouper_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/drains/drainstest"
	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/grouper"
	"github.com/aient/firehose-drain/pkg/problems"
	"github.com/aient/firehose-drain/pkg/problems/problemstest"
)

// TestOrgRules: an org's rules apply to its events only; its ignore rules drop events
// before they become occurrences, counted on the drain.
func TestOrgRules(t *testing.T) {
	ctx := context.Background()
	ds := drainstest.NewMemStore()
	at := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	for _, d := range []drains.Drain{
		{ID: "drn_acme", Org: "acme", Env: "prod", State: drains.StateActive, CreatedAt: at},
		{ID: "drn_other", Org: "other", Env: "prod", State: drains.StateActive, CreatedAt: at},
	} {
		if err := ds.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []string{"code:ForceRetryExecution ignore", `message:"*connection reset by peer*" fingerprint=db-reset`} {
		if _, err := ds.AddRule(ctx, "acme", "prod", r, at); err != nil {
			t.Fatal(err)
		}
	}
	store := problemstest.NewMemStore()
	g := grouper.New(store, nil).WithRules(ds, ds)
	mk := func(drain, org, id, msg string) string {
		b, _ := json.Marshal(event.Event{
			Drain: drain, Org: org, Env: "prod", LogGroup: "/aws/lambda/f", LogStream: "s", ID: id,
			Timestamp: at.UnixMilli(), Message: msg, Level: event.Error,
		})
		return string(b)
	}
	retry := `{"errorType":"Error","errorMessage":"retry me","code":"ForceRetryExecution"}`
	batch := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "1", Body: mk("drn_acme", "acme", "e1", retry)},
		{MessageId: "2", Body: mk("drn_acme", "acme", "e2", retry)},
		{MessageId: "3", Body: mk("drn_other", "other", "e3", retry)}, // another org: not ignored
		{MessageId: "4", Body: mk("drn_acme", "acme", "e4", "Error: read ECONNRESET: connection reset by peer\n    at a (/var/task/a.js:1:1)")},
		{MessageId: "5", Body: mk("drn_acme", "acme", "e5", `{"level":"error","msg":"query: connection reset by peer"}`)},
		{MessageId: "6", Body: mk("drn_other", "other", "e6", `{"level":"error","msg":"query: connection reset by peer"}`)},
	}}
	resp, err := g.HandleSQS(ctx, batch)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%v %+v", err, resp)
	}
	acme, _ := store.List(ctx, "acme", "prod")
	if len(acme) != 1 || acme[0].Count != 2 {
		t.Fatalf("acme problems %+v: want the two connection resets under the custom fingerprint only", acme)
	}
	other, _ := store.List(ctx, "other", "prod")
	if len(other) != 2 {
		t.Fatalf("other's problems %+v: acme's rules leaked into another org", other)
	}
	d, _ := ds.Get(ctx, "drn_acme")
	o, _ := ds.Get(ctx, "drn_other")
	if d.Counters.Ignored != 2 || o.Counters.Ignored != 0 {
		t.Fatalf("ignored: acme %d (want 2), other %d (want 0)", d.Counters.Ignored, o.Counters.Ignored)
	}

	// A rule added later applies once the cache expires; a broken stored rule fails the
	// message (SQS retries it) rather than grouping it without the org's rules.
	ds2 := drainstest.NewMemStore()
	if _, err := ds2.AddRule(ctx, "acme", "prod", "pth:x -app", at); err != nil {
		t.Fatal(err)
	}
	g2 := grouper.New(problemstest.NewMemStore(), nil).WithRules(ds2, ds2)
	resp, _ = g2.HandleSQS(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "x", Body: mk("drn_acme", "acme", "e9", retry)}}})
	if len(resp.BatchItemFailures) != 1 {
		t.Fatalf("a broken stored rule did not fail the message: %+v", resp)
	}
}

// failingRecorder fails RecordBatch while fail is set (a crash before the occurrences'
// write: the messages are named failed and come back).
type failingRecorder struct {
	grouper.Recorder
	fail bool
}

func (f *failingRecorder) RecordBatch(ctx context.Context, occs []problems.Occurrence) []problems.Result {
	if f.fail {
		out := make([]problems.Result, len(occs))
		for i := range out {
			out[i].Err = errors.New("store unavailable")
		}
		return out
	}
	return f.Recorder.RecordBatch(ctx, occs)
}

// lossyIgnored books the drops, then (while lose is set) answers an error as if the
// answer had been lost: the write happened, the grouper cannot know.
type lossyIgnored struct {
	drains.IgnoreRecorder
	lose, fail bool
}

func (l *lossyIgnored) RecordIgnored(ctx context.Context, drain string, ids []string, at time.Time) (int, error) {
	if l.fail {
		return 0, errors.New("drains table unavailable")
	}
	n, err := l.IgnoreRecorder.RecordIgnored(ctx, drain, ids, at)
	if l.lose {
		return 0, errors.New("connection reset")
	}
	return n, err
}

// TestIgnoredCountedExactlyOnce: events an ignore rule drops are counted on their drain
// once each, whatever SQS does: a redelivery, the same batch handled concurrently, a crash
// after the drops were counted and before the occurrences were written, a lost answer of
// the counter's write, and a failed one.
func TestIgnoredCountedExactlyOnce(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	mk := func(id, msg string) string {
		b, _ := json.Marshal(event.Event{
			Drain: "drn_acme", Org: "acme", Env: "prod", LogGroup: "/aws/lambda/f", LogStream: "s", ID: id,
			Timestamp: at.UnixMilli(), Message: msg, Level: event.Error,
		})
		return string(b)
	}
	retry := `{"errorType":"Error","errorMessage":"retry me","code":"ForceRetryExecution"}`
	packed := func(ids ...string) string {
		var p grouper.Packed
		for _, id := range ids {
			var e event.Event
			_ = json.Unmarshal([]byte(mk(id, retry)), &e)
			p.Events = append(p.Events, e)
		}
		b, _ := json.Marshal(p)
		return string(b)
	}
	batch := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "1", Body: mk("e1", retry)},
		{MessageId: "2", Body: packed("e2", "e3", "e1")}, // e1 again: another copy of one event
		{MessageId: "3", Body: mk("e4", "TypeError: x is undefined\n    at f (/var/task/a.js:1:1)")},
	}}
	rig := func(t *testing.T) (*drainstest.MemStore, *problemstest.MemStore) {
		ds := drainstest.NewMemStore()
		if err := ds.Create(ctx, drains.Drain{ID: "drn_acme", Org: "acme", Env: "prod", State: drains.StateActive, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
		if _, err := ds.AddRule(ctx, "acme", "prod", "code:ForceRetryExecution ignore", at); err != nil {
			t.Fatal(err)
		}
		return ds, problemstest.NewMemStore()
	}
	check := func(t *testing.T, ds *drainstest.MemStore, ps *problemstest.MemStore) {
		t.Helper()
		d, _ := ds.Get(ctx, "drn_acme")
		list, _ := ps.List(ctx, "acme", "prod")
		if d.Counters.Ignored != 3 || len(list) != 1 || list[0].Count != 1 {
			t.Fatalf("ignored %d (want 3: e1, e2, e3), problems %+v (want one, count 1)", d.Counters.Ignored, list)
		}
	}
	handle := func(t *testing.T, g *grouper.Grouper) []events.SQSBatchItemFailure {
		t.Helper()
		resp, err := g.HandleSQS(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		return resp.BatchItemFailures
	}

	t.Run("redelivered", func(t *testing.T) {
		ds, ps := rig(t)
		g := grouper.New(ps, nil).WithRules(ds, ds)
		for range 3 {
			if f := handle(t, g); len(f) != 0 {
				t.Fatalf("failures %+v", f)
			}
		}
		check(t, ds, ps)
	})

	t.Run("concurrent", func(t *testing.T) {
		ds, ps := rig(t)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if f := handle(t, grouper.New(ps, nil).WithRules(ds, ds)); len(f) != 0 {
					t.Errorf("failures %+v", f)
				}
			})
		}
		wg.Wait()
		check(t, ds, ps)
	})

	t.Run("crashed between the drops and the occurrences", func(t *testing.T) {
		ds, ps := rig(t)
		rec := &failingRecorder{Recorder: ps, fail: true}
		g := grouper.New(rec, nil).WithRules(ds, ds)
		if f := handle(t, g); len(f) != 1 || f[0].ItemIdentifier != "3" {
			t.Fatalf("failures %+v, want message 3 (its occurrence was not written)", f)
		}
		rec.fail = false
		if f := handle(t, g); len(f) != 0 { // SQS brings the batch back
			t.Fatalf("failures %+v", f)
		}
		check(t, ds, ps)
	})

	t.Run("the counter's answer lost", func(t *testing.T) {
		ds, ps := rig(t)
		lossy := &lossyIgnored{IgnoreRecorder: ds, lose: true}
		g := grouper.New(ps, nil).WithRules(ds, lossy)
		if f := handle(t, g); len(f) != 2 {
			t.Fatalf("failures %+v, want messages 1 and 2 (their drops' write did not answer)", f)
		}
		lossy.lose = false
		if f := handle(t, g); len(f) != 0 {
			t.Fatalf("failures %+v", f)
		}
		check(t, ds, ps)
	})

	t.Run("the counter's write failed", func(t *testing.T) {
		ds, ps := rig(t)
		lossy := &lossyIgnored{IgnoreRecorder: ds, fail: true}
		g := grouper.New(ps, nil).WithRules(ds, lossy)
		if f := handle(t, g); len(f) != 2 {
			t.Fatalf("failures %+v, want messages 1 and 2", f)
		}
		if d, _ := ds.Get(ctx, "drn_acme"); d.Counters.Ignored != 0 {
			t.Fatalf("a failed write counted %d", d.Counters.Ignored)
		}
		lossy.fail = false
		if f := handle(t, g); len(f) != 0 {
			t.Fatalf("failures %+v", f)
		}
		check(t, ds, ps)
	})
}

// TestInitReportIsCountedNotAProblem: the platform's INIT_REPORT of an init failure the
// runtime's own line reports is dropped as its duplicate and counted on the drain; the
// runtime's line is the one problem.
func TestInitReportIsCountedNotAProblem(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	ds := drainstest.NewMemStore()
	if err := ds.Create(ctx, drains.Drain{ID: "drn_acme", Org: "acme", Env: "prod", State: drains.StateActive, CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	ps := problemstest.NewMemStore()
	g := grouper.New(ps, nil).WithRules(ds, ds)
	for i, msg := range []string{
		"[ERROR] Runtime.ImportModuleError: Unable to import module 'app': No module named 'requests'",
		"INIT_REPORT Init Duration: 250.12 ms\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError",
	} {
		e := event.Event{Drain: "drn_acme", Org: "acme", Env: "prod", LogGroup: "/aws/lambda/f", LogStream: "s", ID: fmt.Sprint(i), Timestamp: at.UnixMilli(), Message: msg, Level: event.Error}
		if _, err := g.Process(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	list, _ := ps.List(ctx, "acme", "prod")
	d, _ := ds.Get(ctx, "drn_acme")
	if len(list) != 1 || !strings.Contains(list[0].Title, "No module named 'requests'") || d.Counters.Ignored != 1 {
		t.Fatalf("problems %+v, ignored %d: want the runtime line's problem only and the report counted", list, d.Counters.Ignored)
	}
}

// TestDropsOnlyWhatItCounts: a grouper without an IgnoreCounter (no drains table) cannot
// count the platform's INIT_REPORT that duplicates the runtime's init-error line, nor an
// ignore rule's drops: it records them as occurrences instead of losing them uncounted.
func TestDropsOnlyWhatItCounts(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	ds := drainstest.NewMemStore()
	if _, err := ds.AddRule(ctx, "acme", "prod", "code:ForceRetryExecution ignore", at); err != nil {
		t.Fatal(err)
	}
	const report = "INIT_REPORT Init Duration: 250.12 ms\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError"
	for _, tc := range []struct {
		name string
		msgs []string
	}{
		{"no rules", []string{
			"[ERROR] Runtime.ImportModuleError: Unable to import module 'app': No module named 'requests'", report,
		}},
		{"rules without a counter", []string{
			report, `{"errorType":"Error","errorMessage":"retry me","code":"ForceRetryExecution"}`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := problemstest.NewMemStore()
			g := grouper.New(ps, nil)
			if tc.name != "no rules" {
				g = g.WithRules(ds, nil)
			}
			for i, msg := range tc.msgs {
				e := event.Event{Drain: "drn_acme", Org: "acme", Env: "prod", LogGroup: "/aws/lambda/f", LogStream: "s", ID: fmt.Sprint(i), Timestamp: at.UnixMilli(), Message: msg, Level: event.Error}
				recorded, err := g.Process(ctx, &e)
				if err != nil || !recorded {
					t.Fatalf("Process(%q) = %v, %v; want it recorded", msg, recorded, err)
				}
			}
			list, _ := ps.List(ctx, "acme", "prod")
			total := 0
			for _, p := range list {
				total += int(p.Count)
			}
			if total != len(tc.msgs) {
				t.Fatalf("problems %+v: %d occurrences, want %d (none lost)", list, total, len(tc.msgs))
			}
		})
	}
}
