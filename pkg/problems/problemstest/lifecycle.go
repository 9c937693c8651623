package problemstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/problems"
)

// Rig is a store for RunLifecycle: its clock is the suite's, and Notices reads back every
// notice it wrote (its outbox), in any order.
type Rig struct {
	Store   problems.Store
	Notices func(ctx context.Context) ([]problems.Notice, error)
}

// clock is the suite's movable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// lifecycleBase is ten minutes into an hour.
var lifecycleBase = time.UnixMilli(1_764_583_800_000).UTC() // 2025-12-01T10:10:00Z

// RunLifecycle runs the lifecycle part of the problems.Store contract: every transition,
// decided in the write that counts, noticed exactly once under concurrency and
// redelivery, and operator actions. newStore returns an empty store whose clock is now.
func RunLifecycle(t *testing.T, newStore func(t *testing.T, now func() time.Time) Rig) {
	run := func(name string, f func(t *testing.T, r Rig, c *clock)) {
		t.Run(name, func(t *testing.T) {
			c := &clock{now: lifecycleBase}
			f(t, newStore(t, c.Now), c)
		})
	}
	run("a new problem is unresolved and new, noticed once", testLifecycleNew)
	run("resolve, then a newer occurrence regresses it once; an older one does not", testRegression)
	run("concurrent occurrences of a resolved problem regress it exactly once", testConcurrentRegression)
	run("redelivering the occurrence that regressed notices nothing more", testRedeliveredRegression)
	run("ignore until a count, then escalating", testIgnoreUntilCount)
	run("ignore for a time, then escalating", testIgnoreFor)
	run("ignore forever stays ignored through a storm", testIgnoreForever)
	run("a spike escalates once; reopen and ongoing", testEscalation)
	run("hourly buckets on Get, not on List", testHourly)
	run("actions on unknown problems or with bad conditions fail", testBadActions)
}

func notices(t *testing.T, r Rig) []problems.Notice {
	t.Helper()
	ns, err := r.Notices(t.Context())
	if err != nil {
		t.Fatalf("read notices: %v", err)
	}
	slices.SortFunc(ns, func(a, b problems.Notice) int { return a.At.Compare(b.At) })
	return ns
}

// wantNotices checks the transitions noticed, in time order.
func wantNotices(t *testing.T, r Rig, want ...problems.Transition) []problems.Notice {
	t.Helper()
	ns := notices(t, r)
	var got []problems.Transition
	for _, n := range ns {
		got = append(got, n.Transition)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("notices %v, want %v", got, want)
	}
	return ns
}

func wantState(t *testing.T, r Rig, id string, st problems.State, sub problems.Substate) problems.Problem {
	t.Helper()
	p := mustGet(t, r.Store, id)
	if p.State != st || p.Substate != sub {
		t.Fatalf("problem is %s/%s, want %s/%s", p.State, p.Substate, st, sub)
	}
	return p
}

func act(t *testing.T, r Rig, id string, a problems.Action) problems.Problem {
	t.Helper()
	p, err := r.Store.Act(t.Context(), id, a)
	if err != nil {
		t.Fatalf("Act(%s, %+v): %v", id, a, err)
	}
	return p
}

func lcOcc(fp string, i int, at time.Time) problems.Occurrence {
	return occ("acme", "prod", fp, fmt.Sprintf("evt-%05d", i), at)
}

func recordAll(t *testing.T, s problems.Store, occs []problems.Occurrence) {
	t.Helper()
	for i, res := range s.RecordBatch(t.Context(), occs) {
		if res.Err != nil || !res.Recorded {
			t.Fatalf("occurrence %d: %+v", i, res)
		}
	}
}

func testLifecycleNew(t *testing.T, r Rig, c *clock) {
	o := lcOcc("fp-lc-new", 1, c.Now().Add(-time.Second))
	mustRecord(t, r.Store, o)
	p := wantState(t, r, idOf(o), problems.Unresolved, problems.New)
	if !p.ResolvedAt.IsZero() || !p.RegressedAt.IsZero() || !p.IgnoredUntil.IsZero() || p.IgnoredUntilCount != 0 {
		t.Fatalf("a new problem has state times: %+v", p.Lifecycle)
	}
	ns := wantNotices(t, r, problems.ToNew)
	n := ns[0]
	if n.Problem.ID != idOf(o) || n.Problem.Count != 1 || n.Problem.Title != o.Title || n.CountLastHour != 1 || !n.At.Equal(c.Now()) || n.ID == "" {
		t.Fatalf("notice %+v", n)
	}
	if n.Problem.Sample.Message != o.Sample.Message || n.Problem.State != problems.Unresolved {
		t.Fatalf("the notice's problem lacks the sample or state: %+v", n.Problem)
	}
	c.set(c.Now().Add(time.Minute))
	mustRecord(t, r.Store, lcOcc("fp-lc-new", 2, c.Now()))
	wantState(t, r, idOf(o), problems.Unresolved, problems.New)
	wantNotices(t, r, problems.ToNew)
}

