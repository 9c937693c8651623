// Package drainstest is the contract test suite of drains.Store: every implementation
// (the DynamoDB adapter, the embedded store) runs it from its own tests with
//
//	drainstest.Run(t, func(t *testing.T) drains.Store { return newEmptyStore(t) })
//
// Times: stores keep times to the millisecond. The suite builds its times at millisecond
// precision in UTC and compares them with time.Equal; a time given with a finer precision
// must read back within one millisecond of itself.
package drainstest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aient/firehose-drain/pkg/drains"
)

// base is the suite's reference time, at millisecond precision.
var base = time.UnixMilli(1_763_700_000_123).UTC()

// at is base plus d.
func at(d time.Duration) time.Time { return base.Add(d) }

// Run runs the contract of drains.Store against stores made by newStore. newStore is called
// once per subtest with that subtest's t and must return an empty store that nothing else
// uses; it registers its own cleanup on t.
func Run(t *testing.T, newStore func(t *testing.T) drains.Store) {
	t.Run("Create then Get returns every field", func(t *testing.T) { testRoundTrip(t, newStore(t)) })
	t.Run("a minimal drain reads back with zero times and no notes", func(t *testing.T) { testMinimal(t, newStore(t)) })
	t.Run("times keep millisecond precision", func(t *testing.T) { testPrecision(t, newStore(t)) })
	t.Run("Create of a taken id is ErrExists and keeps the first drain", func(t *testing.T) { testExists(t, newStore(t)) })
	t.Run("Get of an unknown id is ErrNotFound", func(t *testing.T) { testGetMissing(t, newStore(t)) })
	t.Run("List returns every drain", func(t *testing.T) { testList(t, newStore(t)) })
	t.Run("SetKeys replaces the keys and sets RotatedAt", func(t *testing.T) { testSetKeys(t, newStore(t)) })
	t.Run("SetKeys of an unknown id is ErrNotFound", func(t *testing.T) { testSetKeysMissing(t, newStore(t)) })
	t.Run("SetKeys of a revoked drain is ErrRevoked and changes nothing", func(t *testing.T) { testSetKeysRevoked(t, newStore(t)) })
	t.Run("Revoke is idempotent and keeps the first revocation time", func(t *testing.T) { testRevoke(t, newStore(t)) })
	t.Run("Revoke of an unknown id is ErrNotFound", func(t *testing.T) { testRevokeMissing(t, newStore(t)) })
	t.Run("RecordDelivery adds counters and stamps data, control and payload errors", func(t *testing.T) { testRecordDelivery(t, newStore(t)) })
	t.Run("concurrent RecordDelivery calls lose no counts", func(t *testing.T) { testRecordDeliveryConcurrent(t, newStore(t)) })
	t.Run("RecordDelivery for an unknown drain is not an error and creates nothing", func(t *testing.T) { testRecordDeliveryMissing(t, newStore(t)) })
	t.Run("RecordAuthFailure writes at most once per interval", func(t *testing.T) { testAuthFailureInterval(t, newStore(t)) })
	t.Run("100 concurrent auth failures in one interval make exactly one write", func(t *testing.T) { testAuthFailureConcurrent(t, newStore(t)) })
	t.Run("RecordAuthFailure for an unknown drain writes nothing and is not an error", func(t *testing.T) { testAuthFailureMissing(t, newStore(t)) })
	t.Run("bookkeeping leaves the keys, state and other notes alone", func(t *testing.T) { testBookkeepingIsolation(t, newStore(t)) })
	t.Run("RecordDelivery books each delivery under its source kind too", func(t *testing.T) { testSources(t, newStore(t)) })
}

func fullDrain(id string) drains.Drain {
	return drains.Drain{
		ID:    id,
		Org:   "acme",
		Env:   "prod",
		State: drains.StateActive,
		Keys: []drains.Key{
			{Digest: "3f2a0c9d8e7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998877"},
			{Digest: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", ValidUntil: at(time.Hour)},
		},
		CreatedAt:        at(-48 * time.Hour),
		RotatedAt:        at(-24 * time.Hour),
		LastReceivedAt:   at(-time.Minute),
		LastControlAt:    at(-2 * time.Minute),
		LastAuthError:    &drains.Note{At: at(-3 * time.Minute), Reason: "access key does not match"},
		LastPayloadError: &drains.Note{At: at(-4 * time.Minute), Reason: "record 3: not gzip"},
		Counters:         drains.Counters{Deliveries: 7, Events: 1200, ErrorEvents: 31, Duplicates: 4, RecordsRejected: 2},
	}
}

func minimalDrain(id string) drains.Drain {
	return drains.Drain{
		ID:        id,
		Org:       "acme",
		Env:       "dev",
		State:     drains.StateActive,
		Keys:      []drains.Key{{Digest: "aa" + id}},
		CreatedAt: base,
	}
}

func mustCreate(t *testing.T, s drains.Store, d drains.Drain) {
	t.Helper()
	if err := s.Create(t.Context(), d); err != nil {
		t.Fatalf("Create(%q): %v", d.ID, err)
	}
}

func mustGet(t *testing.T, s drains.Store, id string) drains.Drain {
	t.Helper()
	d, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%q): %v", id, err)
	}
	return d
}

