// Package problemstest is the contract test suite of problems.Store: every implementation
// (the DynamoDB adapter, the embedded store) runs it from its own tests with
//
//	problemstest.Run(t, func(t *testing.T) problems.Store { return newEmptyStore(t) })
//
// Times: stores keep times to the millisecond (CloudWatch event times are milliseconds).
// The suite builds its times at millisecond precision in UTC and compares them with
// time.Equal. Log groups are a set: their order is not part of the contract.
package problemstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/event"
	"github.com/aient/firehose-drain/pkg/problems"
)

// base is the suite's reference time, at millisecond precision.
var base = time.UnixMilli(1_763_700_000_123).UTC()

func at(d time.Duration) time.Time { return base.Add(d) }

// Run runs the contract of problems.Store against stores made by newStore. newStore is
// called once per subtest with that subtest's t and must return an empty store that
// nothing else uses; it registers its own cleanup on t.
func Run(t *testing.T, newStore func(t *testing.T) problems.Store) {
	t.Run("the first occurrence creates the problem with every field", func(t *testing.T) { testCreate(t, newStore(t)) })
	t.Run("the same identity again reports false and changes nothing", func(t *testing.T) { testRedelivery(t, newStore(t)) })
	t.Run("redelivering a whole batch changes no count", func(t *testing.T) { testBatchRedelivery(t, newStore(t)) })
	t.Run("50 concurrent occurrences of one problem all count", func(t *testing.T) { testConcurrent(t, newStore(t)) })
	t.Run("concurrent redeliveries of one occurrence count once", func(t *testing.T) { testConcurrentSameIdentity(t, newStore(t)) })
	t.Run("firstSeen and lastSeen are the min and max whatever the arrival order", func(t *testing.T) { testSeenOrder(t, newStore(t)) })
	t.Run("sample and level follow the newest occurrence", func(t *testing.T) { testNewestSample(t, newStore(t)) })
	t.Run("log groups accumulate as a set", func(t *testing.T) { testLogGroups(t, newStore(t)) })
	t.Run("List is scoped by org and env, most recent first", func(t *testing.T) { testList(t, newStore(t)) })
	t.Run("Get of an unknown id is ErrNotFound", func(t *testing.T) { testGetMissing(t, newStore(t)) })
	t.Run("the same fingerprint in two orgs or envs is two problems", func(t *testing.T) { testScopes(t, newStore(t)) })
	t.Run("the sample carries the newest occurrence's breadcrumbs", func(t *testing.T) { testSampleBreadcrumbs(t, newStore(t)) })
	runBatch(t, newStore)
}

// occ builds an occurrence of fingerprint fp in org/env, with identity made from the event's
// parts the way the ingest makes it.
func occ(org, env, fp, eventID string, t time.Time) problems.Occurrence {
	group, stream := "/aws/lambda/checkout", "2026/11/21/[$LATEST]0123456789abcdef"
	return problems.Occurrence{
		Identity:    event.Identity("drn_"+org+"_"+env, "123456789012", group, stream, eventID),
		Org:         org,
		Env:         env,
		Fingerprint: fp,
		Title:       "TypeError: Cannot read properties of undefined (reading 'id')",
		Culprit:     "chargeCard (src/payments.js)",
		Level:       string(event.Error),
		At:          t,
		Sample: problems.Sample{
			Account:   "123456789012",
			Region:    "eu-west-1",
			LogGroup:  group,
			LogStream: stream,
			EventID:   eventID,
			Timestamp: t.UnixMilli(),
			Message:   "TypeError: Cannot read properties of undefined (reading 'id')\n    at chargeCard (/var/task/src/payments.js:42:17)",
			Frames: []problems.Frame{
				{Function: "chargeCard", Module: "src/payments", File: "/var/task/src/payments.js", Line: 42, Column: 17, InApp: true},
				{Function: "processTicksAndRejections", File: "node:internal/process/task_queues", Line: 95, Column: 5},
			},
		},
	}
}

