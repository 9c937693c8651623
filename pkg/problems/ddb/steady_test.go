package ddb

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/problems"
)

// The transaction speculated while a problem is read is, for an answer that is steady,
// exactly the one built after the answer (its actions, their JSON, the state it leaves),
// and for any other answer it is not used; a retry builds its own.
func TestSteadyTransactionIsTheOneBuiltForTheAnswer(t *testing.T) {
	now := time.UnixMilli(1_796_150_000_000).UTC()
	s := NewFromAPI(nil, "problems", Options{Now: func() time.Time { return now }})
	occ := func(id string, ago time.Duration) problems.Occurrence {
		return problems.Occurrence{
			Identity: id, Org: "o", Env: "e", Fingerprint: "f", Title: "TypeError", Culprit: "f (a.js)", Level: "error",
			At: now.Add(-ago), Sample: problems.Sample{Account: "123456789012", LogGroup: "/aws/lambda/a", Message: "TypeError: x"},
		}
	}
	occs := []problems.Occurrence{occ("id-1", time.Second), occ("id-2", 3*time.Second), occ("id-3", 2*time.Second)}
	id := problems.ID("o", "e", "f")
	steady := seen{
		exists: true, first: now.Add(-48 * time.Hour).UnixMilli(), last: now.Add(-time.Minute).UnixMilli(),
		lc: lcSeen{
			count: 40, ver: 7, hasVer: true, hasLife: true, hasGuard: true,
			life:  problems.Lifecycle{State: problems.Unresolved, Hourly: []problems.HourCount{{Hour: problems.HourOf(now), Count: 4}}},
			guard: problems.Guard{Until: now.Add(time.Hour), Room: 50, From: now.Add(-time.Hour)},
			org:   "o", env: "e", fingerprint: "f",
		},
	}
	with := func(f func(*seen)) seen {
		st := steady
		f(&st)
		return st
	}
	for _, c := range []struct {
		name   string
		st     seen
		steady bool
	}{
		{"a known problem the guard admits", steady, true},
		{"its last occurrence at the batch's newest", with(func(st *seen) { st.last = now.Add(-time.Second).UnixMilli() }), true},
		{"a new problem", seen{}, false},
		{"a batch before the problem's last occurrence", with(func(st *seen) { st.last = now.UnixMilli() }), false},
		{"a batch before the problem's first occurrence", with(func(st *seen) { st.first = now.Add(-2 * time.Second).UnixMilli() }), false},
		{"a guard with too little room", with(func(st *seen) { st.lc.guard.Room = 2 }), false},
		{"a guard that ended", with(func(st *seen) { st.lc.guard.Until = now }), false},
		{"a guard from after an occurrence", with(func(st *seen) { st.lc.guard.From = now.Add(-2 * time.Second) }), false},
		{"a problem without a lifecycle", with(func(st *seen) { st.lc.hasLife = false }), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := s.draft(id, occs, now)
			s.speculate(d, func() bool { return true })
			items, encoded, lp, ok := d.steadyFor(c.st)
			if ok != c.steady {
				t.Fatalf("steadyFor = %v, want %v", ok, c.steady)
			}
			if _, _, _, again := d.steadyFor(c.st); again {
				t.Error("the speculated transaction was used twice")
			}
			if !ok {
				return
			}
			wantLP, err := s.lifecyclePart(t.Context(), id, d.occs, d.agg, c.st, now, func(f func()) { f() })
			if err != nil {
				t.Fatal(err)
			}
			wantItems, _, err := s.transaction(id, d, c.st, wantLP)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(items, wantItems) {
				t.Errorf("speculated actions\n%+v\nbuilt after the answer\n%+v", items, wantItems)
			}
			if !reflect.DeepEqual(lp.next, wantLP.next) {
				t.Errorf("speculated next state %+v, built after the answer %+v", lp.next, wantLP.next)
			}
			if len(encoded) != len(wantItems) {
				t.Fatalf("%d encoded actions for %d", len(encoded), len(wantItems))
			}
			for i := range wantItems {
				if encoded[i] == nil {
					t.Errorf("action %d not encoded", i)
					continue
				}
				want, err := appendAction(nil, &wantItems[i])
				if err != nil {
					t.Fatal(err)
				}
				var got, wantV any
				if json.Unmarshal(encoded[i], &got) != nil || json.Unmarshal(want, &wantV) != nil || !reflect.DeepEqual(got, wantV) {
					t.Errorf("action %d encoded\n%s\nwant\n%s", i, encoded[i], want)
				}
			}
		})
	}
}

// Nothing is speculated once the read has answered: the writer builds the one transaction
// its answer needs.
func TestNothingSpeculatedAfterTheAnswer(t *testing.T) {
	now := time.UnixMilli(1_796_150_000_000).UTC()
	s := NewFromAPI(nil, "problems", Options{Now: func() time.Time { return now }})
	occs := []problems.Occurrence{{Identity: "id-1", Org: "o", Env: "e", Fingerprint: "f", At: now.Add(-time.Second)}}
	d := s.draft(problems.ID("o", "e", "f"), occs, now)
	s.speculate(d, func() bool { return false })
	if d.steady != nil {
		t.Fatal("speculated after the answer")
	}
}