// diff lists the differences between two drains, comparing times with time.Equal and
// treating nil and empty key lists alike.
func diff(got, want drains.Drain) []string {
	var out []string
	str := func(name, g, w string) {
		if g != w {
			out = append(out, fmt.Sprintf("%s = %q, want %q", name, g, w))
		}
	}
	tm := func(name string, g, w time.Time) {
		if !g.Equal(w) {
			out = append(out, fmt.Sprintf("%s = %v, want %v", name, g, w))
		}
	}
	note := func(name string, g, w *drains.Note) {
		switch {
		case g == nil && w == nil:
		case g == nil || w == nil:
			out = append(out, fmt.Sprintf("%s = %+v, want %+v", name, g, w))
		default:
			tm(name+".At", g.At, w.At)
			str(name+".Reason", g.Reason, w.Reason)
		}
	}
	str("ID", got.ID, want.ID)
	str("Org", got.Org, want.Org)
	str("Env", got.Env, want.Env)
	str("State", got.State, want.State)
	if len(got.Keys) != len(want.Keys) {
		out = append(out, fmt.Sprintf("Keys = %+v, want %+v", got.Keys, want.Keys))
	} else {
		for i := range want.Keys {
			str(fmt.Sprintf("Keys[%d].Digest", i), got.Keys[i].Digest, want.Keys[i].Digest)
			tm(fmt.Sprintf("Keys[%d].ValidUntil", i), got.Keys[i].ValidUntil, want.Keys[i].ValidUntil)
		}
	}
	tm("CreatedAt", got.CreatedAt, want.CreatedAt)
	tm("RotatedAt", got.RotatedAt, want.RotatedAt)
	tm("RevokedAt", got.RevokedAt, want.RevokedAt)
	tm("LastReceivedAt", got.LastReceivedAt, want.LastReceivedAt)
	tm("LastControlAt", got.LastControlAt, want.LastControlAt)
	note("LastAuthError", got.LastAuthError, want.LastAuthError)
	note("LastPayloadError", got.LastPayloadError, want.LastPayloadError)
	note("LastLogsRejected", got.LastLogsRejected, want.LastLogsRejected)
	if got.Counters != want.Counters {
		out = append(out, fmt.Sprintf("Counters = %+v, want %+v", got.Counters, want.Counters))
	}
	return out
}

func checkDrain(t *testing.T, got, want drains.Drain) {
	t.Helper()
	for _, d := range diff(got, want) {
		t.Error(d)
	}
}

func testRoundTrip(t *testing.T, s drains.Store) {
	want := fullDrain("drn_roundtrip")
	mustCreate(t, s, want)
	checkDrain(t, mustGet(t, s, want.ID), want)

	revoked := fullDrain("drn_revoked")
	revoked.State = drains.StateRevoked
	revoked.RevokedAt = at(-time.Second)
	mustCreate(t, s, revoked)
	checkDrain(t, mustGet(t, s, revoked.ID), revoked)
}

func testMinimal(t *testing.T, s drains.Store) {
	want := minimalDrain("drn_min")
	mustCreate(t, s, want)
	got := mustGet(t, s, want.ID)
	checkDrain(t, got, want)
	for name, tm := range map[string]time.Time{
		"RotatedAt": got.RotatedAt, "RevokedAt": got.RevokedAt,
		"LastReceivedAt": got.LastReceivedAt, "LastControlAt": got.LastControlAt,
		"Keys[0].ValidUntil": got.Keys[0].ValidUntil,
	} {
		if !tm.IsZero() {
			t.Errorf("%s = %v, want the zero time (IsZero)", name, tm)
		}
	}
}