func mustRecord(t *testing.T, s problems.Store, o problems.Occurrence) {
	t.Helper()
	fresh, err := s.Record(t.Context(), o)
	if err != nil {
		t.Fatalf("Record(%s): %v", o.Sample.EventID, err)
	}
	if !fresh {
		t.Fatalf("Record(%s) = false for a new identity, want true", o.Sample.EventID)
	}
}

func mustGet(t *testing.T, s problems.Store, id string) problems.Problem {
	t.Helper()
	p, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return p
}

func idOf(o problems.Occurrence) string { return problems.ID(o.Org, o.Env, o.Fingerprint) }

// want is the problem a list of occurrences (all of one problem) must produce, whatever
// their order: newest is the occurrence whose sample and level the problem shows.
func want(newest problems.Occurrence, count int64, first, last time.Time, groups ...string) problems.Problem {
	if len(groups) == 0 {
		groups = []string{newest.Sample.LogGroup}
	}
	return problems.Problem{
		ID:          idOf(newest),
		Org:         newest.Org,
		Env:         newest.Env,
		Fingerprint: newest.Fingerprint,
		Title:       newest.Title,
		Culprit:     newest.Culprit,
		Level:       newest.Level,
		Count:       count,
		FirstSeen:   first,
		LastSeen:    last,
		LogGroups:   groups,
		Sample:      newest.Sample,
	}
}

// diff lists the differences between two problems: times with time.Equal, log groups as
// sets, nil and empty frames alike.
func diff(got, want problems.Problem) []string {
	var out []string
	str := func(name, g, w string) {
		if g != w {
			out = append(out, fmt.Sprintf("%s = %q, want %q", name, g, w))
		}
	}
	str("ID", got.ID, want.ID)
	str("Org", got.Org, want.Org)
	str("Env", got.Env, want.Env)
	str("Fingerprint", got.Fingerprint, want.Fingerprint)
	str("Title", got.Title, want.Title)
	str("Culprit", got.Culprit, want.Culprit)
	str("Level", got.Level, want.Level)
	if got.Count != want.Count {
		out = append(out, fmt.Sprintf("Count = %d, want %d", got.Count, want.Count))
	}
	if !got.FirstSeen.Equal(want.FirstSeen) {
		out = append(out, fmt.Sprintf("FirstSeen = %v, want %v", got.FirstSeen, want.FirstSeen))
	}
	if !got.LastSeen.Equal(want.LastSeen) {
		out = append(out, fmt.Sprintf("LastSeen = %v, want %v", got.LastSeen, want.LastSeen))
	}
	g, w := slices.Sorted(slices.Values(got.LogGroups)), slices.Sorted(slices.Values(want.LogGroups))
	if !slices.Equal(g, w) {
		out = append(out, fmt.Sprintf("LogGroups = %q, want the set %q", got.LogGroups, w))
	}
	gs, ws := got.Sample, want.Sample
	str("Sample.Account", gs.Account, ws.Account)
	str("Sample.Region", gs.Region, ws.Region)
	str("Sample.LogGroup", gs.LogGroup, ws.LogGroup)
	str("Sample.LogStream", gs.LogStream, ws.LogStream)
	str("Sample.EventID", gs.EventID, ws.EventID)
	str("Sample.Message", gs.Message, ws.Message)
	if gs.Timestamp != ws.Timestamp {
		out = append(out, fmt.Sprintf("Sample.Timestamp = %d, want %d", gs.Timestamp, ws.Timestamp))
	}
	if !slices.Equal(gs.Frames, ws.Frames) {
		out = append(out, fmt.Sprintf("Sample.Frames = %+v, want %+v", gs.Frames, ws.Frames))
	}
	return out
}

func check(t *testing.T, label string, got, want problems.Problem) {
	t.Helper()
	for _, d := range diff(got, want) {
		t.Errorf("%s: %s", label, d)
	}
}

