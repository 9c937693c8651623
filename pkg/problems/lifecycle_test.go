package problems_test

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/problems"
)

// t0 is 25 minutes into an hour, so LastHour's sliding window is visible.
var t0 = time.Date(2026, 12, 1, 10, 25, 0, 0, time.UTC)

func times(at time.Time, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = at
	}
	return out
}

// hourly builds buckets: count per hour back from t0's hour (0 = t0's hour).
func hourly(counts map[int]int64) []problems.HourCount {
	var out []problems.HourCount
	for back := 400; back >= 0; back-- {
		if n, ok := counts[back]; ok {
			out = append(out, problems.HourCount{Hour: problems.HourOf(t0).Add(-time.Duration(back) * time.Hour), Count: n})
		}
	}
	return out
}

// steady is 7 days at rate per hour, ending before the previous hour.
func steady(rate int64) map[int]int64 {
	m := map[int]int64{}
	for back := 2; back < 2+7*24; back++ {
		m[back] = rate
	}
	return m
}

func TestEveryTransition(t *testing.T) {
	day := 24 * time.Hour
	cases := []struct {
		name     string
		lc       problems.Lifecycle
		change   int       // occurrences at `at`
		at       time.Time // their event time (default t0)
		total    int64     // count after the change
		want     problems.State
		wantSub  problems.Substate
		wantTr   problems.Transition
		wantSend bool
	}{
		{
			name: "an ongoing problem stays ongoing", lc: problems.Lifecycle{State: problems.Unresolved, Substate: problems.Ongoing},
			change: 1, total: 10, want: problems.Unresolved, wantSub: problems.Ongoing,
		},
		{
			name: "a new problem stays new within 7 days", lc: problems.Lifecycle{State: problems.Unresolved, Substate: problems.New, SubstateSince: t0.Add(-6 * day)},
			change: 1, total: 2, want: problems.Unresolved, wantSub: problems.New,
		},
		{
			name: "a new problem is ongoing after 7 days, silently", lc: problems.Lifecycle{State: problems.Unresolved, Substate: problems.New, SubstateSince: t0.Add(-7 * day)},
			change: 1, total: 2, want: problems.Unresolved, wantSub: problems.Ongoing,
		},
		{
			name: "a resolved problem regresses on a newer occurrence", lc: problems.Lifecycle{State: problems.Resolved, ResolvedAt: t0.Add(-time.Minute)},
			change: 1, total: 5, want: problems.Unresolved, wantSub: problems.Regressed, wantTr: problems.ToRegressed, wantSend: true,
		},
		{
			name: "a late occurrence from before the resolution counts without regressing", lc: problems.Lifecycle{State: problems.Resolved, ResolvedAt: t0.Add(-time.Minute)},
			change: 1, at: t0.Add(-2 * time.Minute), total: 5, want: problems.Resolved,
		},
		{
			name:   "a regression within the hour of the last one does not alert again",
			lc:     problems.Lifecycle{State: problems.Resolved, ResolvedAt: t0.Add(-5 * time.Minute), AlertedAt: map[problems.Transition]time.Time{problems.ToRegressed: t0.Add(-10 * time.Minute)}},
			change: 1, total: 5, want: problems.Unresolved, wantSub: problems.Regressed, wantTr: problems.ToRegressed,
		},
		{
			name:   "a regression an hour after the last one alerts",
			lc:     problems.Lifecycle{State: problems.Resolved, ResolvedAt: t0.Add(-5 * time.Minute), AlertedAt: map[problems.Transition]time.Time{problems.ToRegressed: t0.Add(-time.Hour)}},
			change: 1, total: 5, want: problems.Unresolved, wantSub: problems.Regressed, wantTr: problems.ToRegressed, wantSend: true,
		},
		{
			name: "regressed settles to ongoing after 7 days", lc: problems.Lifecycle{State: problems.Unresolved, Substate: problems.Regressed, RegressedAt: t0.Add(-8 * day), SubstateSince: t0.Add(-8 * day)},
			change: 1, total: 5, want: problems.Unresolved, wantSub: problems.Ongoing,
		},
		{
			name: "regressed stays regressed within 7 days", lc: problems.Lifecycle{State: problems.Unresolved, Substate: problems.Regressed, RegressedAt: t0.Add(-time.Hour), SubstateSince: t0.Add(-time.Hour)},
			change: 1, total: 5, want: problems.Unresolved, wantSub: problems.Regressed,
		},
		{
			name: "ignored forever stays ignored, even escalating", lc: problems.Lifecycle{State: problems.Ignored},
			change: 500, total: 600, want: problems.Ignored,
		},
		{
			name: "ignored for a time stays ignored before it passes", lc: problems.Lifecycle{State: problems.Ignored, IgnoredUntil: t0.Add(time.Minute)},
			change: 1, total: 5, want: problems.Ignored,
		},
		{
			name: "ignored for a time escalates when it has passed", lc: problems.Lifecycle{State: problems.Ignored, IgnoredUntil: t0},
			change: 1, total: 5, want: problems.Unresolved, wantSub: problems.Escalating, wantTr: problems.ToEscalating, wantSend: true,
		},
		{
			name: "ignored until a count stays ignored below it", lc: problems.Lifecycle{State: problems.Ignored, IgnoredUntilCount: 105},
			change: 1, total: 104, want: problems.Ignored,
		},
		{
			name: "ignored until a count escalates when the count reaches it", lc: problems.Lifecycle{State: problems.Ignored, IgnoredUntilCount: 105},
			change: 2, total: 106, want: problems.Unresolved, wantSub: problems.Escalating, wantTr: problems.ToEscalating, wantSend: true,
		},
		{
			name: "ignored for a time escalates early when its rate escalates", lc: problems.Lifecycle{State: problems.Ignored, IgnoredUntil: t0.Add(day)},
			change: 150, total: 150, want: problems.Unresolved, wantSub: problems.Escalating, wantTr: problems.ToEscalating, wantSend: true,
		},
		{
			name: "an unresolved problem escalates at 100 in the last hour over a quiet week", lc: problems.Lifecycle{State: problems.Unresolved, Substate: problems.Ongoing, Hourly: hourly(steady(1))},
			change: 100, total: 268, want: problems.Unresolved, wantSub: problems.Escalating, wantTr: problems.ToEscalating, wantSend: true,
		},
		{
			name: "99 in the last hour does not escalate", lc: problems.Lifecycle{State: problems.Unresolved, Substate: problems.Ongoing},
			change: 99, total: 99, want: problems.Unresolved, wantSub: problems.Ongoing,
		},
		{
			name: "100 in the last hour under 10x a busy week does not escalate", lc: problems.Lifecycle{State: problems.Unresolved, Substate: problems.Ongoing, Hourly: hourly(steady(11))},
			change: 100, total: 2000, want: problems.Unresolved, wantSub: problems.Ongoing,
		},
		{
			name: "exactly 10x the week's average escalates", lc: problems.Lifecycle{State: problems.Unresolved, Substate: problems.Ongoing, Hourly: hourly(steady(10))},
			change: 100, total: 2000, want: problems.Unresolved, wantSub: problems.Escalating, wantTr: problems.ToEscalating, wantSend: true,
		},
		{
			name: "the previous hour counts for the part still within 60 minutes",
			// 25 minutes into the hour: 35/60 of the previous hour's 120 = 70, plus 30 now.
			lc:     problems.Lifecycle{State: problems.Unresolved, Substate: problems.Ongoing, Hourly: hourly(map[int]int64{1: 120})},
			change: 30, total: 150, want: problems.Unresolved, wantSub: problems.Escalating, wantTr: problems.ToEscalating, wantSend: true,
		},
		{
			name:   "a second escalation within a day changes the substate without alerting",
			lc:     problems.Lifecycle{State: problems.Unresolved, Substate: problems.Ongoing, EscalatedAt: t0.Add(-5 * time.Hour), AlertedAt: map[problems.Transition]time.Time{problems.ToEscalating: t0.Add(-5 * time.Hour)}},
			change: 150, total: 1000, want: problems.Unresolved, wantSub: problems.Escalating, wantTr: problems.ToEscalating,
		},
		{
			name: "an escalation a day after the last alerts", lc: problems.Lifecycle{State: problems.Unresolved, Substate: problems.Ongoing, EscalatedAt: t0.Add(-day)},
			change: 150, total: 1000, want: problems.Unresolved, wantSub: problems.Escalating, wantTr: problems.ToEscalating, wantSend: true,
		},
		{
			name: "an escalating problem still escalating makes no transition", lc: problems.Lifecycle{State: problems.Unresolved, Substate: problems.Escalating, EscalatedAt: t0.Add(-time.Minute), Hourly: hourly(map[int]int64{0: 200})},
			change: 1, total: 201, want: problems.Unresolved, wantSub: problems.Escalating,
		},
		{
			name: "an escalating problem whose rate fell back is ongoing", lc: problems.Lifecycle{State: problems.Unresolved, Substate: problems.Escalating, EscalatedAt: t0.Add(-3 * time.Hour), Hourly: hourly(map[int]int64{3: 200})},
			change: 1, total: 201, want: problems.Unresolved, wantSub: problems.Ongoing,
		},
		{
			name: "a resolved problem regresses rather than escalates", lc: problems.Lifecycle{State: problems.Resolved, ResolvedAt: t0.Add(-time.Hour)},
			change: 300, total: 300, want: problems.Unresolved, wantSub: problems.Regressed, wantTr: problems.ToRegressed, wantSend: true,
		},
		{
			name: "a problem stored before states existed is unresolved and ongoing", lc: problems.Lifecycle{},
			change: 1, total: 3, want: problems.Unresolved, wantSub: problems.Ongoing,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			at := c.at
			if at.IsZero() {
				at = t0
			}
			before := c.lc
			beforeAlerted := len(c.lc.AlertedAt)
			got, out := problems.Advance(c.lc, problems.Change{Times: times(at, c.change)}, c.total, t0)
			if got.State != c.want || got.Substate != c.wantSub {
				t.Errorf("state %s/%s, want %s/%s", got.State, got.Substate, c.want, c.wantSub)
			}
			if out.Transition != c.wantTr || out.Alert != c.wantSend {
				t.Errorf("outcome %+v, want transition %q alert %v", out, c.wantTr, c.wantSend)
			}
			if out.Alert && !got.AlertedAt[out.Transition].Equal(t0) {
				t.Errorf("an alert at %v is not recorded for noise control: %v", t0, got.AlertedAt)
			}
			if !out.Alert && out.Transition != "" && got.AlertedAt[out.Transition].Equal(t0) {
				t.Errorf("a held-back alert is recorded as sent: %v", got.AlertedAt)
			}
			if got.State == problems.Unresolved && got.Substate == problems.Regressed && out.Transition == problems.ToRegressed && !got.RegressedAt.Equal(t0) {
				t.Errorf("regressedAt %v, want %v", got.RegressedAt, t0)
			}
			if got.State != problems.Ignored && (!got.IgnoredUntil.IsZero() || got.IgnoredUntilCount != 0) {
				t.Errorf("an unignored problem keeps its condition: %v / %d", got.IgnoredUntil, got.IgnoredUntilCount)
			}
			if len(c.lc.AlertedAt) != beforeAlerted || c.lc.State != before.State {
				t.Error("Advance modified its argument")
			}
			var n int64
			for _, b := range got.Hourly {
				if b.Hour.Equal(problems.HourOf(at)) {
					n = b.Count
				}
			}
			var had int64
			for _, b := range c.lc.Hourly {
				if b.Hour.Equal(problems.HourOf(at)) {
					had = b.Count
				}
			}
			if n != had+int64(c.change) {
				t.Errorf("bucket of %v = %d, want %d", problems.HourOf(at), n, had+int64(c.change))
			}
		})
	}
}