func testPrecision(t *testing.T, s drains.Store) {
	fine := base.Add(456789 * time.Nanosecond)
	d := minimalDrain("drn_ns")
	d.CreatedAt = fine
	mustCreate(t, s, d)
	got := mustGet(t, s, d.ID)
	if delta := got.CreatedAt.Sub(fine).Abs(); delta >= time.Millisecond {
		t.Errorf("CreatedAt = %v, want within 1ms of %v (off by %v)", got.CreatedAt, fine, delta)
	}
}

func testExists(t *testing.T, s drains.Store) {
	first := minimalDrain("drn_taken")
	mustCreate(t, s, first)
	second := fullDrain("drn_taken")
	second.Org = "intruder"
	err := s.Create(t.Context(), second)
	if !errors.Is(err, drains.ErrExists) {
		t.Fatalf("second Create = %v, want ErrExists", err)
	}
	checkDrain(t, mustGet(t, s, first.ID), first)
}

func testGetMissing(t *testing.T, s drains.Store) {
	_, err := s.Get(t.Context(), "drn_nobody")
	if !errors.Is(err, drains.ErrNotFound) {
		t.Fatalf("Get = %v, want ErrNotFound", err)
	}
}

func testList(t *testing.T, s drains.Store) {
	got, err := s.List(t.Context())
	if err != nil {
		t.Fatalf("List of an empty store: %v", err)
	}
	if len(got) != 0 {
		t.Fatalf("List of an empty store = %d drains, want 0", len(got))
	}
	want := map[string]drains.Drain{}
	for i := range 5 {
		d := fullDrain(fmt.Sprintf("drn_list_%d", i))
		d.Org = fmt.Sprintf("org%d", i)
		d.Counters.Events = int64(i)
		want[d.ID] = d
		mustCreate(t, s, d)
	}
	got, err = s.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("List = %d drains, want %d", len(got), len(want))
	}
	for _, d := range got {
		w, ok := want[d.ID]
		if !ok {
			t.Errorf("List returned unknown or duplicate drain %q", d.ID)
			continue
		}
		delete(want, d.ID)
		for _, msg := range diff(d, w) {
			t.Errorf("List %s: %s", d.ID, msg)
		}
	}
}

func testSetKeys(t *testing.T, s drains.Store) {
	d := fullDrain("drn_rotate")
	mustCreate(t, s, d)
	keys := []drains.Key{
		{Digest: "new0000000000000000000000000000000000000000000000000000000000000"},
		{Digest: d.Keys[0].Digest, ValidUntil: at(2 * time.Hour)},
	}
	if err := s.SetKeys(t.Context(), d.ID, keys, at(time.Minute)); err != nil {
		t.Fatalf("SetKeys: %v", err)
	}
	want := d
	want.Keys = keys
	want.RotatedAt = at(time.Minute)
	checkDrain(t, mustGet(t, s, d.ID), want)

	// Shrinking back to one key drops the rest.
	one := []drains.Key{{Digest: "only000000000000000000000000000000000000000000000000000000000000"}}
	if err := s.SetKeys(t.Context(), d.ID, one, at(3*time.Hour)); err != nil {
		t.Fatalf("second SetKeys: %v", err)
	}
	want.Keys = one
	want.RotatedAt = at(3 * time.Hour)
	checkDrain(t, mustGet(t, s, d.ID), want)
}

func testSetKeysMissing(t *testing.T, s drains.Store) {
	err := s.SetKeys(t.Context(), "drn_nobody", []drains.Key{{Digest: "ab"}}, base)
	if !errors.Is(err, drains.ErrNotFound) {
		t.Fatalf("SetKeys = %v, want ErrNotFound", err)
	}
	if _, err := s.Get(t.Context(), "drn_nobody"); !errors.Is(err, drains.ErrNotFound) {
		t.Fatalf("Get after SetKeys of an unknown id = %v, want ErrNotFound (SetKeys must not create)", err)
	}
}

func testSetKeysRevoked(t *testing.T, s drains.Store) {
	d := minimalDrain("drn_gone")
	mustCreate(t, s, d)
	if err := s.Revoke(t.Context(), d.ID, at(time.Second)); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	err := s.SetKeys(t.Context(), d.ID, []drains.Key{{Digest: "resurrected"}}, at(time.Minute))
	if !errors.Is(err, drains.ErrRevoked) {
		t.Fatalf("SetKeys of a revoked drain = %v, want ErrRevoked", err)
	}
	want := d
	want.State = drains.StateRevoked
	want.RevokedAt = at(time.Second)
	checkDrain(t, mustGet(t, s, d.ID), want)
}