func testRegression(t *testing.T, r Rig, c *clock) {
	o := lcOcc("fp-lc-reg", 1, c.Now())
	mustRecord(t, r.Store, o)
	c.set(c.Now().Add(time.Minute))
	resolvedAt := c.Now()
	p := act(t, r, idOf(o), problems.Action{To: problems.Resolved})
	if p.State != problems.Resolved || !p.ResolvedAt.Equal(resolvedAt) {
		t.Fatalf("after resolve: %+v", p.Lifecycle)
	}
	wantState(t, r, idOf(o), problems.Resolved, "")

	// A late event from before the resolution counts without regressing.
	c.set(c.Now().Add(time.Minute))
	mustRecord(t, r.Store, lcOcc("fp-lc-reg", 2, resolvedAt.Add(-30*time.Second)))
	if p := wantState(t, r, idOf(o), problems.Resolved, ""); p.Count != 2 {
		t.Fatalf("count %d, want 2: resolved problems keep counting", p.Count)
	}
	wantNotices(t, r, problems.ToNew)

	c.set(c.Now().Add(time.Minute))
	mustRecord(t, r.Store, lcOcc("fp-lc-reg", 3, c.Now()))
	p = wantState(t, r, idOf(o), problems.Unresolved, problems.Regressed)
	if !p.RegressedAt.Equal(c.Now()) || !p.ResolvedAt.Equal(resolvedAt) || p.Count != 3 {
		t.Fatalf("after the regression: %+v count %d", p.Lifecycle, p.Count)
	}
	ns := wantNotices(t, r, problems.ToNew, problems.ToRegressed)
	if ns[1].Problem.Substate != problems.Regressed || ns[1].Problem.Count != 3 {
		t.Fatalf("regression notice %+v", ns[1].Problem)
	}
	c.set(c.Now().Add(time.Minute))
	mustRecord(t, r.Store, lcOcc("fp-lc-reg", 4, c.Now()))
	wantNotices(t, r, problems.ToNew, problems.ToRegressed)
}

func testConcurrentRegression(t *testing.T, r Rig, c *clock) {
	o := lcOcc("fp-lc-conc", 0, c.Now())
	mustRecord(t, r.Store, o)
	c.set(c.Now().Add(time.Minute))
	act(t, r, idOf(o), problems.Action{To: problems.Resolved})
	c.set(c.Now().Add(time.Minute))
	// 20 writers, each a batch of its own occurrences, all newer than the resolution.
	var wg sync.WaitGroup
	for w := range 20 {
		wg.Go(func() {
			batch := []problems.Occurrence{lcOcc("fp-lc-conc", 1+2*w, c.Now()), lcOcc("fp-lc-conc", 2+2*w, c.Now())}
			for i, res := range r.Store.RecordBatch(context.WithoutCancel(t.Context()), batch) {
				if res.Err != nil || !res.Recorded {
					t.Errorf("writer %d occurrence %d: %+v", w, i, res)
				}
			}
		})
	}
	wg.Wait()
	p := wantState(t, r, idOf(o), problems.Unresolved, problems.Regressed)
	if p.Count != 41 {
		t.Fatalf("count %d, want 41", p.Count)
	}
	wantNotices(t, r, problems.ToNew, problems.ToRegressed)
}