func testCreate(t *testing.T, s problems.Store) {
	o := occ("acme", "prod", "fp-v1-create", "evt-1", base)
	o.Level = string(event.Fatal)
	mustRecord(t, s, o)
	check(t, "after one occurrence", mustGet(t, s, idOf(o)), want(o, 1, base, base))

	// An occurrence without frames or account keeps them empty.
	bare := occ("acme", "prod", "fp-v1-bare", "evt-2", at(time.Second))
	bare.Sample.Frames, bare.Sample.Account, bare.Sample.Region, bare.Culprit = nil, "", "", ""
	mustRecord(t, s, bare)
	check(t, "after a bare occurrence", mustGet(t, s, idOf(bare)), want(bare, 1, at(time.Second), at(time.Second)))
}

func testRedelivery(t *testing.T, s problems.Store) {
	o := occ("acme", "prod", "fp-v1-redeliver", "evt-1", base)
	mustRecord(t, s, o)
	// The same identity, even carrying a later time and another message (a broken
	// producer), is a redelivery: nothing changes.
	again := o
	again.At = at(time.Hour)
	again.Sample.Message = "changed"
	again.Level = string(event.Fatal)
	again.Sample.LogGroup = "/aws/lambda/elsewhere"
	for i := range 3 {
		fresh, err := s.Record(t.Context(), again)
		if err != nil {
			t.Fatalf("redelivery %d: Record: %v", i, err)
		}
		if fresh {
			t.Fatalf("redelivery %d: Record = true, want false", i)
		}
	}
	check(t, "after redeliveries", mustGet(t, s, idOf(o)), want(o, 1, base, base))
}

func testBatchRedelivery(t *testing.T, s problems.Store) {
	// One SQS batch: ten events over three problems in two scopes.
	var batch []problems.Occurrence
	for i := range 10 {
		fp := fmt.Sprintf("fp-v1-batch-%d", i%3)
		env := "prod"
		if i%3 == 2 {
			env = "staging"
		}
		batch = append(batch, occ("acme", env, fp, fmt.Sprintf("evt-%02d", i), at(time.Duration(i)*time.Second)))
	}
	for _, o := range batch {
		mustRecord(t, s, o)
	}
	snapshot := func() map[string]problems.Problem {
		m := map[string]problems.Problem{}
		for _, o := range batch {
			m[idOf(o)] = mustGet(t, s, idOf(o))
		}
		return m
	}
	before := snapshot()
	wantCounts := map[string]int64{}
	for _, o := range batch {
		wantCounts[idOf(o)]++
	}
	for id, p := range before {
		if p.Count != wantCounts[id] {
			t.Errorf("problem %s (%s): Count = %d after the batch, want %d", id, p.Fingerprint, p.Count, wantCounts[id])
		}
	}

	// The whole batch again, twice: once in order, once reversed and concurrently.
	for _, o := range batch {
		if fresh, err := s.Record(t.Context(), o); err != nil || fresh {
			t.Fatalf("redelivered %s: Record = (%v, %v), want (false, nil)", o.Sample.EventID, fresh, err)
		}
	}
	var wg sync.WaitGroup
	for _, o := range slices.Backward(batch) {
		wg.Go(func() {
			if fresh, err := s.Record(context.WithoutCancel(t.Context()), o); err != nil || fresh {
				t.Errorf("concurrently redelivered %s: Record = (%v, %v), want (false, nil)", o.Sample.EventID, fresh, err)
			}
		})
	}
	wg.Wait()
	after := snapshot()
	for id, p := range after {
		check(t, "problem "+p.Fingerprint+" after redelivering the batch", p, before[id])
	}
}

func testConcurrent(t *testing.T, s problems.Store) {
	const n = 50
	occs := make([]problems.Occurrence, n)
	for i := range occs {
		// Times spread around base, newest is i = n-1.
		occs[i] = occ("acme", "prod", "fp-v1-hot", fmt.Sprintf("evt-%03d", i), at(time.Duration(i-n/2)*time.Second))
	}
	var wg sync.WaitGroup
	for _, o := range occs {
		wg.Go(func() {
			fresh, err := s.Record(context.WithoutCancel(t.Context()), o)
			if err != nil {
				t.Errorf("Record(%s): %v", o.Sample.EventID, err)
			} else if !fresh {
				t.Errorf("Record(%s) = false for a new identity, want true", o.Sample.EventID)
			}
		})
	}
	wg.Wait()
	check(t, "after 50 concurrent occurrences", mustGet(t, s, idOf(occs[0])),
		want(occs[n-1], n, occs[0].At, occs[n-1].At))
}