func TestCreatedIsNewAndAlerts(t *testing.T) {
	lc, out := problems.Created(problems.Change{Times: times(t0, 3)}, t0)
	if lc.State != problems.Unresolved || lc.Substate != problems.New || out != (problems.Outcome{Transition: problems.ToNew, Alert: true}) {
		t.Fatalf("created %s/%s %+v", lc.State, lc.Substate, out)
	}
	if len(lc.Hourly) != 1 || lc.Hourly[0].Count != 3 || !lc.Hourly[0].Hour.Equal(problems.HourOf(t0)) {
		t.Fatalf("hourly %+v", lc.Hourly)
	}
}

func TestOperatorActions(t *testing.T) {
	escalating := problems.Lifecycle{State: problems.Unresolved, Substate: problems.Escalating, EscalatedAt: t0.Add(-time.Hour)}
	cases := []struct {
		name    string
		from    problems.Lifecycle
		a       problems.Action
		check   func(problems.Lifecycle) string
		wantErr bool
	}{
		{"resolve", escalating, problems.Action{To: problems.Resolved}, func(lc problems.Lifecycle) string {
			if lc.State != problems.Resolved || lc.Substate != "" || !lc.ResolvedAt.Equal(t0) {
				return "not resolved at t0"
			}
			return ""
		}, false},
		{"ignore forever", escalating, problems.Action{To: problems.Ignored}, func(lc problems.Lifecycle) string {
			if lc.State != problems.Ignored || !lc.IgnoredUntil.IsZero() || lc.IgnoredUntilCount != 0 {
				return "not ignored forever"
			}
			return ""
		}, false},
		{"ignore for 24h", escalating, problems.Action{To: problems.Ignored, For: 24 * time.Hour}, func(lc problems.Lifecycle) string {
			if lc.State != problems.Ignored || !lc.IgnoredUntil.Equal(t0.Add(24*time.Hour)) {
				return "not ignored until t0+24h"
			}
			return ""
		}, false},
		{"ignore until 100 more", escalating, problems.Action{To: problems.Ignored, UntilCount: 100}, func(lc problems.Lifecycle) string {
			if lc.State != problems.Ignored || lc.IgnoredUntilCount != 142 {
				return "not ignored until the total reaches 42+100"
			}
			return ""
		}, false},
		{"reopen a resolved problem", problems.Lifecycle{State: problems.Resolved, ResolvedAt: t0}, problems.Action{To: problems.Unresolved}, func(lc problems.Lifecycle) string {
			if lc.State != problems.Unresolved || lc.Substate != problems.Ongoing {
				return "not reopened"
			}
			return ""
		}, false},
		{"reopen an ignored problem clears its condition", problems.Lifecycle{State: problems.Ignored, IgnoredUntilCount: 9}, problems.Action{To: problems.Unresolved}, func(lc problems.Lifecycle) string {
			if lc.State != problems.Unresolved || lc.IgnoredUntilCount != 0 {
				return "the condition is kept"
			}
			return ""
		}, false},
		{"a negative duration", escalating, problems.Action{To: problems.Ignored, For: -time.Hour}, nil, true},
		{"both conditions", escalating, problems.Action{To: problems.Ignored, For: time.Hour, UntilCount: 3}, nil, true},
		{"a condition on a resolve", escalating, problems.Action{To: problems.Resolved, UntilCount: 3}, nil, true},
		{"an unknown state", escalating, problems.Action{To: "archived"}, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lc, err := problems.Apply(c.from, c.a, 42, t0)
			if c.wantErr {
				if !errors.Is(err, problems.ErrBadAction) {
					t.Fatalf("err %v, want ErrBadAction", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if msg := c.check(lc); msg != "" {
				t.Fatalf("%s: %+v", msg, lc)
			}
		})
	}
}

// An ignore until a count, then the occurrences: the problem escalates exactly when the
// 100th more occurrence is counted.
func TestIgnoreUntilCountThenOccurrences(t *testing.T) {
	lc, err := problems.Apply(problems.Lifecycle{State: problems.Unresolved, Substate: problems.Ongoing}, problems.Action{To: problems.Ignored, UntilCount: 100}, 7, t0)
	if err != nil {
		t.Fatal(err)
	}
	total := int64(7)
	for i := 1; i <= 100; i++ {
		total++
		var out problems.Outcome
		lc, out = problems.Advance(lc, problems.Change{Times: times(t0.Add(-time.Duration(i)*time.Hour), 1)}, total, t0)
		if i < 100 && (lc.State != problems.Ignored || out.Transition != "") {
			t.Fatalf("after %d more: %s %+v", i, lc.State, out)
		}
		if i == 100 && (lc.State != problems.Unresolved || lc.Substate != problems.Escalating || !out.Alert) {
			t.Fatalf("after 100 more: %s/%s %+v", lc.State, lc.Substate, out)
		}
	}
}

func TestHourlyBucketsAreBoundedToFourteenDays(t *testing.T) {
	var b []problems.HourCount
	for h := range 20 * 24 {
		b = problems.AddHourly(b, []time.Time{t0.Add(-time.Duration(20*24-h) * time.Hour)}, t0)
	}
	if len(b) != 14*24-1 { // the 335 whole hours before t0's hour (t0's own is empty)
		t.Fatalf("%d buckets, want %d", len(b), 14*24-1)
	}
	if oldest := b[0].Hour; oldest.Before(problems.HourOf(t0).Add(-problems.HourlyRetention)) {
		t.Fatalf("oldest bucket %v is older than 14 days", oldest)
	}
	for i := 1; i < len(b); i++ {
		if !b[i-1].Hour.Before(b[i].Hour) {
			t.Fatalf("buckets out of order at %d", i)
		}
	}
	// Out of order times land in their own buckets.
	b = problems.AddHourly(nil, []time.Time{t0, t0.Add(-2 * time.Hour), t0.Add(-time.Hour), t0.Add(-2 * time.Hour)}, t0)
	if len(b) != 3 || b[0].Count != 2 || b[1].Count != 1 || b[2].Count != 1 {
		t.Fatalf("buckets %+v", b)
	}
}

func TestLifecycleJSONFields(t *testing.T) {
	p := problems.Problem{ID: "p1", Lifecycle: problems.Lifecycle{
		State: problems.Ignored, ResolvedAt: t0, IgnoredUntil: t0.Add(time.Hour), IgnoredUntilCount: 9,
		Hourly: []problems.HourCount{{Hour: problems.HourOf(t0), Count: 4}}, EscalatedAt: t0,
	}}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		`"state":"ignored"`, `"resolvedAt":"2026-12-01T10:25:00Z"`, `"ignoredUntil":"2026-12-01T11:25:00Z"`,
		`"ignoredUntilCount":9`, `"hourly":[{"hour":"2026-12-01T10:00:00Z","count":4}]`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s: %s", want, s)
		}
	}
	for _, unwanted := range []string{"regressedAt", "substate", "scalated", "lerted"} {
		if strings.Contains(s, unwanted) {
			t.Errorf("JSON has %s: %s", unwanted, s)
		}
	}
}