func testRedeliveredRegression(t *testing.T, r Rig, c *clock) {
	o := lcOcc("fp-lc-redeliver", 0, c.Now())
	mustRecord(t, r.Store, o)
	c.set(c.Now().Add(time.Minute))
	act(t, r, idOf(o), problems.Action{To: problems.Resolved})
	c.set(c.Now().Add(time.Minute))
	regressing := lcOcc("fp-lc-redeliver", 1, c.Now())
	mustRecord(t, r.Store, regressing)
	wantNotices(t, r, problems.ToNew, problems.ToRegressed)
	// SQS brings the message back, twice, once in a batch with a new occurrence.
	c.set(c.Now().Add(time.Minute))
	if fresh, err := r.Store.Record(t.Context(), regressing); err != nil || fresh {
		t.Fatalf("redelivery: (%v, %v), want (false, nil)", fresh, err)
	}
	res := r.Store.RecordBatch(t.Context(), []problems.Occurrence{regressing, lcOcc("fp-lc-redeliver", 2, c.Now())})
	if res[0].Recorded || res[0].Err != nil || !res[1].Recorded {
		t.Fatalf("batch with a redelivery: %+v", res)
	}
	if p := wantState(t, r, idOf(o), problems.Unresolved, problems.Regressed); p.Count != 3 {
		t.Fatalf("count %d, want 3", p.Count)
	}
	wantNotices(t, r, problems.ToNew, problems.ToRegressed)
	// Resolved again, the redelivered regression does not reopen it.
	act(t, r, idOf(o), problems.Action{To: problems.Resolved})
	c.set(c.Now().Add(time.Minute))
	if fresh, err := r.Store.Record(t.Context(), regressing); err != nil || fresh {
		t.Fatalf("redelivery after resolving again: (%v, %v)", fresh, err)
	}
	wantState(t, r, idOf(o), problems.Resolved, "")
	wantNotices(t, r, problems.ToNew, problems.ToRegressed)
}

func testIgnoreUntilCount(t *testing.T, r Rig, c *clock) {
	o := lcOcc("fp-lc-iuc", 0, c.Now())
	mustRecord(t, r.Store, o)
	p := act(t, r, idOf(o), problems.Action{To: problems.Ignored, UntilCount: 3})
	if p.State != problems.Ignored || p.IgnoredUntilCount != 4 {
		t.Fatalf("after ignore --until-count 3 at count 1: %+v", p.Lifecycle)
	}
	for i := 1; i <= 2; i++ {
		c.set(c.Now().Add(time.Second))
		mustRecord(t, r.Store, lcOcc("fp-lc-iuc", i, c.Now()))
		wantState(t, r, idOf(o), problems.Ignored, "")
	}
	wantNotices(t, r, problems.ToNew)
	c.set(c.Now().Add(time.Second))
	mustRecord(t, r.Store, lcOcc("fp-lc-iuc", 3, c.Now()))
	p = wantState(t, r, idOf(o), problems.Unresolved, problems.Escalating)
	if p.IgnoredUntilCount != 0 || p.Count != 4 {
		t.Fatalf("after the condition passed: %+v count %d", p.Lifecycle, p.Count)
	}
	wantNotices(t, r, problems.ToNew, problems.ToEscalating)
}

func testIgnoreFor(t *testing.T, r Rig, c *clock) {
	o := lcOcc("fp-lc-ifor", 0, c.Now())
	mustRecord(t, r.Store, o)
	p := act(t, r, idOf(o), problems.Action{To: problems.Ignored, For: time.Hour})
	if !p.IgnoredUntil.Equal(c.Now().Add(time.Hour)) {
		t.Fatalf("ignoredUntil %v, want %v", p.IgnoredUntil, c.Now().Add(time.Hour))
	}
	c.set(c.Now().Add(30 * time.Minute))
	mustRecord(t, r.Store, lcOcc("fp-lc-ifor", 1, c.Now()))
	wantState(t, r, idOf(o), problems.Ignored, "")
	c.set(c.Now().Add(31 * time.Minute))
	mustRecord(t, r.Store, lcOcc("fp-lc-ifor", 2, c.Now()))
	wantState(t, r, idOf(o), problems.Unresolved, problems.Escalating)
	wantNotices(t, r, problems.ToNew, problems.ToEscalating)
}

func testIgnoreForever(t *testing.T, r Rig, c *clock) {
	o := lcOcc("fp-lc-forever", 0, c.Now())
	mustRecord(t, r.Store, o)
	act(t, r, idOf(o), problems.Action{To: problems.Ignored})
	var batch []problems.Occurrence
	for i := 1; i <= 150; i++ {
		batch = append(batch, lcOcc("fp-lc-forever", i, c.Now()))
	}
	recordAll(t, r.Store, batch)
	if p := wantState(t, r, idOf(o), problems.Ignored, ""); p.Count != 151 {
		t.Fatalf("count %d, want 151", p.Count)
	}
	wantNotices(t, r, problems.ToNew)
}