func testRevoke(t *testing.T, s drains.Store) {
	d := fullDrain("drn_revoke")
	mustCreate(t, s, d)
	if err := s.Revoke(t.Context(), d.ID, at(time.Minute)); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	want := d
	want.State = drains.StateRevoked
	want.RevokedAt = at(time.Minute)
	checkDrain(t, mustGet(t, s, d.ID), want)

	if err := s.Revoke(t.Context(), d.ID, at(time.Hour)); err != nil {
		t.Fatalf("second Revoke = %v, want nil (idempotent)", err)
	}
	checkDrain(t, mustGet(t, s, d.ID), want)
}

func testRevokeMissing(t *testing.T, s drains.Store) {
	if err := s.Revoke(t.Context(), "drn_nobody", base); !errors.Is(err, drains.ErrNotFound) {
		t.Fatalf("Revoke = %v, want ErrNotFound", err)
	}
	if _, err := s.Get(t.Context(), "drn_nobody"); !errors.Is(err, drains.ErrNotFound) {
		t.Fatalf("Get after Revoke of an unknown id = %v, want ErrNotFound (Revoke must not create)", err)
	}
}

func testRecordDelivery(t *testing.T, s drains.Store) {
	ctx := t.Context()
	d := minimalDrain("drn_deliver")
	mustCreate(t, s, d)
	want := d

	steps := []struct {
		name string
		del  drains.Delivery
		// apply changes want the way the delivery must.
		apply func(w *drains.Drain)
	}{
		{
			name: "a data delivery sets LastReceivedAt only",
			del:  drains.Delivery{At: at(time.Second), Data: true, Counters: drains.Counters{Deliveries: 1, Events: 10, ErrorEvents: 2}},
			apply: func(w *drains.Drain) {
				w.LastReceivedAt = at(time.Second)
			},
		},
		{
			name: "a control-only delivery sets LastControlAt only",
			del:  drains.Delivery{At: at(2 * time.Second), Control: true, Counters: drains.Counters{Deliveries: 1}},
			apply: func(w *drains.Drain) {
				w.LastControlAt = at(2 * time.Second)
			},
		},
		{
			name: "a delivery with a payload error records it and still counts",
			del: drains.Delivery{
				At: at(3 * time.Second), Data: true,
				PayloadError: &drains.Note{At: at(3 * time.Second), Reason: "record 0: not a CloudWatch Logs document"},
				Counters:     drains.Counters{Deliveries: 1, Events: 5, Duplicates: 3, RecordsRejected: 1},
			},
			apply: func(w *drains.Drain) {
				w.LastReceivedAt = at(3 * time.Second)
				w.LastPayloadError = &drains.Note{At: at(3 * time.Second), Reason: "record 0: not a CloudWatch Logs document"}
			},
		},
		{
			name: "a later clean delivery keeps the payload error",
			del:  drains.Delivery{At: at(4 * time.Second), Data: true, Control: true, Counters: drains.Counters{Deliveries: 1, Events: 1, ErrorEvents: 1}},
			apply: func(w *drains.Drain) {
				w.LastReceivedAt = at(4 * time.Second)
				w.LastControlAt = at(4 * time.Second)
			},
		},
		{
			name:  "a delivery with neither data nor control only counts",
			del:   drains.Delivery{At: at(5 * time.Second), Counters: drains.Counters{Deliveries: 1, RecordsRejected: 4}},
			apply: func(*drains.Drain) {},
		},
		{
			name: "a newer payload error replaces the older",
			del: drains.Delivery{
				At:           at(6 * time.Second),
				PayloadError: &drains.Note{At: at(6 * time.Second), Reason: "request content encoding: unsupported"},
				Counters:     drains.Counters{Deliveries: 1, RecordsRejected: 2},
			},
			apply: func(w *drains.Drain) {
				w.LastPayloadError = &drains.Note{At: at(6 * time.Second), Reason: "request content encoding: unsupported"}
			},
		},
		{
			name: "OTLP rejections are counted with their reason",
			del: drains.Delivery{
				At: at(7 * time.Second), Data: true,
				LogsRejected: &drains.Note{At: at(7 * time.Second), Reason: "3 log records over the size limit"},
				Counters:     drains.Counters{Deliveries: 1, Events: 4, LogsRejected: 3},
			},
			apply: func(w *drains.Drain) {
				w.LastReceivedAt = at(7 * time.Second)
				w.LastLogsRejected = &drains.Note{At: at(7 * time.Second), Reason: "3 log records over the size limit"}
			},
		},
		{
			name:  "a later delivery without rejections keeps the reason",
			del:   drains.Delivery{At: at(8 * time.Second), Counters: drains.Counters{Deliveries: 1, LogsRejected: 2}},
			apply: func(*drains.Drain) {},
		},
	}
	for _, st := range steps {
		if err := s.RecordDelivery(ctx, d.ID, st.del); err != nil {
			t.Fatalf("%s: RecordDelivery: %v", st.name, err)
		}
		st.apply(&want)
		want.Counters.Add(st.del.Counters)
		for _, msg := range diff(mustGet(t, s, d.ID), want) {
			t.Errorf("%s: %s", st.name, msg)
		}
	}
	wantTotals := drains.Counters{Deliveries: 8, Events: 20, ErrorEvents: 3, Duplicates: 3, RecordsRejected: 7, LogsRejected: 5}
	if got := mustGet(t, s, d.ID).Counters; got != wantTotals {
		t.Errorf("Counters after all deliveries = %+v, want %+v", got, wantTotals)
	}
}

