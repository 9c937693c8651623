package problems

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// State is where a problem stands with the people who fix it.
type State string

// The states of a problem.
const (
	Unresolved State = "unresolved"
	Resolved   State = "resolved"
	Ignored    State = "ignored"
)

// ParseState reads a state name; "all" and "" are not states (callers treat them as no
// filter).
func ParseState(s string) (State, error) {
	switch st := State(s); st {
	case Unresolved, Resolved, Ignored:
		return st, nil
	}
	return "", fmt.Errorf("state %q: want unresolved, resolved or ignored", s)
}

// Substate says why an unresolved problem is unresolved. Resolved and ignored problems
// have none.
type Substate string

// The substates of an unresolved problem.
const (
	New        Substate = "new"        // first seen, not yet looked at
	Ongoing    Substate = "ongoing"    // seen before, nothing changed
	Regressed  Substate = "regressed"  // occurred again after it was resolved
	Escalating Substate = "escalating" // its rate jumped (see Escalates)
)

// Transition is a change of a problem's state that alerts: to new, regressed or
// escalating.
type Transition string

// The transitions that alert, named like the substate they lead to.
const (
	ToNew        Transition = "new"
	ToRegressed  Transition = "regressed"
	ToEscalating Transition = "escalating"
)

// The lifecycle's rules, fixed (the design document states them).
const (
	// HourlyRetention is how long hourly buckets are kept.
	HourlyRetention = 14 * 24 * time.Hour
	// EscalationMin is the least last-hour count that escalates.
	EscalationMin = 100
	// EscalationFactor is how many times the previous 7 days' hourly average the last
	// hour must reach to escalate.
	EscalationFactor = 10
	hourMS           = int64(time.Hour / time.Millisecond)
	// escalationBaseline is the number of hours the average is taken over.
	escalationBaseline = 7 * 24
	// EscalationAlertEvery is the least time between two escalation alerts of a problem.
	EscalationAlertEvery = 24 * time.Hour
	// AlertEvery is the least time between two alerts of one transition of a problem.
	AlertEvery = time.Hour
	// SettleAfter is how long a problem stays new (after first seen) or regressed (after
	// the regression) before an occurrence finds it ongoing.
	SettleAfter = 7 * 24 * time.Hour
)

// HourCount is the count of a problem's occurrences whose event time falls in one hour
// (the lifecycle's buckets; the console's trend is Detail's).
type HourCount struct {
	Hour  time.Time `json:"hour"`
	Count int64     `json:"count"`
}

// Lifecycle is the state part of a problem, kept in the same item or row as its count and
// changed only in the write that counts occurrences (Advance) or by an operator (Resolve,
// Ignore, Reopen). Times are UTC at millisecond precision; the zero time is "never".
type Lifecycle struct {
	State    State    `json:"state"`
	Substate Substate `json:"substate,omitempty"`
	// ResolvedAt is when it was resolved (while resolved, and kept after a regression).
	ResolvedAt time.Time `json:"resolvedAt,omitzero"`
	// RegressedAt is when it last regressed.
	RegressedAt time.Time `json:"regressedAt,omitzero"`
	// IgnoredUntil ends an ignore at a time (zero: no time condition).
	IgnoredUntil time.Time `json:"ignoredUntil,omitzero"`
	// IgnoredUntilCount ends an ignore when the total count reaches it (0: no count
	// condition). An ignore with neither condition is forever.
	IgnoredUntilCount int64 `json:"ignoredUntilCount,omitempty"`
	// Hourly are the hourly buckets of the last HourlyRetention, oldest first, only
	// hours with occurrences. Get fills them; List leaves them out.
	Hourly []HourCount `json:"hourly,omitempty"`
	// EscalatedAt is when it last alerted as escalating (the once-a-day rule).
	EscalatedAt time.Time `json:"-"`
	// AlertedAt is when each transition last alerted (the once-an-hour rule).
	AlertedAt map[Transition]time.Time `json:"-"`
	// SubstateSince is when the problem entered its substate (new and regressed settle
	// SettleAfter later).
	SubstateSince time.Time `json:"-"`
}

// Change is what one write adds to a problem: the count of its new occurrences and their
// event times.
type Change struct {
	// Times are the event times of the new occurrences (at least one).
	Times []time.Time
}