func testEscalation(t *testing.T, r Rig, c *clock) {
	// A quiet week: one occurrence a day for 7 days.
	start := c.Now()
	for d := 7; d >= 1; d-- {
		c.set(start.Add(-time.Duration(d) * 24 * time.Hour))
		mustRecord(t, r.Store, lcOcc("fp-lc-esc", d, c.Now()))
	}
	c.set(start)
	o := lcOcc("fp-lc-esc", 0, c.Now())
	wantState(t, r, idOf(o), problems.Unresolved, problems.New)
	wantNotices(t, r, problems.ToNew)
	// 99 in the last hour: not yet.
	var batch []problems.Occurrence
	for i := range 99 {
		batch = append(batch, lcOcc("fp-lc-esc", 100+i, c.Now().Add(-time.Duration(i)*time.Second)))
	}
	recordAll(t, r.Store, batch)
	wantState(t, r, idOf(o), problems.Unresolved, problems.Ongoing) // new settled after 7 days
	// The 100th escalates; 200 more in two batches do not notice again.
	c.set(c.Now().Add(time.Minute))
	mustRecord(t, r.Store, lcOcc("fp-lc-esc", 199, c.Now()))
	wantState(t, r, idOf(o), problems.Unresolved, problems.Escalating)
	for b := range 2 {
		batch = batch[:0]
		for i := range 100 {
			batch = append(batch, lcOcc("fp-lc-esc", 200+100*b+i, c.Now()))
		}
		recordAll(t, r.Store, batch)
	}
	ns := wantNotices(t, r, problems.ToNew, problems.ToEscalating)
	if ns[1].CountLastHour < 100 {
		t.Fatalf("escalation notice with %d in the last hour", ns[1].CountLastHour)
	}
	// Reopened it is ongoing; three hours later, quiet, it stays ongoing.
	p := act(t, r, idOf(o), problems.Action{To: problems.Unresolved})
	if p.State != problems.Unresolved || p.Substate != problems.Ongoing {
		t.Fatalf("after reopen: %s/%s", p.State, p.Substate)
	}
	c.set(c.Now().Add(3 * time.Hour))
	mustRecord(t, r.Store, lcOcc("fp-lc-esc", 999, c.Now()))
	if p := wantState(t, r, idOf(o), problems.Unresolved, problems.Ongoing); p.Count != 7+99+1+200+1 {
		t.Fatalf("count %d", p.Count)
	}
}

func testHourly(t *testing.T, r Rig, c *clock) {
	h := problems.HourOf(c.Now())
	var batch []problems.Occurrence
	for i, at := range []time.Time{h.Add(time.Minute), h.Add(-50 * time.Minute), h.Add(2 * time.Minute), h.Add(-3 * time.Hour)} {
		batch = append(batch, lcOcc("fp-lc-hourly", i, at))
	}
	recordAll(t, r.Store, batch)
	c.set(c.Now().Add(time.Minute))
	mustRecord(t, r.Store, lcOcc("fp-lc-hourly", 9, c.Now()))
	// An occurrence older than 14 days counts but has no bucket.
	mustRecord(t, r.Store, lcOcc("fp-lc-hourly", 10, h.Add(-15*24*time.Hour)))
	p := mustGet(t, r.Store, idOf(batch[0]))
	want := []problems.HourCount{{Hour: h.Add(-3 * time.Hour), Count: 1}, {Hour: h.Add(-time.Hour), Count: 1}, {Hour: h, Count: 3}}
	if len(p.Hourly) != len(want) {
		t.Fatalf("hourly %+v, want %+v", p.Hourly, want)
	}
	for i := range want {
		if !p.Hourly[i].Hour.Equal(want[i].Hour) || p.Hourly[i].Count != want[i].Count {
			t.Fatalf("hourly %+v, want %+v", p.Hourly, want)
		}
	}
	if p.Count != 6 {
		t.Fatalf("count %d, want 6", p.Count)
	}
	list, err := r.Store.List(t.Context(), "acme", "prod")
	if err != nil || len(list) != 1 || list[0].Hourly != nil || list[0].State != problems.Unresolved {
		t.Fatalf("List = %+v, %v; want one problem, its state and no buckets", list, err)
	}
}

func testBadActions(t *testing.T, r Rig, c *clock) {
	if _, err := r.Store.Act(t.Context(), "no-such-problem", problems.Action{To: problems.Resolved}); !errors.Is(err, problems.ErrNotFound) {
		t.Fatalf("Act on an unknown problem: %v, want ErrNotFound", err)
	}
	o := lcOcc("fp-lc-bad", 0, c.Now())
	mustRecord(t, r.Store, o)
	if _, err := r.Store.Act(t.Context(), idOf(o), problems.Action{To: problems.Ignored, For: -time.Hour}); !errors.Is(err, problems.ErrBadAction) {
		t.Fatalf("a negative ignore: %v, want ErrBadAction", err)
	}
	wantState(t, r, idOf(o), problems.Unresolved, problems.New)
}