// The guard's promise, over many random lifecycles: a write it admits makes Advance change
// nothing but the hourly buckets. This is what lets the DynamoDB adapter skip the decision.
func TestAGuardedWriteNeverSkipsATransition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	states := []problems.Lifecycle{
		{State: problems.Unresolved, Substate: problems.Ongoing},
		{State: problems.Unresolved, Substate: problems.New},
		{State: problems.Unresolved, Substate: problems.Regressed},
		{State: problems.Unresolved, Substate: problems.Escalating},
		{State: problems.Resolved},
		{State: problems.Ignored},
		{State: problems.Ignored, IgnoredUntilCount: 1},
		{State: problems.Ignored, IgnoredUntil: t0},
		{},
	}
	admitted, checked := 0, 0
	for i := range 8000 {
		lc := states[i%len(states)]
		now := t0.Add(time.Duration(rng.Int64N(int64(2 * time.Hour))))
		lc.SubstateSince = now.Add(-time.Duration(rng.Int64N(int64(8 * 24 * time.Hour))))
		if rng.IntN(3) == 0 { // settling within the hour
			lc.SubstateSince = now.Add(-problems.SettleAfter + time.Duration(rng.Int64N(int64(time.Hour))))
		}
		lc.RegressedAt, lc.ResolvedAt = lc.SubstateSince, lc.SubstateSince
		if !lc.IgnoredUntil.IsZero() {
			lc.IgnoredUntil = now.Add(time.Duration(rng.Int64N(int64(2*time.Hour))) - time.Hour)
		}
		counts := map[int]int64{}
		scale := []int64{1, 10, 100, 1000}[rng.IntN(4)]
		for back := 2; back < 180; back++ {
			if rng.IntN(3) == 0 {
				counts[back] = rng.Int64N(scale)
			}
		}
		recent := []int64{1, 10, 100, 1000, 3000}[rng.IntN(5)]
		counts[0], counts[1] = rng.Int64N(recent), rng.Int64N(recent)
		lc.Hourly = problems.PruneHourly(hourlyAt(problems.HourOf(now), counts), now)
		var total int64 = 1000
		if lc.IgnoredUntilCount > 0 {
			lc.IgnoredUntilCount = total + rng.Int64N(300)
		}
		g := problems.GuardOf(lc, total, now)
		// A later time within the guard, and up to Room occurrences in this hour and the last.
		// The edges are where a wrong guard shows: the last instant, exactly Room.
		later := now
		if g.Until.After(now) {
			later = now.Add(time.Duration(rng.Int64N(int64(g.Until.Sub(now)))))
			switch rng.IntN(3) {
			case 0:
				later = g.Until.Add(-time.Millisecond)
			case 1:
				later = now
			}
		}
		n := 1 + rng.Int64N(min(g.Room, 400)+1)
		switch {
		case rng.IntN(3) == 0:
			n = 1
		case rng.IntN(2) == 0 && g.Room <= 400:
			n = max(g.Room, 1)
		}
		var ts []time.Time
		for range n {
			at := problems.HourOf(later).Add(time.Duration(rng.Int64N(int64(later.Sub(problems.HourOf(later)) + 1))))
			switch rng.IntN(8) {
			case 0, 1:
				at = problems.HourOf(later).Add(-time.Minute)
			case 2: // late: in the baseline hours
				at = later.Add(-time.Duration(2+rng.IntN(170)) * time.Hour)
			case 3: // a clock ahead, or an hour not yet begun
				at = later.Add(time.Duration(rng.Int64N(int64(3 * time.Hour))))
			}
			ts = append(ts, at)
		}
		checked++
		if !g.Admits(ts, later) {
			continue
		}
		admitted++
		got, out := problems.Advance(lc, problems.Change{Times: ts}, total+n, later)
		if out.Transition != "" || got.State != lc.State || got.Substate != lc.Substate {
			t.Fatalf("case %d: the guard %+v admitted %d at %v, but Advance goes %s/%s -> %s/%s (%+v); last hour %d",
				i, g, n, later, lc.State, lc.Substate, got.State, got.Substate, out, problems.LastHour(lc.Hourly, now))
		}
	}
	if admitted < checked/4 {
		t.Fatalf("the guard admitted %d of %d writes: too strict to be of use", admitted, checked)
	}
	t.Logf("admitted %d of %d", admitted, checked)
}