func testConcurrentSameIdentity(t *testing.T, s problems.Store) {
	o := occ("acme", "prod", "fp-v1-race", "evt-1", base)
	const n = 20
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		fresh int
	)
	for range n {
		wg.Go(func() {
			ok, err := s.Record(context.WithoutCancel(t.Context()), o)
			if err != nil {
				t.Errorf("Record: %v", err)
				return
			}
			if ok {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if fresh != 1 {
		t.Errorf("%d concurrent deliveries of one identity: %d reported true, want exactly 1", n, fresh)
	}
	check(t, "after concurrent deliveries of one identity", mustGet(t, s, idOf(o)), want(o, 1, base, base))
}

func testSeenOrder(t *testing.T, s problems.Store) {
	// Arrival order 3, 1, 5, 2, 4 (in minutes): neither the first nor the last to arrive is
	// the oldest or the newest.
	var last problems.Occurrence
	for i, m := range []int{3, 1, 5, 2, 4} {
		o := occ("acme", "prod", "fp-v1-order", fmt.Sprintf("evt-%d", i), at(time.Duration(m)*time.Minute))
		if m == 5 {
			last = o
		}
		mustRecord(t, s, o)
	}
	check(t, "after out-of-order arrival", mustGet(t, s, idOf(last)),
		want(last, 5, at(time.Minute), at(5*time.Minute)))
}

func testNewestSample(t *testing.T, s problems.Store) {
	newer := occ("acme", "prod", "fp-v1-sample", "evt-new", at(time.Hour))
	newer.Level = string(event.Fatal)
	newer.Sample.Message = "the newest message"
	older := occ("acme", "prod", "fp-v1-sample", "evt-old", base)
	older.Level = string(event.Error)
	older.Sample.Message = "an older message"
	older.Sample.Frames = nil

	mustRecord(t, s, newer)
	mustRecord(t, s, older)
	check(t, "an older occurrence after a newer one", mustGet(t, s, idOf(newer)),
		want(newer, 2, base, at(time.Hour)))

	newest := occ("acme", "prod", "fp-v1-sample", "evt-newest", at(2*time.Hour))
	newest.Level = string(event.Error)
	newest.Sample.Message = "newest of all"
	newest.Sample.LogStream = "2026/11/21/[$LATEST]fedcba9876543210"
	mustRecord(t, s, newest)
	check(t, "a newer occurrence", mustGet(t, s, idOf(newer)),
		want(newest, 3, base, at(2*time.Hour)))
}

func testLogGroups(t *testing.T, s problems.Store) {
	var last problems.Occurrence
	for i, g := range []string{"/aws/lambda/a", "/aws/lambda/b", "/aws/lambda/a", "/ecs/api", "/aws/lambda/b"} {
		o := occ("acme", "prod", "fp-v1-groups", fmt.Sprintf("evt-%d", i), at(time.Duration(i)*time.Second))
		o.Sample.LogGroup = g
		mustRecord(t, s, o)
		last = o
	}
	check(t, "after occurrences in three log groups", mustGet(t, s, idOf(last)),
		want(last, 5, base, at(4*time.Second), "/aws/lambda/a", "/aws/lambda/b", "/ecs/api"))
}

func testList(t *testing.T, s problems.Store) {
	ctx := t.Context()
	all, err := s.List(ctx, "", "")
	if err != nil {
		t.Fatalf("List of an empty store: %v", err)
	}
	if len(all) != 0 {
		t.Fatalf("List of an empty store = %d problems, want 0", len(all))
	}

	// name -> (org, env, lastSeen offset in minutes); recorded in an order unlike lastSeen.
	type spec struct {
		org, env string
		minutes  int
	}
	specs := map[string]spec{
		"p-mid":     {"acme", "prod", 20},
		"p-old":     {"acme", "prod", 5},
		"p-new":     {"acme", "prod", 40},
		"p-staging": {"acme", "staging", 30},
		"p-other":   {"globex", "prod", 50},
		"p-oldest":  {"globex", "prod", 1},
	}
	ids := map[string]string{}
	for _, name := range []string{"p-mid", "p-old", "p-new", "p-staging", "p-other", "p-oldest"} {
		sp := specs[name]
		fp := "fp-v1-" + name
		// Two occurrences each, the newer one first, so lastSeen is not the last write.
		mustRecord(t, s, occ(sp.org, sp.env, fp, name+"-b", at(time.Duration(sp.minutes)*time.Minute)))
		mustRecord(t, s, occ(sp.org, sp.env, fp, name+"-a", at(time.Duration(sp.minutes-1)*time.Minute)))
		ids[name] = problems.ID(sp.org, sp.env, fp)
	}

	cases := []struct {
		name     string
		org, env string
		want     []string
	}{
		{"one org and env, most recent first", "acme", "prod", []string{"p-new", "p-mid", "p-old"}},
		{"the same org in another env", "acme", "staging", []string{"p-staging"}},
		{"another org", "globex", "prod", []string{"p-other", "p-oldest"}},
		{"an unknown scope is empty", "acme", "dev", nil},
		{"an env of one org is not another org's", "globex", "staging", nil},
		{"both empty lists every problem, most recent first", "", "", []string{"p-other", "p-new", "p-staging", "p-mid", "p-old", "p-oldest"}},
	}
	for _, c := range cases {
		got, err := s.List(ctx, c.org, c.env)
		if err != nil {
			t.Errorf("%s: List(%q, %q): %v", c.name, c.org, c.env, err)
			continue
		}
		var gotIDs, wantIDs []string
		for _, p := range got {
			gotIDs = append(gotIDs, p.ID)
		}
		for _, name := range c.want {
			wantIDs = append(wantIDs, ids[name])
		}
		if !slices.Equal(gotIDs, wantIDs) {
			t.Errorf("%s: List(%q, %q) ids = %q, want %q (%v)", c.name, c.org, c.env, gotIDs, wantIDs, c.want)
			continue
		}
		// Listed problems carry the same fields as Get.
		for _, p := range got {
			check(t, c.name+": listed "+p.ID, p, mustGet(t, s, p.ID))
		}
	}
}

func testGetMissing(t *testing.T, s problems.Store) {
	_, err := s.Get(t.Context(), problems.ID("acme", "prod", "fp-v1-nothing"))
	if !errors.Is(err, problems.ErrNotFound) {
		t.Fatalf("Get of an unknown id = %v, want ErrNotFound", err)
	}
	// An occurrence of another problem does not make this one exist.
	mustRecord(t, s, occ("acme", "prod", "fp-v1-something", "evt-1", base))
	_, err = s.Get(t.Context(), problems.ID("acme", "prod", "fp-v1-nothing"))
	if !errors.Is(err, problems.ErrNotFound) {
		t.Fatalf("Get of an unknown id in a non-empty store = %v, want ErrNotFound", err)
	}
}

func testScopes(t *testing.T, s problems.Store) {
	const fp = "fp-v1-shared"
	a1 := occ("acme", "prod", fp, "evt-1", base)
	a2 := occ("acme", "prod", fp, "evt-2", at(time.Second))
	b := occ("globex", "prod", fp, "evt-1", at(time.Minute))
	c := occ("acme", "staging", fp, "evt-1", at(2*time.Minute))
	for _, o := range []problems.Occurrence{a1, a2, b, c} {
		mustRecord(t, s, o)
	}
	if idOf(a1) == idOf(b) || idOf(a1) == idOf(c) {
		t.Fatal("problems.ID gives the same id to two scopes")
	}
	check(t, "acme/prod", mustGet(t, s, idOf(a1)), want(a2, 2, base, at(time.Second)))
	check(t, "globex/prod", mustGet(t, s, idOf(b)), want(b, 1, at(time.Minute), at(time.Minute)))
	check(t, "acme/staging", mustGet(t, s, idOf(c)), want(c, 1, at(2*time.Minute), at(2*time.Minute)))
}