func testRecordDeliveryConcurrent(t *testing.T, s drains.Store) {
	d := minimalDrain("drn_busy")
	mustCreate(t, s, d)
	const workers, each = 20, 5
	one := drains.Counters{Deliveries: 1, Events: 3, ErrorEvents: 2, Duplicates: 1, RecordsRejected: 1, LogsRejected: 1}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				del := drains.Delivery{At: at(time.Duration(w*each+i) * time.Millisecond), Data: true, Counters: one}
				if err := s.RecordDelivery(context.WithoutCancel(t.Context()), d.ID, del); err != nil {
					t.Errorf("RecordDelivery: %v", err)
				}
			}
		})
	}
	wg.Wait()
	got := mustGet(t, s, d.ID)
	want := drains.Counters{
		Deliveries: workers * each, Events: 3 * workers * each, ErrorEvents: 2 * workers * each,
		Duplicates: workers * each, RecordsRejected: workers * each, LogsRejected: workers * each,
	}
	if got.Counters != want {
		t.Errorf("Counters after %d concurrent deliveries = %+v, want %+v", workers*each, got.Counters, want)
	}
	if got.LastReceivedAt.Before(base) || got.LastReceivedAt.After(at(workers*each*time.Millisecond)) {
		t.Errorf("LastReceivedAt = %v, want one of the deliveries' times", got.LastReceivedAt)
	}
}

func testRecordDeliveryMissing(t *testing.T, s drains.Store) {
	del := drains.Delivery{
		At: base, Data: true, Control: true,
		PayloadError: &drains.Note{At: base, Reason: "x"},
		LogsRejected: &drains.Note{At: base, Reason: "y"},
		Counters:     drains.Counters{Deliveries: 1, Events: 1, LogsRejected: 1},
	}
	if err := s.RecordDelivery(t.Context(), "drn_nobody", del); err != nil {
		t.Fatalf("RecordDelivery for an unknown drain = %v, want nil", err)
	}
	if _, err := s.Get(t.Context(), "drn_nobody"); !errors.Is(err, drains.ErrNotFound) {
		t.Fatalf("Get after RecordDelivery for an unknown drain = %v, want ErrNotFound (no drain may be created)", err)
	}
	list, err := s.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(list) != 0 {
		t.Fatalf("List after RecordDelivery for an unknown drain = %d drains, want 0", len(list))
	}
}

func testAuthFailureInterval(t *testing.T, s drains.Store) {
	ctx := t.Context()
	d := minimalDrain("drn_flood")
	mustCreate(t, s, d)
	const every = time.Minute
	first := drains.Note{At: at(10 * time.Second), Reason: "access key does not match"}

	steps := []struct {
		name      string
		note      drains.Note
		wantWrote bool
		wantNote  drains.Note
	}{
		{"the first failure is written", first, true, first},
		{"another failure 10s later is not written", drains.Note{At: first.At.Add(10 * time.Second), Reason: "second"}, false, first},
		{"a failure 1ms short of the interval is not written", drains.Note{At: first.At.Add(every - time.Millisecond), Reason: "third"}, false, first},
		{"a failure exactly one interval later is written", drains.Note{At: first.At.Add(every), Reason: "fourth"}, true, drains.Note{At: first.At.Add(every), Reason: "fourth"}},
		{"a failure far later is written", drains.Note{At: first.At.Add(time.Hour), Reason: "fifth"}, true, drains.Note{At: first.At.Add(time.Hour), Reason: "fifth"}},
		{"an older failure arriving late is not written", drains.Note{At: first.At, Reason: "late"}, false, drains.Note{At: first.At.Add(time.Hour), Reason: "fifth"}},
	}
	for _, st := range steps {
		wrote, err := s.RecordAuthFailure(ctx, d.ID, st.note, every)
		if err != nil {
			t.Fatalf("%s: RecordAuthFailure: %v", st.name, err)
		}
		if wrote != st.wantWrote {
			t.Errorf("%s: wrote = %v, want %v", st.name, wrote, st.wantWrote)
		}
		got := mustGet(t, s, d.ID)
		want := d
		want.LastAuthError = &st.wantNote
		for _, msg := range diff(got, want) {
			t.Errorf("%s: %s", st.name, msg)
		}
	}
}