// Under a storm the guard admits nearly every write: one decision an hour.
func TestAGuardAdmitsAStormOnceEscalating(t *testing.T) {
	lc := problems.Lifecycle{State: problems.Unresolved, Substate: problems.Escalating, Hourly: hourlyAt(problems.HourOf(t0), map[int]int64{0: 5000})}
	g := problems.GuardOf(lc, 5000, t0)
	if g.Room != problems.Unbounded || !g.Until.Equal(problems.HourOf(t0).Add(time.Hour)) {
		t.Fatalf("guard %+v, want unbounded until the hour ends", g)
	}
	// An escalating problem right at its threshold: late occurrences in the baseline
	// hours raise the threshold past the last hour, so they must be decided.
	counts := steady(20) // baseline 20*168: the threshold is 200
	counts[0] = 200
	edge := problems.Lifecycle{State: problems.Unresolved, Substate: problems.Escalating, Hourly: hourly(counts)}
	late := times(t0.Add(-5*time.Hour), 17)
	if after, _ := problems.Advance(edge, problems.Change{Times: late}, 9999, t0); after.Substate != problems.Ongoing {
		t.Fatalf("the late occurrences leave it %s; the case is wrong", after.Substate)
	}
	if problems.GuardOf(edge, 9999, t0).Admits(late, t0) {
		t.Fatal("the guard of an escalating problem admits late occurrences that end the escalation")
	}
	if g := problems.GuardOf(problems.Lifecycle{State: problems.Resolved}, 5, t0); g.Room != 0 {
		t.Fatalf("a resolved problem's guard %+v admits writes", g)
	}
}

func hourlyAt(h time.Time, counts map[int]int64) []problems.HourCount {
	var out []problems.HourCount
	for back := 400; back >= 0; back-- {
		if n, ok := counts[back]; ok && n > 0 {
			out = append(out, problems.HourCount{Hour: h.Add(-time.Duration(back) * time.Hour), Count: n})
		}
	}
	return out
}
