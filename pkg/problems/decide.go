package problems

import (
	"encoding/json"
	"fmt"
	"time"
)

// Decide is the lifecycle step of a store that reads and writes a problem in one
// transaction (the embedded store, the in-memory store): merged is the problem after the
// write's counting (Merge), existed whether it was there before, times the event times
// of the write's new occurrences. It returns merged with its lifecycle advanced, and the
// notice to write in the same transaction when the transition alerts (nil otherwise).
func Decide(merged Problem, existed bool, times []time.Time, now time.Time) (Problem, *Notice) {
	var out Outcome
	if existed {
		merged.Lifecycle, out = Advance(merged.Lifecycle, Change{Times: times}, merged.Count, now)
	} else {
		merged.Lifecycle, out = Created(Change{Times: times}, now)
	}
	if !out.Alert {
		return merged, nil
	}
	n := NoticeOf(merged, out.Transition, now)
	return merged, &n
}

// Act is an operator action on a stored problem: p with its lifecycle after a at now.
func Act(p Problem, a Action, now time.Time) (Problem, error) {
	lc, err := Apply(p.Lifecycle, a, p.Count, now)
	if err != nil {
		return p, err
	}
	p.Lifecycle = lc
	return p, nil
}

// FilterState keeps the problems in state st ("" or "all": every problem).
func FilterState(list []Problem, st string) ([]Problem, error) {
	if st == "" || st == "all" {
		return list, nil
	}
	want, err := ParseState(st)
	if err != nil {
		return nil, err
	}
	out := make([]Problem, 0, len(list))
	for _, p := range list {
		s := p.State
		if s == "" {
			s = Unresolved
		}
		if s == want {
			out = append(out, p)
		}
	}
	return out, nil
}

// LifecycleRecord is the stored form of a Lifecycle but its hourly buckets (which each
// store keeps its own way): every field, times as unix milliseconds (0: never).
type LifecycleRecord struct {
	State             State            `json:"s,omitempty"`
	Substate          Substate         `json:"ss,omitempty"`
	ResolvedAt        int64            `json:"res,omitempty"`
	RegressedAt       int64            `json:"reg,omitempty"`
	IgnoredUntil      int64            `json:"iu,omitempty"`
	IgnoredUntilCount int64            `json:"iuc,omitempty"`
	EscalatedAt       int64            `json:"esc,omitempty"`
	SubstateSince     int64            `json:"since,omitempty"`
	AlertedAt         map[string]int64 `json:"al,omitempty"`
}

func msOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func timeOf(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// RecordOf is lc's stored form.
func RecordOf(lc Lifecycle) LifecycleRecord {
	r := LifecycleRecord{
		State: lc.State, Substate: lc.Substate,
		ResolvedAt: msOf(lc.ResolvedAt), RegressedAt: msOf(lc.RegressedAt), IgnoredUntil: msOf(lc.IgnoredUntil),
		IgnoredUntilCount: lc.IgnoredUntilCount, EscalatedAt: msOf(lc.EscalatedAt), SubstateSince: msOf(lc.SubstateSince),
	}
	if len(lc.AlertedAt) > 0 {
		r.AlertedAt = make(map[string]int64, len(lc.AlertedAt))
		for k, v := range lc.AlertedAt {
			r.AlertedAt[string(k)] = msOf(v)
		}
	}
	return r
}

// Lifecycle is the lifecycle r stores, with the hourly buckets given.
func (r LifecycleRecord) Lifecycle(hourly []HourCount) Lifecycle {
	lc := Lifecycle{
		State: r.State, Substate: r.Substate,
		ResolvedAt: timeOf(r.ResolvedAt), RegressedAt: timeOf(r.RegressedAt), IgnoredUntil: timeOf(r.IgnoredUntil),
		IgnoredUntilCount: r.IgnoredUntilCount, EscalatedAt: timeOf(r.EscalatedAt), SubstateSince: timeOf(r.SubstateSince),
		Hourly: hourly,
	}
	if len(r.AlertedAt) > 0 {
		lc.AlertedAt = make(map[Transition]time.Time, len(r.AlertedAt))
		for k, v := range r.AlertedAt {
			lc.AlertedAt[Transition(k)] = timeOf(v)
		}
	}
	if lc.State == "" { // stored before states existed
		lc.State, lc.Substate = Unresolved, Ongoing
	}
	return lc
}

// EncodeLifecycle is the JSON a store keeps for lc: the record and the hourly buckets.
func EncodeLifecycle(lc Lifecycle) (string, error) {
	b, err := json.Marshal(storedLifecycle{LifecycleRecord: RecordOf(lc), Hourly: hourlyPairs(lc.Hourly)})
	if err != nil {
		return "", fmt.Errorf("encode lifecycle: %w", err)
	}
	return string(b), nil
}

// DecodeLifecycle reads EncodeLifecycle's JSON; "" or "{}" is a problem stored before
// states existed (unresolved, ongoing).
func DecodeLifecycle(s string) (Lifecycle, error) {
	var st storedLifecycle
	if s != "" {
		if err := json.Unmarshal([]byte(s), &st); err != nil {
			return Lifecycle{}, fmt.Errorf("decode lifecycle: %w", err)
		}
	}
	hourly := make([]HourCount, 0, len(st.Hourly))
	for _, p := range st.Hourly {
		hourly = append(hourly, HourCount{Hour: time.Unix(p[0], 0).UTC(), Count: p[1]})
	}
	return st.Lifecycle(hourly), nil
}

type storedLifecycle struct {
	LifecycleRecord
	// Hourly are [hour as unix seconds, count] pairs, oldest first.
	Hourly [][2]int64 `json:"h,omitempty"`
}

func hourlyPairs(b []HourCount) [][2]int64 {
	out := make([][2]int64, len(b))
	for i, x := range b {
		out[i] = [2]int64{x.Hour.Unix(), x.Count}
	}
	return out
}