func testAuthFailureConcurrent(t *testing.T, s drains.Store) {
	d := minimalDrain("drn_storm")
	mustCreate(t, s, d)
	const callers = 100
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		wrote []int
	)
	notes := make([]drains.Note, callers)
	for i := range notes {
		notes[i] = drains.Note{At: at(time.Duration(i) * 10 * time.Millisecond), Reason: fmt.Sprintf("bad key %d", i)}
	}
	for i := range callers {
		wg.Go(func() {
			ok, err := s.RecordAuthFailure(context.WithoutCancel(t.Context()), d.ID, notes[i], time.Minute)
			if err != nil {
				t.Errorf("RecordAuthFailure %d: %v", i, err)
				return
			}
			if ok {
				mu.Lock()
				wrote = append(wrote, i)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(wrote) != 1 {
		t.Fatalf("%d concurrent auth failures within one interval reported %d writes (%v), want exactly 1", callers, len(wrote), wrote)
	}
	got := mustGet(t, s, d.ID)
	if got.LastAuthError == nil {
		t.Fatal("LastAuthError = nil after a reported write")
	}
	w := notes[wrote[0]]
	if !got.LastAuthError.At.Equal(w.At) || got.LastAuthError.Reason != w.Reason {
		t.Errorf("LastAuthError = %+v, want the note of the one caller that wrote: %+v", *got.LastAuthError, w)
	}
}

func testAuthFailureMissing(t *testing.T, s drains.Store) {
	wrote, err := s.RecordAuthFailure(t.Context(), "drn_nobody", drains.Note{At: base, Reason: "x"}, time.Minute)
	if err != nil || wrote {
		t.Fatalf("RecordAuthFailure for an unknown drain = (%v, %v), want (false, nil)", wrote, err)
	}
	if _, err := s.Get(t.Context(), "drn_nobody"); !errors.Is(err, drains.ErrNotFound) {
		t.Fatalf("Get after RecordAuthFailure for an unknown drain = %v, want ErrNotFound (no drain may be created)", err)
	}
}

func testBookkeepingIsolation(t *testing.T, s drains.Store) {
	ctx := t.Context()
	d := fullDrain("drn_isolated")
	mustCreate(t, s, d)
	want := d

	if _, err := s.RecordAuthFailure(ctx, d.ID, drains.Note{At: at(time.Hour), Reason: "flood"}, time.Minute); err != nil {
		t.Fatalf("RecordAuthFailure: %v", err)
	}
	want.LastAuthError = &drains.Note{At: at(time.Hour), Reason: "flood"}
	checkDrain(t, mustGet(t, s, d.ID), want)

	del := drains.Delivery{At: at(2 * time.Hour), Counters: drains.Counters{Deliveries: 1}}
	if err := s.RecordDelivery(ctx, d.ID, del); err != nil {
		t.Fatalf("RecordDelivery: %v", err)
	}
	want.Counters.Add(del.Counters)
	checkDrain(t, mustGet(t, s, d.ID), want)

	// Bookkeeping on a revoked drain is still kept (the operator sees who keeps sending),
	// and it does not bring the drain back.
	if err := s.Revoke(ctx, d.ID, at(3*time.Hour)); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	want.State, want.RevokedAt = drains.StateRevoked, at(3*time.Hour)
	if err := s.RecordDelivery(ctx, d.ID, drains.Delivery{At: at(4 * time.Hour), Data: true, Counters: drains.Counters{Deliveries: 1}}); err != nil {
		t.Fatalf("RecordDelivery on a revoked drain: %v", err)
	}
	want.LastReceivedAt = at(4 * time.Hour)
	want.Counters.Deliveries++
	checkDrain(t, mustGet(t, s, d.ID), want)
}