// Outcome is what Advance decided.
type Outcome struct {
	// Transition is the alerting transition that happened ("" for none).
	Transition Transition
	// Alert is true when the transition must alert: false when noise control holds it
	// back (the same transition alerted within AlertEvery, an escalation within
	// EscalationAlertEvery).
	Alert bool
}

// HourOf is the start of t's hour, UTC.
func HourOf(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

// AddHourly adds times to buckets (oldest first) and drops the buckets older than
// HourlyRetention before now's hour. The result is a new slice.
func AddHourly(buckets []HourCount, times []time.Time, now time.Time) []HourCount {
	out := slices.Clone(buckets)
	for _, t := range times {
		h := HourOf(t)
		i, found := slices.BinarySearchFunc(out, h, func(b HourCount, h time.Time) int { return b.Hour.Compare(h) })
		if found {
			out[i].Count++
			continue
		}
		out = slices.Insert(out, i, HourCount{Hour: h, Count: 1})
	}
	return PruneHourly(out, now)
}

// OldestHour is the oldest hour whose bucket is kept at now.
func OldestHour(now time.Time) time.Time { return HourOf(now).Add(-HourlyRetention + time.Hour) }

// PruneHourly drops the buckets older than HourlyRetention before now's hour (in place).
func PruneHourly(buckets []HourCount, now time.Time) []HourCount {
	oldest := OldestHour(now)
	i := 0
	for i < len(buckets) && buckets[i].Hour.Before(oldest) {
		i++
	}
	return buckets[i:]
}

// LastHour estimates the occurrences in the hour before now from the buckets: all of
// now's hour and the part of the previous hour's bucket that the last 60 minutes still
// cover (a sliding window over fixed buckets).
func LastHour(buckets []HourCount, now time.Time) int64 {
	h := HourOf(now)
	cur, prev := hourCounts(buckets, h)
	// The previous hour's share still in the window, in milliseconds (no overflow for any
	// count below 2^41 an hour).
	left := (time.Hour - now.Sub(h)).Milliseconds()
	return cur + prev*left/hourMS
}

// Baseline is the sum of the occurrences of the 7*24 whole hours before the previous
// hour (the window LastHour may reach into is left out): the average hourly rate is
// Baseline/168.
func Baseline(buckets []HourCount, now time.Time) int64 {
	end := HourOf(now).Add(-time.Hour) // exclusive
	start := end.Add(-escalationBaseline * time.Hour)
	var sum int64
	for _, b := range buckets {
		if !b.Hour.Before(start) && b.Hour.Before(end) {
			sum += b.Count
		}
	}
	return sum
}

// escalationThreshold is the least last-hour count that escalates at now (the baseline
// is fixed within an hour).
func escalationThreshold(buckets []HourCount, now time.Time) int64 {
	base := Baseline(buckets, now) * EscalationFactor
	return max(EscalationMin, (base+escalationBaseline-1)/escalationBaseline)
}

// Escalates reports whether the buckets make a problem escalate at now: at least
// EscalationMin occurrences in the last hour and at least EscalationFactor times the
// average hourly rate of the previous 7 days.
func Escalates(buckets []HourCount, now time.Time) bool {
	return LastHour(buckets, now) >= escalationThreshold(buckets, now)
}

// Guard is what a store may write without deciding the lifecycle: until Until (at most
// the end of the hour it was computed in), a write of up to Room new occurrences whose
// event times are all at or after From cannot make Advance change the state, the
// substate or anything but the hourly buckets. A store that cannot read and write in one
// transaction (DynamoDB) keeps the guard on the problem and writes occurrences under the
// condition "now < Until AND n <= Room AND From <= the oldest time", decreasing Room by
// n; when the condition fails it reads the problem and calls Advance. Room 0 means every
// write decides.
//
// Why it holds: an occurrence adds at most one to the last hour's count (Room is below
// what escalates), adds to the 7-day baseline only to raise the escalation threshold,
// and the previous hour's share of the window only shrinks with time. Only an escalating
// problem, which stays escalating while the rule holds, needs its occurrences recent
// (From): one in the baseline hours could end the escalation.
type Guard struct {
	Until time.Time
	Room  int64
	From  time.Time
}

// Unbounded is the Room of a guard that no count can pass.
const Unbounded = int64(1) << 53

// GuardOf is the guard of a lifecycle with the count total at now.
func GuardOf(lc Lifecycle, total int64, now time.Time) Guard {
	h := HourOf(now)
	g := Guard{Until: h.Add(time.Hour), Room: Unbounded, From: time.UnixMilli(0).UTC()}
	settle := func(at time.Time) {
		if at.Before(g.Until) {
			g.Until = at
		}
	}
	escalationRoom := func() {
		g.Room = min(g.Room, escalationThreshold(lc.Hourly, now)-1-LastHour(lc.Hourly, now))
	}
	switch lc.State {
	case Resolved, "":
		g.Room = 0
	case Ignored:
		timed, counted := !lc.IgnoredUntil.IsZero(), lc.IgnoredUntilCount > 0
		if timed {
			settle(lc.IgnoredUntil)
		}
		if counted {
			g.Room = min(g.Room, lc.IgnoredUntilCount-1-total)
		}
		if timed || counted {
			escalationRoom()
		}
	case Unresolved:
		switch lc.Substate {
		case Escalating:
			g.From = h.Add(-time.Hour)
			// It stays escalating while the rule holds: more occurrences in this hour or
			// the previous one only raise the last hour's count, but the previous hour's
			// share of the window shrinks with time.
			t := escalationThreshold(lc.Hourly, now)
			cur, prev := hourCounts(lc.Hourly, h)
			switch {
			case cur >= t:
			case prev == 0 || !Escalates(lc.Hourly, now):
				g.Room = 0
			default:
				// cur + prev*left/H >= t while left >= ceil((t-cur)*H/prev) (milliseconds).
				need := ((t-cur)*hourMS + prev - 1) / prev
				settle(h.Add(time.Duration(hourMS-need+1) * time.Millisecond))
			}
		case New, Regressed:
			settle(lc.SubstateSince.Add(SettleAfter))
			escalationRoom()
		case Ongoing:
			escalationRoom()
		default:
			g.Room = 0
		}
	}
	if g.Room < 0 || !g.Until.After(now) {
		g.Room = 0
	}
	return g
}

// Admits reports whether the guard lets a write of the event times at now through
// without deciding.
func (g Guard) Admits(times []time.Time, now time.Time) bool {
	if !now.Before(g.Until) || int64(len(times)) > g.Room {
		return false
	}
	for _, t := range times {
		if t.Before(g.From) {
			return false
		}
	}
	return true
}

func hourCounts(buckets []HourCount, h time.Time) (cur, prev int64) {
	for _, b := range buckets {
		switch {
		case b.Hour.Equal(h):
			cur = b.Count
		case b.Hour.Equal(h.Add(-time.Hour)):
			prev = b.Count
		}
	}
	return cur, prev
}

// Created is the lifecycle of a problem its first write creates: unresolved and new, with
// the new transition alerting.
func Created(c Change, now time.Time) (Lifecycle, Outcome) {
	lc := Lifecycle{State: Unresolved, Substate: New, SubstateSince: now}
	lc.Hourly = AddHourly(nil, c.Times, now)
	return lc.alerted(ToNew, now)
}

// Advance is the lifecycle after a write that adds the change c to a problem that existed
// with the lifecycle lc and the count total (after c). It is the one place
// where transitions are decided; stores call it inside the write that counts, so each
// transition happens exactly once. lc is not modified.
//
//   - resolved: an occurrence newer than the resolution regresses it (a late event from
//     before the resolution counts without regressing);
//   - ignored: when its condition has passed (the time, or the count), or a timed or
//     counted ignore escalates, it is unresolved and escalating again; an ignore forever
//     stays;
//   - unresolved: it escalates when Escalates holds; escalating falls back to ongoing when
//     it no longer holds; new and regressed settle to ongoing after SettleAfter.
//
// Noise control: a transition alerts at most once per AlertEvery per problem, an
// escalation at most once per EscalationAlertEvery; the state changes either way.
func Advance(lc Lifecycle, c Change, total int64, now time.Time) (Lifecycle, Outcome) {
	lc.Hourly = AddHourly(lc.Hourly, c.Times, now)
	lc.AlertedAt = cloneAlerted(lc.AlertedAt)
	newest := slices.MaxFunc(c.Times, time.Time.Compare)
	if lc.State == "" { // an item written before states existed
		lc.State, lc.Substate, lc.SubstateSince = Unresolved, Ongoing, now
	}
	switch lc.State {
	case Resolved:
		if !newest.After(lc.ResolvedAt) {
			return lc, Outcome{}
		}
		lc.State, lc.Substate, lc.RegressedAt, lc.SubstateSince = Unresolved, Regressed, now, now
		return lc.alerted(ToRegressed, now)
	case Ignored:
		timed, counted := !lc.IgnoredUntil.IsZero(), lc.IgnoredUntilCount > 0
		passed := (timed && !now.Before(lc.IgnoredUntil)) || (counted && total >= lc.IgnoredUntilCount)
		if !passed && ((!timed && !counted) || !Escalates(lc.Hourly, now)) {
			return lc, Outcome{}
		}
		lc.State, lc.Substate, lc.SubstateSince = Unresolved, Escalating, now
		lc.IgnoredUntil, lc.IgnoredUntilCount = time.Time{}, 0
		return lc.alerted(ToEscalating, now)
	}
	// Unresolved.
	if Escalates(lc.Hourly, now) {
		if lc.Substate == Escalating {
			return lc, Outcome{}
		}
		lc.Substate, lc.SubstateSince = Escalating, now
		return lc.alerted(ToEscalating, now)
	}
	switch {
	case lc.Substate == Escalating,
		(lc.Substate == New || lc.Substate == Regressed) && !now.Before(lc.SubstateSince.Add(SettleAfter)),
		lc.Substate == "":
		lc.Substate, lc.SubstateSince = Ongoing, now
	}
	return lc, Outcome{}
}

// alerted records that transition tr happened at now and decides whether it alerts.
func (lc Lifecycle) alerted(tr Transition, now time.Time) (Lifecycle, Outcome) {
	out := Outcome{Transition: tr, Alert: true}
	if last, ok := lc.AlertedAt[tr]; ok && now.Sub(last) < AlertEvery {
		out.Alert = false
	}
	if tr == ToEscalating && !lc.EscalatedAt.IsZero() && now.Sub(lc.EscalatedAt) < EscalationAlertEvery {
		out.Alert = false
	}
	if out.Alert {
		if lc.AlertedAt == nil {
			lc.AlertedAt = map[Transition]time.Time{}
		}
		lc.AlertedAt[tr] = now
		if tr == ToEscalating {
			lc.EscalatedAt = now
		}
	}
	return lc, out
}

func cloneAlerted(m map[Transition]time.Time) map[Transition]time.Time {
	if m == nil {
		return nil
	}
	out := make(map[Transition]time.Time, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Action is an operator's change of a problem's state.
type Action struct {
	// To is Resolved, Ignored or Unresolved (reopen).
	To State
	// For ends an ignore after a duration (0: no time condition).
	For time.Duration
	// UntilCount ends an ignore after that many more occurrences (0: no count condition).
	UntilCount int64
}

// ErrBadAction is returned for an action that is not one (a negative duration, a condition on something
// other than an ignore).
var ErrBadAction = errors.New("invalid problem action")

// Check validates the action.
func (a Action) Check() error {
	switch {
	case a.To != Resolved && a.To != Ignored && a.To != Unresolved:
		return fmt.Errorf("%w: unknown target state %q", ErrBadAction, a.To)
	case a.For < 0 || a.UntilCount < 0:
		return fmt.Errorf("%w: an ignore condition must be positive", ErrBadAction)
	case a.To != Ignored && (a.For != 0 || a.UntilCount != 0):
		return fmt.Errorf("%w: only an ignore takes a condition", ErrBadAction)
	case a.For != 0 && a.UntilCount != 0:
		return fmt.Errorf("%w: ignore takes one condition, a duration or a count", ErrBadAction)
	}
	return nil
}

// Apply is the lifecycle after the operator's action a at now on a problem with the
// lifecycle lc and the count total. Operator actions never alert. lc is not modified.
func Apply(lc Lifecycle, a Action, total int64, now time.Time) (Lifecycle, error) {
	if err := a.Check(); err != nil {
		return lc, err
	}
	lc.AlertedAt = cloneAlerted(lc.AlertedAt)
	lc.IgnoredUntil, lc.IgnoredUntilCount = time.Time{}, 0
	switch a.To {
	case Resolved:
		lc.State, lc.Substate, lc.ResolvedAt, lc.SubstateSince = Resolved, "", now, now
	case Ignored:
		lc.State, lc.Substate, lc.SubstateSince = Ignored, "", now
		if a.For > 0 {
			lc.IgnoredUntil = now.Add(a.For)
		}
		if a.UntilCount > 0 {
			lc.IgnoredUntilCount = total + a.UntilCount
		}
	case Unresolved:
		lc.State, lc.Substate, lc.SubstateSince = Unresolved, Ongoing, now
	}
	return lc, nil
}
